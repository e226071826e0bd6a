"""`evaluate`: re-score the saved model on the test split, print the tables, redraw the plots.

It reads the model from `models/current/` rather than retraining, so it shows
what will actually be tested and served, and it says whether the numbers still
match `metrics/metrics.json` (they do unless data, config or model changed).
"""

from __future__ import annotations

from ..core import training
from ..io import metrics_file, model_store, plots
from ..settings import Settings
from .common import Progress, load_inputs, print_evaluation
from .train import METRICS_FILE


def _compare_with_record(metrics: dict[str, float], settings: Settings) -> str:
    path = settings.path(settings.metrics_dir) / METRICS_FILE
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
        pipeline, metadata = model_store.load_current(settings.path(settings.models_dir))
        inputs = load_inputs(settings)
        model_store.check_contract(metadata, inputs.contract.fingerprint())
    contract, config = inputs.contract, inputs.config
    with progress.step("score the test split"):
        split = training.split_frame(inputs.frame, contract, config)
        test_rows = inputs.frame.loc[split.test]
        evaluation = training.evaluate(pipeline, test_rows, contract, config)
    with progress.step("draw the plots"):
        figures = plots.write_plots(
            training.binary_labels(test_rows, contract),
            evaluation.proba,
            config.threshold,
            contract.target.labels,
            settings.path(settings.reports_dir) / "figures",
        )
    version = metadata.get("mlflow", {}).get("version", "?")
    print(f"\nModel version {version}, {len(test_rows)} test rows, threshold {config.threshold}")
    print_evaluation(evaluation)
    print(f"\n{_compare_with_record(evaluation.metrics, settings)}")
    print(f"plots in {figures[0].parent}/")
    return evaluation.metrics
