"""Request models generated from the data contract.

Categories become literal enums and numeric ranges become bounds, so a request
the model was never trained for is refused with a 422 that names the field,
instead of producing a silent garbage prediction. Types are strict: a column
the contract declares as integers takes whole numbers only (12 or 12.0, as
JSON Schema's `integer` allows; not 12.5, not `true`), and NaN or infinite
numbers are refused.
"""

from __future__ import annotations

import keyword
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model

from ..contract.model import DataContract, NumericColumn

MAX_BATCH_ROWS = 1000


def field_name(column: str) -> str:
    """A Python identifier for a column name (the column name stays the JSON alias)."""
    name = re.sub(r"\W", "_", column)
    if not name or name[0].isdigit() or keyword.iskeyword(name):
        name = f"f_{name}"
    return name


def _whole(bound: float | None) -> int | None:
    return None if bound is None else int(bound)


def _whole_number(value: Any) -> Any:
    """JSON Schema's integer: 12 or 12.0 (no fractional part), never `true` or 12.5."""
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not a boolean")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _numeric_type(spec: NumericColumn) -> Any:
    if spec.dtype == "int":
        bounds = Field(ge=_whole(spec.min), le=_whole(spec.max), strict=True)
        number: Any = Annotated[int, bounds, BeforeValidator(_whole_number)]
    else:
        number = Annotated[float, Field(ge=spec.min, le=spec.max, strict=True)]
    return number | None if spec.nullable else number


def _not_a_boolean(value: Any) -> Any:
    """JSON `true` is not the integer 1 (Python would say it is)."""
    if isinstance(value, bool):
        raise ValueError("must be one of the listed integers, not a boolean")
    return value


def row_fields(contract: DataContract) -> dict[str, Any]:
    """Pydantic field definitions, one per contract feature (plus the optional id)."""
    fields: dict[str, Any] = {}
    if contract.id_column:
        fields[field_name(contract.id_column)] = (
            str | None,
            Field(default=None, alias=contract.id_column, max_length=200),
        )
    for column, spec in contract.numeric.items():
        annotation = _numeric_type(spec)
        fields[field_name(column)] = (annotation, Field(alias=column, description=spec.description))
    for column, cat in contract.categorical.items():
        choice: Any = Literal[cat.values]
        if cat.dtype == "int":
            choice = Annotated[choice, BeforeValidator(_not_a_boolean)]
        annotation = choice | None if cat.nullable else choice
        fields[field_name(column)] = (annotation, Field(alias=column, description=cat.description))
    return fields


def build_row_model(contract: DataContract) -> type[BaseModel]:
    """The model of one prediction request; unknown fields are refused."""
    config = ConfigDict(
        extra="forbid", populate_by_name=False, strict=True, frozen=True, allow_inf_nan=False
    )
    model: type[BaseModel] = create_model("Features", __config__=config, **row_fields(contract))
    return model


def build_batch_model(
    row_model: type[BaseModel], max_rows: int = MAX_BATCH_ROWS
) -> type[BaseModel]:
    """A batch request: {"rows": [row, ...]} with at most `max_rows` rows."""
    config = ConfigDict(extra="forbid", strict=True)
    rows = (list[row_model], Field(min_length=1, max_length=max_rows))  # type: ignore[valid-type]
    model: type[BaseModel] = create_model("Batch", __config__=config, rows=rows)
    return model


class Prediction(BaseModel):
    """One scored row."""

    id: str | None = Field(default=None, description="the request's id column, echoed back")
    probability: float = Field(description="probability of the positive label")
    label: str = Field(description="predicted label at the model's threshold")


class PredictionBatch(BaseModel):
    """A scored batch, in request order."""

    predictions: list[Prediction]
    model_version: str
