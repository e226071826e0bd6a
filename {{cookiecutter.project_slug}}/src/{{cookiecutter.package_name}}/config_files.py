"""Read a YAML configuration file into a typed, frozen model: the one loader of `config/`.

Every configuration file goes through `load_yaml`, so they all behave alike:
a missing file, invalid YAML, a top level that is not a mapping or a value
that breaks the schema becomes one error naming the file and every bad key,
and an empty file means "all defaults" (a model with required fields then
names them).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import ConfigError


class FrozenModel(BaseModel):
    """Base of every configuration model: unknown keys are refused, values cannot change."""

    model_config = ConfigDict(extra="forbid", frozen=True, protected_namespaces=())


Model = TypeVar("Model", bound=BaseModel)


def validation_problems(err: ValidationError) -> str:
    """Pydantic's errors as `key.path: message; ...` (one line, keys as in the file)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in err.errors()
    )


def contract_mismatch(path: Path, problems: Sequence[str]) -> str:
    """The one message for a config file naming columns or values the data contract lacks.

    Each problem starts with the key that names the column, so the message says
    which file, which key and which column: what to edit after changing the data.
    """
    return (
        f"{path} does not match the data contract: {'; '.join(problems)} "
        "(edit the file for your data, or declare the column in the contract)"
    )


def load_yaml(
    path: Path, model: type[Model], what: str, error: type[ConfigError] = ConfigError
) -> Model:
    """Read `path` as `model`; every problem raises `error` with a message naming `what`.

    Args:
        path: the YAML file.
        model: the pydantic model of its content.
        what: how to name the file in messages, e.g. "deploy config".
        error: the ConfigError subclass to raise.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise error(f"{what} not found: {path}") from err
    except yaml.YAMLError as err:
        raise error(f"{what} {path} is not valid YAML: {err}") from err
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise error(f"{what} {path} must be a mapping at the top level")
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        raise error(f"{what} {path} is invalid: {validation_problems(err)}") from err
