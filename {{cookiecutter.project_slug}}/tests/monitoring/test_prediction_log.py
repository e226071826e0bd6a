"""The prediction log: what the service writes, how it fails, and how `drift` reads it back."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from {{ cookiecutter.package_name }}.contract.pii import is_hashed, pii_hash, redact
from {{ cookiecutter.package_name }}.errors import DriftError
from {{ cookiecutter.package_name }}.layout import PredictionRecord, utc_timestamp
from {{ cookiecutter.package_name }}.monitoring.prediction_log import (
    LogReading,
    has_records,
    log_files,
    read_prediction_log,
)
from {{ cookiecutter.package_name }}.serving import prediction_log
from {{ cookiecutter.package_name }}.serving.prediction_log import (
    LogPolicy,
    PredictionLog,
    json_lines,
)
from {{ cookiecutter.package_name }}.settings import STDOUT

FEATURES = {"tenure": 12, "MonthlyCharges": 70.5, "Contract": "Month-to-month", "SeniorCitizen": 0}


class Counts:
    """Collects what the log reports to the service's metrics."""

    def __init__(self) -> None:
        self.by_outcome: dict[str, int] = {"written": 0, "dropped": 0}

    def __call__(self, outcome: str, count: int) -> None:
        self.by_outcome[outcome] += count


@contextmanager
def writing(policy: LogPolicy, **kwargs: Any) -> Iterator[tuple[PredictionLog, Counts]]:
    counts = Counts()
    log = PredictionLog(policy, count=counts, **kwargs)
    log.start()
    try:
        yield log, counts
    finally:
        log.close()


def records(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(r.to_json()) for r in read_prediction_log(folder)]


def test_timestamp_is_utc_with_milliseconds() -> None:
    moment = datetime(2026, 11, 26, 1, 23, 45, 123456, tzinfo=UTC)
    assert utc_timestamp(moment) == "2026-11-26T01:23:45.123Z"


def test_written_line_has_the_agreed_format(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    with writing(LogPolicy(folder, id_personal=False)) as (log, counts):
        assert log.submit(FEATURES, 0.731, "3", record_id="c-1")
    (line,) = records(folder)
    assert set(line) == {"ts", "model_version", "features", "score", "id"}
    assert (line["features"], line["score"], line["model_version"], line["id"]) == (
        FEATURES,
        0.731,
        "3",
        "c-1",
    )
    assert counts.by_outcome == {"written": 1, "dropped": 0}


def test_optional_keys_round_trip() -> None:
    record = PredictionRecord("t", "3", FEATURES, 0.2, id="c-1", outcome="Yes")
    assert PredictionRecord.from_json(record.to_json()) == record


def test_unknown_keys_are_kept_for_newer_writers() -> None:
    line = '{"ts":"t","model_version":"1","features":{"a":1},"score":0.5,"latency_ms":3}'
    record = PredictionRecord.from_json(line)
    assert record.extra == {"latency_ms": 3}
    assert json.loads(record.to_json())["latency_ms"] == 3


def test_sampling_keeps_about_the_configured_share(tmp_path: Path) -> None:
    with writing(LogPolicy(tmp_path, sample_rate=0.2), seed=1) as (log, _):
        kept = sum(log.submit(FEATURES, 0.5, "1") for _ in range(2000))
    assert 320 <= kept <= 480
    assert len(records(tmp_path)) == kept


def test_sample_rate_zero_writes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    with writing(LogPolicy(folder, sample_rate=0.0)) as (log, _):
        assert not log.submit(FEATURES, 0.5, "1")
    assert not folder.exists()


def test_threads_never_interleave_lines(tmp_path: Path) -> None:
    with writing(LogPolicy(tmp_path)) as (log, counts):

        def work() -> None:
            for _ in range(500):
                log.submit(FEATURES, 0.5, "1")

        threads = [threading.Thread(target=work) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(records(tmp_path)) == 2000 == counts.by_outcome["written"]


def test_each_writer_has_its_own_files_and_the_reader_reads_them_all(tmp_path: Path) -> None:
    """Blue, green and every worker process: never two writers in one file."""
    with writing(LogPolicy(tmp_path)) as (blue, _), writing(LogPolicy(tmp_path)) as (green, _):
        for _ in range(300):
            blue.submit(FEATURES, 0.25, "1")
            green.submit(FEATURES, 0.75, "2")
    files = log_files(tmp_path)
    assert len(files) == 2
    for file in files:
        versions = {json.loads(line)["model_version"] for line in file.read_text().splitlines()}
        assert len(versions) == 1
    reading = LogReading(tmp_path)
    assert len(list(read_prediction_log(tmp_path, reading))) == 600
    assert reading.describe() == f"{tmp_path} (2 files, 600 records)"


def test_rotation_by_size_and_retention_by_count(tmp_path: Path) -> None:
    policy = LogPolicy(tmp_path, max_file_bytes=4000, keep_files=3)
    with writing(policy) as (log, counts):
        for _ in range(10):
            for _ in range(40):  # ~5 kB: each write fills a file
                log.submit(FEATURES, 0.5, "1")
            log.flush()
    files = log_files(tmp_path)
    assert len(files) == 3
    assert counts.by_outcome["written"] == 400
    assert len(records(tmp_path)) == 120  # the oldest files were removed


def test_personal_columns_are_hashed_by_default(tmp_path: Path) -> None:
    policy = LogPolicy(tmp_path, pii_columns=("SeniorCitizen",), pii_key="k")
    with writing(policy) as (log, _):
        log.submit(FEATURES, 0.5, "1", record_id="7590-VHVEG")
    (line,) = records(tmp_path)
    assert line["id"] == pii_hash("7590-VHVEG", "k") != pii_hash("7590-VHVEG", "other key")
    assert is_hashed(line["features"]["SeniorCitizen"])
    assert line["features"]["Contract"] == "Month-to-month"
    assert "7590-VHVEG" not in (tmp_path / log_files(tmp_path)[0].name).read_text()


def test_personal_columns_can_be_left_out(tmp_path: Path) -> None:
    policy = LogPolicy(tmp_path, pii_columns=("SeniorCitizen",), pii_mode="drop")
    with writing(policy) as (log, _):
        log.submit(FEATURES, 0.5, "1", record_id="7590-VHVEG")
    (line,) = records(tmp_path)
    assert "id" not in line
    assert "SeniorCitizen" not in line["features"]
    assert redact({"a": None}, ["a"], "hash") == {"a": None}


def test_an_unwritable_folder_drops_counts_warns_once_and_resumes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A path whose parent is a file cannot be created, even by root: writes fail."""
    caplog.set_level(logging.INFO)
    blocker = tmp_path / "logs"
    blocker.write_text("not a folder")
    folder = blocker / "predictions"
    with writing(LogPolicy(folder)) as (log, counts):
        for _ in range(3):
            assert log.submit(FEATURES, 0.5, "1")  # queued: the request never sees the failure
            log.flush()
        assert counts.by_outcome == {"written": 0, "dropped": 3}
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert "cannot write" in warnings[0].getMessage()
        blocker.unlink()  # space freed, permission fixed: writing resumes by itself
        log.submit(FEATURES, 0.5, "1")
    assert counts.by_outcome == {"written": 1, "dropped": 3}
    assert len(records(folder)) == 1
    assert "writing again after 3 dropped records" in caplog.text


def test_a_full_queue_drops_and_never_blocks(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    counts = Counts()
    log = PredictionLog(LogPolicy(tmp_path, queue_size=10), count=counts)  # writer not started
    kept = [log.submit(FEATURES, 0.5, "1") for _ in range(25)]
    assert kept.count(True) == 10
    assert counts.by_outcome["dropped"] == 15
    assert caplog.text.count("dropping records") == 1
    log.start()
    log.close()
    assert len(records(tmp_path)) == 10


def test_a_lasting_overload_warns_once_a_minute_not_after_every_write(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with writing(LogPolicy(tmp_path, queue_size=5)) as (log, counts):
        for _ in range(3):  # full, written, full again: one outage as far as the reader cares
            for _ in range(8):
                log.submit(FEATURES, 0.5, "1")
            log.flush()
    assert sum(counts.by_outcome.values()) == 24
    assert counts.by_outcome["dropped"] >= 3  # at least one full round (the writer sleeps 0.1 s)
    assert caplog.text.count("dropping records") == 1


def test_a_file_removed_by_another_process_is_replaced(tmp_path: Path) -> None:
    with writing(LogPolicy(tmp_path)) as (log, _):
        log.submit(FEATURES, 0.5, "1")
        log.flush()
        (first,) = log_files(tmp_path)
        first.unlink()  # another process's retention
        log.submit(FEATURES, 0.5, "1")
    assert len(records(tmp_path)) == 1


def test_standard_output(capfd: pytest.CaptureFixture[str]) -> None:
    with writing(LogPolicy(STDOUT)) as (log, counts):
        log.submit(FEATURES, 0.5, "1")
    out = capfd.readouterr().out
    assert json.loads(out.splitlines()[-1])["features"] == FEATURES
    assert counts.by_outcome["written"] == 1


@pytest.mark.parametrize(
    ("score", "message"),
    [(1.5, "probability"), (float("nan"), "probability"), ("high", "number")],
)
def test_bad_scores_are_refused(score: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PredictionRecord("t", "1", FEATURES, score)  # type: ignore[arg-type]


def test_a_record_the_format_refuses_is_dropped_not_raised(tmp_path: Path) -> None:
    with writing(LogPolicy(tmp_path)) as (log, counts):
        assert not log.submit(FEATURES, float("nan"), "1")
    assert counts.by_outcome["dropped"] == 1


def test_malformed_line_names_file_and_line(tmp_path: Path) -> None:
    log = tmp_path / "p.jsonl"
    good = PredictionRecord("t", "1", FEATURES, 0.5).to_json()
    log.write_text(good + "\n\n" + '{"ts": "t", "features": {}}' + "\n")
    with pytest.raises(DriftError, match=r"p\.jsonl:3: .*missing key\(s\): model_version, score"):
        list(read_prediction_log(log))


def test_an_incomplete_last_line_is_skipped_and_counted(tmp_path: Path) -> None:
    good = PredictionRecord("t", "1", FEATURES, 0.5).to_json()
    (tmp_path / "a.jsonl").write_text(good + "\n" + good[:30])  # killed mid-write
    reading = LogReading(tmp_path)
    assert len(list(read_prediction_log(tmp_path, reading))) == 1
    assert reading.incomplete == 1
    assert "1 incomplete last line(s) skipped" in reading.describe()


def test_absent_log_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DriftError, match="prediction log not found"):
        list(read_prediction_log(tmp_path / "nope"))
    assert not has_records(tmp_path / "nope")
    assert not has_records(tmp_path)  # an empty folder: nothing to read yet


def _batch(count: int) -> list[dict[str, Any]]:
    return [dict(FEATURES, tenure=i) for i in range(count)]


@pytest.mark.parametrize("pii_mode", ["hash", "drop"])
@pytest.mark.parametrize("id_personal", [True, False])
def test_a_batch_writes_the_records_one_submit_per_row_writes(
    tmp_path: Path, pii_mode: str, id_personal: bool
) -> None:
    """`submit_batch` is `submit` per row at a third of the cost: the same records."""
    policy = dict(pii_columns=("SeniorCitizen",), pii_mode=pii_mode, id_personal=id_personal)
    scores = [i / 10 for i in range(10)]
    ids = [f"c-{i}" if i % 3 else None for i in range(10)]
    with writing(LogPolicy(tmp_path / "one", pii_key="k", **policy)) as (log, _):
        for features, score, record_id in zip(_batch(10), scores, ids, strict=True):
            log.submit(features, score, "2", record_id=record_id)
    with writing(LogPolicy(tmp_path / "batch", pii_key="k", **policy)) as (log, counts):
        assert log.submit_batch(_batch(10), scores, "2", ids) == 10
    one, batch = records(tmp_path / "one"), records(tmp_path / "batch")
    assert [{k: v for k, v in r.items() if k != "ts"} for r in batch] == [
        {k: v for k, v in r.items() if k != "ts"} for r in one
    ]
    assert len({r["ts"] for r in batch}) == 1  # one clock reading per batch
    assert counts.by_outcome == {"written": 10, "dropped": 0}


def test_a_batch_line_is_the_line_submit_writes(tmp_path: Path) -> None:
    """Byte for byte, but for the time stamp: every reader and shipper takes either."""
    policy = LogPolicy(tmp_path, pii_columns=("SeniorCitizen",), pii_key="k")
    log = PredictionLog(policy)  # not started: the queue holds the lines
    log.submit(dict(FEATURES), 0.25, "2", record_id="c-1")
    log.submit_batch([dict(FEATURES)], [0.25], "2", ["c-1"])
    single, batched = (json.loads(line) for line in log._queue)  # type: ignore[arg-type]
    assert single.pop("ts") <= batched.pop("ts")
    assert json.dumps(batched) == json.dumps(single)  # same keys, same order, same values


def test_a_batch_is_sampled_row_by_row(tmp_path: Path) -> None:
    with writing(LogPolicy(tmp_path, sample_rate=0.25), seed=3) as (log, _):
        kept = log.submit_batch(_batch(800), [0.5] * 800, "1", [None] * 800)
    assert 150 < kept < 250
    assert len(records(tmp_path)) == kept
    with writing(LogPolicy(tmp_path / "none", sample_rate=0.0)) as (log, _):
        assert log.submit_batch(_batch(5), [0.5] * 5, "1", [None] * 5) == 0


def test_a_batch_beyond_the_queue_keeps_what_fits_and_counts_the_rest(tmp_path: Path) -> None:
    counts = Counts()
    log = PredictionLog(LogPolicy(tmp_path, queue_size=10), count=counts)  # writer not started
    assert log.submit_batch(_batch(25), [0.5] * 25, "1", [None] * 25) == 10
    assert counts.by_outcome["dropped"] == 15
    log.start()
    log.close()
    assert [r["features"]["tenure"] for r in records(tmp_path)] == list(range(10))


def test_a_batch_with_a_bad_score_drops_that_record_only(tmp_path: Path) -> None:
    with writing(LogPolicy(tmp_path)) as (log, counts):
        assert log.submit_batch(_batch(3), [0.5, float("nan"), 1.5], "1", [None] * 3) == 1
    assert counts.by_outcome == {"written": 1, "dropped": 2}


def test_json_lines_are_each_documents_orjson_text() -> None:
    """One orjson call for a batch's records, cut into the lines `orjson.dumps` gives one by one."""
    documents: list[Any] = [
        {"text": 'a,\n,b "quoted" \\ \u00e9 \u2028 \t', "values": [1, 2.5, None, True, -0.0]},
        {"features": {}, "id": None, ",\n,": ","},
        "plain",
        0,
        [],
    ]
    assert json_lines(documents) == [orjson.dumps(d) for d in documents]
    assert json_lines(documents[:1]) == [orjson.dumps(documents[0])]
    assert json_lines([]) == []


def test_a_batch_that_half_fills_the_queue_wakes_the_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches back to back queue records faster than the writer's clock empties the queue."""
    monkeypatch.setattr(prediction_log, "WRITE_EVERY_SECONDS", 600.0)  # only a wake-up writes
    with writing(LogPolicy(tmp_path, queue_size=100)) as (log, counts):
        assert log.submit_batch(_batch(60), [0.5] * 60, "1", [None] * 60) == 60
        deadline = time.monotonic() + 10
        while log.written < 60 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert log.written == 60  # written long before the clock (or `close`) would have
    assert counts.by_outcome == {"written": 60, "dropped": 0}
