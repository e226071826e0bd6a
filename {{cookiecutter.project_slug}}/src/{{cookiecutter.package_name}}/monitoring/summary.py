"""The closing summary of `make all` (and `make demo`): where everything the pipeline made is.

Pure: the release state, what the service answered, the reports found and the
drift verdict in, a few aligned lines out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def _service(state: Mapping[str, Any], ready: Mapping[str, Any] | None) -> str:
    port = state.get("production_port")
    live = state.get("live")
    if not port or not isinstance(live, Mapping):
        return "not released (run `make deploy-local`)"
    url = f"http://127.0.0.1:{port}"
    if ready is None:
        return (
            f"{url}: NOT ANSWERING (released {live.get('colour')} {live.get('version')}; "
            "`make deploy-local` restarts it)"
        )
    return (
        f"{url} ({live.get('colour')}, model version {ready.get('model_version')}); "
        f"try: curl {url}/docs"
    )


def summary_lines(
    *,
    state: Mapping[str, Any],
    ready: Mapping[str, Any] | None,
    metrics_url: str | None,
    reports: Sequence[str],
    drift: Mapping[str, Any] | None,
    stop: str,
) -> list[str]:
    """The summary, one line per subject."""
    if drift is None:
        verdict = "not checked (run `make drift`)"
    else:
        current = drift.get("current") or {}
        verdict = f"{drift.get('headline')}; on {current.get('source')}"
    rows = [
        ("service", _service(state, ready)),
        ("metrics", metrics_url or "none: nothing released, or MLOPS_METRICS=false"),
        ("reports", ", ".join(reports) or "none yet"),
        ("drift", verdict),
        ("stop it", stop),
    ]
    width = max(len(name) for name, _ in rows)
    return ["== what `make all` left running and wrote =="] + [
        f"{name:<{width}}  {text}" for name, text in rows
    ]
