r"""AWS Signature Version 4 for one S3 request: pure, so it is checked against botocore.

The serving image has no boto3 or botocore (about 100 MB it would carry for one
PUT every few minutes), so the log shipper signs its uploads itself. This module
only computes: canonical request, string to sign, signing key and the headers to
send; `s3_upload` does the I/O. The steps follow the SigV4 specification for S3
(the Authorization-header form):

    canonical request = METHOD \n URI-encoded path \n sorted query \n
                        lower-case headers "name:value" \n \n signed header names \n
                        hex SHA-256 of the payload
    string to sign    = "AWS4-HMAC-SHA256" \n timestamp \n date/region/s3/aws4_request \n
                        hex SHA-256 of the canonical request
    signing key       = HMAC chain "AWS4"+secret -> date -> region -> service -> "aws4_request"

The payload is always hashed (never UNSIGNED-PAYLOAD): S3 then refuses a body
changed or cut on the way, which TLS alone would not tell it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "s3"
# RFC 3986 unreserved characters: everything else in a path is percent-encoded.
UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# Ports a Host header leaves out (SigV4 signs the host as the client sends it).
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Credentials:
    """An access key, its secret and, for temporary credentials, the session token."""

    access_key: str
    secret_key: str = field(repr=False)
    token: str = field(default="", repr=False)
    expires_at: datetime | None = None  # None: long-lived (environment keys)


def uri_encode(text: str, *, keep_slash: bool = True) -> str:
    """Percent-encode every byte but the unreserved ones (and "/" in a path), upper-case hex.

    S3 keys are encoded once, unlike other services' paths (no double encoding).
    """
    safe = UNRESERVED | {ord("/")} if keep_slash else UNRESERVED
    return "".join(chr(b) if b in safe else f"%{b:02X}" for b in text.encode("utf-8"))


def canonical_host(scheme: str, host: str, port: int | None) -> str:
    """The Host header value: the port only when it is not the scheme's default."""
    if port is None or DEFAULT_PORTS.get(scheme) == port:
        return host
    return f"{host}:{port}"


def amz_timestamp(when: datetime) -> str:
    """`when` as SigV4's basic ISO 8601 timestamp in UTC (20130524T000000Z)."""
    return when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def payload_hash(body: bytes) -> str:
    """Hex SHA-256 of the body, sent as x-amz-content-sha256 and signed."""
    return hashlib.sha256(body).hexdigest()


def canonical_request(
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body_hash: str,
) -> tuple[str, str]:
    """(canonical request, signed header names) of a request whose `path` is already encoded."""
    normalised = {name.lower().strip(): " ".join(value.split()) for name, value in headers.items()}
    names = sorted(normalised)
    canonical_query = "&".join(
        f"{uri_encode(k, keep_slash=False)}={uri_encode(v, keep_slash=False)}"
        for k, v in sorted(query.items())
    )
    lines = [
        method.upper(),
        path or "/",
        canonical_query,
        "".join(f"{name}:{normalised[name]}\n" for name in names),
        ";".join(names),
        body_hash,
    ]
    return "\n".join(lines), ";".join(names)


def signing_key(secret_key: str, date: str, region: str, service: str = SERVICE) -> bytes:
    """The day's key for one region and service (the secret itself never signs a request)."""
    key = _hmac(f"AWS4{secret_key}".encode(), date)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return key


def string_to_sign(timestamp: str, scope: str, canonical: str) -> str:
    """What the signing key signs: algorithm, time, scope and the canonical request's hash."""
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{timestamp}\n{scope}\n{digest}"


def sign_request(
    method: str,
    host: str,
    path: str,
    *,
    body_hash: str,
    credentials: Credentials,
    region: str,
    when: datetime,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    service: str = SERVICE,
) -> dict[str, str]:
    """The headers to send, signed: `headers` plus Host, x-amz-* and Authorization.

    x-amz-date and x-amz-content-sha256 always, x-amz-security-token with temporary
    credentials.

    Args:
        method: HTTP method (PUT).
        host: the Host header value (see `canonical_host`).
        path: the URI path, already encoded with `uri_encode`.
        body_hash: `payload_hash` of the body.
        credentials: who signs.
        region: the bucket's region (the credential scope).
        when: the request time; S3 refuses a signature more than 15 minutes off.
        headers: further headers to send and sign (e.g. Content-Type).
        query: the query parameters, unencoded.
        service: the signing name of the service.
    """
    timestamp = amz_timestamp(when)
    date = timestamp[:8]
    signed = {**(headers or {}), "Host": host, "x-amz-date": timestamp}
    signed["x-amz-content-sha256"] = body_hash
    if credentials.token:
        signed["x-amz-security-token"] = credentials.token
    canonical, names = canonical_request(method, path, query or {}, signed, body_hash)
    scope = f"{date}/{region}/{service}/aws4_request"
    key = signing_key(credentials.secret_key, date, region, service)
    signature = hmac.new(
        key, string_to_sign(timestamp, scope, canonical).encode("utf-8"), hashlib.sha256
    ).hexdigest()
    signed["Authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key}/{scope}, "
        f"SignedHeaders={names}, Signature={signature}"
    )
    return signed


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()
