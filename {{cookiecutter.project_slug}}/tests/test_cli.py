from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.cli import COMMANDS, build_parser, main

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
    assert "Churn" in out
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
    names = [name for name, *_ in COMMANDS]
    assert len(names) == len(set(names))
