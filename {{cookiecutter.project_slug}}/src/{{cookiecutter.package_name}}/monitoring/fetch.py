"""`fetch-predictions`: bring the service's recent prediction log next to the project.

The retraining workflow runs on a fresh runner, so the log the service wrote
must be copied in first: from S3 (s3://bucket/key), an HTTP(S) URL or a path.
Without a configured source the drift check runs on a resample of the
training data instead, and says so.

A copy is capped (`MLOPS_FETCH_MAX_MB`: a source over it is refused before
anything is downloaded when its size is known, and stopped at the cap
otherwise) and atomic: it lands in a hidden partial file next to the target
and is renamed into place only when complete, so `drift` never reads half a
log and an earlier good copy survives a failed fetch.
"""

from __future__ import annotations

import contextlib
import os
import urllib.request
from pathlib import Path
from typing import IO
from urllib.parse import urlparse

from ..errors import FetchError

CHUNK = 1 << 20


class FetchTooLargeError(FetchError):
    """The source is larger than the cap."""


def _copy_capped(source: IO[bytes], out: IO[bytes], uri: str, cap: int) -> None:
    copied = 0
    while chunk := source.read(CHUNK):
        copied += len(chunk)
        if copied > cap:
            raise FetchTooLargeError(_too_large(uri, f"more than {copied:,}", cap))
        out.write(chunk)


def _too_large(uri: str, size: str, cap: int) -> str:
    return (
        f"{uri} is {size} bytes, over the cap of {cap:,} bytes (MLOPS_FETCH_MAX_MB): "
        "fetch a shorter window, or raise the cap"
    )


def _download(uri: str, out: IO[bytes], cap: int) -> None:
    parsed = urlparse(uri)
    if parsed.scheme == "s3":
        import boto3

        client = boto3.client("s3")
        key = parsed.path.lstrip("/")
        size = int(client.head_object(Bucket=parsed.netloc, Key=key)["ContentLength"])
        if size > cap:
            raise FetchTooLargeError(_too_large(uri, f"{size:,}", cap))
        body = client.get_object(Bucket=parsed.netloc, Key=key)["Body"]
        _copy_capped(body, out, uri, cap)
    elif parsed.scheme in {"http", "https"}:
        with urllib.request.urlopen(uri, timeout=60) as response:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > cap:
                raise FetchTooLargeError(_too_large(uri, f"{int(declared):,}", cap))
            _copy_capped(response, out, uri, cap)
    else:
        path = Path(parsed.path if parsed.scheme == "file" else uri)
        size = path.stat().st_size
        if size > cap:
            raise FetchTooLargeError(_too_large(uri, f"{size:,}", cap))
        with path.open("rb") as source:
            _copy_capped(source, out, uri, cap)


def fetch(uri: str, target: Path, max_bytes: int) -> int:
    """Copy `uri` to `target` atomically, at most `max_bytes`; returns the bytes copied.

    Raises:
        FetchError: the source cannot be read or is over the cap (`target` untouched).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    try:
        with partial.open("wb") as out:
            _download(uri, out, max_bytes)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)
    except FetchError:
        raise
    except Exception as err:  # boto3, urllib and the filesystem raise many kinds
        raise FetchError(f"cannot fetch the prediction log from {uri}: {err}") from err
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return target.stat().st_size


def fetched_name(uri: str) -> str:
    """The file name a fetched log gets in the log folder: `fetched-<source name>.jsonl`."""
    name = Path(urlparse(uri).path).name or "predictions"
    stem = name.removesuffix(".jsonl").removesuffix(".ndjson")
    return f"fetched-{stem}.jsonl"
