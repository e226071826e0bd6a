"""A user's own data, brought by editing config/ only: `make ci` passes on it.

The data set (tests/own_data.py) is unlike the shipped sample: other column
names, no id column, target labels `lapsed`/`renewed`, mostly numeric. The test
does what the generated README's "Bring your own data" says: drop the file in
data/raw/, draft the contract with `make contract-draft` and take it, follow the
one-line errors that name each config file still describing the sample, edit
those files. Nothing outside config/ and data/raw/ changes, and `make ci`
(lint, types, unit tests, data tests, training, model tests, gate) passes.

The project is the combination rendered with a user's own names (NAMED): a user
with their own data has their own names too, and one `make ci` proves both (its
pipeline is not run a second time on the sample in test_generated_project.py).
The gate still blocks regressions there, and lint still enforces the import
contracts of the renamed package.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from . import own_data
from .combinations import NAMED, package_of
from .helpers import Renders, git, make, uv_run
from .system_tools import needs
from .test_generated_project import (
    assert_lint_enforces_the_import_contracts,
    assert_regressions_blocked,
)

PACKAGE = package_of(NAMED)


def refusal(project: Path, *command: str) -> str:
    """The one-line error a command stops with."""
    result = uv_run(project, PACKAGE, *command)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.slow
@needs("git", "make")
def test_make_ci_passes_on_other_data_with_config_edits_only(
    tmp_path: Path, renders: Renders
) -> None:
    project = renders.copy(NAMED, tmp_path)
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "generated")
    make(project, "setup")

    (project / "data" / "raw" / "telco_customer_churn.csv").unlink()
    own_data.write_data(project / own_data.DATA_FILE)
    make(
        project,
        "contract-draft",
        f"DATA={own_data.DATA_FILE}",
        f"TARGET={own_data.TARGET}",
        f"POSITIVE={own_data.POSITIVE}",
    )
    config = project / "config"
    (config / "data_contract.draft.yaml").replace(config / "data_contract.yaml")

    # Each config file that still names the sample's columns says so: file, key, column.
    rules = refusal(project, "validate")
    assert "config/data_rules.yaml does not match the data contract" in rules
    assert "rules[0] (total_charges_match_tenure_times_monthly): 'TotalCharges'" in rules
    own_data.edit_data_rules(config / "data_rules.yaml")
    model = refusal(project, "train")
    assert "config/model.yaml does not match the data contract" in model
    assert "slices.columns: 'Contract' is not a categorical column" in model
    own_data.edit_model_config(config / "model.yaml")
    drift = refusal(project, "simulate-drift", "data")
    assert "config/drift.yaml does not match the data contract" in drift
    assert "simulation.data_drift: 'MonthlyCharges' is not a numeric column" in drift
    own_data.edit_drift_config(config / "drift.yaml")

    changed = git(project, "status", "--porcelain", "--untracked-files=all").splitlines()
    paths = sorted(line[3:] for line in changed)
    assert paths, "nothing changed"
    assert all(p.startswith(("config/", "data/raw/")) for p in paths), paths

    ci = make(project, "ci", timeout=1500)
    assert "data validation passed: " in ci.stdout
    assert "(3,000 rows, 8 columns)" in ci.stdout
    assert "gate: PASSED" in ci.stdout
    assert_regressions_blocked(project, PACKAGE)
    assert_lint_enforces_the_import_contracts(project, PACKAGE)
