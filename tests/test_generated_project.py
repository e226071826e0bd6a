"""Every runnable combination passes `make setup && make ci`.

The default runs the whole local pipeline (`make all`); a license-only twin is proven by
diff; a cloud-only twin runs lint and the unit tests and proves the rest by diff; the
combination with a user's own names runs `make ci` on a user's own data
(tests/test_own_data.py).
"""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path

import pytest

from .combinations import (
    DEFAULT,
    NAMED,
    RUNNABLE,
    code_of,
    combo_id,
    distinct_code,
    package_of,
)
from .helpers import Renders, git, listening, make, uv_run
from .system_tools import needs

# A license-only variant's pipeline is not run twice: its files are compared instead.
# The combination with a user's own names runs its `make ci` on a user's own data
# (tests/test_own_data.py), which proves the names and the data in one pipeline.
DISTINCT = distinct_code(RUNNABLE)
TWINS = [(c, next(p for p in DISTINCT if code_of(p) == code_of(c))) for c in RUNNABLE]
TWINS = [(c, twin) for c, twin in TWINS if c != twin]
# A combination that differs from the default only in its cloud and registry has the
# default's code, tests, data and config: only what deploys (infra/, cd.yml, the
# Dockerfile, the Makefile's cloud targets) and the README differ. Its lint and unit
# tests run (the unit tests read those files); the rest of `make ci` reads only files
# that are byte for byte the default's, whose `make all` runs it.
CLOUD_TWINS = [(c, DEFAULT) for c in DISTINCT if c not in (DEFAULT, NAMED)]
DEPLOY_FILES = ("infra/", ".github/workflows/cd.yml", "Dockerfile", "Makefile", "README.md")
# `make all` (the default combination) releases behind nginx and scrapes with Prometheus;
# its load gates and releases under load measure latency, so it runs alone (before the
# parallel part of `make test`).
COMBOS = [pytest.param(DEFAULT, marks=[pytest.mark.alone, needs("nginx", "prometheus")])]
LICENSE_FILES = {"LICENSE", "pyproject.toml", "README.md", "Dockerfile"}


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    ("combo", "twin"), TWINS, ids=[f"{combo_id(c)}={combo_id(t)}" for c, t in TWINS]
)
def test_license_only_variants_differ_only_in_their_license(
    renders: Renders, combo: dict[str, str], twin: dict[str, str]
) -> None:
    """The variant's files equal its twin's (whose pipeline runs), but for license lines."""
    mine, theirs = _files(renders[combo]), _files(renders[twin])
    differing = {name for name in set(mine) | set(theirs) if mine.get(name) != theirs.get(name)}
    assert differing <= LICENSE_FILES, sorted(differing - LICENSE_FILES)
    for name in differing - {"LICENSE"}:
        # Lines naming the license go; a file list loses its LICENSE entry.
        kept = [
            {
                line.replace(" LICENSE", "")
                for line in text[name].decode().splitlines()
                if "licen" not in line.replace(" LICENSE", "").lower()
            }
            for text in (mine, theirs)
        ]
        assert kept[0] == kept[1], (
            f"{name}: lines other than the license differ: {kept[0] ^ kept[1]}"
        )


def _ci_commands(project: Path) -> str:
    """What `make ci` runs, as make prints it without running it (`make -n`)."""
    printed = make(project, "-n", "ci").stdout
    return printed.replace(str(project), "<project>")


@pytest.mark.slow
@needs("git", "make")
@pytest.mark.parametrize(
    ("combo", "twin"), CLOUD_TWINS, ids=[f"{combo_id(c)}~{combo_id(t)}" for c, t in CLOUD_TWINS]
)
def test_a_cloud_variant_passes_lint_and_unit_tests_and_runs_the_rest_of_ci_as_its_twin(
    tmp_path: Path, renders: Renders, combo: dict[str, str], twin: dict[str, str]
) -> None:
    """Only deploy files, the README and the license differ from the twin (whose `make all`
    runs); `make ci` runs the same commands; lint and the unit tests pass here."""
    mine, theirs = _files(renders[combo]), _files(renders[twin])
    differing = {name for name in set(mine) | set(theirs) if mine.get(name) != theirs.get(name)}
    other = {n for n in differing if not n.startswith(DEPLOY_FILES) and n != "LICENSE"}
    assert other == {"pyproject.toml"}, sorted(other)
    tables = [tomllib.loads(files["pyproject.toml"].decode()) for files in (mine, theirs)]
    for table in tables:
        table["project"].pop("license")
    assert tables[0] == tables[1], "pyproject.toml differs beyond the license"
    assert _ci_commands(renders[combo]) == _ci_commands(renders[twin])

    project = renders.copy(combo, tmp_path)
    git(project, "init", "-q")
    make(project, "setup")
    make(project, "lint", "test")


@pytest.mark.slow
@needs("git", "make")
@pytest.mark.parametrize("combo", COMBOS, ids=combo_id)
def test_setup_and_ci_pass(tmp_path: Path, renders: Renders, combo: dict[str, str]) -> None:
    project = renders.copy(combo, tmp_path)
    git(project, "init", "-q")
    make(project, "setup")
    # The whole local pipeline (`make all`, as `make demo` does): `make ci` and then the
    # model card, report, integration tests, load test, batch scoring, local release, drift.
    try:
        ci = make(project, "all")
        check_pipeline_outputs(project, combo, ci)
        assert_the_next_release_switches_colours_and_a_faulty_one_rolls_back(project)
    finally:  # `make all` leaves the local release serving, as `make demo` does
        make(project, "deploy-stop", check=False)


def check_pipeline_outputs(
    project: Path, combo: dict[str, str], ci: subprocess.CompletedProcess[str]
) -> None:
    # ci trains and runs the model tests: the outputs the later steps read are in place.
    assert "[train] total:" in ci.stdout
    # data-test validated these very bytes just before: training does not load GX again.
    assert "so not validated again (reports/data_validation.receipt.json)" in ci.stdout
    record = json.loads((project / "metrics" / "metrics.json").read_text())
    assert record["metrics"]["roc_auc"] > 0.8
    assert record["data"]["rows"] == {"train": 5634, "test": 1409}
    metadata = json.loads((project / "models" / "current" / "metadata.json").read_text())
    assert metadata["mlflow"]["alias"] == "challenger"
    assert (project / "mlflow.db").is_file()
    assert sorted(p.name for p in (project / "reports" / "figures").iterdir()) == [
        "calibration.png",
        "confusion_matrix.png",
        "precision_recall.png",
        "roc.png",
    ]
    assert "No baseline found" in ci.stdout  # first model: compare passes and says so
    package = package_of(combo)
    # The gate's regressions and lint's import contracts are proven on the renamed
    # package, with a user's own data (tests/test_own_data.py).
    assert_drift_names_the_trained_version(project, metadata["mlflow"]["version"])
    assert_drift_read_what_the_services_logged(project, ci.stdout)
    assert_registry_baseline(project, package)


def assert_drift_names_the_trained_version(project: Path, version: str) -> None:
    """`make all`'s drift step scored with the model train registered, by its version."""
    notes = json.loads((project / "reports" / "drift.json").read_text())["notes"]
    # Scored by drift itself ("scored with model version N"), or read from the prediction
    # log, which names the versions that scored it ("model versions in the log: N (...)").
    named = (f"model version {version}", f"model versions in the log: {version} (")
    assert any(any(n in note for n in named) for note in notes), notes
    assert not any("unknown" in note or "other model versions" in note for note in notes), notes


def assert_drift_read_what_the_services_logged(project: Path, stdout: str) -> None:
    """`make all`'s drift step checked the predictions the load test's and the released
    services logged (one file per process, every record read), and the run ended with the
    summary: where the service runs, the reports, the metrics, the verdict, how to stop."""
    report = json.loads((project / "reports" / "drift.json").read_text())
    files = sorted((project / "logs" / "predictions").glob("*.jsonl"))
    records = sum(1 for file in files for line in file.read_text().splitlines() if line.strip())
    assert len(files) >= 2, files  # the load test's service and the released one at least
    assert report["current"]["rows"] == records > 1000
    assert report["current"]["source"].startswith("prediction log ")
    assert f"({len(files)} files, {records:,} records)" in report["current"]["source"]
    assert not any("resample" in note for note in report["notes"]), report["notes"]
    assert any("not compared: gender, SeniorCitizen" in note for note in report["notes"])
    summary = stdout[stdout.index("== what `make all` left running and wrote ==") :]
    expected = (
        "service  http://127.0.0.1:8080 (",
        "metrics  http://127.0.0.1:8080/metrics",
        "reports  reports/report.md",
        "drift    drift: ",
        "stop it  make deploy-stop",
    )
    for line in expected:
        assert line in summary, summary


def assert_the_next_release_switches_colours_and_a_faulty_one_rolls_back(project: Path) -> None:
    """After `make all`, the user's next steps with the shipped config/deploy.yaml:
    train a new version, `make deploy-local` (the other colour takes over), a faulty
    release (`FAULT=error`, rolled back while the live one serves), `make deploy-stop`,
    which must leave nothing behind: no port listening, no service or nginx process."""
    state_file = project / "deploy" / "state" / "local.json"
    first = json.loads(state_file.read_text())["live"]
    make(project, "train")
    version = json.loads((project / "models" / "current" / "metadata.json").read_text())
    version = version["mlflow"]["version"]
    assert version != first["version"], (version, first)
    second = make(project, "deploy-local")
    assert f"RELEASED {version}" in second.stdout, second.stdout[-3000:]
    state = json.loads(state_file.read_text())
    assert state["live"]["colour"] != first["colour"]
    assert state["previous"]["colour"] == first["colour"]

    faulty = make(project, "deploy-local", "FAULT=error", timeout=600, check=False)
    assert faulty.returncode != 0
    assert f"ROLLED BACK {version}: validation failed: /predict answered 500" in faulty.stdout
    status = uv_run(project, package_of(DEFAULT), "deploy", "status")
    assert f'"live": "{state["live"]["colour"]} {version}' in status.stdout, status.stdout

    make(project, "deploy-stop")
    ports = [8080, 8081, state["live"]["port"], state["previous"]["port"]]
    assert not [port for port in ports if listening(port)], ports
    for pattern in (f"{project}/deploy", f"{project}/.venv/bin/python -m {package_of(DEFAULT)}"):
        leftovers = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
        assert leftovers.stdout == "", pattern


def assert_registry_baseline(project: Path, package: str) -> None:
    """With the registry as baseline: promote the model, then compare against `champion`."""

    promoted = uv_run(project, package, "promote")
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    assert "@champion -> version 1" in promoted.stdout
    compared = uv_run(project, package, "compare", "--source", "registry")
    assert compared.returncode == 0, compared.stdout + compared.stderr
    assert f"baseline: registry {package}@champion (version 1)" in compared.stdout
