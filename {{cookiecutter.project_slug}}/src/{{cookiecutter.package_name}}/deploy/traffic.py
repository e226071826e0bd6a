"""The release's own probe traffic: real rows sent to /predict through the production route.

A canary step or a bake with no traffic proves nothing, and at night there may
be no user at all. The probe sends real sample rows at a steady, low rate while
the lifecycle watches, and counts what was answered and what failed (5xx or no
answer), so each window has evidence.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from ..probes import http_json


class ProbeTraffic:
    """A background sender; `counts()` is safe to call from the lifecycle's thread."""

    def __init__(
        self, url: str, rows: Sequence[dict[str, Any]], rate_per_second: float, timeout: float
    ) -> None:
        """Nothing is sent until `start()`."""
        self.url = url.rstrip("/") + "/predict"
        self.rows = list(rows)
        self.rate = rate_per_second
        self.timeout = timeout
        self._answered = 0
        self._failed = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _send(self, row: dict[str, Any]) -> bool:
        try:
            status, _ = http_json(self.url, row, timeout=self.timeout)
        except OSError:
            return False
        return status < 500

    def _run(self) -> None:
        interval = 1.0 / self.rate
        next_at = time.monotonic()
        index = 0
        while not self._stop.is_set():
            ok = self._send(self.rows[index % len(self.rows)])
            index += 1
            with self._lock:
                if ok:
                    self._answered += 1
                else:
                    self._failed += 1
            next_at += interval
            delay = next_at - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
            else:
                next_at = time.monotonic()  # behind: do not burst to catch up

    def start(self) -> None:
        """Begin sending in a daemon thread (no-op at rate 0 or without rows)."""
        if self.rate <= 0 or not self.rows or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="release-probe", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop sending; waits for the request in flight."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout + 1)

    def counts(self) -> tuple[int, int]:
        """Cumulative (answered, failed)."""
        with self._lock:
            return self._answered, self._failed
