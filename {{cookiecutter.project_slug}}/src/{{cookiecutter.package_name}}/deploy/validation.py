"""Validate green through its test route before any production request reaches it.

Smoke checks first (ready, the expected model version, real predictions), then
the project's locust gate (config/loadtest.yaml, with the release's overrides)
against the same route: a release that crashes, never gets ready, fails
requests or is much slower never sees production traffic.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..probes import http_json
from ..serving.locust import load_gate, load_loadtest_config
from ..settings import Settings
from .lifecycle import Release, Validator


def _get(url: str, timeout: float) -> tuple[int, Any]:
    try:
        return http_json(url, timeout=timeout)
    except OSError as err:
        return 0, str(err)


def _post(url: str, body: Any, timeout: float) -> tuple[int, Any]:
    try:
        return http_json(url, body, timeout=timeout)
    except OSError as err:
        return 0, str(err)


def smoke(
    url: str, release: Release, rows: Sequence[dict[str, Any]], timeout: float = 10.0
) -> list[str]:
    """Ready, right version, valid predictions (single and batch); problems found.

    The version comes from `/ready`, which every configuration serves on the
    API port (`/version` may be moved to an operator port in production).
    """
    status, body = _get(f"{url}/ready", timeout)
    if status != 200:
        return [f"/ready answered {status}: {body}"]
    reported = body.get("model_version") if isinstance(body, dict) else None
    if reported != release.version:
        return [f"/ready reports model {reported!r}, expected {release.version!r}"]
    revision = body.get("git_revision") if isinstance(body, dict) else None
    if release.revision and revision != release.revision:
        return [f"/ready reports commit {revision!r}, expected {release.revision!r}"]
    problems = []
    for row in rows:
        status, body = _post(f"{url}/predict", row, timeout)
        probability = body.get("probability") if isinstance(body, dict) else None
        if status != 200 or not isinstance(probability, float | int) or not 0 <= probability <= 1:
            problems.append(f"/predict answered {status}: {json.dumps(body)[:200]}")
            break
    status, body = _post(f"{url}/predict/batch", {"rows": list(rows)}, timeout)
    if status != 200 or not isinstance(body, dict) or len(body.get("predictions", [])) != len(rows):
        problems.append(f"/predict/batch answered {status}: {json.dumps(body)[:200]}")
    return problems


def release_load_gate(settings: Settings, url: str, overrides: dict[str, Any]) -> list[str]:
    """The project's locust gate against `url`, with the release's overrides; its violations."""
    config = load_loadtest_config(settings.loadtest_config_path, overrides)
    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    result = load_gate(settings.project_dir, settings.reports_dir, url, config)
    return [f"load gate: {v}" for v in result.violations]


def http_validator(
    settings: Settings, rows: Sequence[dict[str, Any]], load: dict[str, Any] | None
) -> Validator:
    """Smoke checks, then (unless `load` is None) the load gate."""

    def validate(url: str, release: Release) -> list[str]:
        problems = smoke(url, release, rows)
        if problems or load is None:
            return problems
        print(f"[deploy] load gate on {url} ...", flush=True)
        return release_load_gate(settings, url, load)

    return validate
