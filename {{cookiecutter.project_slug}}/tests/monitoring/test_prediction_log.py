from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.errors import DriftError
from {{ cookiecutter.package_name }}.layout import PredictionRecord, utc_timestamp
from {{ cookiecutter.package_name }}.monitoring.prediction_log import read_prediction_log
from {{ cookiecutter.package_name }}.serving.prediction_log import PredictionLogWriter

FEATURES = {"tenure": 12, "MonthlyCharges": 70.5, "Contract": "Month-to-month", "SeniorCitizen": 0}


def test_timestamp_is_utc_with_milliseconds() -> None:
    moment = datetime(2026, 11, 26, 1, 23, 45, 123456, tzinfo=UTC)
    assert utc_timestamp(moment) == "2026-11-26T01:23:45.123Z"


def test_written_line_has_the_agreed_format(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "predictions.jsonl"
    writer = PredictionLogWriter(log)
    moment = datetime(2026, 11, 26, 1, 23, 45, 123000, tzinfo=UTC)
    assert writer.log(FEATURES, 0.731, "3", moment=moment)
    line = log.read_text().splitlines()[0]
    assert json.loads(line) == {
        "ts": "2026-11-26T01:23:45.123Z",
        "model_version": "3",
        "features": FEATURES,
        "score": 0.731,
    }


def test_optional_keys_round_trip(tmp_path: Path) -> None:
    log = tmp_path / "p.jsonl"
    PredictionLogWriter(log).log(FEATURES, 0.2, "3", record_id="c-1", outcome="Yes")
    (record,) = read_prediction_log(log)
    assert (record.id, record.outcome, record.score) == ("c-1", "Yes", 0.2)
    assert PredictionRecord.from_json(record.to_json()) == record


def test_unknown_keys_are_kept_for_newer_writers() -> None:
    line = '{"ts":"t","model_version":"1","features":{"a":1},"score":0.5,"latency_ms":3}'
    record = PredictionRecord.from_json(line)
    assert record.extra == {"latency_ms": 3}
    assert json.loads(record.to_json())["latency_ms"] == 3


def test_sampling_keeps_about_the_configured_share(tmp_path: Path) -> None:
    log = tmp_path / "p.jsonl"
    writer = PredictionLogWriter(log, sample_rate=0.2, seed=1)
    kept = sum(writer.log(FEATURES, 0.5, "1") for _ in range(2000))
    assert 320 <= kept <= 480
    assert len(log.read_text().splitlines()) == kept


def test_sample_rate_zero_writes_nothing(tmp_path: Path) -> None:
    log = tmp_path / "p.jsonl"
    assert not PredictionLogWriter(log, sample_rate=0.0).log(FEATURES, 0.5, "1")
    assert not log.exists()


def test_threads_never_interleave_lines(tmp_path: Path) -> None:
    log = tmp_path / "p.jsonl"
    writer = PredictionLogWriter(log)

    def work() -> None:
        for _ in range(200):
            writer.log(FEATURES, 0.5, "1")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(list(read_prediction_log(log))) == 800


@pytest.mark.parametrize(
    ("score", "message"),
    [(1.5, "probability"), (float("nan"), "probability"), ("high", "number")],
)
def test_bad_scores_are_refused(score: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PredictionRecord("t", "1", FEATURES, score)  # type: ignore[arg-type]


def test_malformed_line_names_file_and_line(tmp_path: Path) -> None:
    log = tmp_path / "p.jsonl"
    good = PredictionRecord("t", "1", FEATURES, 0.5).to_json()
    log.write_text(good + "\n\n" + '{"ts": "t", "features": {}}' + "\n")
    with pytest.raises(DriftError, match=r"p\.jsonl:3: .*missing key\(s\): model_version, score"):
        list(read_prediction_log(log))


def test_absent_log_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DriftError, match="prediction log not found"):
        list(read_prediction_log(tmp_path / "nope.jsonl"))
