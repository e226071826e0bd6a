from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.errors import (
    MetricsFileError,
    ModelNotFoundError,
    StaleModelError,
)
from {{ cookiecutter.package_name }}.layout import MetricsRecord, ModelMetadata
from {{ cookiecutter.package_name }}.train import metrics_file, model_store


def test_missing_model_says_to_train_first(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="run `make train` first"):
        model_store.load_current(tmp_path)


def test_staged_model_is_promoted_with_its_metadata(tmp_path: Path) -> None:
    staging = model_store.staging_dir(tmp_path)
    model_store.save_pipeline({"a": 1}, staging)
    ModelMetadata(threshold=0.4, contract_fingerprint="abc").write(staging)
    model_store.promote(staging, model_store.current_dir(tmp_path))
    model, metadata = model_store.load_current(tmp_path)
    assert model == {"a": 1}
    assert metadata.threshold == 0.4
    assert metadata.model_version == "local"
    assert not staging.exists()
    model_store.check_contract(metadata, "abc")
    with pytest.raises(StaleModelError, match="run `make train` first"):
        model_store.check_contract(metadata, "other")


def test_metrics_file_is_deterministic_and_rounded(tmp_path: Path) -> None:
    record = MetricsRecord(
        metrics={"roc_auc": 0.123456789, "brier": math.nan},
        latency_ms={"p95": 1.0000004, "p50": 0.5},
    )
    path = metrics_file.write_metrics(tmp_path / "m" / "metrics.json", record)
    text = path.read_text()
    assert text.endswith("\n")
    assert text.index('"data"') < text.index('"metrics"')
    doc = json.loads(text)
    assert doc["metrics"] == {"brier": None, "roc_auc": 0.123457}
    assert doc["latency_ms"] == {"p50": 0.5, "p95": 1.0}
    metrics_file.write_metrics(tmp_path / "again.json", MetricsRecord.model_validate(doc))
    assert (tmp_path / "again.json").read_text() == text
    assert metrics_file.read_metrics(path)["metrics"]["roc_auc"] == 0.123457


@pytest.mark.parametrize(
    ("text", "message"),
    [("{", "not valid JSON"), ("[]", "no 'metrics' section"), ('{"metrics": 3}', "not a metrics")],
)
def test_a_corrupt_metrics_file_is_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "metrics.json"
    path.write_text(text)
    with pytest.raises(MetricsFileError, match=message):
        metrics_file.read_metrics(path)
