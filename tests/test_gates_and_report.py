"""A rendered project's gates judge the change, its pull-request report is never stale,
and its CI still runs every test it ran before CI was made faster.

One project (the default answers) is set up and trained once for the module:

- the latency and size gates block only on figures `compare` measured itself, both
  models side by side: a baseline committed at half the candidate's latency does not
  fail; a candidate made at least 5x slower (a delay injected into its predictions)
  or 5x bigger does (no test asserts a duration, only the gate's verdict);
- the real `pr-report` workflow job runs on a pull request whose committed metrics
  re-training does not reproduce, then the real `pr-comment` job runs against a fake
  GitHub API on 127.0.0.1 (tests/pr_workflow_runner.py): the pull request's comment,
  which said "passed", now says "failed" and names the step;
- the targets the workflows run collect every test id of tests/ci_test_ids.txt;
- the benchmarks behind the README's figures still run to the end against the
  trained model, each as its make target (short runs) and printing every figure it
  promises: `make bench-serving` with no request failed (it stops on any),
  `bench-batch`, `bench-validate`, `bench-validate-memory`, and
  `benchmarks/serving_batches.py`. The figures are the benchmarks' to print, never
  a test's to assert.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from . import ci_test_ids
from .combinations import DEFAULT
from .fake_github import BOT, TOKEN, fake_github
from .helpers import Renders, git, make, project_env, run, set_latency_calls, uv_run
from .pr_workflow_runner import Runner
from .system_tools import needs

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("trained-default-project")]
PACKAGE = "churn_prediction"
WRAPPERS = Path(__file__).with_name("model_wrappers.py")
REPOSITORY = "acme/churn-prediction"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, renders: Renders) -> Path:
    project = renders.copy(DEFAULT, tmp_path_factory.mktemp("gates"))
    # 20 timed calls, the least the gate allows (as in the project's tests/gate/test_costs.py)
    set_latency_calls(project, 20)
    git(project, "init", "-q", "-b", "main")
    make(project, "setup")
    make(project, "train")
    return project


@pytest.fixture(scope="module")
def wrappers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding only model_wrappers.py, for the project's PYTHONPATH."""
    folder = tmp_path_factory.mktemp("wrappers")
    shutil.copy(WRAPPERS, folder)
    return folder


def compare(project: Path, baseline: dict[str, Any], wrappers: Path) -> Any:
    path = project / "reports" / "baseline-under-test.json"
    path.write_text(json.dumps(baseline))
    env = project_env(PYTHONPATH=str(wrappers))
    return uv_run(project, PACKAGE, "compare", "--baseline", str(path), env=env)


def candidate_metrics(project: Path) -> dict[str, Any]:
    return dict(json.loads((project / "metrics" / "metrics.json").read_text()))


@pytest.fixture
def injected(project: Path, wrappers: Path) -> Iterator[Any]:
    """Replace the candidate model by a wrapped one; put the trained one back afterwards."""
    model = project / "models" / "current" / "model.joblib"
    original = model.read_bytes()

    def inject(wrapper: str) -> None:
        code = (
            "import joblib, model_wrappers as w; "
            f"p = {str(model)!r}; m = joblib.load(p); joblib.dump({wrapper}, p)"
        )
        uv_run(project, "python", "-c", code, env=project_env(PYTHONPATH=str(wrappers)), check=True)

    yield inject
    model.write_bytes(original)


def test_a_baseline_committed_at_half_the_latency_does_not_fail(
    project: Path, wrappers: Path
) -> None:
    baseline = copy.deepcopy(candidate_metrics(project))
    baseline["latency_ms"] = {k: v / 2 for k, v in baseline["latency_ms"].items()}
    shutil.rmtree(project / "models" / "baseline", ignore_errors=True)
    advisory = compare(project, baseline, wrappers)  # nothing to time: figures are advisory
    assert advisory.returncode == 0, advisory.stdout + advisory.stderr
    assert "latency and size: advisory (no baseline model in models/baseline)" in advisory.stdout
    make(project, "baseline")  # the same model, timed beside the candidate
    timed = compare(project, baseline, wrappers)
    assert timed.returncode == 0, timed.stdout + timed.stderr
    assert "both models measured side by side" in timed.stdout


@pytest.mark.parametrize(
    ("wrapper", "subject"),
    [
        ("w.FiveTimesSlower(m)", "latency p50 (ms)"),
        ("w.FiveTimesBigger(m, __import__('os').path.getsize(p))", "model size (bytes)"),
    ],
    ids=["5x-slower", "5x-bigger"],
)
def test_a_five_times_costlier_candidate_fails(
    project: Path, wrappers: Path, injected: Any, wrapper: str, subject: str
) -> None:
    make(project, "baseline")
    injected(wrapper)
    result = compare(project, candidate_metrics(project), wrappers)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "gate: FAILED (1 of" in result.stdout
    assert f"  - {'latency' if 'latency' in subject else 'model_size'}: {subject}" in result.stdout


def test_ci_workflows_still_run_every_test_id(project: Path) -> None:
    """Per target: the ids the workflows' targets collect now, against the snapshot."""
    now = ci_test_ids.collect_all(project)
    everything = set().union(*now.values())
    before = ci_test_ids.read_snapshot()
    for target in sorted(set(before) | set(now)):
        print(
            f"make {target}: {len(now.get(target, ()))} test ids now, "
            f"{len(before.get(target, ()))} in {ci_test_ids.SNAPSHOT.name}"
        )
    missing = {t: sorted(ids - everything) for t, ids in before.items() if ids - everything}
    assert not missing, f"test ids no CI workflow runs any more: {missing}"


def test_a_failed_reproduce_check_turns_the_pull_requests_comment_to_failed(
    project: Path, tmp_path: Path
) -> None:
    """pr-report (reproduce-check fails) -> artifact -> pr-comment -> comment says failed."""
    started = time.perf_counter()
    identity = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid"}
    env = project_env(**identity, GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid")
    git(project, "add", "-A", env=env)
    git(project, "commit", "-q", "-m", "main: the trained metrics", env=env)
    base = git(project, "rev-parse", "HEAD").strip()
    git(project, "checkout", "-q", "-b", "fork-feature")
    metrics = candidate_metrics(project)
    metrics["metrics"]["roc_auc"] = round(metrics["metrics"]["roc_auc"] + 0.001, 6)
    (project / "metrics" / "metrics.json").write_text(json.dumps(metrics, indent=2))
    git(project, "commit", "-q", "-am", "metrics that training does not give", env=env)
    head = git(project, "rev-parse", "HEAD").strip()
    artifacts = tmp_path / "artifacts"
    event = tmp_path / "pull_request.json"
    event.write_text(json.dumps({"pull_request": {"number": 7, "base": {"sha": base}}}))
    summary = tmp_path / "report-summary.md"
    report_job = Runner(
        workspace=project,
        artifacts=artifacts,
        github_env={
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_REPOSITORY": REPOSITORY,
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_RUN_ID": "4242",
            "GITHUB_SHA": head,
            "GITHUB_BASE_REF": "main",
            "GITHUB_STEP_SUMMARY": str(summary),
        },
        values={
            "github.event.pull_request.number": "7",
            "github.event.pull_request.base.sha": base,
        },
    ).run_job(project / ".github" / "workflows" / "pr-report.yml", "report")
    output = "\n".join(report_job.output)
    assert report_job.outcomes["reproduce-check"] == "failure", output
    assert report_job.outcomes["compare"] == "skipped"
    assert (artifacts / "pr-number" / "pr-number").read_text() == "7\n"
    report = (artifacts / "pr-report" / "report.md").read_text()
    assert "## ❌ pr-report failed at `make reproduce-check`" in report
    assert summary.read_text() == report  # the job summary carries the report
    assert (artifacts / "logs" / "reproduce-check.log").is_file()

    # pr-comment runs on the default branch's code, in its own checkout and environment.
    checkout = tmp_path / "default-branch"
    run(["git", "clone", "-q", "--branch", "main", project, checkout])
    run_event = tmp_path / "workflow_run.json"
    run_event.write_text(
        json.dumps(
            {
                "workflow_run": {
                    "id": 4242,
                    "html_url": f"https://github.com/{REPOSITORY}/actions/runs/4242",
                    "head_sha": head,
                    "conclusion": "failure",
                    "event": "pull_request",
                    "pull_requests": [],  # a fork's pull request: GitHub lists none
                }
            }
        )
    )
    marker = f"<!-- mlops-report:{REPOSITORY} -->"
    with fake_github(REPOSITORY) as github:
        github.pulls[7] = {"number": 7, "head": {"sha": head}}
        look_alike = github.add_comment(7, "someone", f"{marker}\n## ✅ Model gate passed")
        ours = github.add_comment(7, BOT, f"{marker}\n## ✅ Model gate passed against main")
        comment_job = Runner(
            workspace=checkout,
            artifacts=artifacts,
            github_env={
                "GITHUB_EVENT_PATH": str(run_event),
                "GITHUB_REPOSITORY": REPOSITORY,
                "GITHUB_API_URL": github.url,
                "GITHUB_STEP_SUMMARY": str(tmp_path / "comment-summary.md"),
            },
            values={
                "github.event.workflow_run.event == 'pull_request' && "
                "github.event.workflow_run.conclusion != 'cancelled'": True,
                "github.event.workflow_run.id": "4242",
                "github.token": TOKEN,
            },
        ).run_job(checkout / ".github" / "workflows" / "pr-comment.yml", "comment")
        assert not comment_job.failed, "\n".join(comment_job.output)
        assert github.writes == [("update", ours)]
        body = github.body(ours)
        assert body.startswith(f"{marker}\n## ❌ pr-report failed at `make reproduce-check`")
        assert "re-training does not reproduce the committed metrics" in body
        assert "[workflow run](https://github.com/acme/churn-prediction/actions/runs/4242)" in body
        assert github.body(look_alike).endswith("## ✅ Model gate passed")
    print(
        f"pr-report job {report_job.seconds:.1f}s, pr-comment job {comment_job.seconds:.1f}s, "
        f"whole flow {time.perf_counter() - started:.1f}s"
    )


# Each benchmark as its make target runs it (short runs), with what it must print: a
# pattern per figure it promises. `bench-serving` stops on any failed request itself.
BENCHMARKS = {
    "bench-serving": (
        ["make", "bench-serving", "BENCH_SECONDS=1", "BENCH_ROUNDS=1"],
        (
            r"^no-op FastAPI +\d+ ",
            r"^this service +\d+ ",
            r"^ratio \(medians\): \d+% of the no-op endpoint's req/s .* p99 [\d.]+ ms",
            r"^  whole ASGI app, this service +[\d.]+$",
            r"^    prediction log: submit \+ background write +[\d.]+$",
            r"^  2 workers per CPU second: \d+% of 1 worker's",
            r"^start-up, exec to first /ready 200: .*median [\d.]+ s",
            r"^ +1 rows: +\d+ rows/s",
            r"^ +100 rows: +\d+ rows/s",
            r"^ +1000 rows: +\d+ rows/s",
            r"^  prediction log: \d+ records dropped",
        ),
    ),
    "bench-batch": (
        ["make", "bench-batch", "ROWS=20000"],
        (
            r"^20,000 rows \(\d+ MB\) replicated from ",
            r"^predict \(pyarrow reader\) +[\d.]+ s +[\d,]+ rows/s .* peak \d+ MB$",
            r"^predict \(csv module, as in the image\) +[\d.]+ s +[\d,]+ rows/s",
            r"^scikit-learn pipeline \(pandas\) +[\d.]+ s +[\d,]+ rows/s",
            r"^predict is [\d.]+x the pipeline's throughput",
        ),
    ),
    "bench-validate": (
        ["make", "bench-validate"],
        (r"^data: .*\([\d,]+ rows, \d+ checks\)$", r"^warm validation: +median [\d.]+ s"),
    ),
    "bench-validate-memory": (
        ["make", "bench-validate-memory", "SIZE_MB=5"],
        (
            r"^default limits, validate: exit 0 in ",
            r"^raised limits, validate: exit 0 in .* rows/s",
            r"^peak memory of validate: \d+ MiB",
        ),
    ),
    "serving_batches": (
        ["uv", "run", "--quiet", "python", "benchmarks/serving_batches.py"],
        (
            r"^one 1,000-row batch \([\d.]+ MB\): \d+ ms of work",
            r"^single rows alone: +p50 [\d.]+ ms, p99 [\d.]+ ms",
            r"^single rows beside +\d+ batches: +p50 [\d.]+ ms, p99 [\d.]+ ms",
        ),
    ),
}


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=[needs("wrk")] if n == "bench-serving" else []) for n in BENCHMARKS],
)
def test_the_benchmarks_run_to_the_end_as_shipped(project: Path, name: str) -> None:
    """Each prints every figure it promises, on the trained default project."""
    command, figures = BENCHMARKS[name]
    bench = run(command, cwd=project, env=project_env(), timeout=600)
    print(bench.stdout)
    missing = [p for p in figures if not re.search(p, bench.stdout, re.MULTILINE)]
    assert not missing, f"{name} did not print {missing}:\n{bench.stdout}\n{bench.stderr}"
