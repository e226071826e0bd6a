"""The load gate: run locust against a service and judge the run.

`make loadtest` and the blue/green release both call `load_gate`, which
returns the summary and the violations, so a release learns why its green
failed from the return value, not by re-reading a report file.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from ..config_files import FrozenModel, load_yaml, validation_problems
from ..errors import ConfigError, LoadTestError
from ..layout import LOADTEST_FILE, LOCUST_PREFIX
from .loadtest import LoadSummary, LoadThresholds, summarize, violations
from .process import scrubbed_environment

LOCUSTFILE = Path("loadtests/locustfile.py")


class LoadTestConfig(FrozenModel):
    """`config/loadtest.yaml`: how hard to push and what the service must sustain."""

    users: int = Field(default=16, ge=1)
    spawn_rate: float = Field(default=16, gt=0)
    duration: str = Field(default="10s", pattern=r"^(?:\d+[hms])+$|^\d+$")
    max_failures: int = Field(default=0, ge=0)
    max_p95_ms: float = Field(default=100.0, gt=0)
    min_requests: int = Field(default=100, ge=0)

    @property
    def thresholds(self) -> LoadThresholds:
        """The gate's limits."""
        return LoadThresholds(
            max_failures=self.max_failures,
            max_p95_ms=self.max_p95_ms,
            min_requests=self.min_requests,
        )


def load_loadtest_config(path: Path, overrides: dict[str, Any] | None = None) -> LoadTestConfig:
    """config/loadtest.yaml, with `overrides` (a release's `validation.load`) applied.

    Raises:
        ConfigError: the file or the overrides break the schema (one message, every key).
    """
    config = load_yaml(path, LoadTestConfig, "load-test configuration", ConfigError)
    if not overrides:
        return config
    try:
        return LoadTestConfig.model_validate({**config.model_dump(), **overrides})
    except ValidationError as err:
        raise ConfigError(
            f"load-test overrides of {path} are invalid: {validation_problems(err)}"
        ) from err


@dataclass(frozen=True)
class LoadResult:
    """What a load run measured and why it fails the gate (empty violations: it passed)."""

    summary: LoadSummary
    violations: list[str]

    @property
    def passed(self) -> bool:
        """True when no threshold was crossed."""
        return not self.violations

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, for `reports/loadtest.json`."""
        return {
            "summary": asdict(self.summary),
            "rps": self.summary.rps,
            "violations": self.violations,
        }


def duration_seconds(duration: str) -> float:
    """Locust's run time ('10s', '1m30s', '2h', or bare seconds) in seconds."""
    if duration.isdigit():
        return float(duration)
    units = {"h": 3600, "m": 60, "s": 1}
    return float(sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([hms])", duration)))


# Locust counts `--run-time` from before its users start, so on a busy machine its
# start-up can eat a short run whole. The locustfile stops the run RUN_SECONDS_VARIABLE
# after every user is spawned instead; `--run-time` (+ this margin) and the process
# timeout (+ twice it) are only the backstops of a hung run.
TIMEOUT_MARGIN_SECONDS = 60.0
RUN_SECONDS_VARIABLE = "LOADTEST_RUN_SECONDS"


def run_locust(project_dir: Path, url: str, config: LoadTestConfig, out: Path) -> LoadSummary:
    """Headless locust against `url`; exact counts come from its JSON output.

    Locust runs with a scrubbed environment (no cloud or CI credentials) and a
    hard timeout: a hung load generator is killed and reported, never waited for.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    seconds = duration_seconds(config.duration)
    command = [
        sys.executable, "-m", "locust",
        "-f", str(project_dir / LOCUSTFILE),
        "--headless", "--only-summary",
        "-u", str(config.users),
        "-r", str(config.spawn_rate),
        "-t", f"{seconds + TIMEOUT_MARGIN_SECONDS:.0f}s",
        "--host", url,
        "--json-file", str(out),
        "--loglevel", "WARNING",
    ]  # fmt: skip
    timeout = seconds + 2 * TIMEOUT_MARGIN_SECONDS
    environment = scrubbed_environment(
        {"MLOPS_PROJECT_DIR": str(project_dir), RUN_SECONDS_VARIABLE: str(seconds)}
    )
    try:
        result = subprocess.run(
            command,
            cwd=project_dir,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as err:
        raise LoadTestError(
            f"locust did not finish within {timeout:.0f} s (run time {config.duration}): killed"
        ) from err
    json_path = out.with_suffix(".json")
    if not json_path.is_file():
        raise LoadTestError(
            f"locust wrote no results (exit {result.returncode}):\n{result.stderr[-2000:]}"
        )
    return summarize(json.loads(json_path.read_text(encoding="utf-8")))


def print_summary(summary: LoadSummary) -> None:
    """One line a human can read in a CI log."""
    print(
        f"loadtest: {summary.requests} requests in {summary.duration_s:.1f} s "
        f"({summary.rps:.0f}/s), {summary.failures} failed, "
        f"p50 {summary.p50_ms:.0f} ms, p95 {summary.p95_ms:.0f} ms, p99 {summary.p99_ms:.0f} ms"
    )


def load_gate(project_dir: Path, reports_dir: Path, url: str, config: LoadTestConfig) -> LoadResult:
    """Load `url`, apply the gate, record the result in reports/loadtest.json, return it."""
    summary = run_locust(project_dir, url, config, reports_dir / LOCUST_PREFIX)
    print_summary(summary)
    result = LoadResult(summary, violations(summary, config.thresholds))
    (reports_dir / LOADTEST_FILE).write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    if result.passed:
        print("loadtest: PASSED")
    else:
        print("loadtest: FAILED: " + "; ".join(result.violations))
    return result
