"""The release state on disk: which colour is live, which version, what was in flight.

A deploy can be killed at any instant, so the file is replaced atomically
(write a sibling, fsync, rename): a reader sees the old state or the new one,
never half of each. The next run reads it to know where it stands.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from ..errors import DeployError

HISTORY_LENGTH = 30


class StateError(DeployError):
    """The state file exists but cannot be read: the message says how to recover."""


def load_state(path: Path) -> dict[str, Any]:
    """The saved state, or an empty one when nothing was ever deployed."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise StateError(
            f"{path} is not valid JSON ({err}); move it away and run `deploy stop` to start over"
        ) from err
    if not isinstance(data, dict):
        raise StateError(f"{path} must hold a JSON object")
    return data


def save_state(path: Path, state: dict[str, Any]) -> None:
    """Replace the state file atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        json.dump(state, handle, indent=2, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def add_history(state: dict[str, Any], event: str) -> None:
    """Append a timestamped event, keeping the last few."""
    history = list(state.get("history", []))
    history.append({"at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "event": event})
    state["history"] = history[-HISTORY_LENGTH:]
