"""The `compare`, `reproduce-check` and `report` commands.

They read the metrics that `train` wrote, find the baseline, apply
config/gates.yaml and leave their results in reports/ so that CI can upload
them and post one pull-request comment.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..core.gates import Comparison, GateConfig, compare, load_gate_config, reproduction_checks
from ..core.report import ReportContext, console_table, render_report
from ..io.baseline import Metrics, git_show, load_baseline, read_metrics
from ..settings import PACKAGE_NAME, Settings

COMPARISON_FILE = "comparison.json"
BASELINE_FILE = "baseline.json"
REPORT_FILE = "report.md"
VALIDATION_FILE = "data_validation.json"


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _gate_config(settings: Settings) -> GateConfig:
    return load_gate_config(settings.path(settings.gates_config_path))


def _candidate_path(settings: Settings) -> Path:
    return settings.path(settings.metrics_dir) / "metrics.json"


def run_compare(
    settings: Settings, baseline_path: Path | None = None, source: str | None = None
) -> int:
    """Compare the candidate with the baseline; exit code 1 when a gate fails."""
    config = _gate_config(settings)
    if source is not None:
        baseline_source = config.baseline.model_copy(update={"source": source})
        config = config.model_copy(update={"baseline": baseline_source})
    candidate = read_metrics(_candidate_path(settings))
    baseline: Metrics | None
    if baseline_path is not None:
        baseline, label = read_metrics(baseline_path), str(baseline_path)
    else:
        baseline, label = load_baseline(
            config.baseline,
            settings.project_dir,
            settings.mlflow_tracking_uri,
            settings.registered_model_name,
        )
    comparison = compare(candidate, baseline, config, label if baseline else None)
    reports = settings.path(settings.reports_dir)
    _write_json(reports / COMPARISON_FILE, comparison.to_dict())
    if baseline is not None:
        _write_json(reports / BASELINE_FILE, baseline)
    else:
        (reports / BASELINE_FILE).unlink(missing_ok=True)
    print(f"baseline: {label}")
    for note in comparison.notes:
        print(f"note: {note}")
    print(console_table(comparison.checks))
    if comparison.passed:
        print(f"gate: PASSED ({len(comparison.checks)} checks)")
        return 0
    print(f"gate: FAILED ({len(comparison.failures)} of {len(comparison.checks)} checks)")
    for failure in comparison.failures:
        print(f"  - {failure.gate}: {failure.reason}")
    return 1


def run_reproduce_check(settings: Settings, ref: str = "HEAD") -> int:
    """The metrics committed at `ref` must equal what training just produced."""
    config = _gate_config(settings)
    metrics_path = settings.metrics_dir / "metrics.json"
    committed_text = git_show(ref, metrics_path, settings.project_dir)
    if committed_text is None:
        print(f"reproduce-check: no {metrics_path} committed at {ref}: nothing to reproduce")
        return 0
    committed = json.loads(committed_text)
    fresh = read_metrics(_candidate_path(settings))
    checks = reproduction_checks(committed, fresh, config.reproducibility.tolerance)
    print(console_table(checks))
    failures = [c for c in checks if c.status == "fail"]
    if not failures:
        print(f"reproduce-check: the committed metrics at {ref} were reproduced")
        return 0
    print(f"reproduce-check: FAILED: re-training does not give the metrics committed at {ref}")
    for failure in failures:
        print(f"  - {failure.reason}")
    print("Commit the metrics that `make train` writes, or find what makes training vary.")
    return 1


def _read_optional(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else None


def _context() -> ReportContext:
    server, repo, run_id = (
        os.environ.get("GITHUB_SERVER_URL"),
        os.environ.get("GITHUB_REPOSITORY"),
        os.environ.get("GITHUB_RUN_ID"),
    )
    run_url = f"{server}/{repo}/actions/runs/{run_id}" if server and repo and run_id else None
    return ReportContext(
        project=os.environ.get("GITHUB_REPOSITORY", PACKAGE_NAME),
        package=PACKAGE_NAME,
        revision=os.environ.get("MLOPS_REVISION") or os.environ.get("GITHUB_SHA"),
        run_url=run_url,
    )


def pull_request_number(event_path: str | None) -> int | None:
    """The pull request a GitHub Actions run belongs to, from its event payload."""
    if not event_path or not Path(event_path).is_file():
        return None
    event = json.loads(Path(event_path).read_text(encoding="utf-8"))
    number = event.get("pull_request", {}).get("number") if isinstance(event, dict) else None
    return number if isinstance(number, int) else None


def run_report(settings: Settings) -> int:
    """Write reports/report.md (and the GitHub step summary when running in Actions)."""
    reports = settings.path(settings.reports_dir)
    comparison_data = _read_optional(reports / COMPARISON_FILE)
    if comparison_data is None:
        print(f"report: {reports / COMPARISON_FILE} not found: run `make compare` first")
        return 1
    config = _gate_config(settings)
    text = render_report(
        Comparison.from_dict(comparison_data),
        candidate=read_metrics(_candidate_path(settings)),
        baseline=_read_optional(reports / BASELINE_FILE),
        validation=_read_optional(reports / VALIDATION_FILE),
        context=_context(),
        slice_metric=config.slices.metric,
    )
    target = reports / REPORT_FILE
    target.write_text(text, encoding="utf-8")
    number = pull_request_number(os.environ.get("GITHUB_EVENT_PATH"))
    if number is not None:  # tells the comment workflow where to post
        (reports / "pr-number").write_text(f"{number}\n", encoding="utf-8")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with Path(summary).open("a", encoding="utf-8") as handle:
            handle.write(text)
    print(f"report: wrote {target} ({len(text):,} characters)")
    return 0
