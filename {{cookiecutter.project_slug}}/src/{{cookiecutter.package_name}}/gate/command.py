"""The `compare`, `reproduce-check`, `report` and `model-card` commands.

They read the metrics that `train` wrote, find the baseline, apply
config/gates.yaml and leave their results in reports/ so that CI can upload
them and post one pull-request comment.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..commands import Command
from ..errors import MetricsFileError
from ..layout import (
    BASELINE_FILE,
    COMPARISON_FILE,
    DATA_VALIDATION_JSON,
    METRICS_FILE,
    MODEL_CARD_HTML,
    MODEL_CARD_MD,
    PR_NUMBER_FILE,
    REPORT_FILE,
    ValidationRecord,
)
from ..settings import PACKAGE_NAME, Settings
from ..train.metrics_file import parse_metrics, read_metrics
from .baseline import Metrics, git_show, load_baseline
from .config import GateConfig, load_gate_config
from .report import ReportContext, console_table, render_report
from .rules import Comparison, compare, reproduction_checks


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _gate_config(settings: Settings) -> GateConfig:
    return load_gate_config(settings.gates_config_path)


def _candidate_path(settings: Settings) -> Path:
    return settings.metrics_dir / METRICS_FILE


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
    reports = settings.reports_dir
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
    metrics_path = settings.relative(settings.metrics_dir / METRICS_FILE)
    committed_text = git_show(ref, metrics_path, settings.project_dir)
    if committed_text is None:
        print(f"reproduce-check: no {metrics_path} committed at {ref}: nothing to reproduce")
        return 0
    committed = parse_metrics(committed_text, f"{ref}:{metrics_path.as_posix()}")
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


def _validation_record(path: Path) -> ValidationRecord | None:
    """The data-validation result `validate` wrote, if any (an unreadable one is said so)."""
    data = _read_optional(path)
    if data is None:
        return None
    try:
        return ValidationRecord.model_validate(data)
    except ValidationError as err:
        raise MetricsFileError(f"{path} is not a data-validation result: {err}") from err


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


def model_card_link(card: Path) -> str:
    """The report's pointer to the model card (uploaded beside it), with its headline facts."""
    weakest = next(
        (
            line
            for line in card.read_text(encoding="utf-8").splitlines()
            if line.startswith("Weakest")
        ),
        "",
    )
    return (
        f"\n### Model card\n\n`{MODEL_CARD_MD}` and `{MODEL_CARD_HTML}` are in the run's "
        f"`pr-report` artifact: intended use, data, metrics beside the gate's thresholds, "
        f"slices, calibration, model tests, registry version. {weakest}\n"
    )


def run_report(settings: Settings) -> int:
    """Write reports/report.md (and the GitHub step summary when running in Actions)."""
    reports = settings.reports_dir
    comparison_data = _read_optional(reports / COMPARISON_FILE)
    if comparison_data is None:
        print(f"report: {reports / COMPARISON_FILE} not found: run `make compare` first")
        return 1
    config = _gate_config(settings)
    text = render_report(
        Comparison.from_dict(comparison_data),
        candidate=read_metrics(_candidate_path(settings)),
        baseline=_read_optional(reports / BASELINE_FILE),
        validation=_validation_record(reports / DATA_VALIDATION_JSON),
        context=_context(),
        slice_metric=config.slices.metric,
    )
    if (reports / MODEL_CARD_MD).is_file():
        text += model_card_link(reports / MODEL_CARD_MD)
    target = reports / REPORT_FILE
    target.write_text(text, encoding="utf-8")
    number = pull_request_number(os.environ.get("GITHUB_EVENT_PATH"))
    if number is not None:  # tells the comment workflow where to post
        (reports / PR_NUMBER_FILE).write_text(f"{number}\n", encoding="utf-8")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with Path(summary).open("a", encoding="utf-8") as handle:
            handle.write(text)
    print(f"report: wrote {target} ({len(text):,} characters)")
    return 0


def _compare(args: argparse.Namespace, settings: Settings) -> int:
    return run_compare(settings, baseline_path=args.baseline, source=args.source)


def _compare_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="metrics file to compare with (default: from config/gates.yaml)",
    )
    parser.add_argument(
        "--source",
        choices=["auto", "git", "registry"],
        default=None,
        help="where to find the baseline (default: baseline.source in config/gates.yaml)",
    )


def _reproduce_check(args: argparse.Namespace, settings: Settings) -> int:
    return run_reproduce_check(settings, ref=args.ref)


def _reproduce_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ref", default="HEAD", help="git ref holding the committed metrics")


def _report(args: argparse.Namespace, settings: Settings) -> int:
    return run_report(settings)


def _model_card(args: argparse.Namespace, settings: Settings) -> int:
    from .steps import run_model_card  # pandas, scikit-learn, MLflow: only for the card

    return run_model_card(settings)


COMMANDS = (
    Command(
        "compare", "apply the quality gates against the baseline", _compare, _compare_arguments
    ),
    Command(
        "reproduce-check",
        "check that re-training reproduces the committed metrics",
        _reproduce_check,
        _reproduce_arguments,
    ),
    Command("report", "write the Markdown metric report (reports/report.md)", _report),
    Command(
        "model-card",
        "write the model card (reports/model_card.md, .html) of models/current",
        _model_card,
    ),
)
