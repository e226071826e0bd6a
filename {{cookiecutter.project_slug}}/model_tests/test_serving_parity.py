"""The served model must predict what the trained pipeline predicts.

The service scores with the ONNX export (no pandas per request); this test
proves it gives the same probabilities as the scikit-learn pipeline on the
whole test split, through the very code path the service uses.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.contract.model import DataContract
from {{ cookiecutter.package_name }}.layout import ONNX_FILE
from {{ cookiecutter.package_name }}.serving.predictor import OnnxPredictor
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.train import training
from {{ cookiecutter.package_name }}.train.onnx_export import PARITY_TOLERANCE


def test_onnx_export_matches_the_pipeline(
    model: Any,
    metadata: dict[str, Any],
    settings: Settings,
    test_rows: pd.DataFrame,
    contract: DataContract,
) -> None:
    onnx_path = settings.models_dir / "current" / ONNX_FILE
    if not onnx_path.is_file():
        pytest.skip(
            f"no ONNX export ({metadata.get('onnx', {}).get('reason')}): served by pipeline"
        )
    features = training.feature_frame(test_rows, contract)
    expected = model.predict_proba(features)[:, 1]
    rows = [{str(k): v for k, v in row.items()} for row in features.to_dict(orient="records")]
    served = np.array(OnnxPredictor(onnx_path, contract).predict(rows), dtype=float)
    worst = float(np.max(np.abs(served - expected)))
    assert worst <= PARITY_TOLERANCE, (
        f"serving parity: ONNX and pipeline probabilities differ by up to {worst:.2e} "
        f"(allowed {PARITY_TOLERANCE:.0e}) on {len(rows)} test rows"
    )
