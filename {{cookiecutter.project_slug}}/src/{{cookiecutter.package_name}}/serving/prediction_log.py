"""Append sampled predictions to the prediction log that `drift` reads.

The record format is `layout.PredictionRecord` (shared with the reader in
monitoring); this module only decides what is kept and appends it.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from ..layout import FeatureValue, PredictionRecord, utc_timestamp


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
