"""Commands the release and retraining workflows call: fetch-predictions and promote."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest

from {{ cookiecutter.package_name }}.cli import main

LOG = b'{"ts": "2026-11-26T00:00:00.000Z", "model_version": "3", "features": {}, "score": 0.5}\n'


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/predictions.jsonl":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(LOG)))
        self.end_headers()
        self.wfile.write(LOG)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def default_log_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fetched logs land in each scratch project's own logs/predictions."""
    monkeypatch.delenv("MLOPS_PREDICTION_LOG_DIR")


def fetch(project: Path, *args: str) -> int:
    return main(["--project-dir", str(project), "fetch-predictions", *args])


FETCHED = Path("logs", "predictions", "fetched-predictions.jsonl")


def test_fetch_over_http(tmp_path: Path, server: str) -> None:
    assert fetch(tmp_path, "--uri", f"{server}/predictions.jsonl") == 0
    assert (tmp_path / FETCHED).read_bytes() == LOG
    assert [p.name for p in (tmp_path / FETCHED).parent.iterdir()] == [FETCHED.name]


def test_fetch_from_a_path(tmp_path: Path) -> None:
    source = tmp_path / "exported.jsonl"
    source.write_bytes(LOG)
    assert fetch(tmp_path, "--uri", str(source)) == 0
    assert (tmp_path / "logs" / "predictions" / "fetched-exported.jsonl").read_bytes() == LOG


@pytest.mark.parametrize("where", ["http", "path"])
def test_a_source_over_the_cap_is_refused_and_the_last_copy_kept(
    tmp_path: Path,
    server: str,
    where: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = tmp_path / "predictions.jsonl"
    source.write_bytes(LOG)
    uri = f"{server}/predictions.jsonl" if where == "http" else str(source)
    assert fetch(tmp_path, "--uri", uri) == 0
    monkeypatch.setenv("MLOPS_FETCH_MAX_MB", str(40 / 1024 / 1024))  # 40 bytes
    assert fetch(tmp_path, "--uri", uri) == 1
    err = capsys.readouterr().err
    assert "over the cap of 40 bytes (MLOPS_FETCH_MAX_MB)" in err
    assert (tmp_path / FETCHED).read_bytes() == LOG  # the earlier good copy survives
    assert sorted(p.name for p in (tmp_path / FETCHED).parent.iterdir()) == [FETCHED.name]


class _EndlessHandler(BaseHTTPRequestHandler):
    """A source that never says its size and never ends: the cap must stop it."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        try:
            while True:
                self.wfile.write(LOG * 1000)
        except OSError:
            return

    def log_message(self, format: str, *args: Any) -> None:
        return


def test_an_endless_source_is_stopped_at_the_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _EndlessHandler)
    threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    monkeypatch.setenv("MLOPS_FETCH_MAX_MB", "1")
    try:
        assert fetch(tmp_path, "--uri", f"http://127.0.0.1:{httpd.server_address[1]}/p") == 1
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert "over the cap of 1,048,576 bytes" in capsys.readouterr().err
    assert not (tmp_path / "logs" / "predictions" / "fetched-p.jsonl").exists()


@pytest.fixture
def bucket(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An empty S3 bucket in moto (server mode), which the command reaches through
    AWS_ENDPOINT_URL as it would reach S3."""
    env = {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="logs", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    yield s3
    for key in [o["Key"] for o in s3.list_objects_v2(Bucket="logs").get("Contents", [])]:
        s3.delete_object(Bucket="logs", Key=key)
    s3.delete_bucket(Bucket="logs")


def ship(s3: Any, key: str, records: int) -> bytes:
    body = LOG * records
    s3.put_object(Bucket="logs", Key=key, Body=body)
    return body


@pytest.mark.integration
def test_fetch_from_a_prefix_takes_the_newest_files_up_to_the_cap(
    tmp_path: Path,
    bucket: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The oldest name sorts last: the order comes from LastModified (whole seconds on S3;
    # within a second, a process's later file has the higher sequence number).
    oldest = ship(bucket, "production/z-host-7-20261101T000000-aaaaaa-0001.jsonl", 3)
    time.sleep(1.1)
    middle = ship(bucket, "production/a-host-8-20261102T000000-bbbbbb-0001.jsonl", 2)
    newest = ship(bucket, "production/a-host-8-20261102T000000-bbbbbb-0002.jsonl", 2)
    ship(bucket, "production/README.txt", 1)  # not a log file
    ship(bucket, "staging/s-host-9-20261102T000000-cccccc-0001.jsonl", 1)  # another prefix
    monkeypatch.setenv("MLOPS_FETCH_MAX_MB", str((len(newest) + len(middle) + 10) / 1024 / 1024))
    assert fetch(tmp_path, "--uri", "s3://logs/production/") == 0
    folder = tmp_path / "logs" / "predictions"
    assert sorted(p.name for p in folder.iterdir()) == [
        "fetched-a-host-8-20261102T000000-bbbbbb-0001.jsonl",
        "fetched-a-host-8-20261102T000000-bbbbbb-0002.jsonl",
    ]
    assert (folder / "fetched-a-host-8-20261102T000000-bbbbbb-0002.jsonl").read_bytes() == newest
    out = capsys.readouterr().out
    total = len(newest) + len(middle)
    assert f"2 of 3 files, {total:,} bytes, newest first" in out
    assert f"{len(oldest):,} bytes of older files left (MLOPS_FETCH_MAX_MB)" in out
    # the whole prefix fits under the default cap
    monkeypatch.delenv("MLOPS_FETCH_MAX_MB")
    assert fetch(tmp_path, "--uri", "s3://logs/production/") == 0
    assert len(list(folder.iterdir())) == 3
    assert "3 of 3 files" in capsys.readouterr().out


@pytest.mark.integration
def test_a_prefix_whose_newest_file_is_over_the_cap_or_that_is_empty(
    tmp_path: Path,
    bucket: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert fetch(tmp_path, "--uri", "s3://logs/production/") == 0
    assert "0 of 0 files" in capsys.readouterr().out
    ship(bucket, "production/big-1-20261101T000000-aaaaaa-0001.jsonl", 10)
    monkeypatch.setenv("MLOPS_FETCH_MAX_MB", str(40 / 1024 / 1024))
    assert fetch(tmp_path, "--uri", "s3://logs/production/") == 1
    assert "over the cap of 40 bytes (MLOPS_FETCH_MAX_MB)" in capsys.readouterr().err
    assert not (tmp_path / "logs" / "predictions").exists() or not any(
        (tmp_path / "logs" / "predictions").iterdir()
    )
    assert fetch(tmp_path, "--uri", "s3://no-such-bucket/production/") == 1
    assert "cannot list the prediction log under s3://no-such-bucket/production/" in (
        capsys.readouterr().err
    )


def test_fetch_failure_is_one_line(
    tmp_path: Path, server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["--project-dir", str(tmp_path), "fetch-predictions", "--uri", f"{server}/missing"])
        == 1
    )
    err = capsys.readouterr().err
    assert "cannot fetch the prediction log" in err
    assert "Traceback" not in err


def test_nothing_to_fetch_is_fine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MLOPS_PREDICTION_LOG_URI", raising=False)
    assert fetch(tmp_path) == 0
    assert "nothing to fetch" in capsys.readouterr().out


def test_promote_without_a_tracking_server_says_why_nothing_moved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # What the CD production job has: a fresh checkout, the workflow's variable unset (empty).
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "")
    assert main(["--project-dir", str(tmp_path), "promote"]) == 0
    assert "nothing to promote" in capsys.readouterr().out
    assert main(["--project-dir", str(tmp_path), "promote", "--version", "1"]) == 0
    out = capsys.readouterr().out
    assert "no tracking server (MLFLOW_TRACKING_URI is unset)" in out
    assert "Nothing promoted" in out


def test_promote_with_a_tracking_server_fails_loudly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'server.db'}")
    assert main(["--project-dir", str(tmp_path), "promote", "--version", "3"]) == 1
    assert "cannot make version 3" in capsys.readouterr().err
