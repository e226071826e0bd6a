"""The log shipper in-process: what it hands off, uploads, keeps and counts (S3 faked)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.errors import ConfigError
from {{ cookiecutter.package_name }}.serving.app import log_shipper_from
from {{ cookiecutter.package_name }}.serving.log_shipper import LogShipper, writer_of
from {{ cookiecutter.package_name }}.serving.prediction_log import (
    LogPolicy,
    PredictionLog,
    host_tag,
)
from {{ cookiecutter.package_name }}.serving.s3_upload import S3Location, UploadError
from {{ cookiecutter.package_name }}.settings import STDOUT, Settings

FEATURES = {"tenure": 12, "Contract": "Month-to-month"}


class FakeS3:
    """Stands in for S3Uploader: keeps what was put, or fails while `failing` is set."""

    def __init__(self) -> None:
        self.location = S3Location("bucket", "production/")
        self.objects: dict[str, bytes] = {}
        self.failing = ""

    def key_for(self, name: str) -> str:
        return self.location.prefix + name

    def put(self, key: str, body: bytes, timeout: float) -> None:
        if self.failing:
            raise UploadError(self.failing)
        self.objects[key] = body


class Counts(dict[str, int]):
    def __call__(self, outcome: str, count: int) -> None:
        self[outcome] = self.get(outcome, 0) + count


@pytest.fixture
def log(tmp_path: Path) -> Iterator[PredictionLog]:
    running = PredictionLog(LogPolicy(directory=tmp_path / "log"))
    running.start()
    yield running
    running.close()


def submit(log: PredictionLog, count: int) -> None:
    for i in range(count):
        log.submit(FEATURES, 0.5, "7", record_id=f"r{i}")
    log.flush()


def shipper_for(log: PredictionLog, s3: FakeS3, counts: Counts, **kwargs: float) -> LogShipper:
    return LogShipper(log, s3, count=counts, **kwargs)  # type: ignore[arg-type]


def lines(body: bytes) -> list[dict[str, object]]:
    return [json.loads(line) for line in body.splitlines()]


def test_each_pass_ships_the_closed_files_and_removes_them(
    log: PredictionLog, tmp_path: Path
) -> None:
    s3, counts = FakeS3(), Counts()
    shipper = shipper_for(log, s3, counts)
    assert shipper.ship(time.monotonic() + 5) == 0  # nothing logged: nothing handed off
    submit(log, 3)
    assert shipper.ship(time.monotonic() + 5) == 1
    ((key, body),) = s3.objects.items()
    assert key.startswith("production/")
    assert key.endswith("-0001.jsonl")
    assert [line["model_version"] for line in lines(body)] == ["7", "7", "7"]
    assert list((tmp_path / "log").iterdir()) == []  # removed once stored
    submit(log, 2)  # the next records open the next file
    assert shipper.ship(time.monotonic() + 5) == 1
    assert sorted(k.rsplit("-", 1)[1] for k in s3.objects) == ["0001.jsonl", "0002.jsonl"]
    assert counts == {"uploaded": 2}


def test_a_failing_upload_keeps_the_file_counts_warns_once_and_retries(
    log: PredictionLog, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    s3, counts = FakeS3(), Counts()
    shipper = shipper_for(log, s3, counts)
    s3.failing = "http://127.0.0.1:9/bucket/x: Connection refused"
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            submit(log, 2)
            assert shipper.ship(time.monotonic() + 5) == 0
        kept = sorted(p.name for p in (tmp_path / "log").iterdir())
        assert len(kept) == 3  # one file per pass, none lost
        assert counts == {"failed": 3}  # one attempt a pass: the rest waits for the next
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert "Connection refused" in warnings[0].getMessage()
        assert 'prediction_log_uploads_total{outcome="failed"}' in warnings[0].getMessage()
        s3.failing = ""
        assert shipper.ship(time.monotonic() + 5) == 3
    assert sorted(k.removeprefix("production/") for k in s3.objects) == kept
    assert counts == {"failed": 3, "uploaded": 3}
    assert "uploading again after 3 failed attempts" in caplog.text


def test_shutdown_ships_the_last_file(tmp_path: Path) -> None:
    log = PredictionLog(LogPolicy(directory=tmp_path / "log"))
    s3, counts = FakeS3(), Counts()
    shipper = shipper_for(log, s3, counts, interval=3600)
    log.start()
    shipper.start()
    submit(log, 4)
    log.close()  # as the lifespan does at SIGTERM: the queue is written first
    started = time.monotonic()
    shipper.close()
    assert time.monotonic() - started < 2
    (body,) = s3.objects.values()
    assert len(lines(body)) == 4
    assert list((tmp_path / "log").iterdir()) == []


def test_shutdown_is_bounded_when_an_upload_hangs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """ECS kills the task 30 s after SIGTERM: a hanging S3 must not hold the service past it."""

    class Hanging(FakeS3):
        def put(self, key: str, body: bytes, timeout: float) -> None:
            time.sleep(2.0)  # a server that trickles bytes outlasts the socket timeout
            raise UploadError("timed out")

    log = PredictionLog(LogPolicy(directory=tmp_path / "log"))
    shipper = shipper_for(log, Hanging(), Counts(), interval=0.05, shutdown_seconds=0.5)
    log.start()
    shipper.start()
    submit(log, 2)
    time.sleep(0.3)  # the thread's pass is now stuck in the upload
    log.close()
    started = time.monotonic()
    shipper.close()
    assert time.monotonic() - started < 1.5
    assert len(list((tmp_path / "log").iterdir())) == 1  # never removed without a 200
    assert "an upload still hangs after 0.5 s at shutdown" in caplog.text


def test_the_thread_ships_every_interval(log: PredictionLog) -> None:
    s3, counts = FakeS3(), Counts()
    shipper = shipper_for(log, s3, counts, interval=0.2)
    shipper.start()
    try:
        submit(log, 1)
        deadline = time.monotonic() + 10
        while not s3.objects and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(s3.objects) == 1
    finally:
        shipper.close()


def test_files_of_a_dead_process_on_this_host_are_shipped_others_left(
    log: PredictionLog, tmp_path: Path
) -> None:
    folder = tmp_path / "log"
    folder.mkdir(exist_ok=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    orphan = folder / f"{host_tag()}-{dead.stdout.strip()}-20261130T120000-abcdef-0003.jsonl"
    alive = folder / f"{host_tag()}-{os.getppid()}-20261130T120000-abcdef-0001.jsonl"
    elsewhere = folder / "other-host-1-20261130T120000-abcdef-0001.jsonl"
    fetched = folder / "fetched-production.jsonl"
    for path in (orphan, alive, elsewhere, fetched):
        path.write_text('{"ts": "2026-11-30T12:00:00.000Z"}\n')
    s3 = FakeS3()
    assert shipper_for(log, s3, Counts()).ship(time.monotonic() + 5) == 1
    assert list(s3.objects) == [f"production/{orphan.name}"]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        p.name for p in (alive, elsewhere, fetched)
    )
    assert writer_of(orphan) == (host_tag(), int(dead.stdout))
    assert writer_of(fetched) is None


def test_standard_output_cannot_be_shipped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(
        project_dir=tmp_path, prediction_log_dir=STDOUT, prediction_log_s3_uri="s3://bucket/p/"
    )
    with pytest.raises(ConfigError, match="standard output"):
        log_shipper_from(settings, None, {"AWS_REGION": "eu-west-1"})
    with pytest.raises(ValueError, match="standard output"):
        LogShipper(PredictionLog(LogPolicy(directory=STDOUT)), FakeS3())  # type: ignore[arg-type]
    # `serve` refuses before it starts anything: one line, exit 1
    monkeypatch.setenv("MLOPS_PREDICTION_LOG_DIR", "-")
    monkeypatch.setenv("MLOPS_PREDICTION_LOG_S3_URI", "s3://bucket/production/")
    assert main(["--project-dir", str(tmp_path), "serve"]) == 1
    assert "MLOPS_PREDICTION_LOG_DIR is '-' (standard output)" in capsys.readouterr().err


def test_settings_refuse_what_is_not_an_s3_uri(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="prediction_log_s3_uri"):
        Settings(project_dir=tmp_path, prediction_log_s3_uri="https://bucket/p/")
    settings = Settings(project_dir=tmp_path, prediction_log_s3_uri="s3://bucket/production/")
    log = PredictionLog(LogPolicy(directory=tmp_path))
    shipper = log_shipper_from(settings, log, {"AWS_REGION": "eu-west-1"})
    assert shipper is not None
    assert shipper.interval == 300
    assert str(shipper.uploader.location) == "s3://bucket/production/"
    with pytest.raises(ConfigError, match="AWS_REGION"):
        log_shipper_from(settings, log, {})
    assert log_shipper_from(Settings(project_dir=tmp_path), log, {}) is None
