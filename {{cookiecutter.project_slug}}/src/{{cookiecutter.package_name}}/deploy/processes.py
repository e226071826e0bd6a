"""Find and stop service processes that an earlier (maybe killed) deploy started.

A later run holds no handle on them, only the port written in the state file.
A process is recognised by its command line (`<package> serve ... --port N`),
never by a bare pid, so a recycled pid is never signalled. Linux /proc only.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import time
from pathlib import Path

from ..settings import PACKAGE_NAME

PROC = Path("/proc")


def _cmdline(pid: int) -> list[str]:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _is_zombie(pid: int) -> bool:
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] == "Z"


def is_service(pid: int, port: int) -> bool:
    """True when `pid` is a live `<package> serve` process listening on `port`."""
    args = _cmdline(pid)
    if PACKAGE_NAME not in args or "serve" not in args or _is_zombie(pid):
        return False
    return any(a == "--port" and b == str(port) for a, b in itertools.pairwise(args))


def service_pids(port: int) -> list[int]:
    """Every live service process on `port` (normally none or one)."""
    pids = []
    for entry in PROC.iterdir():
        if entry.name.isdigit() and is_service(int(entry.name), port):
            pids.append(int(entry.name))
    return pids


def stop_service(port: int, timeout: float = 35.0) -> None:
    """SIGTERM (graceful drain) the service on `port`, SIGKILL it if it hangs."""
    pids = service_pids(port)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while pids and time.monotonic() < deadline:
        pids = [pid for pid in pids if is_service(pid, port)]
        time.sleep(0.05)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
