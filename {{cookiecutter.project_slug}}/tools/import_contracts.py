"""Check the package's import contracts: stage order, and pure modules free of side effects.

The package is laid out one folder per pipeline stage (see `[tool.import-contracts]` in
pyproject.toml). Two rules keep it readable and changeable by stage, and this script,
run by `make lint`, keeps them:

1. Stage order: a stage imports the kernel and the stages before it, never a later one;
   the kernel imports no stage; no stage imports `cli`; a stage's `command` module never
   imports another stage's `command` or `steps` (commands call stages, not each other).
   Deliberate exceptions are listed in the config with their reason.
2. Purity: every module is pure unless the config lists it as a side-effect module, and
   a pure module may not import process, network, cloud, tracking or validation-engine
   libraries (even inside a function). A new module is pure until it is classified.

Standard library only, so it runs before anything else is installed.
"""

from __future__ import annotations

import ast
import fnmatch
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Contracts:
    """`[tool.import-contracts]` of pyproject.toml."""

    package: str
    stages: tuple[str, ...]
    kernel: tuple[str, ...]
    entry_points: tuple[str, ...]
    side_effects: tuple[str, ...]
    forbidden_in_pure: tuple[str, ...]
    exceptions: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Import:
    """One import statement of a module: the absolute module it names, and its line."""

    module: str
    line: int


def load_contracts(project: Path) -> Contracts:
    """Read the contracts and find the package under src/."""
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    table = pyproject["tool"]["import-contracts"]
    packages = [p.name for p in (project / "src").iterdir() if (p / "__init__.py").is_file()]
    if len(packages) != 1:
        raise SystemExit(f"expected one package under src/, found {packages}")
    return Contracts(
        package=packages[0],
        stages=tuple(table["stages"]),
        kernel=tuple(table["kernel"]),
        entry_points=tuple(table["entry_points"]),
        side_effects=tuple(table["side_effects"]),
        forbidden_in_pure=tuple(table["forbidden_in_pure"]),
        exceptions=tuple((e["importer"], e["imported"]) for e in table.get("exceptions", [])),
    )


def module_name(path: Path, src: Path) -> str:
    """Dotted module name of a file, relative to the package root (`train.split`)."""
    parts = list(path.relative_to(src).with_suffix("").parts[1:])
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _external_or_internal(name: str, package: str) -> str:
    """`train.split` for a module of the package, `:name` for anything else."""
    if name == package or name.startswith(package + "."):
        return name.removeprefix(package).lstrip(".")
    return ":" + name


def _from_import(node: ast.ImportFrom, base: list[str], package: str) -> Iterator[str]:
    """What `from X import a, b` names; with `from . import a`, each name may be a module."""
    if node.level == 0:
        yield _external_or_internal(node.module or "", package)
        return
    up = base[: len(base) - (node.level - 1)]
    target = ".".join([*up, *([node.module] if node.module else [])])
    if node.module is not None:
        yield target
        return
    for alias in node.names:
        yield ".".join(part for part in (target, alias.name) if part)


def imports_of(path: Path, module: str, package: str) -> Iterator[Import]:
    """Every import in the file, function-local ones included, as absolute module names.

    Imports inside the package are returned relative to its root (`train.split`);
    external ones with a leading `:` (`:subprocess`).
    """
    here = module.split(".") if module else []
    base = here if path.name == "__init__.py" else here[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(_external_or_internal(alias.name, package), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            for name in _from_import(node, base, package):
                yield Import(name, node.lineno)


def head(module: str) -> str:
    """The first part of a dotted name: a module's stage (`train.split` -> `train`)."""
    return module.split(".", maxsplit=1)[0]


def matches(module: str, patterns: tuple[str, ...]) -> bool:
    """True when `module` matches one of the glob patterns (`*.command`, `train.tracking`)."""
    return any(fnmatch.fnmatchcase(module, pattern) for pattern in patterns)


def layer(module: str, contracts: Contracts) -> tuple[str, int] | None:
    """('stage', index) for a stage module, ('kernel', -1), ('entry', big), None if unknown."""
    first = head(module)
    if module in contracts.entry_points or module == "":
        return "entry", len(contracts.stages)
    if first in contracts.kernel:
        return "kernel", -1
    if first in contracts.stages:
        return "stage", contracts.stages.index(first)
    return None


def _order_problem(module: str, imported: str, contracts: Contracts) -> str | None:
    """Why importing `imported` from `module` breaks the stage order, or None."""
    mine, theirs = layer(module, contracts), layer(imported, contracts)
    if mine is None or theirs is None or not imported:
        return None  # an unknown module is reported on its own
    if theirs[0] == "entry" and mine[0] != "entry":
        return f"{module!r} imports the entry point {imported!r}"
    if mine[0] == "kernel" and theirs[0] == "stage":
        return f"kernel module {module!r} imports stage {imported!r}"
    if mine[0] == "stage" and theirs[0] == "stage" and theirs[1] > mine[1]:
        order = " < ".join(contracts.stages)
        return f"stage {head(module)!r} imports the later stage {imported!r} (order: {order})"
    if (
        module.endswith(".command")
        and head(imported) != head(module)
        and imported.rsplit(".", maxsplit=1)[-1] in {"command", "steps"}
    ):
        return f"command {module!r} imports another stage's {imported!r}"
    return None


def check_module(module: str, imports: list[Import], contracts: Contracts, where: str) -> list[str]:
    """Violations of one module."""
    if layer(module, contracts) is None:
        return [
            f"{where}: module {module!r} is neither a stage, the kernel nor an entry point: "
            "put it in a stage folder or list it in [tool.import-contracts]"
        ]
    pure = not matches(module, contracts.side_effects)
    problems = []
    for item in imports:
        if item.module.startswith(":"):
            top = head(item.module[1:])
            if pure and top in contracts.forbidden_in_pure:
                problems.append(
                    f"{where}:{item.line}: pure module {module!r} imports {top!r}; move the "
                    "side effect to a side-effect module, or classify this one in "
                    "[tool.import-contracts].side_effects"
                )
            continue
        excepted = {(module, item.module), (module, head(item.module))}
        if excepted & set(contracts.exceptions):
            continue
        problem = _order_problem(module, item.module, contracts)
        if problem is not None:
            problems.append(f"{where}:{item.line}: {problem}")
    return problems


def check(project: Path) -> list[str]:
    """Every violation in the project's package."""
    contracts = load_contracts(project)
    src = project / "src"
    problems = []
    for path in sorted((src / contracts.package).rglob("*.py")):
        module = module_name(path, src)
        imports = list(imports_of(path, module, contracts.package))
        where = path.relative_to(project).as_posix()
        problems += check_module(module, imports, contracts, where)
    return problems


def main(argv: list[str]) -> int:
    """`python tools/import_contracts.py [project]`: print violations, exit 1 if any."""
    project = Path(argv[1]) if len(argv) > 1 else Path.cwd()
    problems = check(project)
    for problem in problems:
        print(problem)
    if problems:
        print(f"import contracts: {len(problems)} violation(s)")
        return 1
    print("import contracts: kept")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
