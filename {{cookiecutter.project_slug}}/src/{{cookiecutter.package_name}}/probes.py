"""Talk to a local HTTP service: a free port, a JSON request, and the one "wait until ready" loop.

Every place that starts something and waits for it (the service for a load
test, a release's green, a container) uses `poll_until`, so they all fail
the same way: at once when the process died, with its last output, or after
the timeout.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_json(url: str, body: Any = None, timeout: float = 5.0) -> tuple[int, Any]:
    """GET (or POST `body` as JSON) and return status and decoded JSON (None if not JSON)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, None


def status_of(url: str, timeout: float = 1.0) -> int:
    """HTTP status of a GET, 0 when nothing answered."""
    try:
        status, _ = http_json(url, timeout=timeout)
    except OSError:
        return 0
    return status


class NotReadyError(RuntimeError):
    """What `poll_until` raises; callers turn it into their own error type."""


def poll_until(
    url: str,
    *,
    timeout: float,
    died: Callable[[], str | None] = lambda: None,
    interval: float = 0.2,
) -> float:
    """GET `url` until it answers 200; returns the seconds it took.

    Args:
        url: what to poll (usually `<service>/ready`).
        timeout: give up after this many seconds.
        died: returns why the process behind `url` is gone, e.g. "exited with code 1"
            (None while it runs), so a crash fails at once instead of at the timeout.
        interval: pause between polls.

    Raises:
        NotReadyError: the process died (message: `died()`'s reason) or time ran out
            ("was not ready after N s"); callers prefix what it was ("the service ...").
    """
    started = time.monotonic()
    while True:
        reason = died()
        if reason is not None:
            raise NotReadyError(reason)
        if status_of(url) == 200:
            return time.monotonic() - started
        if time.monotonic() - started >= timeout:
            raise NotReadyError(f"was not ready after {timeout:.0f} s")
        time.sleep(interval)
