"""How many workers `serve` runs, and the folder where their metrics meet."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.serving.command import _workers, shared_metrics
from {{ cookiecutter.package_name }}.serving.metrics import forget_dead_workers
from {{ cookiecutter.package_name }}.serving.workers import (
    MULTIPROCESS_ENV,
    cgroup_cpus,
    worker_count,
)
from {{ cookiecutter.package_name }}.settings import Settings


@pytest.mark.parametrize(
    ("cpu_max", "quota", "period", "expected"),
    [
        ("200000 100000\n", None, None, 2.0),
        ("150000 100000", None, None, 1.5),
        ("max 100000\n", None, None, None),
        (None, "-1\n", "100000\n", None),
        (None, "50000\n", "100000\n", 0.5),
        (None, None, None, None),
        ("garbage", None, None, None),
    ],
)
def test_the_cgroup_cpu_limit_is_read_from_v2_or_v1(
    cpu_max: str | None, quota: str | None, period: str | None, expected: float | None
) -> None:
    assert cgroup_cpus(cpu_max, quota, period) == expected


@pytest.mark.parametrize(
    ("setting", "available", "limit", "expected"),
    [
        (3, 2, None, 3),  # a number is taken as given
        ("auto", 2, None, 2),  # no limit: every CPU the process may use
        ("auto", 8, 2.0, 2),  # a container limited to 2 CPUs on an 8-CPU host
        ("auto", 8, 1.5, 1),  # one worker per whole CPU: a half one only throttles a second
        ("auto", 4, 0.25, 1),  # a quarter of a CPU (256 CPU units) still runs one
        ("auto", 1, 4.0, 1),  # the limit never exceeds what the process may use
    ],
)
def test_auto_is_one_worker_per_whole_cpu_allowed(
    setting: int | str, available: int, limit: float | None, expected: int
) -> None:
    assert worker_count(setting, available, limit) == expected  # type: ignore[arg-type]


def test_the_workers_option_takes_a_number_or_auto() -> None:
    assert _workers("2") == 2
    assert _workers("auto") == "auto"
    for bad in ("0", "-1", "two", ""):
        with pytest.raises(argparse.ArgumentTypeError, match="a number of workers"):
            _workers(bad)


def test_several_workers_get_a_fresh_metrics_folder_removed_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(MULTIPROCESS_ENV, raising=False)
    settings = Settings(project_dir=tmp_path, workers_metrics_dir=tmp_path / "m")
    with shared_metrics(1, settings) as none:
        assert none is None
        assert MULTIPROCESS_ENV not in os.environ
    with shared_metrics(2, settings) as folder:
        assert folder is not None
        assert folder.parent == tmp_path / "m"
        assert os.environ[MULTIPROCESS_ENV] == str(folder)
        assert folder.is_dir()
        (folder / "counter_123.db").write_bytes(b"")
    assert not folder.exists()
    assert MULTIPROCESS_ENV not in os.environ


def test_an_operator_folder_is_kept_but_emptied_of_old_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = tmp_path / "given"
    given.mkdir()
    (given / "counter_999.db").write_bytes(b"old")
    (given / "notes.txt").write_text("mine")
    monkeypatch.setenv(MULTIPROCESS_ENV, str(given))
    with shared_metrics(2, Settings(project_dir=tmp_path)) as folder:
        assert folder == given
        assert not (given / "counter_999.db").exists()
    assert (given / "notes.txt").exists()


def test_a_dead_workers_gauges_are_forgotten_its_counters_kept(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # reaped: its pid is free
    alive = os.getpid()
    for name in (
        f"gauge_livesum_{dead.pid}.db",
        f"gauge_livemax_{dead.pid}.db",
        f"counter_{dead.pid}.db",
        f"gauge_livesum_{alive}.db",
    ):
        (tmp_path / name).write_bytes(b"")
    assert forget_dead_workers(tmp_path) == [dead.pid]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"counter_{dead.pid}.db",
        f"gauge_livesum_{alive}.db",
    ]
