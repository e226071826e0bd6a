"""The train stage's steps: `train`, `evaluate` and `promote`.

`train` fits the configured model, evaluates it and records it everywhere it
is needed: `models/current/` (pipeline + ONNX + metadata), `metrics/metrics.json`
(the deterministic quality record), `reports/figures/` (plots) and one MLflow
run with the model registered and aliased `challenger`. `evaluate` re-scores
the saved model; `promote` makes a released model the registry's `champion`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ModelNotFoundError, TrackingError
from ..layout import (
    FIGURES_DIR,
    METRICS_FILE,
    ONNX_FILE,
    DataFacts,
    MetricsRecord,
    ModelFacts,
    ModelMetadata,
    OnnxExport,
)
from ..settings import Settings
from ..validation.service import validate_before_training
from . import metrics_file, model_store, onnx_export, plots, tracking, training
from .inputs import (
    Inputs,
    Progress,
    check_memory_budget,
    data_fingerprint,
    load_inputs,
    print_evaluation,
)
from .latency import (
    LATENCY_CALLS,
    TRAIN_LATENCY_MIN_CALLS,
    TRAIN_LATENCY_SECONDS,
    measure_latency,
)
from .metrics import SliceTable


def metrics_record(
    inputs: Inputs,
    trained: training.TrainedModel,
    data_sha256: str,
    size_bytes: int,
    latency: dict[str, float],
) -> MetricsRecord:
    """The content of metrics/metrics.json (read by compare, report and drift)."""
    return MetricsRecord(
        model=ModelFacts(
            estimator=inputs.config.estimator.name,
            size_bytes=size_bytes,
            threshold=inputs.config.threshold,
        ),
        data=DataFacts(
            fingerprint=data_sha256,
            contract=inputs.contract.fingerprint(),
            rows={"train": len(trained.split.train), "test": len(trained.split.test)},
            test_ids_fingerprint=trained.test_ids_fingerprint,
        ),
        metrics=dict(trained.evaluation.metrics),
        slices=trained.evaluation.slices,
        latency_ms=latency,
    )


def draw_plots(
    settings: Settings, inputs: Inputs, test_rows: pd.DataFrame, evaluation: training.Evaluation
) -> list[Path]:
    """The four evaluation plots of the test split, in reports/figures/."""
    return plots.write_plots(
        training.binary_labels(test_rows, inputs.contract),
        evaluation.proba,
        inputs.config.threshold,
        inputs.contract.target.labels,
        settings.reports_dir / FIGURES_DIR,
    )


def _flat_slice_metrics(slices: SliceTable) -> dict[str, float]:
    flat = {}
    for column, per_value in slices.items():
        for value, entry in per_value.items():
            for name, number in entry.items():
                if isinstance(number, int | float) and name != "n":
                    flat[tracking.metric_key("slice", column, value, name)] = float(number)
    return flat


def _run_params(inputs: Inputs, trained: training.TrainedModel, data_sha256: str) -> dict[str, Any]:
    config = inputs.config
    params: dict[str, Any] = {
        "estimator": config.estimator.name,
        "seed": config.seed,
        "test_size": config.test_size,
        "threshold": config.threshold,
        "slice_columns": ",".join(config.slices.columns),
        "rows_train": len(trained.split.train),
        "rows_test": len(trained.split.test),
        "data_path": str(inputs.data_path),
        "data_fingerprint": data_sha256,
        "contract_fingerprint": inputs.contract.fingerprint(),
        "contract_version": inputs.contract.version,
        "test_ids_fingerprint": trained.test_ids_fingerprint,
    }
    params.update({f"estimator.{k}": v for k, v in config.estimator.params.items()})
    return params


def run_train(settings: Settings) -> ModelMetadata:
    """Run the whole training step and return the metadata written next to the model."""
    progress = Progress("train")
    print(f"[train] {check_memory_budget(settings)}", flush=True)
    with progress.step("validate the data (contract and rules, Great Expectations)"):
        # Same code and message as `validate`: bad data stops here, before
        # anything is fitted, written or logged to MLflow. Data that `validate`
        # has just passed, unchanged, is not validated twice.
        print(f"  {validate_before_training(settings)}")
    with progress.step("load config, contract and data"):
        inputs = load_inputs(settings)
        data_sha256 = data_fingerprint(inputs)
        print(f"  {len(inputs.frame)} rows from {inputs.data_path} (sha256 {data_sha256[:12]})")
    contract, config = inputs.contract, inputs.config
    with progress.step(f"split, fit {config.estimator.short_name} and score the test split"):
        trained = training.train(inputs.frame, contract, config)
        evaluation = trained.evaluation
    models_dir = settings.models_dir
    staging = model_store.staging_dir(models_dir)
    with progress.step("save the pipeline"):
        model_path = model_store.save_pipeline(trained.pipeline, staging)
        size_bytes = model_path.stat().st_size
    test_rows = inputs.frame.loc[trained.split.test]
    features = training.feature_frame(test_rows, contract)
    with progress.step("export to ONNX for serving and check parity on the test split"):
        exported = onnx_export.export_onnx(
            trained.pipeline, contract, features, staging / ONNX_FILE
        )
        if exported.exported:
            print(f"  max |Δ probability| ONNX vs pipeline: {exported.max_abs_diff:.1e}")
        else:
            print(f"  WARNING: not exported, the service will use the pipeline: {exported.reason}")
    with progress.step(
        f"measure single-row latency ({TRAIN_LATENCY_MIN_CALLS}-{LATENCY_CALLS} calls,"
        f" about {TRAIN_LATENCY_SECONDS:g} s)"
    ):
        latency = measure_latency(
            trained.pipeline,
            features,
            budget_seconds=TRAIN_LATENCY_SECONDS,
            min_calls=TRAIN_LATENCY_MIN_CALLS,
        )
    with progress.step("write metrics and plots"):
        metrics_path = metrics_file.write_metrics(
            settings.metrics_dir / METRICS_FILE,
            metrics_record(inputs, trained, data_sha256, size_bytes, latency),
        )
        figures = draw_plots(settings, inputs, test_rows, evaluation)
    metadata = ModelMetadata(
        threshold=config.threshold,
        contract_fingerprint=contract.fingerprint(),
        contract_version=contract.version,
        data_fingerprint=data_sha256,
        test_ids_fingerprint=trained.test_ids_fingerprint,
        positive_label=contract.target.positive,
        labels=contract.target.labels,
        feature_columns=tuple(contract.feature_columns),
        id_column=contract.id_column,
        target_column=contract.target.column,
        estimator=config.estimator.name,
        estimator_params=dict(config.estimator.params),
        onnx=OnnxExport(
            exported=exported.exported, max_abs_diff=exported.max_abs_diff, reason=exported.reason
        ),
        metrics=metrics_file.rounded(evaluation.metrics),
        trained_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    with progress.step("log the run and register the model in MLflow"):
        tracked = tracking.log_training(
            settings,
            pipeline=trained.pipeline,
            input_example=features.head(5),
            params=_run_params(inputs, trained, data_sha256),
            metrics={
                **evaluation.metrics,
                **{f"latency_ms.{k}": v for k, v in latency.items()},
                "size_bytes": float(size_bytes),
                **_flat_slice_metrics(evaluation.slices),
            },
            tags={"data_fingerprint": data_sha256, "contract_fingerprint": contract.fingerprint()},
            artifacts={
                "figures": figures,
                "metrics": [metrics_path],
                **({"onnx": [staging / ONNX_FILE]} if exported.exported else {}),
                "config": [
                    settings.contract_path,
                    settings.training_config_path,
                    settings.gates_config_path,
                ],
            },
            model_metadata=metadata.model_dump(mode="json", exclude={"mlflow"}),
        )
    metadata = metadata.model_copy(update={"mlflow": tracked})
    metadata.write(staging)
    model_store.promote(staging, model_store.current_dir(models_dir))
    print_evaluation(evaluation)
    print(
        f"\nmodel {tracked.registered_model_name} version {tracked.version} "
        f"(alias {tracked.alias}), run {tracked.run_id}"
    )
    print(f"wrote {metrics_path}, {model_store.current_dir(models_dir)}/, {figures[0].parent}/")
    print(f"[train] total: {progress.total():.1f} s")
    return metadata


def _compare_with_record(metrics: dict[str, float], settings: Settings) -> str:
    path = settings.metrics_dir / METRICS_FILE
    if not path.is_file():
        return f"{path} does not exist yet (written by `make train`)"
    recorded = metrics_file.read_metrics(path).get("metrics", {})
    now = metrics_file.rounded(metrics)
    differ = sorted(name for name in now if recorded.get(name) != now[name])
    if not differ:
        return f"metrics identical to {path}"
    return f"metrics differ from {path} in: {', '.join(differ)} (data, config or model changed)"


def run_evaluate(settings: Settings) -> dict[str, float]:
    """Score the current model on the deterministic test split; return its metrics."""
    progress = Progress("evaluate")
    with progress.step("load the model, config, contract and data"):
        pipeline, metadata = model_store.load_current(settings.models_dir)
        inputs = load_inputs(settings)
        model_store.check_contract(metadata, inputs.contract.fingerprint())
    contract, config = inputs.contract, inputs.config
    with progress.step("score the test split"):
        split = training.split_frame(inputs.frame, contract, config)
        test_rows = inputs.frame.loc[split.test]
        evaluation = training.evaluate(pipeline, test_rows, contract, config)
    with progress.step("draw the plots"):
        figures = draw_plots(settings, inputs, test_rows, evaluation)
    version = metadata.model_version
    print(f"\nModel version {version}, {len(test_rows)} test rows, threshold {config.threshold}")
    print_evaluation(evaluation)
    print(f"\n{_compare_with_record(evaluation.metrics, settings)}")
    print(f"plots in {figures[0].parent}/")
    return evaluation.metrics


def run_promote(settings: Settings, version: str | None) -> int:
    """Promote `version`, or the version of models/current when none is given.

    Without a tracking server the registry is this machine's `mlflow.db`: on a
    fresh CI runner it does not hold the released model, so there is nothing to
    promote. That is said plainly and is not a failure (exit 0); with a server
    configured, a failed promotion is one (exit 1).
    """
    server = settings.tracking_uri or None  # an unset workflow variable is ''
    if version is None:
        current = model_store.current_dir(settings.models_dir)
        try:
            metadata = model_store.load_metadata(current)
        except ModelNotFoundError:
            metadata = None
        version = metadata.mlflow.version if metadata and metadata.mlflow else None
        if not version:
            print("promote: models/current has no registered version: nothing to promote")
            return 0 if server is None else 1
    if server is None and not settings.local_store_path.is_file():
        print(
            f"promote: no tracking server (MLFLOW_TRACKING_URI is unset) and no local store: "
            f"model version {version} was registered on the machine that trained it, so there "
            "is no champion to move here. Nothing promoted; set MLFLOW_TRACKING_URI to keep "
            "the registry's champion in step with production."
        )
        return 0
    try:
        print(f"promote: {tracking.promote(settings, version)} ({settings.mlflow_tracking_uri})")
    except TrackingError as err:
        if server is not None:
            raise
        print(f"promote: nothing promoted in the local store: {err}")
    return 0
