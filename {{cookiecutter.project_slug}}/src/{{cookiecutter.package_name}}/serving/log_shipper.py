"""Ship the prediction log's closed files to S3, from a thread of their own.

A container's disk goes with its task, so on ECS the log must leave the task
for `make fetch-predictions` (and the retraining workflow) to find it. Every
`interval` seconds (MLOPS_PREDICTION_LOG_SHIP_SECONDS) the shipper asks the log
writer to hand off its files (the current one is closed if it holds records),
uploads each closed file to `<prefix><file name>` (names are unique per process,
so an upload never overwrites another process's file, and a retried upload
rewrites the same object) and removes it here once S3 answered 200.

It never touches a prediction: uploads run on this thread, never on the event
loop, and the writer only spends a rotation on it. When S3 cannot be reached
or refuses, the file stays (the writer's retention, `keep_files`, still bounds
the folder), the failure is counted in
`prediction_log_uploads_total{outcome="failed"}`, one warning is logged per
outage, and the next interval tries again. At shutdown (SIGTERM) the last file
is closed and shipped within `shutdown_seconds` (ECS allows 30 s).

Files of a process that died on this host (a crashed worker) have no writer
left to ship them: the shipper takes them too. Two shippers may race for such
a file; the upload is idempotent and the loser's removal finds nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..layout import PREDICTION_LOG_SUFFIX
from .prediction_log import WARN_INTERVAL_SECONDS, PredictionLog, host_tag
from .s3_upload import S3Uploader, UploadError
from .workers import process_alive

logger = logging.getLogger(__name__)

UPLOAD_TIMEOUT_SECONDS = 60.0  # one file (16 MB by default) on a slow link
SHUTDOWN_SECONDS = 10.0
HANDOFF_TIMEOUT_SECONDS = 5.0

Counter = Callable[[str, int], None]  # (outcome, count): "uploaded" or "failed"


def _no_count(outcome: str, count: int) -> None:
    """Default counter: nothing to record."""


def writer_of(path: Path) -> tuple[str, int] | None:
    """(host, pid) from a log file's name `<host>-<pid>-<start>-<random>-<n>.jsonl`, else None."""
    parts = path.name.removesuffix(PREDICTION_LOG_SUFFIX).rsplit("-", 4)
    if len(parts) != 5 or not parts[1].isdigit() or not parts[4].isdigit():
        return None
    return parts[0], int(parts[1])


class LogShipper:
    """Upload the log's closed files every `interval` seconds; at `close`, the last one too."""

    def __init__(
        self,
        log: PredictionLog,
        uploader: S3Uploader,
        *,
        interval: float = 300.0,
        shutdown_seconds: float = SHUTDOWN_SECONDS,
        count: Counter = _no_count,
    ) -> None:
        """Ship `log`'s files with `uploader`; `start` launches the thread."""
        if not log.writes_files:
            raise ValueError("the prediction log writes to standard output: nothing to ship")
        self.log = log
        self.uploader = uploader
        self.interval = interval
        self.shutdown_seconds = shutdown_seconds
        self._count = count
        self._stop = threading.Event()
        self._lock = threading.Lock()  # one shipping pass at a time (the thread, or close)
        self._thread: threading.Thread | None = None
        self._failing: str | None = None
        self._failures_in_outage = 0
        self._warned_at = -WARN_INTERVAL_SECONDS
        self.uploaded = 0
        self.failed = 0

    def count_with(self, count: Counter) -> None:
        """Report uploads and failures to `count` (the service's metrics)."""
        self._count = count

    def start(self) -> None:
        """Launch the shipping thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="log-shipper", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop the thread, then ship what the log holds within `shutdown_seconds`.

        Called after the log's own `close`, so its last records are in the last file.
        """
        deadline = time.monotonic() + self.shutdown_seconds
        self._stop.set()
        if self._thread is not None:
            self._thread.join(max(0.0, self._left(deadline)))
            self._thread = None
        if self.ship(deadline) is None:
            logger.warning(
                "prediction log: an upload still hangs after %g s at shutdown; the last files "
                "stay in %s",
                self.shutdown_seconds,
                self.log.policy.directory,
            )

    def _run(self) -> None:
        while not self._stop.wait(self.interval):  # a pass may take longer than an interval
            self.ship(time.monotonic() + max(self.interval, UPLOAD_TIMEOUT_SECONDS))

    def ship(self, deadline: float) -> int | None:
        """One pass: hand off, upload oldest first until one fails or time is up.

        Returns the files shipped; None when another pass (a hanging upload) kept
        this one from starting before `deadline`.
        """
        if not self._lock.acquire(timeout=max(0.0, self._left(deadline))):
            return None
        try:
            wait = max(0.0, min(HANDOFF_TIMEOUT_SECONDS, self._left(deadline)))
            handed = self.log.hand_off(wait)
            files = sorted({*(handed or []), *self._orphans()}, key=lambda p: p.name)
            shipped = 0
            for path in files:
                left = self._left(deadline)
                if left <= 0:
                    break
                if not self._ship_one(path, min(UPLOAD_TIMEOUT_SECONDS, left)):
                    break  # S3 is failing: the rest waits for the next pass
                shipped += 1
            return shipped
        finally:
            self._lock.release()

    @staticmethod
    def _left(deadline: float) -> float:
        return deadline - time.monotonic()

    def _orphans(self) -> list[Path]:
        """Log files of processes on this host that are gone (nobody else will ship them)."""
        host, me = host_tag(), os.getpid()
        found = []
        try:
            candidates = list(self.log.policy.directory.glob(f"{host}-*{PREDICTION_LOG_SUFFIX}"))
        except OSError:
            return []
        for path in candidates:
            writer = writer_of(path)
            if writer is None or writer[0] != host or writer[1] == me:
                continue  # not a log file, another host's, or this process's own
            if not process_alive(writer[1]):
                found.append(path)
        return found

    def _ship_one(self, path: Path, timeout: float) -> bool:
        """Upload one file and remove it; False when the upload failed (file kept)."""
        try:
            body = path.read_bytes()
        except FileNotFoundError:
            return True  # removed meanwhile (retention, or another shipper took it)
        except OSError as err:
            self._failed(f"{path}: {err}")
            return False
        if not body:
            with contextlib.suppress(OSError):
                path.unlink()
            return True
        key = self.uploader.key_for(path.name)
        try:
            self.uploader.put(key, body, timeout)
        except UploadError as err:
            self._failed(str(err))
            return False
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        self.uploaded += 1
        self._count("uploaded", 1)
        if self._failing is not None:
            logger.info(
                "prediction log: uploading again after %d failed attempts (%s)",
                self._failures_in_outage,
                self._failing,
            )
            self._failing, self._failures_in_outage = None, 0
        return True

    def _failed(self, reason: str) -> None:
        self.failed += 1
        self._count("failed", 1)
        self._failures_in_outage += 1
        if self._failing is None:
            self._failing = reason
            now = time.monotonic()
            if now - self._warned_at >= WARN_INTERVAL_SECONDS:
                self._warned_at = now
                logger.warning(
                    "prediction log: cannot upload to %s (%s); the files stay in %s and are "
                    "retried every %g s, failures are counted in prediction_log_uploads_total"
                    '{outcome="failed"}',
                    self.uploader.location,
                    reason,
                    self.log.policy.directory,
                    self.interval,
                )
