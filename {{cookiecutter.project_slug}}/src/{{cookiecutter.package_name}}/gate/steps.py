"""The `model-card` step: gather what the pipeline knows about the current model, write the card.

Reads the model's metadata, `metrics/metrics.json`, the gate's thresholds, the
model tests' results and `config/model_card.yaml`; re-scores the test split
for the calibration table; writes `reports/model_card.md` and `.html`, copies
them into the model folder (so `make image` bakes the card in and the service
serves it at /model-card) and attaches them to the model's MLflow run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from ..errors import MetricsFileError, ModelNotFoundError, TrackingError
from ..layout import (
    METRICS_FILE,
    MODEL_CARD_HTML,
    MODEL_CARD_MD,
    MODEL_TESTS_FILE,
    ModelTestsRecord,
)
from ..settings import Settings
from ..train import model_store, tracking, training
from ..train.inputs import load_inputs
from ..train.metrics_file import read_metrics
from .card import Calibration, CardFacts, build_card, load_card_config, to_html, to_markdown
from .config import load_gate_config


def _model_tests(path: Path) -> ModelTestsRecord | None:
    if not path.is_file():
        return None
    try:
        return ModelTestsRecord.model_validate_json(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise MetricsFileError(f"{path} is not a model-test record: {err}") from err


def run_model_card(settings: Settings) -> int:
    """Write the model card of models/current; 1 when there is no model."""
    config = load_card_config(settings.model_card_config_path)
    gates = load_gate_config(settings.gates_config_path)
    try:
        pipeline, metadata = model_store.load_current(settings.models_dir)
    except ModelNotFoundError as err:
        print(f"model-card: {err}")
        return 1
    metrics = read_metrics(settings.metrics_dir / METRICS_FILE)
    inputs = load_inputs(settings)
    contract = inputs.contract
    model_store.check_contract(metadata, contract.fingerprint())
    split = training.split_frame(inputs.frame, contract, inputs.config)
    test_rows = inputs.frame.loc[split.test]
    truth = np.asarray(training.binary_labels(test_rows, contract), dtype=float)
    scores = training.positive_proba(pipeline, training.feature_frame(test_rows, contract))
    labels = training.binary_labels(inputs.frame, contract)
    tracked = metadata.mlflow
    facts = CardFacts(
        config=config,
        metadata=metadata,
        metrics=metrics,
        gates=gates,
        contract_name=contract.name,
        contract_version=contract.version,
        target=contract.target.column,
        positive_label=contract.target.positive,
        target_rate=float(np.mean(labels)),
        rows_total=len(inputs.frame),
        calibration=Calibration.measure(truth, scores),
        model_tests=_model_tests(settings.reports_dir / MODEL_TESTS_FILE),
        tracking=tracking.redact(tracked.tracking_uri) if tracked else "not tracked",
        slice_metric=gates.slices.metric,
    )
    blocks = build_card(facts)
    reports = settings.reports_dir
    reports.mkdir(parents=True, exist_ok=True)
    written = [reports / MODEL_CARD_MD, reports / MODEL_CARD_HTML]
    written[0].write_text(to_markdown(blocks), encoding="utf-8")
    written[1].write_text(to_html(blocks), encoding="utf-8")
    model_dir = model_store.current_dir(settings.models_dir)
    for path in written:
        shutil.copyfile(path, model_dir / path.name)
    print(f"model-card: wrote {written[0]}, {written[1]} (and a copy in {model_dir}/)")
    if tracked is not None and tracked.run_id:
        try:
            tracking.log_run_artifacts(tracked.tracking_uri, tracked.run_id, written, "model_card")
        except TrackingError as err:
            print(f"model-card: warning: {err}")
        else:
            print(f"model-card: logged to MLflow run {tracked.run_id}")
    return 0
