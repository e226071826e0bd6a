"""The generated project's monitoring configuration, checked with the real tools.

promtool (Debian's `prometheus` package) validates the alert rules and the
scrape configuration and runs the rules' unit tests (the live scrape of the real
service is a test of the generated project); the compose file is validated against the
Compose Specification.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .combinations import DEFAULT
from .helpers import Renders
from .system_tools import needs

needs_promtool = needs("promtool")
ALERTS = {
    "ModelServiceDown",
    "HighErrorRate",
    "HighLatencyP99",
    "PredictionScoreShift",
    "NoPredictionTraffic",
    "PredictionLogDropping",
    "PredictionLogUploadsFailing",
}


@pytest.fixture(scope="module")
def project(renders: Renders) -> Path:
    return renders[DEFAULT]


@pytest.fixture(scope="module")
def monitoring(project: Path) -> Path:
    return project / "infra" / "monitoring"


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """promtool's answer; the timeout only stops a hang (`make test` runs the alert
    tests at nice 19, where ~10 s of CPU may take minutes)."""
    return subprocess.run(
        ["promtool", *args], cwd=cwd, capture_output=True, text=True, timeout=900, check=False
    )


@needs_promtool
def test_alert_rules_are_valid(monitoring: Path) -> None:
    result = promtool("check", "rules", "alerts.yml", cwd=monitoring)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(ALERTS)} rules found" in result.stdout


@needs_promtool
def test_scrape_config_is_valid(monitoring: Path) -> None:
    result = promtool("check", "config", "prometheus.yml", cwd=monitoring)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 1 rule files found" in result.stdout


@pytest.mark.slow
@pytest.mark.beside
@needs_promtool
def test_alert_unit_tests_pass(monitoring: Path) -> None:
    result = promtool("test", "rules", "alerts_test.yml", cwd=monitoring)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.slow
@pytest.mark.beside
@needs_promtool
@pytest.mark.parametrize(
    ("alert", "original", "mutant"),
    [
        ("HighErrorRate", "> 0.05", "> 0.5"),
        ("NoPredictionTraffic", "[15m])) == 0", "[15m])) == 1"),
    ],
)
def test_alert_unit_tests_catch_a_wrong_threshold(
    monitoring: Path, tmp_path: Path, alert: str, original: str, mutant: str
) -> None:
    rules = (monitoring / "alerts.yml").read_text()
    assert rules.count(original) == 1
    (tmp_path / "alerts.yml").write_text(rules.replace(original, mutant))
    shutil.copyfile(monitoring / "alerts_test.yml", tmp_path / "alerts_test.yml")
    result = promtool("test", "rules", "alerts_test.yml", cwd=tmp_path)
    assert result.returncode != 0
    assert alert in result.stdout + result.stderr


# The live check (a real Prometheus scraping the real service with these files)
# is in the generated project's tests/test_service_integration.py, run by `make all`.


def test_compose_file_follows_the_compose_spec(project: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(project / "docker-compose.yml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_refers_to_files_of_the_project(project: Path) -> None:
    compose = yaml.safe_load((project / "docker-compose.yml").read_text())
    assert (project / compose["services"]["service"]["build"] / "Dockerfile").is_file()
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./") and source != "./logs":  # logs/ is created at run time
                assert (project / source).exists(), f"{name} mounts missing {source}"
