"""How long data validation takes on the configured data (the 7k-row sample by default).

Prints the one-off costs (importing Great Expectations, building the context and
suites) apart from the warm time of validating the file again with the same
validator, which is what a long-running process or a test session pays per file.
Goal: at most 3 s warm. `--max-seconds` turns the goal into an exit code.

Run it with `make bench-validate`.
"""

from __future__ import annotations

import argparse
import statistics
import time

from {{ cookiecutter.package_name }}.contract.model import (
    load_contract,
    training_data_path,
)
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.validation.service import (
    project_validator,
)

GOAL_SECONDS = 3.0


def main() -> int:
    """Validate the configured data once cold and `--repeat` times warm; print the times."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="warm runs (default 5)")
    parser.add_argument("--max-seconds", type=float, default=None, help="fail above this median")
    args = parser.parse_args()

    settings = Settings()
    path = training_data_path(settings, load_contract(settings.contract_path))
    started = time.perf_counter()
    import great_expectations  # noqa: F401 (timed on purpose)

    imported = time.perf_counter() - started
    validator = project_validator(settings)
    first = validator.validate_path(path).outcome
    warm = [validator.validate_path(path).outcome.seconds for _ in range(args.repeat)]
    median = statistics.median(warm)

    checks = len(first.results)
    print(f"data:                 {first.source} ({first.rows:,} rows, {checks} checks)")
    print(f"import GX:            {imported:.2f} s")
    print(f"context and suites:   {first.setup_seconds:.2f} s")
    print(f"first validation:     {first.seconds:.2f} s")
    print(
        f"warm validation:      median {median:.2f} s, min {min(warm):.2f} s, "
        f"max {max(warm):.2f} s over {len(warm)} runs (goal <= {GOAL_SECONDS:.0f} s)"
    )
    if not first.success:
        print("note: the data fails validation; times include describing the failures")
    if args.max_seconds is not None and median > args.max_seconds:
        print(f"FAIL: warm median {median:.2f} s is above {args.max_seconds:.2f} s")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
