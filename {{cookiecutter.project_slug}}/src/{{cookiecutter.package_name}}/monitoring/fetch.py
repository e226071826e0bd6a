"""`fetch-predictions`: bring the service's recent prediction log next to the project.

The retraining workflow runs on a fresh runner, so the log the service wrote
must be copied in first: from the S3 prefix the service ships its log files to
(s3://bucket/production/, ending in "/": the newest files first, as many as the
cap allows), one S3 object (s3://bucket/key), an HTTP(S) URL or a path.
Without a configured source the drift check runs on a resample of the
training data instead, and says so.

A copy is capped (`MLOPS_FETCH_MAX_MB`: a source over it is refused before
anything is downloaded when its size is known, and stopped at the cap
otherwise) and atomic: it lands in a hidden partial file next to the target
and is renamed into place only when complete, so `drift` never reads half a
log and an earlier good copy survives a failed fetch. From a prefix the cap
holds for all files together: the newest come first, and the first file that
would pass the cap ends the fetch (older files are what drift needs least).
"""

from __future__ import annotations

import contextlib
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
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


def _s3_client() -> Any:
    import boto3

    return boto3.client("s3")


def _download(uri: str, out: IO[bytes], cap: int, client: Any = None) -> None:
    parsed = urlparse(uri)
    if parsed.scheme == "s3":
        client = client or _s3_client()
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


def fetch(uri: str, target: Path, max_bytes: int, *, client: Any = None) -> int:
    """Copy `uri` to `target` atomically, at most `max_bytes`; returns the bytes copied.

    Raises:
        FetchError: the source cannot be read or is over the cap (`target` untouched).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    try:
        with partial.open("wb") as out:
            _download(uri, out, max_bytes, client)
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


def is_prefix(uri: str) -> bool:
    """An S3 prefix (s3://bucket/ or s3://bucket/production/): the log files under it."""
    return uri.startswith("s3://") and uri.endswith("/")


@dataclass(frozen=True)
class PrefixFetch:
    """What a fetch from a prefix brought: files written (newest first), and what it left."""

    files: list[tuple[Path, int]]  # (file written, bytes)
    found: int  # log files under the prefix
    skipped_bytes: int  # of the older files the cap left out

    @property
    def bytes(self) -> int:
        """Bytes fetched in all."""
        return sum(size for _, size in self.files)


def fetch_prefix(uri: str, folder: Path, max_bytes: int) -> PrefixFetch:
    """Copy the newest log files under an S3 prefix into `folder`, at most `max_bytes` in all.

    Each object lands atomically as `fetched_name(key)` (the service names its files
    uniquely, so no two objects meet in one file).

    Raises:
        FetchError: the prefix cannot be listed or an object read, or even the newest
            file is over the cap.
    """
    parsed = urlparse(uri)
    bucket, prefix = parsed.netloc, parsed.path.lstrip("/")
    try:
        client = _s3_client()
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        objects = [
            obj
            for page in pages
            for obj in page.get("Contents", [])
            if obj["Key"].endswith((".jsonl", ".ndjson"))
        ]
    except Exception as err:  # botocore raises many kinds (credentials, access, network)
        raise FetchError(f"cannot list the prediction log under {uri}: {err}") from err
    objects.sort(key=lambda obj: (obj["LastModified"], obj["Key"]), reverse=True)
    files: list[tuple[Path, int]] = []
    left = max_bytes
    for index, obj in enumerate(objects):
        size = int(obj["Size"])
        if size > left:
            if not files:
                newest = f"s3://{bucket}/{obj['Key']}"
                raise FetchTooLargeError(_too_large(newest, f"{size:,}", left))
            skipped = sum(int(older["Size"]) for older in objects[index:])
            return PrefixFetch(files, len(objects), skipped)
        target = folder / fetched_name(obj["Key"])
        copied = fetch(f"s3://{bucket}/{obj['Key']}", target, left, client=client)
        files.append((target, copied))
        left -= copied
    return PrefixFetch(files, len(objects), 0)
