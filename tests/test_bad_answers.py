"""Each kind of bad answer stops generation with a clear message and writes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter
from jinja2 import Template

from .combinations import CHOICES
from .helpers import TEMPLATE_DIR, render, run

NOT_FOUND_NOTE = "cookiecutter.json was not found"

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
    pytest.param(
        {"package_name": "customer_retention_prediction_service_v2_x"},
        ["package_name", "(42 characters)", "at most 40"],
        id="package-too-long",
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
    pytest.param(
        {"project_slug": "customer-churn-predictor-v2", "cloud": "aws"},
        ["project_slug", "27 characters", "at most 21", "32", "-prod-green"],
        id="slug-too-long-for-aws-names",
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


def allowed_text(key: str) -> str:
    """How the refusal lists a choice option's values: cookiecutter.json's, in its order."""
    return ", ".join(CHOICES[key])


# A value cookiecutter.json does not offer, for each choice option.
UNKNOWN_CHOICES = {
    "python-unsupported": ("python_version", "3.9"),
    "cloud-unknown": ("cloud", "gcp"),
    "registry-unknown": ("registry", "dockerhub"),
    "license-unknown": ("license", "GPL"),
}
CHOICE_ANSWERS = [
    pytest.param(key, value, allowed_text(key), id=name)
    for name, (key, value) in UNKNOWN_CHOICES.items()
]


def test_every_choice_option_has_an_unknown_answer_case() -> None:
    assert {key for key, _ in UNKNOWN_CHOICES.values()} == set(CHOICES)
    for key, value in UNKNOWN_CHOICES.values():
        assert value not in CHOICES[key]


def recorded_replay(tmp_path: Path, cookiecutter_home: Path, key: str, value: str) -> Path:
    """A replay file of a good render, with one answer changed to `value`."""
    render(tmp_path / "good")
    (recorded,) = (cookiecutter_home / "replay").glob("*.json")
    context = json.loads(recorded.read_text())
    context["cookiecutter"][key] = value
    replay_file = tmp_path / "replay.json"
    replay_file.write_text(json.dumps(context))
    return replay_file


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
    replay_file = recorded_replay(tmp_path, cookiecutter_home, key, value)
    with pytest.raises(FailedHookException):
        cookiecutter(str(TEMPLATE_DIR), replay=str(replay_file), output_dir=str(out))
    message = capfd.readouterr().err
    assert f"{key}: got '{value}'; allowed: {allowed}." in message
    assert NOT_FOUND_NOTE not in message
    assert list(out.iterdir()) == []


def test_hook_finds_the_choices_when_the_template_path_is_relative(
    tmp_path: Path, cookiecutter_home: Path
) -> None:
    """`cookiecutter .` (as `make demo` runs it): `_repo_dir` is relative to where it ran."""
    replay_file = recorded_replay(tmp_path, cookiecutter_home, "cloud", "gcp")
    out = tmp_path / "out"
    out.mkdir()
    command = [str(Path(sys.executable).parent / "cookiecutter"), "--replay-file", str(replay_file)]
    result = run([*command, "--output-dir", str(out), "."], cwd=TEMPLATE_DIR, check=False)
    assert result.returncode != 0
    assert f"cloud: got 'gcp'; allowed: {allowed_text('cloud')}." in result.stderr
    assert NOT_FOUND_NOTE not in result.stderr
    assert list(out.iterdir()) == []


def test_hook_without_the_template_still_checks_the_rules_and_says_so(tmp_path: Path) -> None:
    """Where the hook cannot find the template (no /proc outside Linux), it says so."""
    hook = Template((TEMPLATE_DIR / "hooks" / "pre_gen_project.py").read_text())
    answers = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())
    answers.update({key: values[0] for key, values in CHOICES.items()})
    answers.update(project_slug="churn-model", package_name="churn_model")
    script = tmp_path / "pre_gen_project.py"
    # Run from a shell in an empty folder, so the hook's parent works outside any template.
    for email, code in (("me@example.com", 0), ("nobody", 1)):
        script.write_text(hook.render(cookiecutter={**answers, "author_email": email}))
        result = subprocess.run(
            ["sh", "-c", '"$0" "$1"; exit $?', sys.executable, str(script)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == code, result.stderr
        assert NOT_FOUND_NOTE in result.stderr
        assert ("author_email: got 'nobody'" in result.stderr) == (code == 1)
