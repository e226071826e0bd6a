"""`fetch-predictions`: bring the service's recent prediction log next to the project.

The retraining workflow runs on a fresh runner, so the log the service wrote
must be copied in first: from S3 (s3://bucket/key), an HTTP(S) URL or a path.
Without a configured source the drift check runs on a resample of the
training data instead, and says so.
"""

from __future__ import annotations

import shutil
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from ..errors import FetchError


def fetch(uri: str, target: Path) -> None:
    """Copy `uri` to `target` (parents created)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    parsed = urlparse(uri)
    try:
        if parsed.scheme == "s3":
            import boto3

            boto3.client("s3").download_file(parsed.netloc, parsed.path.lstrip("/"), str(target))
        elif parsed.scheme in {"http", "https"}:
            with urllib.request.urlopen(uri, timeout=60) as response, target.open("wb") as out:
                shutil.copyfileobj(response, out)
        else:
            shutil.copyfile(Path(parsed.path if parsed.scheme == "file" else uri), target)
    except Exception as err:  # boto3, urllib and the filesystem raise many kinds
        raise FetchError(f"cannot fetch the prediction log from {uri}: {err}") from err
