"""AWS credentials for the log shipper, without botocore: environment keys or the container's.

The serving image carries no AWS SDK, so this module reads the two sources a
service actually has, in the SDKs' order:

1. `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`): a laptop,
   a test, an emulator;
2. the container credential endpoint: on ECS, `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`
   under http://169.254.170.2 (the task role's keys, rotated by ECS); elsewhere
   (EKS Pod Identity, a local agent) `AWS_CONTAINER_CREDENTIALS_FULL_URI` with the
   token from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (read each time: it rotates) or
   `AWS_CONTAINER_AUTHORIZATION_TOKEN`. Plain HTTP is only allowed to the loopback
   and the container hosts, as the SDKs allow, so the token never leaves the machine.

Temporary credentials are cached until `REFRESH_BEFORE` before they expire:
one request to the endpoint an hour or so, not one per upload.
"""

from __future__ import annotations

import ipaddress
import json
import threading
import urllib.request
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from .sigv4 import Credentials

ECS_CREDENTIALS_HOST = "http://169.254.170.2"
# Plain-HTTP endpoints the SDKs accept: the ECS agent, EKS Pod Identity, the loopback.
CONTAINER_HOSTS = frozenset({"169.254.170.2", "169.254.170.23", "fd00:ec2::23", "localhost"})
REFRESH_BEFORE = timedelta(minutes=5)
ENDPOINT_TIMEOUT_SECONDS = 2.0

Fetch = Callable[[urllib.request.Request, float], bytes]  # (request, timeout) -> body
Clock = Callable[[], datetime]


class CredentialsError(Exception):
    """No credentials could be found or fetched (the shipper counts and retries)."""


def _fetch(request: urllib.request.Request, timeout: float) -> bytes:
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body: bytes = response.read(64 * 1024)
        return body


def _now() -> datetime:
    return datetime.now(UTC)


def container_endpoint(environ: Mapping[str, str]) -> str | None:
    """The container credential URL the environment names, or None.

    Raises:
        CredentialsError: a full URI over plain HTTP to a host other than the allowed ones.
    """
    relative = environ.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "")
    if relative:
        return ECS_CREDENTIALS_HOST + relative
    full = environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI", "")
    if not full:
        return None
    parts = urlsplit(full)
    host = parts.hostname or ""
    if parts.scheme == "https":
        return full
    if parts.scheme == "http" and _allowed_http_host(host):
        return full
    raise CredentialsError(
        f"AWS_CONTAINER_CREDENTIALS_FULL_URI {full!r}: plain HTTP only to the loopback or "
        "the container credential hosts; use https"
    )


def _allowed_http_host(host: str) -> bool:
    if host in CONTAINER_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_expiration(value: str) -> datetime:
    """An ISO 8601 `Expiration` ("2026-11-30T12:00:00Z") as an aware datetime."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class CredentialSource:
    """The current credentials, fetched again a few minutes before they expire (thread-safe)."""

    def __init__(
        self,
        environ: Mapping[str, str],
        *,
        fetch: Fetch = _fetch,
        clock: Clock = _now,
    ) -> None:
        """Read from `environ` (os.environ in the service; a dict in tests)."""
        self._environ = environ
        self._fetch = fetch
        self._clock = clock
        self._cached: Credentials | None = None
        self._lock = threading.Lock()
        self.fetches = 0  # requests to the container endpoint (tests count them)

    def get(self) -> Credentials:
        """Credentials valid for at least `REFRESH_BEFORE` more (or long-lived ones).

        Raises:
            CredentialsError: none configured, or the endpoint failed or answered nonsense.
        """
        with self._lock:
            cached = self._cached
            if cached is not None and (
                cached.expires_at is None or self._clock() < cached.expires_at - REFRESH_BEFORE
            ):
                return cached
            self._cached = self._load()
            return self._cached

    def _load(self) -> Credentials:
        environ = self._environ
        key, secret = environ.get("AWS_ACCESS_KEY_ID", ""), environ.get("AWS_SECRET_ACCESS_KEY", "")
        if key and secret:
            return Credentials(key, secret, environ.get("AWS_SESSION_TOKEN", ""))
        url = container_endpoint(environ)
        if url is None:
            raise CredentialsError(
                "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run "
                "with a task role (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)"
            )
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        token = self._authorization_token()
        if token:
            request.add_header("Authorization", token)
        self.fetches += 1
        try:
            document = json.loads(self._fetch(request, ENDPOINT_TIMEOUT_SECONDS))
            expiration = document.get("Expiration")
            return Credentials(
                access_key=str(document["AccessKeyId"]),
                secret_key=str(document["SecretAccessKey"]),
                token=str(document.get("Token") or ""),
                expires_at=parse_expiration(str(expiration)) if expiration else None,
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            raise CredentialsError(f"container credentials from {url}: {err}") from err

    def _authorization_token(self) -> str:
        path = self._environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "")
        if path:
            try:
                return Path(path).read_text(encoding="utf-8").strip()
            except OSError as err:
                raise CredentialsError(f"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: {err}") from err
        return self._environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN", "")
