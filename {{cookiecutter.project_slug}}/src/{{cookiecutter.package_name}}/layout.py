"""Every file the pipeline writes and another step reads: names and typed contents.

A file written by one stage and read by another is a contract between them.
Its name and its shape live here once, so the writer and every reader agree:
train writes `ModelMetadata` and `MetricsRecord`, evaluate, serving, image,
deploy and monitoring read them; validation writes `ValidationRecord`, the
pull-request report reads it; the service writes `PredictionRecord` lines,
drift reads them. Standard library and pydantic only: the serving image
imports this module too.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_json

# -- models/ -------------------------------------------------------------------------------
CURRENT_MODEL_DIR = "current"  # models/current: what evaluate, model tests, serving use
STAGING_MODEL_DIR = ".staging"  # where train writes before swapping into current
BASELINE_MODEL_DIR = "baseline"  # models/baseline: what compare times beside the candidate
PIPELINE_FILE = "model.joblib"
ONNX_FILE = "model.onnx"
METADATA_FILE = "metadata.json"

# -- metrics/ ------------------------------------------------------------------------------
METRICS_FILE = "metrics.json"

# -- reports/ ------------------------------------------------------------------------------
FIGURES_DIR = "figures"
DATA_VALIDATION_JSON = "data_validation.json"
DATA_VALIDATION_HTML = "data_validation.html"
DATA_DOCS_DIR = "data_docs"
COMPARISON_FILE = "comparison.json"
BASELINE_FILE = "baseline.json"
REPRODUCTION_FILE = "reproduction.json"
REPORT_FILE = "report.md"
PR_NUMBER_FILE = "pr-number"
LOADTEST_FILE = "loadtest.json"
LOCUST_PREFIX = "locust"
LOADTEST_SERVICE_LOG = "loadtest-service.log"
IMAGE_RECORD_FILE = "image.json"
DRIFT_JSON = "drift.json"
DRIFT_MARKDOWN = "drift.md"
DRIFT_HTML = "drift.html"
RECENT_LABELLED_CSV = "recent_labelled.csv"  # `drift`: the labelled recent rows it checked
SIMULATED_DIR = "simulated"
PREDICTIONS_FILE = "predictions.csv"  # `predict` (batch scoring) without an output
MODEL_TESTS_FILE = "model_tests.json"  # written by `make model-test`, read by the model card
MODEL_CARD_MD = "model_card.md"  # `model-card` writes both to reports/ and the model folder,
MODEL_CARD_HTML = "model_card.html"  # so the image bakes it in and serves it at /model-card

# -- the model registry --------------------------------------------------------------------
CHALLENGER_ALIAS = "challenger"  # set by train on every registered model
CHAMPION_ALIAS = "champion"  # set by promote: what production serves, the next baseline


class _Record(BaseModel):
    """Files written by this project: unknown keys are kept readable (newer writers)."""

    model_config = ConfigDict(
        extra="ignore", frozen=True, protected_namespaces=(), coerce_numbers_to_str=True
    )


class TrackedModel(_Record):
    """Where a training landed in MLflow."""

    tracking_uri: str = ""
    experiment_id: str = ""
    run_id: str | None = None
    model_uri: str = ""
    registered_model_name: str = ""
    version: str | None = None
    alias: str = ""


class OnnxExport(_Record):
    """Whether the ONNX export exists and how closely it matches the pipeline."""

    exported: bool = False
    max_abs_diff: float | None = None
    reason: str = ""


class ModelMetadata(_Record):
    """`models/<folder>/metadata.json`: what a trained model is and how it was made."""

    threshold: float = 0.5
    contract_fingerprint: str | None = None
    contract_version: int | None = None
    data_fingerprint: str | None = None
    test_ids_fingerprint: str | None = None
    positive_label: str | None = None
    labels: tuple[str, ...] = ()
    feature_columns: tuple[str, ...] = ()
    id_column: str | None = None
    target_column: str | None = None
    estimator: str = ""
    estimator_params: dict[str, Any] = Field(default_factory=dict)
    model_file: str = PIPELINE_FILE
    onnx: OnnxExport = OnnxExport()
    metrics: dict[str, float | None] = Field(default_factory=dict)
    trained_at: str = ""
    mlflow: TrackedModel | None = None

    @property
    def model_version(self) -> str:
        """The one answer to "which model is this": registry version, else run id, else 'local'.

        The service reports it at /ready and /version, the image carries it as its
        OCI version label, drift names it in its report: all must agree.
        """
        tracked = self.mlflow
        if tracked is not None:
            return str(tracked.version or tracked.run_id or "local")
        return "local"

    def write(self, folder: Path) -> Path:
        """Write `metadata.json` into `folder` (sorted keys: diffs between models stay readable)."""
        path = folder / METADATA_FILE
        text = json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True)
        path.write_text(text + "\n", encoding="utf-8")
        return path

    @classmethod
    def read(cls, folder: Path) -> ModelMetadata:
        """Read `folder/metadata.json`.

        Raises:
            FileNotFoundError: there is no metadata file.
            ValueError: it is not JSON or not a metadata object.
        """
        path = folder / METADATA_FILE
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"{path} must hold a JSON object")
        return cls.model_validate(data)


class ModelFacts(_Record):
    """The `model` section of the metrics record."""

    estimator: str = ""
    size_bytes: int | float = 0
    threshold: float = 0.5


class DataFacts(_Record):
    """The `data` section of the metrics record: which rows the metrics were measured on."""

    fingerprint: str = ""
    contract: str = ""
    rows: dict[str, int] = Field(default_factory=dict)
    test_ids_fingerprint: str = ""


class MetricsRecord(_Record):
    """`metrics/metrics.json`: the committed, deterministic record of a model's quality.

    Compared across commits by the gate, so its content is a pure function of
    data, config and code (rounded floats, sorted keys, no run ids or times);
    latency is the one measured value, and the gate treats it as such.
    """

    model: ModelFacts = ModelFacts()
    data: DataFacts = DataFacts()
    metrics: dict[str, float | None]
    slices: dict[str, dict[str, dict[str, float | int | str | None]]] = Field(default_factory=dict)
    latency_ms: dict[str, float] = Field(default_factory=dict)


class CheckRecord(_Record):
    """One data-validation check as `validate` reports it."""

    key: str = ""
    column: str = ""
    rule: str = ""
    status: str = ""
    observed: str = ""
    unexpected_count: int | None = None
    examples: tuple[str, ...] = ()
    expectation: str = ""
    stage: str = ""


class ValidationRecord(_Record):
    """`reports/data_validation.json`: the verdict on the data, read by the PR report."""

    source: str = ""
    success: bool
    rows: int = 0
    columns: int = 0
    seconds: float = 0.0
    setup_seconds: float = 0.0
    contract: str = ""
    checks: int
    failed: int
    skipped: int = 0
    results: tuple[CheckRecord, ...] = ()

    @property
    def failures(self) -> list[CheckRecord]:
        """The failed checks, in plan order."""
        return [r for r in self.results if r.status == "failed"]


class ModelTestResult(_Record):
    """One model test as `make model-test` ran it."""

    name: str
    outcome: str  # passed | failed | skipped | error
    message: str = ""


class ModelTestsRecord(_Record):
    """`reports/model_tests.json`: the model tests that ran on a model, read by the model card."""

    model_version: str = ""
    finished_at: str = ""
    results: tuple[ModelTestResult, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        """How many tests ended in each outcome."""
        counts: dict[str, int] = {}
        for result in self.results:
            counts[result.outcome] = counts.get(result.outcome, 0) + 1
        return counts


# -- the prediction log (written by serving, read by monitoring) ----------------------------
FeatureValue = str | int | float | bool | None
PREDICTION_LOG_SUFFIX = ".jsonl"  # files of the log folder; each service process writes its own
PREDICTION_LOG_REQUIRED = ("ts", "model_version", "features", "score")
PREDICTION_LOG_OPTIONAL = ("id", "outcome")


def record_json(document: Mapping[str, Any]) -> bytes:
    """A prediction-log line (no newline): compact JSON, UTF-8, no NaN or Infinity.

    pydantic-core's serializer writes a record in ~3 us where `json.dumps` takes
    ~12 us (it formats every float in Python); the service writes one per request.
    Both give the same text for the values a record holds. A non-finite number, which
    JSON cannot hold, is refused as `json.dumps(allow_nan=False)` refuses it.

    Raises:
        ValueError: a non-finite number, or a value JSON cannot represent.
    """
    line = to_json(document)
    if b"NaN" in line or b"Infinity" in line:  # a real one, or only text containing it
        json.dumps(document, allow_nan=False)  # raises ValueError for a real one
    return line


def utc_timestamp(moment: datetime | None = None) -> str:
    """ISO 8601 in UTC with milliseconds and a `Z`, e.g. 2026-11-26T01:23:45.123Z."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class PredictionRecord:
    """One line of the prediction log (JSON Lines); `to_json` and `from_json` are inverses.

    `features` holds the model inputs as the request gave them (named as in the
    data contract) and `score` the predicted probability of the positive class.
    Two optional keys turn a log into labelled data for concept-drift checks:
    `id` (to join labels that arrive later) and `outcome` (the observed label).
    """

    ts: str
    model_version: str
    features: Mapping[str, FeatureValue]
    score: float
    id: str | None = None
    outcome: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.score, bool) or not isinstance(self.score, int | float):
            raise ValueError(f"score must be a number, got {self.score!r}")
        if not (math.isfinite(self.score) and 0.0 <= self.score <= 1.0):
            raise ValueError(f"score must be a probability in [0, 1], got {self.score!r}")
        if not isinstance(self.features, Mapping) or not self.features:
            raise ValueError("features must be a non-empty object")

    def to_json(self) -> str:
        """One line of the log (no trailing newline); optional keys only when set."""
        doc: dict[str, Any] = {
            "ts": self.ts,
            "model_version": self.model_version,
            "features": dict(self.features),
            "score": self.score,
        }
        if self.id is not None:
            doc["id"] = self.id
        if self.outcome is not None:
            doc["outcome"] = self.outcome
        doc.update(self.extra)
        return record_json(doc).decode("utf-8")

    @classmethod
    def from_json(cls, line: str) -> PredictionRecord:
        """Parse one line; unknown keys are kept in `extra` so newer writers stay readable.

        Raises:
            ValueError: the line is not a JSON object with the required keys.
        """
        doc = json.loads(line)
        if not isinstance(doc, dict):
            raise ValueError("expected a JSON object")
        absent = [key for key in PREDICTION_LOG_REQUIRED if key not in doc]
        if absent:
            raise ValueError(f"missing key(s): {', '.join(absent)}")
        known = {*PREDICTION_LOG_REQUIRED, *PREDICTION_LOG_OPTIONAL}
        return cls(
            ts=str(doc["ts"]),
            model_version=str(doc["model_version"]),
            features=doc["features"],
            score=doc["score"],
            id=None if doc.get("id") is None else str(doc["id"]),
            outcome=None if doc.get("outcome") is None else str(doc["outcome"]),
            extra={key: value for key, value in doc.items() if key not in known},
        )
