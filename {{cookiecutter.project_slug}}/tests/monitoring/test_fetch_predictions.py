"""Commands the release and retraining workflows call: fetch-predictions and promote."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

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
