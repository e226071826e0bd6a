"""`promote`: the released model becomes the registry's `champion`."""

from __future__ import annotations

from ..io import model_store, tracking
from ..settings import Settings


def run_promote(settings: Settings, version: str | None) -> int:
    """Promote `version`, or the version of models/current when none is given."""
    if version is None:
        _, metadata = model_store.load_current(settings.path(settings.models_dir))
        version = str(metadata.get("mlflow", {}).get("version") or "")
        if not version:
            print("promote: models/current has no registered version: run `make train` first")
            return 1
    print(f"promote: {tracking.promote(settings, version)} ({settings.mlflow_tracking_uri})")
    return 0
