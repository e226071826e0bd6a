from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.contract.model import (
    ContractError,
    DataContract,
)
from {{ cookiecutter.package_name }}.validation.rules import (
    ApproxProduct,
    BlankOnlyWhen,
    DataRules,
    load_rules,
)

from .. import toy
from ..conftest import contract as project_contract


@pytest.fixture(scope="module")
def contract() -> DataContract:
    return toy.contract()


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    return path


def test_project_rules_load_and_match_the_contract(project_dir: Path) -> None:
    load_rules(project_dir / "config" / "data_rules.yaml", project_contract())


def test_both_kinds_of_rule_load(tmp_path: Path, contract: DataContract) -> None:
    rules = load_rules(_write(tmp_path, toy.RULES), contract)
    assert {type(rule) for rule in rules.rules} == {ApproxProduct, BlankOnlyWhen}
    assert all(rule.description for rule in rules.rules)


def test_no_rules_is_allowed(tmp_path: Path, contract: DataContract) -> None:
    assert load_rules(_write(tmp_path, "rules: []"), contract).rules == ()


PRODUCT = """
rules:
  - {name: p, kind: approx_product, column: TotalCharges, factors: [tenure, MonthlyCharges],
     max_relative_difference: 0.5}
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: [", "not valid YAML"),
        ("- a", "must be a mapping"),
        ("rules: [{name: x, kind: magic, column: tenure}]", "magic"),
        (PRODUCT.replace("TotalCharges,", "Nope,"), r"rules\[0\] \(p\): 'Nope' is not a column"),
        (PRODUCT.replace("tenure,", "gender,"), "'gender' is not numeric in the contract"),
        (PRODUCT + PRODUCT.replace("rules:", ""), "unique"),
        (PRODUCT.replace("0.5", "0"), "greater than 0"),
        (
            "rules: [{name: b, kind: blank_only_when, column: TotalCharges, when_column: tenure,"
            " when_values: [zero]}]",
            "must be numbers",
        ),
    ],
)
def test_bad_rules_are_named(
    tmp_path: Path, contract: DataContract, text: str, message: str
) -> None:
    with pytest.raises(ContractError, match=message):
        load_rules(_write(tmp_path, text), contract)


def test_missing_rules_file_says_how_to_have_none(tmp_path: Path, contract: DataContract) -> None:
    with pytest.raises(ContractError, match=r"rules: \[\]"):
        load_rules(tmp_path / "nope.yaml", contract)


def test_approx_product_measures_symmetric_relative_difference() -> None:
    rule = ApproxProduct(
        name="p", kind="approx_product", column="t", factors=("a", "b"), max_relative_difference=0.5
    )
    numbers = pd.DataFrame(
        {
            "t": [10.0, 20.0, 5.0, 0.0, None, 3.0],
            "a": [2.0, 2.0, 2.0, 0.0, 1.0, 0.0],
            "b": [5.0, 5.0, 5.0, 7.0, 1.0, 1.0],
        }
    )
    got = rule.derive(numbers, numbers).tolist()
    assert got[:5] == pytest.approx([0.0, 0.5, 0.5, 0.0, float("nan")], nan_ok=True)
    assert got[5] == 1.0  # a total where the product is 0 is as far off as it gets


def test_blank_only_when_keeps_the_condition_value_of_blank_rows() -> None:
    rule = BlankOnlyWhen(
        name="b", kind="blank_only_when", column="t", when_column="n", when_values=(0,)
    )
    text = pd.DataFrame({"t": ["1", None, None], "n": ["5", "0", "7"]})
    numbers = pd.DataFrame({"n": [5.0, 0.0, 7.0]})
    derived = rule.derive(text, numbers)
    assert derived.isna().tolist() == [True, False, False]
    assert derived.dropna().tolist() == [0.0, 7.0]
    assert rule.summary == "blank only when n is 0"


def test_rules_compare_as_numbers_only_for_numeric_columns(contract: DataContract) -> None:
    numeric = BlankOnlyWhen(
        name="b",
        kind="blank_only_when",
        column="TotalCharges",
        when_column="tenure",
        when_values=(0,),
    )
    text = BlankOnlyWhen(
        name="c",
        kind="blank_only_when",
        column="TotalCharges",
        when_column="SeniorCitizen",
        when_values=(0,),
    )
    assert numeric.expectation(contract)[1]["value_set"] == [0.0]
    assert text.expectation(contract)[1]["value_set"] == ["0"]


def test_rules_model_is_frozen() -> None:
    rules = DataRules()
    with pytest.raises(ValueError, match="frozen"):
        rules.rules = ()  # type: ignore[misc]
