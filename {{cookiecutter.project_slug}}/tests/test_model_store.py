from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.io import metrics_file, model_store


def test_missing_model_says_to_train_first(tmp_path: Path) -> None:
    with pytest.raises(model_store.ModelNotFoundError, match="run `make train` first"):
        model_store.load_current(tmp_path)


def test_staged_model_is_promoted_with_its_metadata(tmp_path: Path) -> None:
    staging = model_store.staging_dir(tmp_path)
    model_store.save_pipeline({"a": 1}, staging)
    model_store.write_metadata(staging, {"threshold": 0.4, "contract_fingerprint": "abc"})
    model_store.promote(staging, model_store.current_dir(tmp_path))
    model, metadata = model_store.load_current(tmp_path)
    assert model == {"a": 1}
    assert metadata["threshold"] == 0.4
    assert not staging.exists()
    model_store.check_contract(metadata, "abc")
    with pytest.raises(model_store.StaleModelError, match="run `make train` first"):
        model_store.check_contract(metadata, "other")


def test_metrics_file_is_deterministic_and_rounded(tmp_path: Path) -> None:
    payload = {"b": {"y": 0.123456789, "x": [1.0000004, math.nan]}, "a": 3}
    path = metrics_file.write_metrics(tmp_path / "m" / "metrics.json", payload)
    text = path.read_text()
    assert text.endswith("\n")
    assert text.index('"a"') < text.index('"b"')
    assert json.loads(text) == {"a": 3, "b": {"x": [1.0, None], "y": 0.123457}}
    metrics_file.write_metrics(tmp_path / "again.json", dict(reversed(payload.items())))
    assert (tmp_path / "again.json").read_text() == text
    assert metrics_file.read_metrics(path)["a"] == 3
