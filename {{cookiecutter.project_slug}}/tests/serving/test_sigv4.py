"""The log shipper's own SigV4 signing, against AWS's published examples and botocore."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore import auth as botocore_auth
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotocoreCredentials

from {{ cookiecutter.package_name }}.serving.s3_upload import Endpoint, S3Location
from {{ cookiecutter.package_name }}.serving.sigv4 import (
    Credentials,
    canonical_host,
    payload_hash,
    sign_request,
    uri_encode,
)

# The example credentials and time of the S3 API reference ("Examples: Signature
# Calculations in AWS Signature Version 4", Authorization header).
EXAMPLE = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
EXAMPLE_TIME = datetime(2013, 5, 24, tzinfo=UTC)
EXAMPLE_HOST = "examplebucket.s3.amazonaws.com"
WHEN = datetime(2026, 11, 30, 12, 34, 56, tzinfo=UTC)


def signature(headers: dict[str, str]) -> str:
    return headers["Authorization"].rsplit("Signature=", 1)[1]


def test_the_published_get_object_example() -> None:
    headers = sign_request(
        "GET", EXAMPLE_HOST, "/test.txt",
        body_hash=payload_hash(b""), credentials=EXAMPLE, region="us-east-1", when=EXAMPLE_TIME,
        headers={"Range": "bytes=0-9"},
    )  # fmt: skip
    assert headers["Authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    )


def test_the_published_put_object_example() -> None:
    """A key with "$" (encoded once, as S3 wants) and a body whose hash is signed."""
    body = b"Welcome to Amazon S3."
    storage_class = "REDUCED_REDUNDANCY"
    assert payload_hash(body) == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
    headers = sign_request(
        "PUT", EXAMPLE_HOST, "/" + uri_encode("test$file.text"),
        body_hash=payload_hash(body), credentials=EXAMPLE, region="us-east-1", when=EXAMPLE_TIME,
        headers={"Date": "Fri, 24 May 2013 00:00:00 GMT", "x-amz-storage-class": storage_class},
    )  # fmt: skip
    assert signature(headers) == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"


def botocore_headers(
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    body: bytes,
    credentials: Credentials,
    region: str,
) -> dict[str, str]:
    """What botocore's S3 signer sends for the same PUT at the same time."""
    monkeypatch.setattr(botocore_auth, "get_current_datetime", lambda: WHEN.replace(tzinfo=None))
    request = AWSRequest(
        method="PUT", url=url, data=body, headers={"Content-Type": "application/x-ndjson"}
    )
    signer = S3SigV4Auth(
        BotocoreCredentials(credentials.access_key, credentials.secret_key, credentials.token),
        "s3",
        region,
    )
    signer.add_auth(request)
    return dict(request.headers.items())


@pytest.mark.parametrize(
    ("endpoint_url", "key", "token"),
    [
        ("http://127.0.0.1:5000", "production/host-7-20261130T120000-a1b2c3-0001.jsonl", ""),
        ("http://localhost:9000/", "a prefix/ünïcode+~key=1&b.jsonl", "session/token+=="),
        ("http://s3.internal", "prefix/x.jsonl", "FwoGZXIvYXdzEXAMPLE"),
    ],
)
def test_signatures_match_botocore(
    monkeypatch: pytest.MonkeyPatch, endpoint_url: str, key: str, token: str
) -> None:
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    body = b'{"ts": "2026-11-30T12:00:00.000Z", "score": 0.5}\n' * 3
    endpoint = Endpoint.for_bucket("predictions-bucket", {"AWS_ENDPOINT_URL_S3": endpoint_url})
    path = endpoint.path(key)
    ours = sign_request(
        "PUT", endpoint.host, path,
        body_hash=payload_hash(body), credentials=credentials, region="eu-central-1", when=WHEN,
        headers={"Content-Type": "application/x-ndjson"},
    )  # fmt: skip
    theirs = botocore_headers(
        monkeypatch, f"{endpoint.scheme}://{endpoint.host}{path}", body, credentials, "eu-central-1"
    )
    assert ours["Authorization"] == theirs["Authorization"]
    assert ours["x-amz-content-sha256"] == theirs["X-Amz-Content-SHA256"] == payload_hash(body)
    assert ours["x-amz-date"] == theirs["X-Amz-Date"] == "20261130T123456Z"
    assert ours.get("x-amz-security-token") == theirs.get("X-Amz-Security-Token")
    assert ("x-amz-security-token" in ours) == bool(token)


def test_aws_itself_is_virtual_hosted_and_emulators_path_style() -> None:
    aws = Endpoint.for_bucket("logs-1", {"AWS_REGION": "eu-west-3"})
    assert (aws.scheme, aws.host, aws.path("p/f.jsonl")) == (
        "https", "logs-1.s3.eu-west-3.amazonaws.com", "/p/f.jsonl",
    )  # fmt: skip
    assert Endpoint.for_bucket("b", {"AWS_DEFAULT_REGION": "sa-east-1"}).region == "sa-east-1"
    moto = Endpoint.for_bucket(
        "logs-1", {"AWS_ENDPOINT_URL": "http://127.0.0.1:80", "AWS_REGION": "eu-west-3"}
    )
    assert (moto.host, moto.path("f.jsonl"), moto.region) == (
        "127.0.0.1", "/logs-1/f.jsonl", "eu-west-3",
    )  # fmt: skip
    specific = Endpoint.for_bucket(
        "b", {"AWS_ENDPOINT_URL": "http://a:1", "AWS_ENDPOINT_URL_S3": "https://s3.local:8443"}
    )
    assert (specific.scheme, specific.host, specific.region) == (
        "https",
        "s3.local:8443",
        "us-east-1",
    )
    with pytest.raises(ValueError, match="AWS_REGION"):
        Endpoint.for_bucket("b", {})


def test_locations_and_hosts() -> None:
    assert S3Location.parse("s3://bucket/production/") == S3Location("bucket", "production/")
    assert S3Location.parse("s3://bucket/production") == S3Location("bucket", "production/")
    assert S3Location.parse("s3://bucket") == S3Location("bucket", "")
    with pytest.raises(ValueError, match="s3://"):
        S3Location.parse("https://bucket/x/")
    assert canonical_host("https", "h", 443) == "h"
    assert canonical_host("http", "h", 8080) == "h:8080"
    assert uri_encode("a b/ü~") == "a%20b/%C3%BC~"
    assert uri_encode("a/b", keep_slash=False) == "a%2Fb"
