"""The committed list of every file a rendered project holds, and when (tests/expected_files.txt).

Each line of the manifest is a path inside the rendered project, `<package>`
standing for the package folder's name, optionally followed by
`when <option>=<value>` / `when <option>!=<value>` conditions joined by `and`
(the values are choices of cookiecutter.json). A file without a condition is
in every project. tests/test_render.py renders each tested combination and
compares its files with this list, so a new, moved or deleted file in the
template fails the tests until the manifest says so.

After adding, moving or removing template files on purpose, from the repository root:

    uv run python -m tests.manifest --diff    # what a fresh render changes in the manifest
    uv run python -m tests.manifest --write   # rewrite tests/expected_files.txt (or: make manifest)

Both render every valid combination (about half a minute in all) and work out
each file's condition from the combinations it appears in; `--diff` exits 1
when the manifest is stale. The test run never rewrites the manifest.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import itertools
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .combinations import CHOICES, VALID, combo_id
from .helpers import cookiecutter_config, project_files, render

MANIFEST = Path(__file__).with_name("expected_files.txt")
PACKAGE = "<package>"
DEFAULT_PACKAGE = "churn_prediction"  # the package folder the default answers give
MAX_CONDITIONS = 3
HEADER = """\
# Every file of a rendered project, and the answers it exists for (see tests/manifest.py).
# <package> is the package folder; "when" conditions use cookiecutter.json's choices.
# Generated: after changing the template's files on purpose, run from the repository root
#   uv run python -m tests.manifest --diff     (show what changes)
#   uv run python -m tests.manifest --write    (rewrite this file; or: make manifest)
"""
COMMANDS = "`uv run python -m tests.manifest --diff` shows it, `--write` (make manifest) applies it"


@dataclass(frozen=True)
class Condition:
    """`option=value` (equal) or `option!=value`, about one choice option."""

    option: str
    value: str
    equal: bool = True

    def holds(self, combo: Mapping[str, str]) -> bool:
        return (combo[self.option] == self.value) == self.equal

    def __str__(self) -> str:
        return f"{self.option}{'=' if self.equal else '!='}{self.value}"

    @classmethod
    def parse(cls, text: str) -> Condition:
        operator = "!=" if "!=" in text else "="
        option, _, value = (part.strip() for part in text.partition(operator))
        if value not in CHOICES.get(option, ()):
            raise ValueError(f"{text!r} is not <option>=<value> with a choice of cookiecutter.json")
        return cls(option, value, operator == "=")


@dataclass(frozen=True)
class Entry:
    """One manifest line: a project file and the conditions (all must hold) it exists under."""

    path: str
    conditions: tuple[Condition, ...] = ()

    def applies(self, combo: Mapping[str, str]) -> bool:
        return all(condition.holds(combo) for condition in self.conditions)

    def __str__(self) -> str:
        if not self.conditions:
            return self.path
        return f"{self.path}  when {' and '.join(map(str, self.conditions))}"


def parse(text: str) -> list[Entry]:
    """The manifest's entries; a malformed line, a duplicate or a bad condition is an error."""
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        path, _, conditions = line.partition("  when ")
        try:
            parsed = (
                tuple(Condition.parse(c) for c in conditions.split(" and ")) if conditions else ()
            )
        except ValueError as err:
            raise ValueError(f"{MANIFEST.name}:{number}: {err}") from None
        if not path or path != path.strip() or " " in path:
            raise ValueError(f"{MANIFEST.name}:{number}: not `<path>[  when <conditions>]`")
        entries.append(Entry(path, parsed))
    paths = [entry.path for entry in entries]
    if duplicates := sorted({p for p in paths if paths.count(p) > 1}):
        raise ValueError(f"{MANIFEST.name}: listed twice: {duplicates}")
    return entries


def format_manifest(entries: Sequence[Entry]) -> str:
    """The manifest text: the header, then one line per file, sorted by path."""
    return HEADER + "".join(f"{entry}\n" for entry in sorted(entries, key=lambda e: e.path))


def load() -> list[Entry]:
    return parse(MANIFEST.read_text(encoding="utf-8"))


def to_manifest_path(path: str, package: str) -> str:
    return "/".join(PACKAGE if part == package else part for part in path.split("/"))


def expected_files(combo: Mapping[str, str], package: str) -> set[str]:
    """The files the manifest promises for these answers, with this package name."""
    return {
        "/".join(package if part == PACKAGE else part for part in entry.path.split("/"))
        for entry in load()
        if entry.applies(combo)
    }


def mismatch(actual: set[str], expected: set[str]) -> str:
    """What a file-set failure tells the maintainer."""
    return (
        f"not in {MANIFEST.name}: {sorted(actual - expected)}; "
        f"listed but not rendered: {sorted(expected - actual)}. "
        f"If the template changed on purpose, update the manifest: {COMMANDS}."
    )


# ---------------------------------------------------------------- regeneration


def literals() -> list[Condition]:
    """Every single condition, `=` before `!=`, in cookiecutter.json's order."""
    return [
        Condition(option, value, equal)
        for equal in (True, False)
        for option, values in CHOICES.items()
        for value in values
    ]


def infer_conditions(
    present: frozenset[int], combos: Sequence[Mapping[str, str]]
) -> tuple[Condition, ...]:
    """The fewest conditions that hold in exactly the combinations (by index) a file is in."""
    for size in range(MAX_CONDITIONS + 1):
        for conditions in itertools.combinations(literals(), size):
            holds = frozenset(
                i for i, combo in enumerate(combos) if all(c.holds(combo) for c in conditions)
            )
            if holds == present:
                return conditions
    where = [combo_id(combos[i]) for i in sorted(present)]
    raise ValueError(
        f"no {MAX_CONDITIONS} conditions describe exactly the combinations {where}: "
        "extend tests/manifest.py's conditions"
    )


@contextlib.contextmanager
def hooks_print_to_stderr() -> Iterator[None]:
    """The post-gen hook's greeting goes to stderr, keeping stdout for the diff."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def fresh_entries(combos: Sequence[Mapping[str, str]]) -> list[Entry]:
    """Render every combination and describe each file by where it appears."""
    seen: dict[str, set[int]] = {}
    with tempfile.TemporaryDirectory(prefix="manifest-") as folder, hooks_print_to_stderr():
        config = cookiecutter_config(Path(folder) / "home")
        for index, combo in enumerate(combos):
            print(f"rendering {index + 1}/{len(combos)}: {combo_id(combo)}", file=sys.stderr)
            project = render(Path(folder) / combo_id(combo), config, **combo)
            for path in project_files(project):
                seen.setdefault(to_manifest_path(path, DEFAULT_PACKAGE), set()).add(index)
    return [
        Entry(path, infer_conditions(frozenset(indices), combos))
        for path, indices in sorted(seen.items())
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.manifest",
        description=f"Compare {MANIFEST.name} with fresh renders of every valid combination.",
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--diff", action="store_true", help="print the change; exit 1 if any")
    action.add_argument("--write", action="store_true", help=f"rewrite {MANIFEST.name}")
    args = parser.parse_args(argv)
    fresh = format_manifest(fresh_entries(VALID))
    current = MANIFEST.read_text(encoding="utf-8") if MANIFEST.exists() else ""
    if args.write:
        MANIFEST.write_text(fresh, encoding="utf-8")
        print(f"wrote {MANIFEST} ({len(fresh.splitlines())} lines)", file=sys.stderr)
        return 0
    diff = difflib.unified_diff(
        current.splitlines(keepends=True),
        fresh.splitlines(keepends=True),
        fromfile=f"{MANIFEST.name} (committed)",
        tofile=f"{MANIFEST.name} (fresh render)",
    )
    text = "".join(diff)
    print(text or f"{MANIFEST.name} matches a fresh render.", end="" if text else "\n")
    return 1 if text else 0


if __name__ == "__main__":
    sys.exit(main())
