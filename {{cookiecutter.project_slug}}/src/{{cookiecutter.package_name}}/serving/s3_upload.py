"""PUT one object to S3 with the standard library: where it goes, signed by `sigv4`.

The endpoint follows the SDKs' settings, so the same service runs against AWS,
an emulator or an S3-compatible store unchanged:

- `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`: path-style requests to that
  endpoint (`<endpoint>/<bucket>/<key>`), what emulators and most S3-compatible
  stores expect;
- otherwise AWS itself, virtual-hosted style: `https://<bucket>.s3.<region>.amazonaws.com/<key>`.

The region (the signature's scope) comes from `AWS_REGION`, else `AWS_DEFAULT_REGION`
(ECS sets both in a task); with a custom endpoint it defaults to us-east-1.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from .aws_credentials import CredentialSource
from .sigv4 import canonical_host, payload_hash, sign_request, uri_encode

DEFAULT_ENDPOINT_REGION = "us-east-1"


class UploadError(Exception):
    """The object was not stored (network, credentials, or S3 said no)."""


@dataclass(frozen=True)
class S3Location:
    """A bucket and a key prefix, from `s3://bucket/prefix/`."""

    bucket: str
    prefix: str  # "" or ends in "/"

    @classmethod
    def parse(cls, uri: str) -> S3Location:
        """`s3://bucket/prefix/` (a prefix without its final "/" gets one).

        Raises:
            ValueError: not an s3:// URI with a bucket.
        """
        parts = urlsplit(uri)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"not an s3://bucket/prefix/ URI: {uri!r}")
        prefix = parts.path.lstrip("/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return cls(parts.netloc, prefix)

    def __str__(self) -> str:
        """The URI again, as messages show it."""
        return f"s3://{self.bucket}/{self.prefix}"


@dataclass(frozen=True)
class Endpoint:
    """Where requests for one bucket go, and the region they are signed for."""

    scheme: str
    host: str  # the Host header (with a non-default port)
    base_path: str  # "" (virtual-hosted) or "/<bucket>" (path-style)
    region: str

    @classmethod
    def for_bucket(cls, bucket: str, environ: Mapping[str, str]) -> Endpoint:
        """The endpoint the environment names for `bucket` (see the module docstring).

        Raises:
            ValueError: no region for AWS itself, or an endpoint URL without a host.
        """
        region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or ""
        custom = environ.get("AWS_ENDPOINT_URL_S3") or environ.get("AWS_ENDPOINT_URL") or ""
        if custom:
            parts = urlsplit(custom)
            if parts.scheme not in {"http", "https"} or not parts.hostname:
                raise ValueError(f"AWS_ENDPOINT_URL(_S3) is not an http(s) URL: {custom!r}")
            host = canonical_host(parts.scheme, parts.hostname, parts.port)
            base = parts.path.rstrip("/") + "/" + uri_encode(bucket)
            return cls(parts.scheme, host, base, region or DEFAULT_ENDPOINT_REGION)
        if not region:
            raise ValueError("set AWS_REGION (ECS sets it in a task) to ship the log to S3")
        return cls("https", f"{bucket}.s3.{region}.amazonaws.com", "", region)

    def path(self, key: str) -> str:
        """The encoded request path of `key`."""
        return f"{self.base_path}/{uri_encode(key)}"


Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class S3Uploader:
    """Signed PUTs of whole objects into one bucket."""

    def __init__(
        self,
        location: S3Location,
        endpoint: Endpoint,
        credentials: CredentialSource,
        *,
        clock: Clock = _utc_now,
    ) -> None:
        """Upload under `location` through `endpoint`, signing with `credentials`."""
        self.location = location
        self.endpoint = endpoint
        self.credentials = credentials
        self._clock = clock

    def key_for(self, name: str) -> str:
        """The object key of a file name: `<prefix><name>`."""
        return self.location.prefix + name

    def put(self, key: str, body: bytes, timeout: float) -> None:
        """Store `body` under `key`; returns only when S3 answered 200.

        Raises:
            UploadError: anything else (the message says what, for the warning).
        """
        try:
            credentials = self.credentials.get()
        except Exception as err:  # CredentialsError, or anything a broken environment raises
            raise UploadError(str(err)) from err
        endpoint = self.endpoint
        path = endpoint.path(key)
        headers = sign_request(
            "PUT",
            endpoint.host,
            path,
            body_hash=payload_hash(body),
            credentials=credentials,
            region=endpoint.region,
            when=self._clock(),
            headers={"Content-Type": "application/x-ndjson"},
        )
        url = f"{endpoint.scheme}://{endpoint.host}{path}"
        request = urllib.request.Request(url, data=body, method="PUT", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status = response.status
                response.read()
        except urllib.error.HTTPError as err:
            detail = err.read(500).decode("utf-8", "replace")
            raise UploadError(f"{url}: HTTP {err.code} {_s3_code(detail)}".rstrip()) from err
        except OSError as err:  # refused, unreachable, timed out, TLS
            raise UploadError(f"{url}: {getattr(err, 'reason', None) or err}") from err
        if status != 200:
            raise UploadError(f"{url}: HTTP {status}")


def _s3_code(body: str) -> str:
    """The <Code> of an S3 error document (AccessDenied, NoSuchBucket), if any."""
    start = body.find("<Code>")
    end = body.find("</Code>", start)
    return body[start + 6 : end] if start >= 0 and end > start else ""
