"""The option combinations the template is tested with.

The choices and their defaults are read from cookiecutter.json, so a new
choice there reaches every test; which combinations are valid is a rule of
the template (ECR needs AWS), written here as the pre-gen hook writes it.

The full product of valid combinations (36 today) is too slow to set up one by
one, so the tests use a pairwise covering set: every pair of values of any two
options appears at least once (tests/test_combinations.py checks that it does).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from pathlib import Path

OPTIONS_FILE = Path(__file__).resolve().parents[1] / "cookiecutter.json"
OPTIONS: dict[str, object] = json.loads(OPTIONS_FILE.read_text(encoding="utf-8"))
# Every choice option (a list in cookiecutter.json) and its values, the default first.
CHOICES: dict[str, tuple[str, ...]] = {
    key: tuple(values)
    for key, values in OPTIONS.items()
    if isinstance(values, list) and not key.startswith("_")
}
DEFAULT: dict[str, str] = {key: values[0] for key, values in CHOICES.items()}
PYTHON_VERSIONS = CHOICES["python_version"]
LICENSES = CHOICES["license"]
MACHINE_PYTHON = "3.11"  # the only interpreter here; uv may not download others


def is_valid(combo: Mapping[str, str]) -> bool:
    """The template's one rule between options: Amazon ECR needs cloud=aws."""
    return not (combo["registry"] == "ecr" and combo["cloud"] != "aws")


CLOUD_REGISTRY = tuple(
    (cloud, registry)
    for cloud, registry in itertools.product(CHOICES["cloud"], CHOICES["registry"])
    if is_valid({"cloud": cloud, "registry": registry})
)
VALID = [
    dict(zip(CHOICES, values, strict=True))
    for values in itertools.product(*CHOICES.values())
    if is_valid(dict(zip(CHOICES, values, strict=True)))
]


def pairwise() -> list[dict[str, str]]:
    """Python x license in full; row (p, lic) takes cloud/registry (p + lic) mod their count.

    For a fixed license, p + lic runs through every cloud/registry pair while
    there are at least as many Python versions as pairs; for a fixed Python
    version, lic runs through them while there are at least as many licenses.
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


def combo_id(combo: Mapping[str, str]) -> str:
    return f"py{combo['python_version']}-{combo['cloud']}-{combo['registry']}-{combo['license']}"


COMBINATIONS = pairwise()
RUNNABLE = [c for c in COMBINATIONS if c["python_version"] == MACHINE_PYTHON]
