"""A small data contract and rule set owned by the tests, with rows drawn from them.

The unit tests of code that works for any contract (the validation plan, the
rules, the feature pipeline, the model checks) run on this toy, not on
`config/`: they test the code, so they must not change when `config/` and
`data/raw/` describe other data. Tests of the project's own configuration and
data (the contract loads, the config matches it, the data passes) read the
configured files instead, through `tests/conftest.py`.

The toy is a miniature of a customer-churn table: an id, three numeric
columns (one whole, one with blanks), four categorical ones (one coded as
integers) and a Yes/No target, with the two kinds of cross-column rule.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import yaml

from {{ cookiecutter.package_name }}.contract.datasets import to_typed
from {{ cookiecutter.package_name }}.contract.model import DataContract
from {{ cookiecutter.package_name }}.validation.rules import DataRules

CONTRACT = """
name: toy_churn
id_column: customerID
target: {column: Churn, positive: "Yes", negative: "No", positive_rate: {min: 0.10, max: 0.50}}
rows: {min: 100, max: 5000000}
numeric:
  tenure: {dtype: int, min: 0, max: 120}
  MonthlyCharges: {dtype: float, min: 0, max: 1000}
  TotalCharges:
    {dtype: float, min: 0, max: 200000, nullable: true, missing_values: [" ", ""], fill_missing: 0}
categorical:
  gender: {values: [Female, Male]}
  SeniorCitizen: {dtype: int, values: [0, 1]}
  Contract: {values: [Month-to-month, One year, Two year]}
  PaymentMethod:
    values: [Bank transfer (automatic), Credit card (automatic), Electronic check, Mailed check]
"""

RULES = """
rules:
  - name: total_charges_match_tenure_times_monthly
    description: paid so far is about tenure x monthly charges (prices change, so not equal)
    kind: approx_product
    column: TotalCharges
    factors: [tenure, MonthlyCharges]
    max_relative_difference: 0.5
  - name: total_charges_blank_only_for_new_customers
    description: a customer is billed from the first month on
    kind: blank_only_when
    column: TotalCharges
    when_column: tenure
    when_values: [0]
"""

CONTRACTS = ("Month-to-month", "One year", "Two year")
PAYMENTS = (
    "Bank transfer (automatic)",
    "Credit card (automatic)",
    "Electronic check",
    "Mailed check",
)


@functools.cache
def contract() -> DataContract:
    """The toy contract."""
    return DataContract.model_validate(yaml.safe_load(CONTRACT))


@functools.cache
def rules() -> DataRules:
    """The toy's cross-column rules, checked against the toy contract."""
    parsed = DataRules.model_validate(yaml.safe_load(RULES))
    parsed.check_against(contract())
    return parsed


def raw(rows: int = 400, seed: int = 0) -> pd.DataFrame:
    """Rows as a file holds them (every value text), valid under the contract and the rules.

    Churn is likelier for short tenures and month-to-month contracts, so a model
    fitted on them has something to find; tenure 0 leaves TotalCharges blank.
    """
    rng = np.random.default_rng(seed)
    tenure = rng.integers(0, 73, rows)
    monthly = np.round(rng.uniform(18, 120, rows), 2)
    total = np.round(tenure * monthly * rng.uniform(0.9, 1.1, rows), 2)
    contract_kind = rng.choice(CONTRACTS, rows)
    logit = 0.5 - 0.05 * tenure + 1.5 * (contract_kind == "Month-to-month")
    churn = rng.random(rows) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {
            "customerID": [f"{i:04d}-TOY" for i in range(rows)],
            "tenure": tenure.astype(str),
            "MonthlyCharges": [f"{v:.2f}" for v in monthly],
            "TotalCharges": [
                " " if t == 0 else f"{v:.2f}" for t, v in zip(tenure, total, strict=True)
            ],
            "gender": rng.choice(["Female", "Male"], rows),
            "SeniorCitizen": rng.choice(["0", "1"], rows, p=[0.8, 0.2]),
            "Contract": contract_kind,
            "PaymentMethod": rng.choice(PAYMENTS, rows),
            "Churn": np.where(churn, "Yes", "No"),
        }
    )


def typed(rows: int = 400, seed: int = 0) -> pd.DataFrame:
    """`raw` with the contract's types applied, as training reads a file."""
    return to_typed(raw(rows, seed), contract())
