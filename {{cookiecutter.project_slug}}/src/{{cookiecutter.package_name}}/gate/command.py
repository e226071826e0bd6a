"""The `compare`, `reproduce-check`, `report`, `pr-comment` and `model-card` commands.

They read the metrics that `train` wrote, find the baseline, apply
config/gates.yaml and leave their results in reports/ so that CI can upload
them and post one pull-request comment. The gate's modules are imported inside
the handlers: `pr-comment` runs with the project's base dependencies only.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ..commands import Command
from ..errors import MetricsFileError, ProjectError, PullRequestCommentError
from ..layout import (
    BASELINE_FILE,
    COMPARISON_FILE,
    DATA_VALIDATION_JSON,
    METRICS_FILE,
    MODEL_CARD_HTML,
    MODEL_CARD_MD,
    PR_NUMBER_FILE,
    REPORT_FILE,
    REPRODUCTION_FILE,
    ValidationRecord,
)
from ..settings import PACKAGE_NAME, Settings
from ..train.metrics_file import parse_metrics, read_metrics

if TYPE_CHECKING:
    from .config import GateConfig
    from .report import ReportContext
    from .rules import Check, MeasuredCosts

# Set by the pull-request workflow's report step to `toJSON(steps)`: which steps failed.
CI_STEPS_ENV = "CI_STEPS_JSON"
# The login of the comment's author (default: the GITHUB_TOKEN's bot).
COMMENT_AUTHOR_ENV = "REPORT_COMMENT_AUTHOR"


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _gate_config(settings: Settings) -> GateConfig:
    from .config import load_gate_config

    return load_gate_config(settings.gates_config_path)


def _candidate_path(settings: Settings) -> Path:
    return settings.metrics_dir / METRICS_FILE


def _measured_costs(
    settings: Settings, config: GateConfig, baseline_model: Path | None, registry: bool
) -> MeasuredCosts | None:
    """Time and size both models side by side, when there is a baseline model to time."""
    from .costs import find_baseline_model, measure_costs  # pandas, scikit-learn

    found, why_not = find_baseline_model(settings, baseline_model, registry)
    if found is None:
        print(f"latency and size: advisory ({why_not})")
        return None
    measured, why_not = measure_costs(settings, found, config.latency)
    if measured is None:
        print(f"latency and size: advisory ({why_not})")
    return measured


def run_compare(
    settings: Settings,
    baseline_path: Path | None = None,
    source: str | None = None,
    baseline_model: Path | None = None,
) -> int:
    """Compare the candidate with the baseline; exit code 1 when a gate fails.

    Latency and size block only when a baseline model was timed beside the candidate
    here (`baseline_model`, models/baseline, or the registry's champion).
    """
    from .baseline import Metrics, load_baseline, uses_tracking_server
    from .report import console_table
    from .rules import compare

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
            settings.baseline_ref,
        )
    measured = None
    if baseline is not None:
        kind = config.baseline.source
        registry = baseline_path is None and (
            kind == "registry"
            or (kind == "auto" and uses_tracking_server(settings.mlflow_tracking_uri))
        )
        measured = _measured_costs(settings, config, baseline_model, registry)
    comparison = compare(
        candidate, baseline, config, label if baseline else None, measured=measured, missing=label
    )
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
    from .baseline import git_show
    from .report import console_table
    from .rules import reproduction_checks

    config = _gate_config(settings)
    metrics_path = settings.relative(settings.metrics_dir / METRICS_FILE)
    committed_text = git_show(ref, metrics_path, settings.project_dir)
    if committed_text is None:
        print(f"reproduce-check: no {metrics_path} committed at {ref}: nothing to reproduce")
        return 0
    committed = parse_metrics(committed_text, f"{ref}:{metrics_path.as_posix()}")
    fresh = read_metrics(_candidate_path(settings))
    checks = reproduction_checks(committed, fresh, config.reproducibility.tolerance)
    _write_json(settings.reports_dir / REPRODUCTION_FILE, [asdict(c) for c in checks])
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
    from .report import ReportContext

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


def _ci_steps_failed() -> tuple[str, ...]:
    """The failed steps of the running workflow job, when its report step passes them."""
    from .report import steps_failed

    text = os.environ.get(CI_STEPS_ENV, "").strip()
    if not text:
        return ()
    try:
        steps = json.loads(text)
    except json.JSONDecodeError as err:
        raise ProjectError(f"{CI_STEPS_ENV} is not JSON (expected toJSON(steps)): {err}") from err
    if not isinstance(steps, dict):
        raise ProjectError(f"{CI_STEPS_ENV} must be a JSON object (toJSON(steps))")
    return steps_failed(steps)


def _reproduction(path: Path) -> list[Check] | None:
    from .rules import Check

    if not path.is_file():
        return None
    return [Check(**item) for item in json.loads(path.read_text(encoding="utf-8"))]


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
    """Write reports/report.md (and the GitHub step summary when running in Actions).

    In the pull-request workflow it runs whatever failed before it: the report then
    says which step failed and shows what the earlier steps left.
    """
    from .report import render_report
    from .rules import Comparison

    reports = settings.reports_dir
    failed = _ci_steps_failed()
    comparison_data = _read_optional(reports / COMPARISON_FILE)
    if comparison_data is None and not failed:
        print(f"report: {reports / COMPARISON_FILE} not found: run `make compare` first")
        return 1
    config = _gate_config(settings)
    candidate_path = _candidate_path(settings)
    text = render_report(
        None if comparison_data is None else Comparison.from_dict(comparison_data),
        candidate=read_metrics(candidate_path) if candidate_path.is_file() else None,
        baseline=_read_optional(reports / BASELINE_FILE),
        validation=_validation_record(reports / DATA_VALIDATION_JSON),
        context=_context(),
        slice_metric=config.slices.metric,
        failed_steps=failed,
        reproduction=_reproduction(reports / REPRODUCTION_FILE),
    )
    if (reports / MODEL_CARD_MD).is_file():
        text += model_card_link(reports / MODEL_CARD_MD)
    target = reports / REPORT_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
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


def run_pr_comment(artifact: Path, env: dict[str, str]) -> int:
    """Post a `pr-report` run's report as the pull request's one comment (or skip the run).

    Reads the run from the `workflow_run` event (GITHUB_EVENT_PATH), the report and
    the pull-request number from the run's downloaded artifact folder.
    """
    from . import comment
    from .github import DEFAULT_API_URL, GitHub
    from .report import report_marker

    event_path = env.get("GITHUB_EVENT_PATH", "")
    if not event_path or not Path(event_path).is_file():
        raise PullRequestCommentError("GITHUB_EVENT_PATH names no event file (run it in Actions)")
    run = comment.report_run(json.loads(Path(event_path).read_text(encoding="utf-8")))
    uploaded = artifact / PR_NUMBER_FILE
    number = comment.pull_request_number(
        uploaded.read_text(encoding="utf-8") if uploaded.is_file() else None, run
    )
    repository = env.get("GITHUB_REPOSITORY", "")
    github = GitHub(
        env.get("GITHUB_API_URL") or DEFAULT_API_URL, repository, env.get("GITHUB_TOKEN", "")
    )
    head_sha = str(github.pull_request(number)["head"]["sha"])
    report_path = artifact / REPORT_FILE
    report = report_path.read_text(encoding="utf-8") if report_path.is_file() else None
    marker = report_marker(repository)
    failed = github.failed_steps(run.run_id) if run.failed else []
    decision = comment.decide(
        run,
        head_sha,
        github.comments(number) if head_sha == run.head_sha else [],
        marker=marker,
        author=env.get(COMMENT_AUTHOR_ENV) or comment.DEFAULT_AUTHOR,
        body=comment.comment_body(report, marker, run, failed),
    )
    if decision.action == "skip":
        message = f"pr-comment: #{number}: skipped, {decision.reason}"
    elif decision.action == "update" and decision.comment_id is not None:
        github.update_comment(decision.comment_id, decision.body)
        message = f"pr-comment: updated comment {decision.comment_id} on #{number}"
    else:
        created = github.create_comment(number, decision.body)
        message = f"pr-comment: created comment {created} on #{number}"
    verdict = "failed" if run.failed else "passed"
    print(f"{message} (run {run.run_id} {verdict})")
    summary = env.get("GITHUB_STEP_SUMMARY")
    if summary:
        with Path(summary).open("a", encoding="utf-8") as handle:
            handle.write(f"{message} (run [{run.run_id}]({run.url}) {verdict})\n")
    return 0


def _compare(args: argparse.Namespace, settings: Settings) -> int:
    model = None if args.baseline_model is None else settings.path(args.baseline_model)
    return run_compare(
        settings, baseline_path=args.baseline, source=args.source, baseline_model=model
    )


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
    parser.add_argument(
        "--baseline-model",
        type=Path,
        default=None,
        help="model folder to time beside the candidate (default: MLOPS_BASELINE_MODEL_DIR, "
        "models/baseline, when it holds a model)",
    )


def _reproduce_check(args: argparse.Namespace, settings: Settings) -> int:
    return run_reproduce_check(settings, ref=args.ref)


def _reproduce_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ref", default="HEAD", help="git ref holding the committed metrics")


def _report(args: argparse.Namespace, settings: Settings) -> int:
    return run_report(settings)


def _pr_comment(args: argparse.Namespace, settings: Settings) -> int:
    return run_pr_comment(settings.path(args.artifact), dict(os.environ))


def _pr_comment_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--artifact",
        type=Path,
        default=Path("pr-report"),
        help="folder holding the pr-report run's artifact (pr-number, report.md)",
    )


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
        "pr-comment",
        "post a pr-report run's report as the pull request's one comment (GitHub Actions)",
        _pr_comment,
        _pr_comment_arguments,
    ),
    Command(
        "model-card",
        "write the model card (reports/model_card.md, .html) of models/current",
        _model_card,
    ),
)
