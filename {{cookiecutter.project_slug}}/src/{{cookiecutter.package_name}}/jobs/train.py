"""`train`: fit the configured model, evaluate it, record it everywhere it is needed.

Outputs: `models/current/` (pipeline + metadata), `metrics/metrics.json` (the
deterministic quality record), `reports/figures/` (plots) and one MLflow run
with the model registered and aliased `challenger`.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd

from ..core import training
from ..core.metrics import SliceTable
from ..io import metrics_file, model_store, onnx_export, plots, tracking
from ..settings import Settings
from ..validation.service import validate_project_data
from .common import Inputs, Progress, data_fingerprint, load_inputs, print_evaluation

LATENCY_CALLS = 200
METRICS_FILE = "metrics.json"


def measure_latency(model: Any, rows: pd.DataFrame, calls: int = LATENCY_CALLS) -> dict[str, float]:
    """Median and 95th percentile of single-row `predict_proba` time, in milliseconds."""
    singles = [rows.iloc[[i % len(rows)]] for i in range(calls)]
    model.predict_proba(singles[0])  # warm-up: first call pays one-off costs
    durations = []
    for row in singles:
        start = time.perf_counter()
        model.predict_proba(row)
        durations.append((time.perf_counter() - start) * 1000)
    p50, p95 = np.percentile(durations, [50, 95])
    return {"p50": float(p50), "p95": float(p95)}


def metrics_payload(
    inputs: Inputs,
    trained: training.TrainedModel,
    data_sha256: str,
    size_bytes: int,
    latency: dict[str, float],
) -> dict[str, Any]:
    """The content of metrics/metrics.json (schema shared with compare and report)."""
    return {
        "model": {
            "estimator": inputs.config.estimator.name,
            "size_bytes": size_bytes,
            "threshold": inputs.config.threshold,
        },
        "data": {
            "fingerprint": data_sha256,
            "contract": inputs.contract.fingerprint(),
            "rows": {"train": len(trained.split.train), "test": len(trained.split.test)},
            "test_ids_fingerprint": trained.test_ids_fingerprint,
        },
        "metrics": trained.evaluation.metrics,
        "slices": trained.evaluation.slices,
        "latency_ms": latency,
    }


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


def run_train(settings: Settings) -> dict[str, Any]:
    """Run the whole training step and return the metadata written next to the model."""
    progress = Progress("train")
    with progress.step("validate the data (contract and rules, Great Expectations)"):
        # Same code and message as `validate`: bad data stops here, before
        # anything is fitted, written or logged to MLflow.
        outcome = validate_project_data(settings)
        print(f"  {outcome.summary_line()}")
    with progress.step("load config, contract and data"):
        inputs = load_inputs(settings)
        data_sha256 = data_fingerprint(inputs)
        print(f"  {len(inputs.frame)} rows from {inputs.data_path} (sha256 {data_sha256[:12]})")
    contract, config = inputs.contract, inputs.config
    with progress.step(f"split, fit {config.estimator.short_name} and score the test split"):
        trained = training.train(inputs.frame, contract, config)
        evaluation = trained.evaluation
    models_dir = settings.path(settings.models_dir)
    staging = model_store.staging_dir(models_dir)
    with progress.step("save the pipeline"):
        model_path = model_store.save_pipeline(trained.pipeline, staging)
        size_bytes = model_path.stat().st_size
    test_rows = inputs.frame.loc[trained.split.test]
    features = training.feature_frame(test_rows, contract)
    with progress.step("export to ONNX for serving and check parity on the test split"):
        exported = onnx_export.export_onnx(
            trained.pipeline, contract, features, staging / onnx_export.ONNX_FILE
        )
        if exported.exported:
            print(f"  max |Δ probability| ONNX vs pipeline: {exported.max_abs_diff:.1e}")
        else:
            print(f"  WARNING: not exported, the service will use the pipeline: {exported.reason}")
    with progress.step(f"measure single-row latency ({LATENCY_CALLS} calls)"):
        latency = measure_latency(trained.pipeline, features)
    with progress.step("write metrics and plots"):
        metrics_path = metrics_file.write_metrics(
            settings.path(settings.metrics_dir) / METRICS_FILE,
            metrics_payload(inputs, trained, data_sha256, size_bytes, latency),
        )
        figures = plots.write_plots(
            training.binary_labels(test_rows, contract),
            evaluation.proba,
            config.threshold,
            contract.target.labels,
            settings.path(settings.reports_dir) / "figures",
        )
    model_metadata = {
        "threshold": config.threshold,
        "contract_fingerprint": contract.fingerprint(),
        "data_fingerprint": data_sha256,
        "test_ids_fingerprint": trained.test_ids_fingerprint,
        "positive_label": contract.target.positive,
        "onnx": {
            "exported": exported.exported,
            "max_abs_diff": exported.max_abs_diff,
            "reason": exported.reason,
        },
    }
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
                **({"onnx": [staging / onnx_export.ONNX_FILE]} if exported.exported else {}),
                "config": [
                    settings.path(settings.contract_path),
                    settings.path(settings.training_config_path),
                ],
            },
            model_metadata=model_metadata,
        )
    metadata = {
        **model_metadata,
        "model_file": model_store.MODEL_FILE,
        "estimator": config.estimator.name,
        "estimator_params": dict(config.estimator.params),
        "feature_columns": contract.feature_columns,
        "id_column": contract.id_column,
        "target_column": contract.target.column,
        "labels": list(contract.target.labels),
        "contract_version": contract.version,
        "metrics": metrics_file.rounded(evaluation.metrics),
        "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "mlflow": asdict(tracked),
    }
    model_store.write_metadata(staging, metadata)
    model_store.promote(staging, model_store.current_dir(models_dir))
    print_evaluation(evaluation)
    print(
        f"\nmodel {tracked.registered_model_name} version {tracked.version} "
        f"(alias {tracked.alias}), run {tracked.run_id}"
    )
    print(f"wrote {metrics_path}, {model_store.current_dir(models_dir)}/, {figures[0].parent}/")
    print(f"[train] total: {progress.total():.1f} s")
    return metadata
