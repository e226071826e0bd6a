"""How many worker processes `serve` runs: a number, or one per CPU the process may use.

In a container the CPUs the process sees are the host's; its share is the
cgroup CPU limit (`docker run --cpus 2`, a task's CPU units), which the kernel
enforces by throttling. More workers than the limit only take turns on it, so
"auto" runs one worker per whole CPU of the limit, at least one.
"""

from __future__ import annotations

import math
import os
from typing import Literal

WorkerSetting = int | Literal["auto"]
# Where several workers' metrics meet (prometheus_client's multiprocess mode). Here, not in
# metrics.py, so the CLI can name it without loading prometheus_client.
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def cgroup_cpus(
    cpu_max: str | None = None, quota_us: str | None = None, period_us: str | None = None
) -> float | None:
    """CPUs a cgroup allows: from v2's `cpu.max` ("200000 100000"), or v1's quota and period.

    None when there is no limit ("max", -1) or nothing could be read.
    """
    if cpu_max is not None:
        parts = cpu_max.split()
        if len(parts) >= 2 and parts[0] != "max":
            return _ratio(parts[0], parts[1])
        return None
    if quota_us is not None and period_us is not None:
        return _ratio(quota_us.strip(), period_us.strip())
    return None


def _ratio(quota: str, period: str) -> float | None:
    try:
        allowed, every = int(quota), int(period)
    except ValueError:
        return None
    if allowed <= 0 or every <= 0:
        return None
    return allowed / every


def worker_count(setting: WorkerSetting, available_cpus: int, limit: float | None) -> int:
    """The number of workers: `setting` itself, or for "auto" one per whole CPU allowed."""
    if setting != "auto":
        return setting
    cpus = available_cpus if limit is None else min(available_cpus, math.floor(limit))
    return max(1, cpus)


def process_alive(pid: int) -> bool:
    """Whether process `pid` still runs (a dead worker's metrics and log files are cleaned up)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it runs, as another user
    return True
