"""The image rules (tags, labels, build command, checks) and the build's clear refusals.

Building and running the image needs a container engine: `make image
image-smoke` does that, and the template's own CI runs it with podman.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.errors import ImageError
from {{ cookiecutter.package_name }}.image import engine as containers
from {{ cookiecutter.package_name }}.image.command import recorded_image, run_image_build
from {{ cookiecutter.package_name }}.image.spec import (
    build_args,
    build_command,
    healthcheck_command,
    image_problems,
    image_tags,
    prediction_problems,
    source_url,
)
from {{ cookiecutter.package_name }}.layout import ModelMetadata
from {{ cookiecutter.package_name }}.settings import Settings

HEALTHY = {
    "User": "10001:10001",
    "Healthcheck": {"Test": ["CMD", "python", "-c", "pass"]},
    "Labels": {
        "org.opencontainers.image.version": "7",
        "org.opencontainers.image.revision": "abc",
    },
}


def test_tags_use_the_short_revision_or_dev() -> None:
    assert image_tags("churn", "1a2b3c4") == ["churn:1a2b3c4", "churn:latest"]
    assert image_tags("churn", None) == ["churn:dev", "churn:latest"]


@pytest.mark.parametrize(
    ("remote", "url"),
    [
        ("git@github.com:acme/churn.git", "https://github.com/acme/churn"),
        ("https://token@github.com/acme/churn.git", "https://github.com/acme/churn"),
        ("ssh://git@gitlab.com/acme/churn.git", "https://gitlab.com/acme/churn"),
        ("https://github.com/acme/churn", "https://github.com/acme/churn"),
        (None, ""),
    ],
)
def test_source_label_is_a_browsable_url_without_credentials(remote: str | None, url: str) -> None:
    assert source_url(remote) == url


def test_podman_builds_in_docker_format_to_keep_the_healthcheck() -> None:
    args = build_args(
        revision="r", model_version="3", model_dir="models/current", source="", created="t"
    )
    podman = build_command("podman", Path("/p"), ["a:1", "a:latest"], args)
    assert podman[:4] == ["podman", "build", "--format", "docker"]
    assert podman[-1] == "/p"
    assert "MODEL_VERSION=3" in podman
    assert "GIT_REVISION=r" in podman
    docker = build_command("docker", Path("/p"), ["a:1"], args)
    assert "--format" not in docker
    assert docker[docker.index("--tag") + 1] == "a:1"
    with pytest.raises(ValueError, match="unknown container engine"):
        build_command("nerdctl", Path("/p"), [], {})


def test_a_healthy_image_config_has_no_problems() -> None:
    assert image_problems(HEALTHY, "7") == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"User": ""}, "runs as root"),
        ({"User": "0:0"}, "runs as root"),
        ({"Healthcheck": None}, "no HEALTHCHECK"),
        ({"Healthcheck": {"Test": ["NONE"]}}, "no HEALTHCHECK"),
        ({"Labels": {"org.opencontainers.image.version": "7"}}, "revision is missing"),
        ({"Labels": {"org.opencontainers.image.revision": "a"}}, "expected the model version"),
    ],
)
def test_image_problems_are_named(change: dict[str, object], problem: str) -> None:
    problems = image_problems({**HEALTHY, **change}, "7")
    assert len(problems) == 1
    assert problem in problems[0]


def test_healthcheck_command_is_an_exec_list() -> None:
    assert healthcheck_command(HEALTHY) == ["python", "-c", "pass"]
    shell = {"Healthcheck": {"Test": ["CMD-SHELL", "curl -f localhost"]}}
    assert healthcheck_command(shell) == ["/bin/sh", "-c", "curl -f localhost"]
    assert healthcheck_command({"Healthcheck": {"Test": ["NONE"]}}) == []


def test_prediction_must_match_the_local_model() -> None:
    good = {"probability": 0.4000004, "label": "Yes"}
    assert prediction_problems(200, good, 0.4, ["Yes", "No"]) == []
    far = prediction_problems(200, {"probability": 0.41, "label": "Yes"}, 0.4, ["Yes", "No"])
    assert "differs from the local model" in far[0]
    assert "answered 503" in prediction_problems(503, {"detail": "x"}, 0.4, ["Yes", "No"])[0]
    assert "label" in prediction_problems(200, {"probability": 0.4, "label": "?"}, 0.4, ["Yes"])[0]
    assert "no probability" in prediction_problems(200, {"label": "Yes"}, 0.4, ["Yes"])[0]


def test_model_version_prefers_the_registry_version() -> None:
    read = ModelMetadata.model_validate
    assert read({"mlflow": {"version": 4, "run_id": "r"}}).model_version == "4"
    assert read({"mlflow": {"run_id": "r"}}).model_version == "r"
    assert read({}).model_version == "local"


@pytest.fixture
def bare_project(tmp_path: Path, project_dir: Path) -> Path:
    shutil.copy(project_dir / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _with_model(project: Path) -> None:
    folder = project / "models" / "current"
    folder.mkdir(parents=True)
    (folder / "model.onnx").write_bytes(b"onnx")
    (folder / "metadata.json").write_text(json.dumps({"mlflow": {"version": 2}}))


def test_build_without_a_model_says_train_first(
    bare_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--project-dir", str(bare_project), "image", "build"]) == 1
    err = capsys.readouterr().err
    assert "run `make train` first" in err
    assert "Traceback" not in err


def test_build_without_a_lock_says_setup_first(bare_project: Path) -> None:
    _with_model(bare_project)
    with pytest.raises(ImageError, match="make setup"):
        run_image_build(Settings(project_dir=bare_project))


def test_the_model_must_be_inside_the_build_context(bare_project: Path, tmp_path: Path) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    _with_model(outside)
    with pytest.raises(ImageError, match="inside the project"):
        run_image_build(Settings(project_dir=bare_project), model_dir=outside / "models/current")


def test_no_engine_is_a_clear_error(bare_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _with_model(bare_project)
    (bare_project / "uv.lock").write_text("")
    monkeypatch.setattr(containers.shutil, "which", lambda name: None)
    with pytest.raises(ImageError, match="no container engine"):
        run_image_build(Settings(project_dir=bare_project))
    with pytest.raises(ImageError, match="podman is not installed"):
        run_image_build(Settings(project_dir=bare_project), engine="podman")


def test_smoke_needs_a_built_image_first(bare_project: Path) -> None:
    with pytest.raises(ImageError, match="run `make image` first"):
        recorded_image(Settings(project_dir=bare_project))
