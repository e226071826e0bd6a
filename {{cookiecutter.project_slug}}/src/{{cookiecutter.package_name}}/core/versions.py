"""Which model version a metadata file describes, the same answer everywhere.

The service reports it at /ready and /version, and the image carries it as its
OCI version label: both must name a model the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def model_version(metadata: Mapping[str, Any]) -> str:
    """Registry version when training registered one, else the run id, else 'local'."""
    tracked = metadata.get("mlflow") or {}
    return str(tracked.get("version") or tracked.get("run_id") or "local")
