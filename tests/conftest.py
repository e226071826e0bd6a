from __future__ import annotations

import os
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

TEMPLATE_DIR = Path(__file__).resolve().parents[1]


def render(output_dir: Path, **answers: str) -> Path:
    """Render the template without prompts and return the project folder."""
    project = cookiecutter(
        str(TEMPLATE_DIR),
        no_input=True,
        extra_context=answers,
        output_dir=str(output_dir),
    )
    return Path(project)


def project_env() -> dict[str, str]:
    """Environment for a rendered project's make targets: shared uv cache, no downloads."""
    env = dict(os.environ)
    env.update(
        UV_COMPILE_BYTECODE="1",
        UV_PYTHON_DOWNLOADS="never",
        MLFLOW_DISABLE_TELEMETRY="true",
    )
    for name in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH", "MAKEFLAGS", "MFLAGS"):
        env.pop(name, None)
    return env


@pytest.fixture(autouse=True)
def cookiecutter_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Keep cookiecutter's replay files and cloned templates out of the user's home."""
    home = tmp_path_factory.mktemp("cookiecutter-home")
    config = home / "config.yaml"
    config.write_text(
        f"cookiecutters_dir: {home / 'cookiecutters'}\nreplay_dir: {home / 'replay'}\n"
    )
    monkeypatch.setenv("COOKIECUTTER_CONFIG", str(config))
    return home
