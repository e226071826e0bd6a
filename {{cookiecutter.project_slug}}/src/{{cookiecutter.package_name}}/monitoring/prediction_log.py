"""The prediction log: what the service records about each sampled prediction.

This module is the one definition of the format; the service writes it with
`PredictionLogWriter` and `drift` reads it with `read_prediction_log`. One JSON
object per line (JSON Lines), so a running service can append to it, standard
tools can rotate it and readers can stream it:

    {"ts": "2026-11-26T01:23:45.123Z", "model_version": "3",
     "features": {"tenure": 12, "Contract": "Month-to-month"}, "score": 0.731}

`features` holds the model inputs as the request gave them (named as in the
data contract) and `score` the predicted probability of the positive class.
Two optional keys turn a log into labelled data for concept-drift checks:
`id` (the request's identifier, to join labels that arrive later) and
`outcome` (the observed label, e.g. "Yes"). Only the standard library is used:
the serving image has no pandas.
"""

from __future__ import annotations

import json
import math
import random
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import DriftError

FeatureValue = str | int | float | bool | None
REQUIRED_KEYS = ("ts", "model_version", "features", "score")
OPTIONAL_KEYS = ("id", "outcome")


class PredictionLogError(DriftError):
    """A prediction log line does not follow the format."""


def utc_timestamp(moment: datetime | None = None) -> str:
    """ISO 8601 in UTC with milliseconds and a `Z`, e.g. 2026-11-26T01:23:45.123Z."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class PredictionRecord:
    """One logged prediction; `to_json` and `from_json` are exact inverses."""

    ts: str
    model_version: str
    features: Mapping[str, FeatureValue]
    score: float
    id: str | None = None
    outcome: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.score, bool) or not isinstance(self.score, int | float):
            raise ValueError(f"score must be a number, got {self.score!r}")
        if not (math.isfinite(self.score) and 0.0 <= self.score <= 1.0):
            raise ValueError(f"score must be a probability in [0, 1], got {self.score!r}")
        if not isinstance(self.features, Mapping) or not self.features:
            raise ValueError("features must be a non-empty object")

    def to_json(self) -> str:
        """One line of the log (no trailing newline); optional keys only when set."""
        doc: dict[str, Any] = {
            "ts": self.ts,
            "model_version": self.model_version,
            "features": dict(self.features),
            "score": self.score,
        }
        if self.id is not None:
            doc["id"] = self.id
        if self.outcome is not None:
            doc["outcome"] = self.outcome
        doc.update(self.extra)
        return json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> PredictionRecord:
        """Parse one line; unknown keys are kept in `extra` so newer writers stay readable.

        Raises:
            ValueError: the line is not a JSON object with the required keys.
        """
        doc = json.loads(line)
        if not isinstance(doc, dict):
            raise ValueError("expected a JSON object")
        absent = [key for key in REQUIRED_KEYS if key not in doc]
        if absent:
            raise ValueError(f"missing key(s): {', '.join(absent)}")
        known = {*REQUIRED_KEYS, *OPTIONAL_KEYS}
        return cls(
            ts=str(doc["ts"]),
            model_version=str(doc["model_version"]),
            features=doc["features"],
            score=doc["score"],
            id=None if doc.get("id") is None else str(doc["id"]),
            outcome=None if doc.get("outcome") is None else str(doc["outcome"]),
            extra={key: value for key, value in doc.items() if key not in known},
        )


class PredictionLogWriter:
    """Append a sample of predictions to a JSON Lines file; safe to share between threads.

    Sampling keeps the log small under heavy traffic while staying an unbiased
    picture of the inputs: each prediction is kept with probability
    `sample_rate`. The file is opened in append mode for every record, so a
    rotated (moved) log is recreated and several worker processes can append to
    the same file, each line going out in a single write.
    """

    def __init__(self, path: Path, sample_rate: float = 1.0, seed: int | None = None) -> None:
        """Prepare a writer; nothing is created until the first record is kept."""
        if not 0.0 <= sample_rate <= 1.0:
            raise ValueError(f"sample_rate must be in [0, 1], got {sample_rate}")
        self.path = path
        self.sample_rate = sample_rate
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def log(
        self,
        features: Mapping[str, FeatureValue],
        score: float,
        model_version: str,
        *,
        record_id: str | None = None,
        outcome: str | None = None,
        moment: datetime | None = None,
    ) -> bool:
        """Record one prediction if it is sampled; returns whether it was written."""
        with self._lock:
            if self.sample_rate < 1.0 and self._random.random() >= self.sample_rate:
                return False
            record = PredictionRecord(
                ts=utc_timestamp(moment),
                model_version=model_version,
                features=features,
                score=float(score),
                id=record_id,
                outcome=outcome,
            )
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(record.to_json() + "\n")
            return True


def read_prediction_log(path: Path) -> Iterator[PredictionRecord]:
    """Stream the records of a log, blank lines skipped.

    Raises:
        PredictionLogError: the file is absent or a line is malformed (line number given).
    """
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError as err:
        raise PredictionLogError(f"prediction log not found: {path}") from err
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield PredictionRecord.from_json(line)
            except (ValueError, TypeError) as err:
                raise PredictionLogError(
                    f"{path}:{number}: not a prediction record: {err}"
                ) from err
