"""Credentials for the log shipper: environment keys, or a container endpoint (a local fake)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from {{ cookiecutter.package_name }}.serving.aws_credentials import (
    CredentialsError,
    CredentialSource,
    container_endpoint,
)

TOKEN = "Bearer test-authorization-token"
START = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class Endpoint(ThreadingHTTPServer):
    """A container credential endpoint: one new key per request, valid for `lifetime`."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.issued = 0
        self.lifetime = timedelta(hours=1)
        self.now = START
        self.authorizations: list[str | None] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v2/credentials/role"


class _Handler(BaseHTTPRequestHandler):
    server: Endpoint

    def do_GET(self) -> None:
        server = self.server
        server.authorizations.append(self.headers.get("Authorization"))
        if self.headers.get("Authorization") != TOKEN:
            self.send_error(401)
            return
        server.issued += 1
        body = json.dumps(
            {
                "AccessKeyId": f"ASIA{server.issued:04d}",
                "SecretAccessKey": "secret",
                "Token": f"session-{server.issued}",
                "Expiration": (server.now + server.lifetime).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    server = Endpoint()
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_environment_keys_come_first() -> None:
    source = CredentialSource(
        {
            "AWS_ACCESS_KEY_ID": "AKIDTEST",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "tok",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/never/asked",
        }
    )
    credentials = source.get()
    assert (credentials.access_key, credentials.secret_key, credentials.token) == (
        "AKIDTEST", "testing", "tok",
    )  # fmt: skip
    assert credentials.expires_at is None
    assert source.fetches == 0
    assert "testing" not in repr(credentials)  # the secret stays out of logs


def test_the_container_endpoint_with_a_token(endpoint: Endpoint) -> None:
    source = CredentialSource(
        {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": endpoint.url,
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": TOKEN,
        },
        clock=lambda: endpoint.now,
    )
    credentials = source.get()
    assert (credentials.access_key, credentials.token) == ("ASIA0001", "session-1")
    assert credentials.expires_at == START + timedelta(hours=1)
    assert endpoint.authorizations == [TOKEN]


def test_the_token_file_is_read_on_every_fetch(endpoint: Endpoint, tmp_path: Path) -> None:
    """EKS Pod Identity rotates the token in its file; a stale copy would be refused."""
    token_file = tmp_path / "token"
    token_file.write_text("Bearer stale\n")
    source = CredentialSource(
        {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": endpoint.url,
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token_file),
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer ignored-when-a-file-is-named",
        },
        clock=lambda: endpoint.now,
    )
    with pytest.raises(CredentialsError, match="401"):
        source.get()
    token_file.write_text(TOKEN + "\n")
    assert source.get().access_key == "ASIA0001"


def test_credentials_are_cached_until_shortly_before_they_expire(endpoint: Endpoint) -> None:
    source = CredentialSource(
        {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": endpoint.url,
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": TOKEN,
        },
        clock=lambda: endpoint.now,
    )
    first = source.get()
    endpoint.now = START + timedelta(minutes=50)
    assert source.get() is first  # ten minutes left: still good
    assert source.fetches == 1
    endpoint.now = START + timedelta(minutes=56)  # four minutes left: fetched again
    second = source.get()
    assert (second.access_key, source.fetches) == ("ASIA0002", 2)
    assert second.expires_at == endpoint.now + timedelta(hours=1)


def test_ecs_relative_uri_goes_to_the_task_metadata_host() -> None:
    asked: list[str] = []

    def fetch(request: Any, timeout: float) -> bytes:
        asked.append(request.full_url)
        return b'{"AccessKeyId": "ASIAECS", "SecretAccessKey": "s", "Token": "t"}'

    source = CredentialSource(
        {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/creds/abc"}, fetch=fetch
    )
    assert source.get().access_key == "ASIAECS"
    assert asked == ["http://169.254.170.2/v2/creds/abc"]


def test_plain_http_only_to_the_loopback_and_container_hosts() -> None:
    for allowed in (
        "http://127.0.0.1:80/x",
        "http://localhost/x",
        "http://169.254.170.23/v1",
        "https://any.example/x",
    ):
        assert container_endpoint({"AWS_CONTAINER_CREDENTIALS_FULL_URI": allowed}) == allowed
    with pytest.raises(CredentialsError, match="plain HTTP"):
        container_endpoint({"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://10.0.0.5/creds"})


def test_no_credentials_and_bad_answers_are_one_clear_error() -> None:
    with pytest.raises(CredentialsError, match="no AWS credentials"):
        CredentialSource({}).get()
    source = CredentialSource(
        {"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9/x"},
        fetch=lambda request, timeout: b'{"unexpected": true}',
    )
    with pytest.raises(CredentialsError, match="AccessKeyId"):
        source.get()
