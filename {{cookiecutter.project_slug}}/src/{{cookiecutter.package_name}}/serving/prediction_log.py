"""Write sampled predictions to the prediction log without ever failing a prediction.

A request samples, redacts and formats its own record (`submit`, ~8 us: pydantic-core's
JSON serializer, hashed values remembered; no I/O, no lock) and appends the line to a
deque; one background thread wakes every 0.1 s (or when a batch leaves the queue half
full) and appends what is queued in a few system calls. Formatting belongs to the
request: done by the writer, the same work came in bursts (a tenth of a second of
records at once), during which the event loop waited for the interpreter's lock (the
GIL), and that showed as the service's p99 (10-11 ms, against 7-8 ms formatted per
request, measured). Waking on a clock rather than per record matters for the same
reason: a writer woken by every record would take the GIL from the event loop once
per request. When the queue is full
or the disk refuses the write (full, read-only, no permission, folder gone),
records are dropped and counted (`prediction_log_records_total{outcome="dropped"}`),
one warning is logged per outage, and writing resumes by itself as soon as a
write succeeds again.

Each process writes its own files, so blue, green, a load-test service and
several uvicorn workers never interleave lines in one file:

    <dir>/<host>-<pid>-<start>-<random>-<n>.jsonl     a new file every `max_file_bytes`

and at most `keep_files` files stay in the folder (the oldest go first; a
process whose file was removed opens a new one). A shipper (`log_shipper`) asks
the writer to `hand_off` its files: the writer closes the current one if it holds
records (the next record opens a new file) and names every file of its own that
is closed, so a file is never shipped while it can still grow. The reader
(`monitoring.prediction_log`) reads them all. With the folder "-" records go
to standard output, one JSON object per line (the container's log driver
keeps them). The record format is `layout.PredictionRecord`.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import math
import os
import queue
import random
import secrets
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import repeat
from pathlib import Path

import orjson
from pydantic_core import to_json

from ..contract.pii import PiiMode, pii_hash, pii_hash_many, redact
from ..layout import PREDICTION_LOG_SUFFIX, FeatureValue, record_json, utc_timestamp
from ..settings import STDOUT

logger = logging.getLogger(__name__)

BATCH = 512  # records per write: one system call for many predictions
WRITE_EVERY_SECONDS = 0.1  # the writer wakes this often and writes everything queued
WARN_INTERVAL_SECONDS = 60.0  # at most one "cannot write" warning a minute
TOKEN_CACHE = 4096  # hashed values of personal features remembered by the writer


@dataclass(frozen=True)
class LogPolicy:
    """What is kept, where, and how much."""

    directory: Path  # STDOUT ("-") writes to standard output
    sample_rate: float = 1.0
    max_file_bytes: int = 16 * 1024 * 1024
    keep_files: int = 20
    queue_size: int = 10_000
    pii_columns: tuple[str, ...] = ()  # feature columns
    id_personal: bool = True  # the id is hashed or dropped like a personal feature
    pii_mode: PiiMode = "hash"
    pii_key: str = ""

    def __post_init__(self) -> None:
        if not 0.0 <= self.sample_rate <= 1.0:
            raise ValueError(f"sample_rate must be in [0, 1], got {self.sample_rate}")


Counter = Callable[[str, int], None]  # (outcome, count): "written" or "dropped"
STOP = None  # queued by `close`: the writer writes what came before, then ends


# Between two documents in `json_lines`: bytes orjson never writes itself (it escapes a
# newline inside a text and writes no whitespace), so the only ",\n," of its output.
_BETWEEN = orjson.Fragment(b"\n")
_SEPARATOR = b",\n,"


def json_lines(documents: Sequence[object]) -> list[bytes]:
    """`orjson.dumps` of each document, from one orjson call for them all.

    Byte for byte what `list(map(orjson.dumps, documents))` gives, for less: orjson
    starts every call with a fresh buffer that it then shrinks, and a thousand such
    lines kept alive (as the queue keeps them) cost more in allocations than their
    JSON. One list is written instead, a raw newline between documents, and cut there.
    1,000 records alone: ~0.8 ms against 3.5-4.5 ms; inside a batch request, where
    the allocator's state differs, the request takes ~0.3-0.5 ms less.

    Raises:
        TypeError: a value orjson cannot write (as `orjson.dumps` raises it).
    """
    if not documents:
        return []
    items: list[object] = [_BETWEEN] * (2 * len(documents) - 1)
    items[::2] = documents
    lines = orjson.dumps(items).split(_SEPARATOR)
    lines[0] = lines[0][1:]  # the list's [
    lines[-1] = lines[-1][:-1]  # and its ]
    return lines


def _no_count(outcome: str, count: int) -> None:
    """Default counter: nothing to record."""


def _checked(features: Mapping[str, FeatureValue], score: float) -> tuple[float, str]:
    """(the score as a float, "") for a loggable record, else (nan, why not).

    The checks PredictionRecord makes, without building one per request (callers
    may pass what their types do not promise: a bool, a string, None).
    """
    try:
        if isinstance(score, bool):
            raise TypeError(score)
        value = float(score)
    except (TypeError, ValueError):
        return math.nan, f"score must be a number, got {score!r}"
    if not 0.0 <= value <= 1.0:  # NaN fails both comparisons
        return math.nan, f"score must be a probability, got {score!r}"
    if not features:
        return math.nan, "features must be a non-empty object"
    return value, ""


def host_tag() -> str:
    """This host's name as log file names carry it (safe characters, at most 40)."""
    host = "".join(c if c.isalnum() or c in "-_" else "_" for c in socket.gethostname())[:40]
    return host or "host"


def process_tag() -> str:
    """Names one writer's files: host, pid, start time and a random part (unique everywhere)."""
    started = time.strftime("%Y%m%dT%H%M%S")
    return f"{host_tag()}-{os.getpid()}-{started}-{secrets.token_hex(3)}"


class _Files:
    """The writer thread's open file: rotation, retention, and removal by another process."""

    def __init__(self, policy: LogPolicy) -> None:
        self.policy = policy
        self.tag = process_tag()
        self.sequence = 0
        self.fd: int | None = None
        self.size = 0
        self.path: Path | None = None

    def _open(self) -> int:
        """The current file again (after a failed write), or the next one when it is full or gone.

        A failed write never starts a new file: on a full disk that would leave a trail
        of empty files, and retention would then delete the ones holding records.
        """
        self.close()
        self.policy.directory.mkdir(parents=True, exist_ok=True)
        if self.path is not None and self.size < self.policy.max_file_bytes:
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
            except FileNotFoundError:
                pass  # removed (by retention elsewhere): start the next file
            else:
                self.fd, self.size = fd, os.fstat(fd).st_size
                return fd
        self.sequence += 1
        path = self.policy.directory / f"{self.tag}-{self.sequence:04d}{PREDICTION_LOG_SUFFIX}"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.fd, self.path, self.size = fd, path, os.fstat(fd).st_size
        self._prune()
        return fd

    def _prune(self) -> None:
        """Keep the newest `keep_files` log files of the folder (this one always)."""
        try:
            files = [p for p in self.policy.directory.glob(f"*{PREDICTION_LOG_SUFFIX}")]
            files.sort(key=lambda p: p.stat().st_mtime)
        except OSError:
            return  # a file vanished while listing: next rotation tries again
        for old in files[: max(0, len(files) - self.policy.keep_files)]:
            if old != self.path:
                with contextlib.suppress(OSError):
                    old.unlink()

    def write(self, data: bytes) -> None:
        """Append `data` whole, or leave the file as it was (OSError raised)."""
        fd = self.fd
        if fd is not None and os.fstat(fd).st_nlink == 0:  # removed by another's retention
            self.close()
            fd, self.path = None, None
        if fd is None or self.size >= self.policy.max_file_bytes:
            fd = self._open()  # first write, after a failure, or the file is full
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, self.size)  # no torn line: a reader sees whole records only
            self.close()
            raise
        self.size += len(data)

    def close(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = None

    def rotate(self) -> None:
        """Close the current file if it holds records: the next record opens a new one."""
        if self.path is not None and self.size > 0:
            self.close()
            self.path, self.size = None, 0

    def closed_files(self) -> list[Path]:
        """This writer's files that it will not write again, oldest first."""
        try:
            found = self.policy.directory.glob(f"{self.tag}-*{PREDICTION_LOG_SUFFIX}")
            return sorted(p for p in found if p != self.path)
        except OSError:
            return []


class PredictionLog:
    """Sample, redact and format in the request, append from a background thread; never raises."""

    def __init__(
        self, policy: LogPolicy, *, count: Counter = _no_count, seed: int | None = None
    ) -> None:
        """Prepare the queue; `start` launches the writer (`close` stops it)."""
        self.policy = policy
        self._count = count
        self._random = random.Random(seed)
        # A deque, not queue.Queue: append and popleft are atomic and ~20x cheaper (no lock,
        # no condition); the writer polls on a clock anyway. `flush` queues an Event.
        self._queue: deque[bytes | threading.Event | None] = deque()
        self._wake = threading.Event()
        # Batches fill the queue faster than the clock empties it (1,000-row batches at
        # 100,000 rows/s queue 10,000 records a tick): from half full on, each batch wakes
        # the writer. Single rows never come near it, so they never wake it.
        self._wake_at = max(1, policy.queue_size // 2)
        # Shared by the threads that submit (the event loop, batch threads): a dict's get
        # and set are atomic, and a value computed twice is the same value.
        self._tokens: dict[tuple[str, FeatureValue], str] = {}
        self._stamp: tuple[int, str] = (-1, "")  # (second, its formatted prefix), one object
        self._files = None if policy.directory == STDOUT else _Files(policy)
        self._thread: threading.Thread | None = None
        self._handoffs: queue.SimpleQueue[Future[list[Path]]] = queue.SimpleQueue()
        self._failing: str | None = None  # the error of the current outage, if any
        self._warned_at = -WARN_INTERVAL_SECONDS
        self._dropped_in_outage = 0
        self._full_warned_at = -WARN_INTERVAL_SECONDS
        self.written = 0
        self.dropped = 0

    def count_with(self, count: Counter) -> None:
        """Report written and dropped records to `count` (the service's metrics)."""
        self._count = count

    # -- the request side: must never block or raise ------------------------------------------

    def submit(
        self,
        features: Mapping[str, FeatureValue],
        score: float,
        model_version: str,
        *,
        record_id: str | None = None,
    ) -> bool:
        """Queue one prediction if it is sampled; False when not sampled or dropped."""
        rate = self.policy.sample_rate
        if rate <= 0.0 or (rate < 1.0 and self._random.random() >= rate):
            return False
        return self._queue_one(features, score, model_version, record_id)

    def _queue_one(
        self,
        features: Mapping[str, FeatureValue],
        score: float,
        model_version: str,
        record_id: str | None,
    ) -> bool:
        """Queue one sampled prediction; False when dropped (unloggable, or the queue is full)."""
        value, refused = _checked(features, score)
        if refused:  # a record the format refuses: dropped and counted, never a 500
            self._drop(1, f"unloggable record: {refused}")
            return False
        if len(self._queue) >= self.policy.queue_size:  # racing threads may pass it by a few
            self._drop(1, "the writer is behind (queue full)")
            return False
        try:
            line = self._line(features, value, model_version, record_id, time.time())
        except Exception as err:  # a value JSON cannot hold: never a 500
            self._drop(1, f"unloggable record: {type(err).__name__}: {err}")
            return False
        self._queue.append(line)
        return True

    def submit_batch(
        self,
        features: Sequence[dict[str, FeatureValue]],
        scores: Sequence[float],
        model_version: str,
        record_ids: Sequence[str | None],
    ) -> int:
        """Queue a batch's sampled predictions (row i: features[i], scores[i], record_ids[i]).

        The lines are the ones `submit` writes (a reader cannot tell them apart), at a
        quarter of the cost: the clock is read and the time stamp formatted once per
        batch, a personal column's values are hashed once per distinct value, ids hashed
        at once (`pii_hash_many`), and each line is serialized by orjson. The feature
        dicts become the log's (personal values are redacted in them, in place). Their
        numbers must be finite, as the request validators make them: one that is not
        (which `submit` would drop with its record) is written as null; scores are
        checked as `submit` checks them. Returns how many records were queued.
        """
        rate = self.policy.sample_rate
        if rate <= 0.0:
            return 0
        if rate < 1.0:
            chosen = [i for i in range(len(scores)) if self._random.random() < rate]
            features = [features[i] for i in chosen]
            scores = [scores[i] for i in chosen]
            record_ids = [record_ids[i] for i in chosen]
        if not all(features) or not all(type(s) is float and 0.0 <= s <= 1.0 for s in scores):
            # an unusual record among them: each checked, and dropped or queued, on its own
            queued = map(self._queue_one, features, scores, repeat(model_version), record_ids)
            return sum(queued)
        room = max(0, self.policy.queue_size - len(self._queue))
        if len(scores) > room:
            self._drop(len(scores) - room, "the writer is behind (queue full)")
            features, scores, record_ids = features[:room], scores[:room], record_ids[:room]
        try:
            lines = self._lines(features, scores, model_version, record_ids, time.time())
        except Exception as err:  # a value JSON cannot hold: never a 500
            self._drop(len(scores), f"unloggable record: {type(err).__name__}: {err}")
            return 0
        self._queue.extend(lines)
        if len(self._queue) >= self._wake_at:  # batches back to back: write now, not at the tick
            self._wake.set()
        return len(lines)

    def _lines(
        self,
        features: Sequence[dict[str, FeatureValue]],
        scores: Sequence[float],
        model_version: str,
        record_ids: Sequence[str | None],
        when: float,
    ) -> list[bytes]:
        """A batch's records as logged: one time stamp, personal data redacted, JSON lines."""
        policy = self.policy
        for column in policy.pii_columns:
            self._redact_column(features, column)
        if policy.id_personal and policy.pii_mode == "drop":
            record_ids = [None] * len(record_ids)
        elif policy.id_personal:
            record_ids = pii_hash_many(record_ids, policy.pii_key)
        ts = self._timestamp(when)
        version = model_version
        documents = [  # the keys and order of PredictionRecord.to_json, as `_line`
            {"ts": ts, "model_version": version, "features": f, "score": s}
            if i is None
            else {"ts": ts, "model_version": version, "features": f, "score": s, "id": i}
            for f, s, i in zip(features, scores, record_ids, strict=True)
        ]
        try:  # orjson: half pydantic-core's time, byte for byte the same text
            return json_lines(documents)
        except TypeError:  # an integer beyond 64 bits, which only pydantic-core writes
            return [to_json(document, inf_nan_mode="null") for document in documents]

    def _redact_column(self, features: Sequence[dict[str, FeatureValue]], column: str) -> None:
        """A personal column hashed or removed in every row, in place (None stays None)."""
        if self.policy.pii_mode == "drop":
            for row in features:
                row.pop(column, None)
            return
        tokens: dict[FeatureValue, str] = {}
        for row in features:
            value = row.get(column)
            if value is not None:
                token = tokens.get(value)
                if token is None:
                    token = tokens[value] = self._token(column, value)
                row[column] = token

    def _line(
        self,
        features: Mapping[str, FeatureValue],
        score: float,
        model_version: str,
        record_id: str | None,
        when: float,
    ) -> bytes:
        """The record as logged: timestamped, personal data redacted, one JSON line."""
        policy = self.policy
        if policy.pii_columns:
            features = dict(features)
            for column in policy.pii_columns:
                if column not in features:
                    continue
                if policy.pii_mode == "drop":
                    del features[column]
                elif (value := features[column]) is not None:
                    features[column] = self._token(column, value)
        if record_id is not None and policy.id_personal:
            # as redact() does, without its dicts: each id is new, so this runs for every record
            record_id = None if policy.pii_mode == "drop" else pii_hash(record_id, policy.pii_key)
        document: dict[str, object] = {
            "ts": self._timestamp(when),
            "model_version": model_version,
            "features": features,
            "score": score,
        }  # the keys and order of PredictionRecord.to_json
        if record_id is not None:
            document["id"] = record_id
        return record_json(document)

    def _timestamp(self, when: float) -> str:
        """`when` as the log writes it (layout.utc_timestamp), with one strftime a second."""
        second = int(when)
        stamped, prefix = self._stamp
        if second != stamped:  # one strftime a second, not one a record
            prefix = utc_timestamp(datetime.fromtimestamp(second, UTC))[:-4]
            self._stamp = (second, prefix)
        return f"{prefix}{int((when - second) * 1000):03d}Z"

    def _token(self, column: str, value: FeatureValue) -> str:
        """A personal feature's hashed value, remembered (such columns hold few values)."""
        key = (column, value)
        token = self._tokens.get(key)
        if token is None:
            if len(self._tokens) >= TOKEN_CACHE:
                self._tokens.clear()
            token = self._tokens[key] = redact(
                {column: value}, [column], "hash", self.policy.pii_key
            )[column]
        return token

    def _drop(self, count: int, reason: str) -> None:
        self.dropped += count
        self._count("dropped", count)
        if reason.startswith("the writer is behind"):
            now = time.monotonic()
            if now - self._full_warned_at >= WARN_INTERVAL_SECONDS:  # overload lasts: once a minute
                self._full_warned_at = now
                logger.warning(
                    "prediction log: dropping records: %s; predictions are still served, "
                    'drops are counted in prediction_log_records_total{outcome="dropped"}',
                    reason,
                )
            return
        if self._failing is None:
            self._failing = reason
            now = time.monotonic()
            if now - self._warned_at >= WARN_INTERVAL_SECONDS:  # a disk on the edge flaps
                self._warned_at = now
                logger.warning(
                    "prediction log: cannot write (%s); predictions are still served, dropped "
                    'records are counted in prediction_log_records_total{outcome="dropped"}, '
                    "writing resumes by itself",
                    reason,
                )
        self._dropped_in_outage += count

    # -- the writer thread -------------------------------------------------------------------

    def start(self) -> None:
        """Launch the writer thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
            self._thread.start()

    def flush(self) -> None:
        """Wait until every record queued before it is written or dropped (the writer must run)."""
        if self._thread is not None:
            written = threading.Event()
            self._queue.append(written)  # the writer sets it when it reaches it
            self._wake.set()
            written.wait()

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, then stop the writer (at shutdown)."""
        if self._thread is None:
            return
        self._queue.append(STOP)
        self._wake.set()
        self._thread.join(timeout)
        self._thread = None
        if self._files is not None:
            self._files.close()

    @property
    def writes_files(self) -> bool:
        """False when the records go to standard output (nothing to ship)."""
        return self._files is not None

    def hand_off(self, timeout: float = 5.0) -> list[Path] | None:
        """Close the current file if it holds records; this process's closed files, oldest first.

        Runs in the writer thread (which alone opens and closes files), so a file
        named here is never written again. None when the writer did not answer in
        `timeout` (stuck on a hanging disk): nothing is handed off this time.
        """
        files = self._files
        if files is None:
            return []
        thread = self._thread
        if thread is None or not thread.is_alive():  # stopped: every file is closed
            files.rotate()
            return files.closed_files()
        request: Future[list[Path]] = Future()
        self._handoffs.put(request)
        self._wake.set()
        try:
            return request.result(timeout)
        except TimeoutError:
            request.cancel()
            return None

    def _answer_handoffs(self) -> None:
        """In the writer thread: rotate and list the closed files for each waiting shipper."""
        files = self._files
        while True:
            try:
                request = self._handoffs.get_nowait()
            except queue.Empty:
                return
            if not request.set_running_or_notify_cancel():
                continue  # the shipper gave up waiting
            if files is None:
                request.set_result([])
                continue
            files.rotate()
            request.set_result(files.closed_files())

    def _run(self) -> None:
        stop = False
        while not stop:
            self._wake.wait(WRITE_EVERY_SECONDS)
            self._wake.clear()
            while True:  # everything queued now, BATCH records per write
                batch: list[bytes] = []
                flushed: list[threading.Event] = []
                try:
                    while len(batch) < BATCH:
                        item = self._queue.popleft()
                        if item is STOP:
                            stop = True
                            break
                        if isinstance(item, threading.Event):
                            flushed.append(item)
                            break  # written before the flush returns
                        batch.append(item)
                except IndexError:
                    pass  # nothing more queued
                if batch:
                    self._write(batch)
                for event in flushed:
                    event.set()
                if stop or (len(batch) < BATCH and not flushed):
                    break
            self._answer_handoffs()  # after the queue: a handed-off file holds what was queued

    def _write(self, lines: list[bytes]) -> None:
        files = self._files
        data = b"\n".join([*lines, b""])
        count = len(lines)
        try:
            if files is None:
                _write_stdout(data)
            else:
                files.write(data)
        except OSError as err:
            self._drop(count, _describe(err, files))
            return
        except Exception as err:  # the writer thread must survive anything
            self._drop(count, f"{type(err).__name__}: {err}")
            return
        self.written += count
        self._count("written", count)
        if self._failing is not None:
            logger.info(
                "prediction log: writing again after %d dropped records (%s)",
                self._dropped_in_outage,
                self._failing,
            )
            self._failing, self._dropped_in_outage = None, 0


def _write_stdout(data: bytes) -> None:
    view = memoryview(data)
    fd = sys.stdout.fileno()
    while view:
        view = view[os.write(fd, view) :]


def _describe(err: OSError, files: _Files | None) -> str:
    where = files.policy.directory if files is not None else "standard output"
    name = errno.errorcode.get(err.errno or 0, "error")
    return f"{where}: {name} {err.strerror or err}"
