"""The option combinations the template is tested with.

The full product (3 Python versions x 3 valid cloud/registry pairs x 4
licenses = 36) is too slow to set up one by one, so the tests use a pairwise
covering set: every pair of values of any two options appears at least once.
"""

from __future__ import annotations

import itertools

PYTHON_VERSIONS = ("3.11", "3.12", "3.13")
CLOUD_REGISTRY = (("aws", "ecr"), ("aws", "ghcr"), ("none", "ghcr"))
LICENSES = ("MIT", "Apache-2.0", "BSD-3-Clause", "none")
MACHINE_PYTHON = "3.11"  # the only interpreter here; uv may not download others


def pairwise() -> list[dict[str, str]]:
    """Twelve combinations: row (p, lic) takes cloud/registry (p + lic) mod 3.

    For a fixed license, p + lic runs through every cloud/registry pair; for a
    fixed Python version, lic = 0..3 does too; Python x license is the full grid.
    """
    combos = []
    for p, lic in itertools.product(range(len(PYTHON_VERSIONS)), range(len(LICENSES))):
        cloud, registry = CLOUD_REGISTRY[(p + lic) % len(CLOUD_REGISTRY)]
        combos.append(
            {
                "python_version": PYTHON_VERSIONS[p],
                "cloud": cloud,
                "registry": registry,
                "license": LICENSES[lic],
            }
        )
    return combos


def combo_id(combo: dict[str, str]) -> str:
    return f"py{combo['python_version']}-{combo['cloud']}-{combo['registry']}-{combo['license']}"


COMBINATIONS = pairwise()
RUNNABLE = [c for c in COMBINATIONS if c["python_version"] == MACHINE_PYTHON]
