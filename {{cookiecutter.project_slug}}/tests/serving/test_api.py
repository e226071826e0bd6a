"""API contract of the service, in-process: every valid and invalid kind of request."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }}.errors import ModelLoadError
from {{ cookiecutter.package_name }}.monitoring.metric_names import SERVICE_METRICS
from {{ cookiecutter.package_name }}.serving.app import create_app
from {{ cookiecutter.package_name }}.serving.faults import parse_fault
from {{ cookiecutter.package_name }}.serving.payloads import sample_rows
from {{ cookiecutter.package_name }}.serving.prediction_log import PredictionLogWriter
from {{ cookiecutter.package_name }}.serving.predictor import load_model

from ..conftest import SAMPLE, build_model_dir, contract, roles

CONTRACT = contract()
ROLES = roles()
NULLABLE = [name for name, spec in CONTRACT.numeric.items() if spec.nullable]
# A whole-number field, to send as a JSON string: an integer categorical, else an int numeric.
INTEGER = next(
    (name for name, spec in CONTRACT.categorical.items() if spec.dtype == "int"),
    next((name for name, spec in CONTRACT.numeric.items() if spec.dtype == "int"), None),
)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_model_dir(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    return sample_rows(SAMPLE, CONTRACT, 50, seed=1)


def client_for(model_dir: Path, **kwargs: Any) -> TestClient:
    app = create_app(CONTRACT, lambda: load_model(model_dir, CONTRACT), **kwargs)
    return TestClient(app)


@pytest.fixture(scope="module")
def client(model_dir: Path) -> Iterator[TestClient]:
    with client_for(model_dir, max_batch_rows=10, max_body_bytes=20_000) as test_client:
        yield test_client


def test_predict_one_row(client: TestClient, rows: list[dict[str, Any]]) -> None:
    response = client.post("/predict", json=rows[0])
    assert response.status_code == 200
    body = response.json()
    assert 0.0 <= body["probability"] <= 1.0
    assert body["label"] in (ROLES.positive, ROLES.negative)
    if ROLES.id:
        assert body["id"] == rows[0][ROLES.id]


def test_batch_matches_single_predictions(client: TestClient, rows: list[dict[str, Any]]) -> None:
    batch = client.post("/predict/batch", json={"rows": rows[:5]})
    assert batch.status_code == 200
    singles = [client.post("/predict", json=row).json()["probability"] for row in rows[:5]]
    batched = [p["probability"] for p in batch.json()["predictions"]]
    assert batched == pytest.approx(singles, abs=1e-5)  # float32 sums differ by batch shape
    assert batch.json()["model_version"] == "7"


@pytest.mark.parametrize("column", NULLABLE)
def test_a_missing_value_of_a_nullable_column_is_allowed(
    client: TestClient, rows: list[dict[str, Any]], column: str
) -> None:
    row = dict(rows[0], **{column: None})
    assert client.post("/predict", json=row).status_code == 200


def _invalid(rows: list[dict[str, Any]], **changes: Any) -> dict[str, Any]:
    row = dict(rows[0])
    for key, value in changes.items():
        if value is _DROP:
            row.pop(key)
        else:
            row[key] = value
    return row


_DROP = object()


_NUMBER, _CATEGORY = ROLES.numeric, ROLES.categorical
_MAX = CONTRACT.numeric[_NUMBER].max
INVALID = {
    "missing": ({_NUMBER: _DROP}, _NUMBER),
    "unknown-category": ({_CATEGORY: "Not a listed value"}, _CATEGORY),
    "out-of-range": ({_NUMBER: int((_MAX or 0) * 10 + 1)}, _NUMBER),
    "wrong-type": ({_NUMBER: "cheap"}, _NUMBER),
    "null": ({_CATEGORY: None}, _CATEGORY),
    "extra": ({"shoe_size": 42}, "shoe_size"),
    "bool": ({_NUMBER: True}, _NUMBER),
}
if INTEGER is not None:
    INVALID["string-int"] = ({INTEGER: "1"}, INTEGER)


@pytest.mark.parametrize(("changes", "field"), INVALID.values(), ids=INVALID.keys())
def test_invalid_fields_get_422_naming_the_field(
    client: TestClient, rows: list[dict[str, Any]], changes: dict[str, Any], field: str
) -> None:
    response = client.post("/predict", json=_invalid(rows, **changes))
    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["detail"]]


def test_batch_too_large_is_413(client: TestClient, rows: list[dict[str, Any]]) -> None:
    response = client.post("/predict/batch", json={"rows": rows[:11]})
    assert response.status_code == 413
    assert "at most 10 rows" in response.json()["detail"]


def test_body_too_large_is_413(client: TestClient) -> None:
    response = client.post(
        "/predict",
        content=b"{" + b" " * 30_000 + b"}",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413


def test_wrong_content_type_is_415(client: TestClient, rows: list[dict[str, Any]]) -> None:
    response = client.post(
        "/predict", content=json.dumps(rows[0]), headers={"content-type": "text/plain"}
    )
    assert response.status_code == 415


def test_malformed_json_is_400(client: TestClient) -> None:
    response = client.post(
        "/predict", content=b'{"tenure": 1,', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400


@pytest.mark.parametrize("body", [[], {"rows": []}, {"rows": "x"}, 7, "null"])
def test_wrong_shapes_are_422(client: TestClient, body: Any) -> None:
    assert client.post("/predict/batch", json=body).status_code == 422


def test_health_ready_version(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").json() == {"status": "ready", "model_version": "7"}
    version = client.get("/version").json()
    assert version["model_version"] == "7"
    assert version["predictor"] == "onnx"
    assert version["contract"] == CONTRACT.fingerprint()
    assert version["fault"] is False


def test_metrics_count_requests_and_scores(client: TestClient, rows: list[dict[str, Any]]) -> None:
    client.post("/predict", json=rows[1])
    client.post("/predict", json={"nope": 1})
    text = client.get("/metrics").text
    assert 'http_requests_total{method="POST",route="/predict",status="200"}' in text
    assert 'http_requests_total{method="POST",route="/predict",status="422"}' in text
    assert "http_request_duration_seconds_bucket" in text
    assert "prediction_score_count" in text
    labels = f'contract="{CONTRACT.fingerprint()}",model_version="7"'
    assert "model_info{" + labels + "} 1.0" in text


def test_metric_families_match_the_monitoring_contract(client: TestClient) -> None:
    """The alert rules and the dashboard query these names and labels."""
    client.get("/health")
    text = client.get("/metrics").text
    for name, (kind, labels) in SERVICE_METRICS.items():
        assert f"# TYPE {name} {kind}" in text
        for label in labels:
            assert f'{label}="' in text


def test_unknown_paths_share_one_label(client: TestClient) -> None:
    client.get("/wp-admin/1")
    client.get("/wp-admin/2")
    assert 'route="other",status="404"' in client.get("/metrics").text
    assert "wp-admin" not in client.get("/metrics").text


def test_openapi_has_contract_enums(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    features = schema["components"]["schemas"]["Features"]
    for name, spec in CONTRACT.categorical.items():
        assert features["properties"][name]["enum"] == list(spec.values), name
    for name, spec in CONTRACT.numeric.items():
        if spec.min is not None and not spec.nullable:  # nullable: anyOf number or null
            assert features["properties"][name]["minimum"] == spec.min, name
    assert features["additionalProperties"] is False


def test_not_ready_without_model(tmp_path: Path, rows: list[dict[str, Any]]) -> None:
    def fail() -> Any:
        raise ModelLoadError("no trained model here")

    with TestClient(create_app(CONTRACT, fail)) as test_client:
        assert test_client.get("/health").status_code == 200
        ready = test_client.get("/ready")
        assert ready.status_code == 503
        assert "no trained model here" in ready.json()["detail"]
        assert test_client.post("/predict", json=rows[0]).status_code == 503


def test_pipeline_fallback_predicts_the_same(
    tmp_path: Path, model_dir: Path, rows: list[dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    plain = build_model_dir(tmp_path / "plain", onnx=False)
    fallback = load_model(plain, CONTRACT)
    assert fallback.predictor.kind == "pipeline"
    assert "serving the scikit-learn pipeline" in caplog.text
    onnx = load_model(model_dir, CONTRACT)
    assert fallback.predictor.predict(rows[:20]) == pytest.approx(
        onnx.predictor.predict(rows[:20]), abs=1e-5
    )


def test_stale_contract_is_refused(tmp_path: Path) -> None:
    target = build_model_dir(tmp_path / "m")
    meta = json.loads((target / "metadata.json").read_text())
    meta["contract_fingerprint"] = "000000000000"
    (target / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ModelLoadError, match="run `make train` again"):
        load_model(target, CONTRACT)


def test_injected_faults(model_dir: Path, rows: list[dict[str, Any]]) -> None:
    with client_for(model_dir, fault=parse_fault("error")) as test_client:
        assert test_client.post("/predict", json=rows[0]).status_code == 500
        assert test_client.get("/version").json()["fault"] is True
    with client_for(model_dir, fault=parse_fault("never-ready")) as test_client:
        assert test_client.get("/ready").status_code == 503


def test_prediction_log_is_jsonl(
    tmp_path: Path, model_dir: Path, rows: list[dict[str, Any]]
) -> None:
    path = tmp_path / "logs" / "predictions.jsonl"
    with client_for(model_dir, prediction_log=PredictionLogWriter(path, 1.0)) as test_client:
        test_client.post("/predict", json=rows[0])
        test_client.post("/predict/batch", json={"rows": rows[:3]})
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == 4
    assert {"ts", "model_version", "features", "score"} <= set(lines[0])
    if ROLES.id:
        assert lines[0]["id"] == rows[0][ROLES.id]
        assert ROLES.id not in lines[0]["features"]
    assert lines[0]["features"][ROLES.categorical] == rows[0][ROLES.categorical]
    assert lines[0]["model_version"] == "7"
