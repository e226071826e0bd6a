"""The tested combinations still cover what cookiecutter.json offers after it changes."""

from __future__ import annotations

import itertools

from .combinations import (
    CHOICES,
    COMBINATIONS,
    CUSTOM_NAMES,
    DEFAULT,
    MACHINE_PYTHON,
    RUNNABLE,
    VALID,
    combo_id,
    is_valid,
)


def test_every_combination_answers_every_choice_option_validly() -> None:
    for combo in COMBINATIONS:
        assert set(combo) - set(CUSTOM_NAMES) == set(CHOICES), f"{combo_id(combo)} misses an option"
        assert all(combo[key] in CHOICES[key] for key in CHOICES), combo_id(combo)
        assert is_valid(combo), combo_id(combo)
    assert len({combo_id(c) for c in COMBINATIONS}) == len(COMBINATIONS)


def test_every_pair_of_values_of_any_two_options_is_tested() -> None:
    for first, second in itertools.combinations(CHOICES, 2):
        possible = {(c[first], c[second]) for c in VALID}
        tested = {(c[first], c[second]) for c in COMBINATIONS}
        assert possible - tested == set(), f"{first} x {second} pairs never tested"


def test_the_defaults_are_tested_and_run_on_this_machine() -> None:
    assert MACHINE_PYTHON in CHOICES["python_version"]
    assert DEFAULT in RUNNABLE, "the default combination runs the whole pipeline"


def test_one_runnable_combination_uses_other_names() -> None:
    named = [c for c in COMBINATIONS if set(CUSTOM_NAMES) <= set(c)]
    assert len(named) == 1
    assert named[0] in RUNNABLE, "its `make ci` runs in tests/test_own_data.py"
    assert named[0]["cloud"] == "aws", "so infra/aws and the AWS deploy config show its names"
    assert len(CUSTOM_NAMES["package_name"]) >= 30
