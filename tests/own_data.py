"""A second data set, shaped unlike the shipped sample, and the config edits a user makes for it.

Subscription renewals: other column names, no id column, target labels other
than Yes/No (`lapsed` / `renewed`), mostly numeric (five numeric columns, one
of them with blanks; two categorical). The rows are drawn from a seeded
logistic model, so the same file comes out on every machine and a model can
learn it about as well as the sample.
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Callable
from pathlib import Path

DATA_FILE = "data/raw/renewals.csv"
TARGET = "status"
POSITIVE = "lapsed"
NEGATIVE = "renewed"
PLANS = ("basic", "standard", "premium")
ROWS = 3000
COLUMNS = [
    "plan",
    "account_age_days",
    "monthly_spend",
    "support_tickets",
    "logins_last_30d",
    "satisfaction",
    "auto_renewal",
    TARGET,
]


def _row(rng: random.Random) -> list[str]:
    plan = rng.choice(PLANS)
    age = rng.randint(0, 3650)
    spend = round(min(400.0, rng.lognormvariate(3.6, 0.5)), 2)
    tickets = min(30, int(rng.expovariate(1 / 2.5)))
    logins = min(120, int(rng.gammavariate(2.0, 10.0)))
    satisfaction = round(rng.uniform(1, 10), 1)
    auto = rng.random() < 0.6
    logit = (
        -0.6
        + 0.45 * tickets
        - 0.07 * logins
        - 0.0006 * age
        - 0.35 * (satisfaction - 5.5)
        + (1.2 if not auto else -0.6)
        + {"basic": 0.7, "standard": 0.0, "premium": -0.7}[plan]
        + 0.004 * (spend - 40)
    )
    lapsed = rng.random() < 1 / (1 + math.exp(-logit))
    blank = rng.random() < 0.03  # the survey was not answered
    return [
        plan,
        str(age),
        f"{spend:.2f}",
        str(tickets),
        str(logins),
        "" if blank else f"{satisfaction:.1f}",
        str(int(auto)),
        POSITIVE if lapsed else NEGATIVE,
    ]


def write_csv(
    path: Path, header: list[str], row: Callable[[random.Random], list[str]], rows: int, seed: int
) -> Path:
    """`rows` rows drawn by `row` from a generator seeded with `seed`, as a CSV at `path`."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(row(rng) for _ in range(rows))
    return path


def write_data(path: Path, rows: int = ROWS, seed: int = 2024) -> Path:
    """The renewals CSV at `path` (parents created)."""
    return write_csv(path, COLUMNS, _row, rows, seed)


# What the user writes in config/ besides the drafted contract: the model tests'
# slices and cases, no cross-column rules, the drift simulation. Nothing else changes.
MODEL_TESTS = """\
# Columns whose values define the groups ("slices") metrics are also reported for.
slices:
  columns: [plan, auto_renewal]
  min_rows: 30
  min_positives: 20

model_tests:
  slice_gap:
    metric: roc_auc
    max_gap: 0.15
  robustness:
    noise: 0.05
    max_mean_prob_change: 0.02
  directional:
    - name: turning auto-renewal off raises the lapse probability
      column: auto_renewal
      from_value: 1
      to_value: 0
      expect: increase
      min_share: 0.95
  minimum_functionality:
    - name: an unhappy basic customer with many tickets and no logins lapses
      set:
        {plan: basic, support_tickets: 12, logins_last_30d: 0, satisfaction: 2.0, auto_renewal: 0}
      expect: positive
    - name: a happy premium customer on auto-renewal who logs in daily renews
      set:
        {plan: premium, support_tickets: 0, logins_last_30d: 60, satisfaction: 9.5, auto_renewal: 1}
      expect: negative
"""

DRIFT_SIMULATION = """\
simulation:
  rows: 2000
  seed: 7
  data_drift:
    monthly_spend: 1.3
    logins_last_30d: 0.6
  concept_drift:
    segment:
      plan: premium
"""


def replace_section(text: str, key: str, section: str) -> str:
    """`text` with the top-level YAML block `key:` (up to the next top-level key) replaced."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{key}:"))
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i][:1].isalpha()),
        len(lines),
    )
    # Comments right above the block belong to it.
    while start > 0 and lines[start - 1].startswith("#"):
        start -= 1
    return "".join(lines[:start]) + section + "".join(lines[end:])


def edit_model_config(path: Path, section: str = MODEL_TESTS) -> None:
    """config/model.yaml with the renewals' slices and cases (estimator, seed, split unchanged)."""
    text = path.read_text(encoding="utf-8")
    text = replace_section(text, "slices", "")
    text = replace_section(text, "model_tests", section)
    path.write_text(text, encoding="utf-8")


def edit_drift_config(path: Path, section: str = DRIFT_SIMULATION) -> None:
    """config/drift.yaml with a drift simulation over the renewals' columns."""
    text = path.read_text(encoding="utf-8")
    path.write_text(replace_section(text, "simulation", section), encoding="utf-8")


def edit_data_rules(path: Path) -> None:
    """config/data_rules.yaml without the sample's cross-column rules."""
    text = path.read_text(encoding="utf-8")
    path.write_text(replace_section(text, "rules", "rules: []\n"), encoding="utf-8")
