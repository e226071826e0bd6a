"""Find the baseline metrics a candidate is compared with.

Default: the target branch's committed `metrics/metrics.json` (read with
`git show`, no server needed). With a tracking server configured, the model
registry's `champion` alias is the baseline instead: that is what production
runs.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from ..errors import BaselineError
from ..layout import CHAMPION_ALIAS
from ..train.metrics_file import parse_metrics, read_metrics
from .config import BaselineSource

Metrics = dict[str, Any]


def git_ref_for_pull_request(configured: str, explicit: str = "") -> str:
    """The ref holding the baseline metrics.

    `explicit` (MLOPS_BASELINE_REF: CI passes a pull request's base commit, or on
    main the commit before the push) wins; in a pull request GitHub names the
    target branch in GITHUB_BASE_REF; else the configured ref.
    """
    if explicit:
        return explicit
    base = os.environ.get("GITHUB_BASE_REF")
    return f"origin/{base}" if base else configured


def _commit(ref: str, cwd: Path) -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", ref + "^{commit}"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def git_show(ref: str, path: Path, cwd: Path) -> str | None:
    """The file's text at `ref`, or None when the ref or the file does not exist there."""
    try:
        result = subprocess.run(
            ["git", "show", f"{ref}:{path.as_posix()}"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:  # git itself is not installed
        return None
    return result.stdout if result.returncode == 0 else None


def git_baseline(
    source: BaselineSource, project_dir: Path, explicit_ref: str = ""
) -> tuple[Metrics | None, str]:
    """Committed metrics on the target branch; falls back to the local branch of that name.

    A ref that is the commit under test itself is said in the label: compared with
    itself, a commit's committed metrics pass every regression gate.
    """
    ref = git_ref_for_pull_request(source.git_ref, explicit_ref)
    candidates = [ref] + ([ref.removeprefix("origin/")] if ref.startswith("origin/") else [])
    head = _commit("HEAD", project_dir)
    for candidate_ref in candidates:
        text = git_show(candidate_ref, source.metrics_path, project_dir)
        if text is None:
            continue
        label = f"{candidate_ref}:{source.metrics_path.as_posix()}"
        if head is not None and _commit(candidate_ref, project_dir) == head:
            label += " (= HEAD, the commit under test: only uncommitted changes are judged)"
        return parse_metrics(text, f"baseline {label}"), label
    return None, f"{ref}:{source.metrics_path.as_posix()} (not found)"


def uses_tracking_server(tracking_uri: str) -> bool:
    """A remote MLflow server (not the local SQLite file or a folder)."""
    return tracking_uri.startswith(("http://", "https://", "databricks"))


def no_such_alias(error_code: str, message: str) -> bool:
    """The registry answered that the model or its alias does not exist (not a failure)."""
    if error_code == "RESOURCE_DOES_NOT_EXIST":
        return True
    return error_code == "INVALID_PARAMETER_VALUE" and "not found" in message


def registry_baseline(tracking_uri: str, model_name: str) -> tuple[Metrics | None, str]:
    """Metrics logged with the model version that holds the `champion` alias."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import mlflow  # heavy import, only on this path
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient(tracking_uri=tracking_uri)
    label = f"registry {model_name}@{CHAMPION_ALIAS}"
    try:
        version = client.get_model_version_by_alias(model_name, CHAMPION_ALIAS)
    except MlflowException as err:
        if not no_such_alias(err.error_code, err.message):
            raise BaselineError(
                f"cannot read {label} from {tracking_uri}: {err.message[:300]} "
                "(check MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD)"
            ) from err
        return None, f"{label} (no champion yet)"
    if version.run_id is None:
        return None, f"{label} (version {version.version} has no run)"
    with tempfile.TemporaryDirectory() as tmp:
        local = mlflow.artifacts.download_artifacts(
            run_id=version.run_id,
            artifact_path="metrics/metrics.json",
            dst_path=tmp,
            tracking_uri=tracking_uri,
        )
        return read_metrics(Path(local)), f"{label} (version {version.version})"


def registry_model(tracking_uri: str, model_name: str) -> tuple[Any, str] | None:
    """The fitted pipeline of the version holding `champion`, and a label; None if none."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import mlflow.sklearn
    from mlflow.exceptions import MlflowException

    uri = f"models:/{model_name}@{CHAMPION_ALIAS}"
    try:
        mlflow.set_tracking_uri(tracking_uri)
        pipeline = mlflow.sklearn.load_model(uri)
    except MlflowException:
        return None
    return pipeline, f"registry {model_name}@{CHAMPION_ALIAS}"


def load_baseline(
    source: BaselineSource,
    project_dir: Path,
    tracking_uri: str,
    model_name: str,
    explicit_ref: str = "",
) -> tuple[Metrics | None, str]:
    """Resolve the configured source ('auto' picks the registry only with a server)."""
    kind = source.source
    if kind == "auto":
        kind = "registry" if uses_tracking_server(tracking_uri) else "git"
    if kind == "registry":
        return registry_baseline(tracking_uri, model_name)
    return git_baseline(source, project_dir, explicit_ref)
