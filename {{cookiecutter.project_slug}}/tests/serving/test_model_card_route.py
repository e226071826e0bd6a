"""`/model-card`: the service serves the card baked into its model folder."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }}.layout import MODEL_CARD_HTML
from {{ cookiecutter.package_name }}.serving.app import create_app
from {{ cookiecutter.package_name }}.serving.predictor import load_model

from ..conftest import build_model_dir, contract


def test_the_model_card_is_served_as_html_or_missing_says_how(tmp_path: Path) -> None:
    model_dir = build_model_dir(tmp_path / "model")
    spec = contract()
    card = model_dir / MODEL_CARD_HTML
    app = create_app(spec, lambda: load_model(model_dir, spec), model_card=card)
    with TestClient(app) as client:
        missing = client.get("/model-card")
        assert missing.status_code == 404
        assert "make model-card" in missing.json()["detail"]
        card.write_text("<!doctype html><h1>Churn model — version 7</h1>")
        served = client.get("/model-card")
        assert served.status_code == 200
        assert served.headers["content-type"].startswith("text/html")
        assert "version 7" in served.text
