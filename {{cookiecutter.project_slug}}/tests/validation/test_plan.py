from __future__ import annotations

import re
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.contract.model import (
    DataContract,
)
from {{ cookiecutter.package_name }}.validation.plan import (
    INTEGER_PATTERN,
    NUMBER_PATTERN,
    TABLE,
    Check,
    build_plan,
    positive_indicator,
)
from {{ cookiecutter.package_name }}.validation.rules import (
    DataRules,
)

from .. import toy


@pytest.fixture(scope="module")
def plan() -> dict[str, Check]:
    checks = build_plan(toy.contract(), toy.rules())
    assert len({c.key for c in checks}) == len(checks)
    return {c.key: c for c in checks}


def test_every_contract_column_gets_its_checks(plan: dict[str, Check]) -> None:
    contract = toy.contract()
    assert plan["table:columns"].kwargs == {"column_set": contract.columns, "exact_match": True}
    assert plan["table:rows"].kwargs == {"min_value": 100, "max_value": 5000000}
    for name, spec in contract.numeric.items():
        assert plan[f"{name}:type"].stage == "file"
        assert plan[f"{name}:range"].stage == "derived"
        assert plan[f"{name}:range"].kwargs["min_value"] == spec.min
        assert (f"{name}:not_null" in plan) is not spec.nullable
    for name, spec in contract.categorical.items():
        assert plan[f"{name}:allowed"].kwargs["value_set"] == [str(v) for v in spec.values]
        assert f"{name}:not_null" in plan
    assert plan["customerID:unique"].expectation == "ExpectColumnValuesToBeUnique"
    assert plan["Churn:labels"].kwargs["value_set"] == ["No", "Yes"]


def test_class_balance_is_the_mean_of_a_positive_indicator(plan: dict[str, Check]) -> None:
    check = plan["Churn:positive_rate"]
    assert check.expectation == "ExpectColumnMeanToBeBetween"
    assert check.kwargs == {
        "column": positive_indicator(toy.contract()),
        "min_value": 0.10,
        "max_value": 0.50,
    }
    assert check.rule == "share of 'Yes' between 0.1 and 0.5"


def test_rules_come_from_config(plan: dict[str, Check]) -> None:
    product = plan["rule:total_charges_match_tenure_times_monthly"]
    assert product.column == "TotalCharges"
    assert product.reads == ("TotalCharges", "tenure", "MonthlyCharges")
    assert product.kwargs["max_value"] == 0.5
    assert product.rule == "within 50% of tenure x MonthlyCharges"
    assert "prices change" in product.detail
    blank = plan["rule:total_charges_blank_only_for_new_customers"]
    assert blank.kwargs["value_set"] == [0.0]


def test_plain_words_fit_the_failure_table(plan: dict[str, Check]) -> None:
    assert plan["TotalCharges:range"].rule == "between 0 and 200,000"
    assert plan["gender:allowed"].rule == "one of: Female, Male"
    assert plan["PaymentMethod:allowed"].rule == "one of the 4 listed values"
    assert plan["tenure:type"].rule == "is a whole number"
    assert plan["MonthlyCharges:type"].rule == "is a number"
    assert all(len(c.rule) <= 40 for c in plan.values())
    assert plan["table:columns"].column == TABLE


def test_minimal_contract_without_id_has_no_unique_check(tmp_path: Path) -> None:
    contract = DataContract.model_validate(
        {
            "name": "t",
            "target": {"column": "y", "positive": "1", "negative": "0"},
            "numeric": {"x": {"max": 1}},
        }
    )
    keys = [c.key for c in build_plan(contract, DataRules())]
    assert not any(k.endswith(":unique") for k in keys)
    assert "x:range" in keys
    assert "y:positive_rate" in keys  # the default bounds 0..1 still catch a missing class
    assert not any(k.startswith("rule:") for k in keys)


def test_open_bounds_add_no_check() -> None:
    contract = DataContract.model_validate(
        {
            "name": "t",
            "target": {"column": "y", "positive": "1", "negative": "0", "positive_rate": {}},
            "rows": {"min": None},
            "numeric": {"x": {}},
        }
    )
    keys = [c.key for c in build_plan(contract, DataRules())]
    assert keys == [
        "table:columns",
        "lines:complete",
        "y:not_null",
        "y:labels",
        "x:not_null",
        "x:type",
    ]


@pytest.mark.parametrize(
    ("text", "integer", "number"),
    [
        ("12", True, True),
        (" 12 ", True, True),
        ("-3", True, True),
        ("1.0", True, True),
        ("1.5", False, True),
        (".5", False, True),
        ("1e3", False, True),
        ("ten", False, False),
        ("12,50", False, False),
        ("", False, False),
        ("1 2", False, False),
    ],
)
def test_numeric_type_patterns(text: str, integer: bool, number: bool) -> None:
    assert bool(re.match(INTEGER_PATTERN, text)) is integer
    assert bool(re.match(NUMBER_PATTERN, text)) is number
