from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.cli import COMMANDS, build_parser, main

from .conftest import SAMPLE, contract

PIPELINE = ["validate", "train", "evaluate", "compare", "report", "serve", "deploy", "drift"]


def test_help_lists_every_pipeline_command() -> None:
    text = build_parser().format_help()
    for name in PIPELINE:
        assert name in text


def test_entry_point_help_runs_as_a_program() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "{{ cookiecutter.package_name }}", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "train" in result.stdout


def test_info_prints_contract_summary(
    project_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--project-dir", str(project_dir), "info"]) == 0
    out = capsys.readouterr().out
    assert contract().target.column in out
    assert str(SAMPLE) in out
    assert "sqlite:///" in out


def test_missing_contract_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--project-dir", str(tmp_path), "info"]) == 1
    err = capsys.readouterr().err
    assert "data contract not found" in err
    assert "Traceback" not in err


def test_unknown_command_is_refused() -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["launch-rockets"])
    assert exc.value.code == 2


def test_commands_are_unique() -> None:
    names = [command.name for command in COMMANDS]
    assert len(names) == len(set(names))


def test_help_does_not_load_pandas_or_great_expectations() -> None:
    probe = "print(sorted({'pandas', 'great_expectations'} & set(sys.modules)))"
    code = f"import sys, {{ cookiecutter.package_name }}.cli\n{probe}"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _base_closure(distribution: str) -> set[str]:
    """The distributions `distribution` needs without extras: its base dependencies, deep."""
    needed: set[str] = set()
    todo = [distribution]
    while todo:
        name = _normalized(todo.pop())
        if name in needed:
            continue
        needed.add(name)
        for requirement in metadata.requires(name) or []:
            if "extra ==" not in requirement:
                todo.append(re.split(r"[^A-Za-z0-9._-]", requirement.strip(), maxsplit=1)[0])
    return needed


def test_the_cli_loads_nothing_beyond_the_base_dependencies() -> None:
    """pr-comment.yml installs only the base dependencies, then runs the CLI: every command
    module imports its stage's libraries (prometheus, pandas, mlflow...) when it runs."""
    package = "{{ cookiecutter.package_name }}"
    code = (
        f"import sys, json; before = set(sys.modules); import {package}.cli; "
        "print(json.dumps(sorted({m.split('.')[0] for m in set(sys.modules) - before})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    base = _base_closure("{{ cookiecutter.project_slug }}")
    owners = metadata.packages_distributions()
    beyond = {
        module
        for module in json.loads(result.stdout)
        if module not in sys.stdlib_module_names
        and module != package
        and module in owners  # C-extension helpers (_cython_*) belong to no distribution
        and not base & {_normalized(d) for d in owners[module]}
    }
    assert beyond == set()


@pytest.fixture
def scratch_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Reports go to a scratch folder: `make ci` runs these tests beside data-test and
    train, which read and write the project's own reports/ (its validation receipt)."""
    reports = tmp_path / "reports"
    monkeypatch.setenv("MLOPS_REPORTS_DIR", str(reports))
    return reports


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "looks binary"),
        (b"customerID;gender;Churn\n1;Male;No\n", "delimiter"),
        (b"customerID,gender,Churn\n", "no rows"),
        (b"customerID,gender\n\xff\xfe\xfa\xfb,Male\n", "not UTF-8"),
        (b'customerID,gender\n1,"Male\n', "not a well-formed CSV"),
    ],
)
@pytest.mark.usefixtures("scratch_reports")
def test_validate_refuses_unreadable_files_in_one_line(
    tmp_path: Path,
    project_dir: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
    message: str,
) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    assert main(["--project-dir", str(project_dir), "validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("{{ cookiecutter.package_name }} validate: error: ")
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


@pytest.mark.usefixtures("scratch_reports")
def test_validate_names_a_missing_file(
    tmp_path: Path, project_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--project-dir", str(project_dir), "validate", str(tmp_path / "x.csv")]) == 1
    assert "data file not found" in capsys.readouterr().err
