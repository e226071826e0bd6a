"""The test ids a rendered project's CI workflows run, per make target.

Making CI faster must not drop a test: `tests/ci_test_ids.txt` holds, per target,
every test id the workflows' targets ran when it was written, and
`test_gates_and_report.py` checks that the targets the workflows run today still
collect each of them (moving a test from one target to another is fine, as long
as some workflow still runs it). When a test is renamed or removed on purpose:

    uv run python -m tests.ci_test_ids --write <a set-up, trained rendered project>

Collection runs each target's own pytest command (read with `make -n`), so the
Makefile's selection (`-m "not integration"`, folders) is what is checked.
"""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import yaml

from .helpers import project_env, run

SNAPSHOT = Path(__file__).with_name("ci_test_ids.txt")
HEADER = "# Test ids the generated project's CI workflows run, per make target (see ci_test_ids.py)"
SECTION = re.compile(r"^\[make ([a-z-]+)\]$")


def workflow_targets(project: Path) -> list[str]:
    """Every make target a `run:` step of the project's workflows and actions calls."""
    files = [*project.glob(".github/workflows/*.yml"), *project.glob(".github/actions/*/*.yml")]
    targets: list[str] = []
    for path in sorted(files):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        steps = doc.get("runs", {}).get("steps", [])
        steps += [s for job in doc.get("jobs", {}).values() for s in job.get("steps", [])]
        for step in steps:
            match = re.fullmatch(r"make ([a-z-]+)", str(step.get("run", "")).strip())
            if match and match.group(1) not in targets:
                targets.append(match.group(1))
    return targets


def pytest_commands(project: Path, target: str) -> list[list[str]]:
    """The pytest command lines `make <target>` runs (none for most targets)."""
    dry = run(
        ["make", "--no-print-directory", "-n", "-C", project, target],
        env=project_env(CI_LOGS=""),
    )
    commands = [shlex.split(line) for line in dry.stdout.splitlines() if " pytest " in line]
    return [c for c in commands if "pytest" in c]


def collect(project: Path, target: str) -> set[str]:
    """The ids `make <target>` runs, from its own pytest commands with --collect-only."""
    ids: set[str] = set()
    for command in pytest_commands(project, target):
        serial = ["-n", "0"] if "-n" in command else []  # pytest-xdist collects in workers
        result = run(
            [*command, "--collect-only", "-q", *serial, "-p", "no:cacheprovider"],
            cwd=project,
            env=project_env(),
        )
        ids |= {line.strip() for line in result.stdout.splitlines() if "::" in line}
    return ids


def collect_all(project: Path) -> dict[str, set[str]]:
    """Per make target the workflows run, the ids it runs (targets without tests left out)."""
    found = {target: collect(project, target) for target in workflow_targets(project)}
    return {target: ids for target, ids in found.items() if ids}


def read_snapshot(path: Path = SNAPSHOT) -> dict[str, set[str]]:
    sections: dict[str, set[str]] = {}
    current: set[str] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        match = SECTION.match(line)
        if match:
            current = sections.setdefault(match.group(1), set())
        elif line and not line.startswith("#"):
            assert current is not None, f"{path}: a test id before any [make target] line"
            current.add(line)
    return sections


def format_snapshot(sections: dict[str, set[str]]) -> str:
    lines = [HEADER]
    for target in sorted(sections):
        lines += ["", f"[make {target}]", *sorted(sections[target])]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", type=Path, help="a set-up, trained rendered project")
    parser.add_argument("--write", action="store_true", help=f"rewrite {SNAPSHOT.name}")
    args = parser.parse_args()
    sections = collect_all(args.project.resolve())
    for target, ids in sorted(sections.items()):
        print(f"make {target}: {len(ids)} test ids")
    if args.write:
        SNAPSHOT.write_text(format_snapshot(sections), encoding="utf-8")
        print(f"wrote {SNAPSHOT}")


if __name__ == "__main__":
    main()
