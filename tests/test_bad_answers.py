"""Each kind of bad answer stops generation with a clear message and writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter

from .conftest import TEMPLATE_DIR, render

BAD_ANSWERS = [
    pytest.param(
        {"project_slug": "Churn Model"},
        ["project_slug", "'Churn Model'", "hyphens"],
        id="slug-with-space",
    ),
    pytest.param(
        {"project_slug": "9lives"},
        ["project_slug", "'9lives'", "starting with a letter"],
        id="slug-leading-digit",
    ),
    pytest.param(
        {"project_slug": "churn--model"},
        ["project_slug", "'churn--model'"],
        id="slug-double-hyphen",
    ),
    pytest.param(
        {"package_name": "churn-model"},
        ["package_name", "'churn-model'", "Python identifier"],
        id="package-not-identifier",
    ),
    pytest.param(
        {"package_name": "class"},
        ["package_name", "'class'", "Python keyword"],
        id="package-keyword",
    ),
    pytest.param(
        {"package_name": "match"},
        ["package_name", "'match'", "Python keyword"],
        id="package-soft-keyword",
    ),
    pytest.param(
        {"package_name": "json"},
        ["package_name", "'json'", "standard-library"],
        id="package-stdlib",
    ),
    pytest.param(
        {"package_name": "mlflow"},
        ["package_name", "'mlflow'", "shadows a module"],
        id="package-dependency",
    ),
    pytest.param({"author_name": "   "}, ["author_name", "empty"], id="author-empty"),
    pytest.param(
        {"author_email": "me.example.com"},
        ["author_email", "'me.example.com'", "@"],
        id="email-no-at",
    ),
    pytest.param(
        {"cloud": "none", "registry": "ecr"},
        ["registry", "'ecr'", "cloud='none'", "ghcr"],
        id="ecr-without-aws",
    ),
]


@pytest.mark.parametrize(("answers", "expected"), BAD_ANSWERS)
def test_bad_answer_is_refused_before_writing(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], answers: dict[str, str], expected: list[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(FailedHookException):
        render(out, **answers)
    message = capfd.readouterr().err
    assert "nothing was written" in message
    for fragment in expected:
        assert fragment in message
    assert "Traceback" not in message
    assert list(out.iterdir()) == []


def test_several_bad_answers_are_reported_together(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(FailedHookException):
        render(tmp_path, package_name="json", author_email="nobody")
    message = capfd.readouterr().err
    assert "package_name" in message
    assert "author_email" in message
    assert list(tmp_path.iterdir()) == []


CHOICE_ANSWERS = [
    pytest.param("python_version", "3.9", "3.11, 3.12, 3.13", id="python-unsupported"),
    pytest.param("cloud", "gcp", "aws, none", id="cloud-unknown"),
    pytest.param("registry", "dockerhub", "ecr, ghcr", id="registry-unknown"),
    pytest.param("license", "GPL", "MIT, Apache-2.0, BSD-3-Clause, none", id="license-unknown"),
]


@pytest.mark.parametrize(("key", "value", "allowed"), CHOICE_ANSWERS)
def test_unknown_choice_on_command_line_is_refused(
    tmp_path: Path, key: str, value: str, allowed: str
) -> None:
    """Cookiecutter itself rejects a choice it does not list, before rendering anything."""
    with pytest.raises(ValueError, match=rf"{value} provided for choice variable {key}") as exc:
        render(tmp_path, **{key: value})
    for option in allowed.split(", "):
        assert option in str(exc.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("key", "value", "allowed"), CHOICE_ANSWERS)
def test_unknown_choice_in_replay_is_refused_by_the_hook(
    tmp_path: Path,
    cookiecutter_home: Path,
    capfd: pytest.CaptureFixture[str],
    key: str,
    value: str,
    allowed: str,
) -> None:
    """A replay or config file skips cookiecutter's choice check; the hook catches it."""
    out = tmp_path / "out"
    out.mkdir()
    render(tmp_path / "good")
    (recorded,) = (cookiecutter_home / "replay").glob("*.json")
    replay_file = tmp_path / "replay.json"
    context = json.loads(recorded.read_text())
    context["cookiecutter"][key] = value
    replay_file.write_text(json.dumps(context))
    with pytest.raises(FailedHookException):
        cookiecutter(str(TEMPLATE_DIR), replay=str(replay_file), output_dir=str(out))
    message = capfd.readouterr().err
    assert f"{key}: got '{value}'; allowed: {allowed}." in message
    assert list(out.iterdir()) == []
