"""The generated project's fault tests pass in a rendered project: `make chaos`.

Slow (about a quarter of an hour on two cores): the prediction log's disk full
and read-only under load, nginx killed during a release and its bake, a config
nginx rejects, the deploy killed at each stage and rerun, a burst of ten times
the in-flight cap, and data files over the size and line limits. Each prints
what clients saw (requests sent, failed, lost records, time to recover).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .combinations import DEFAULT
from .helpers import Renders, git, make


@pytest.mark.slow
def test_make_chaos_passes(tmp_path: Path, renders: Renders) -> None:
    project = renders.copy(DEFAULT, tmp_path)
    git(project, "init", "-q")
    make(project, "setup")
    result = make(project, "chaos", timeout=3600)
    figures = [line for line in result.stdout.splitlines() if line.startswith("chaos ")]
    print("\n".join(figures))
    assert len(figures) >= 20, result.stdout[-3000:]
    assert " passed" in result.stdout
    assert " failed" not in result.stdout.splitlines()[-1]
