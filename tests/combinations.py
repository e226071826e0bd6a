"""The option combinations the template is tested with.

The choices and their defaults are read from cookiecutter.json, so a new
choice there reaches every test; which combinations are valid is a rule of
the template (ECR needs AWS), written here as the pre-gen hook writes it.

The full product of valid combinations (36 today) is too slow to set up one by
one, so the tests use a pairwise covering set: every pair of values of any two
options appears at least once (tests/test_combinations.py checks that it does).

One runnable combination also answers the text options with names unlike the
default ones (a project name, a slug, a 36-character package name), so a
user's own names are rendered, linted and run through `make ci` too.
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


def default_names(project_name: str) -> dict[str, str]:
    """The slug and package cookiecutter.json derives from a project name."""
    slug = project_name.strip().lower().replace(" ", "-").replace("_", "-")
    return {"project_slug": slug, "package_name": slug.replace("-", "_")}


DEFAULT_NAMES = default_names(str(OPTIONS["project_name"]))
# Names a user might choose: the slug and package differ from the name's, the package
# is long (the hook allows 40 characters), so line lengths and every literal name show.
CUSTOM_NAMES = {
    "project_name": "Acme Retention",
    "project_slug": "acme-retention-svc",
    "package_name": "acme_customer_retention_predictor_v2",
}


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
    named = "-named" if "package_name" in combo else ""
    choices = f"{combo['cloud']}-{combo['registry']}-{combo['license']}"
    return f"py{combo['python_version']}-{choices}{named}"


def package_of(combo: Mapping[str, str]) -> str:
    """The package name a combination renders (the default one unless it names another)."""
    return combo.get("package_name", DEFAULT_NAMES["package_name"])


def slug_of(combo: Mapping[str, str]) -> str:
    """The project folder / distribution name a combination renders."""
    return combo.get("project_slug", DEFAULT_NAMES["project_slug"])


def _with_custom_names(combos: list[dict[str, str]]) -> list[dict[str, str]]:
    """The first runnable, non-default combination with AWS takes the custom names."""
    named = next(
        c
        for c in combos
        if c["python_version"] == MACHINE_PYTHON and c["cloud"] == "aws" and c != DEFAULT
    )
    named.update(CUSTOM_NAMES)
    return combos


COMBINATIONS = _with_custom_names(pairwise())
NAMED = next(c for c in COMBINATIONS if "package_name" in c)
RUNNABLE = [c for c in COMBINATIONS if c["python_version"] == MACHINE_PYTHON]


def code_of(combo: Mapping[str, str]) -> tuple[str, ...]:
    """What decides a rendered project's code: everything but the license."""
    return tuple(str(v) for k, v in sorted(combo.items()) if k != "license")


def distinct_code(combos: list[dict[str, str]]) -> list[dict[str, str]]:
    """The combinations whose code no earlier one (the default first) renders.

    A combination that differs from an earlier one only by its license renders the
    same code: test_license_only_variants_differ_only_in_their_license proves it
    file by file, so its pipelines are not run twice.
    """
    return [
        c
        for i, c in enumerate(combos)
        if c == DEFAULT or code_of(c) not in {code_of(o) for o in [DEFAULT, *combos[:i]]}
    ]
