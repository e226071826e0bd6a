"""API contract of the service, in-process: every valid and invalid kind of request."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from {{ cookiecutter.package_name }}.errors import ModelLoadError
from {{ cookiecutter.package_name }}.layout import ONNX_FILE, PIPELINE_FILE
from {{ cookiecutter.package_name }}.monitoring.metric_names import SERVICE_METRICS
from {{ cookiecutter.package_name }}.monitoring.prediction_log import read_prediction_log
from {{ cookiecutter.package_name }}.serving.app import (
    INLINE_BATCH_BYTES,
    Exposure,
    create_app,
    rounded_probabilities,
)
from {{ cookiecutter.package_name }}.serving.faults import parse_fault
from {{ cookiecutter.package_name }}.serving.metrics import (
    ServiceMetrics,
    exposition,
    observe_many,
)
from {{ cookiecutter.package_name }}.serving.payloads import sample_rows
from {{ cookiecutter.package_name }}.serving.prediction_log import LogPolicy, PredictionLog
from {{ cookiecutter.package_name }}.serving.predictor import (
    OnnxPredictor,
    PipelinePredictor,
    load_model,
)
from {{ cookiecutter.package_name }}.serving.schema import (
    build_batch_model,
    build_row_model,
    build_validators,
)

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


def test_small_and_large_batches_answer_alike(model_dir: Path, rows: list[dict[str, Any]]) -> None:
    """A few rows are scored on the event loop, more in a worker thread: the same answers."""
    bulk = rows * (1 + INLINE_BATCH_BYTES // len(json.dumps(rows)))  # over the limit, any width
    with client_for(model_dir, max_batch_rows=len(bulk), max_body_bytes=2_000_000) as test_client:
        small = test_client.post("/predict/batch", json={"rows": rows[:3]})
        large = test_client.post("/predict/batch", json={"rows": bulk})
    assert len(json.dumps({"rows": rows[:3]})) <= INLINE_BATCH_BYTES
    assert len(json.dumps({"rows": bulk})) > INLINE_BATCH_BYTES
    assert small.status_code == large.status_code == 200
    few, many = small.json()["predictions"], large.json()["predictions"][:3]
    assert [(p["id"], p["label"]) for p in few] == [(p["id"], p["label"]) for p in many]
    probabilities = [p["probability"] for p in many]
    assert [p["probability"] for p in few] == pytest.approx(probabilities, abs=1e-5)


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
    "out-of-range": ({_NUMBER: int((_MAX or 0) * 10 + 1)}, _NUMBER),
    "wrong-type": ({_NUMBER: "cheap"}, _NUMBER),
    "extra": ({"shoe_size": 42}, "shoe_size"),
    "bool": ({_NUMBER: True}, _NUMBER),
    "huge-float": ({_NUMBER: 1e300}, _NUMBER),
}
if _CATEGORY is not None:  # all-numeric data has no categories to get wrong
    _FIRST_VALUE = str(CONTRACT.categorical[_CATEGORY].values[0])
    INVALID["unknown-category"] = ({_CATEGORY: "Not a listed value"}, _CATEGORY)
    INVALID["null"] = ({_CATEGORY: None}, _CATEGORY)
    INVALID["nul-byte"] = ({_CATEGORY: _FIRST_VALUE + "\u0000"}, _CATEGORY)
    INVALID["unicode"] = ({_CATEGORY: "Fémale ☃"}, _CATEGORY)
if INTEGER is not None:
    INVALID["string-int"] = ({INTEGER: "1"}, INTEGER)
_INT_CATEGORY = next((n for n, s in CONTRACT.categorical.items() if s.dtype == "int"), None)
if _INT_CATEGORY is not None:
    INVALID["bool-for-int-category"] = ({_INT_CATEGORY: False}, _INT_CATEGORY)
_INT_NUMBER = next((n for n, s in CONTRACT.numeric.items() if s.dtype == "int"), None)
if _INT_NUMBER is not None:
    INVALID["fraction-for-int"] = ({_INT_NUMBER: 12.5}, _INT_NUMBER)
    INVALID["bool-for-int"] = ({_INT_NUMBER: True}, _INT_NUMBER)
    INVALID["huge-int"] = ({_INT_NUMBER: 10**30}, _INT_NUMBER)


@pytest.mark.parametrize(("changes", "field"), INVALID.values(), ids=INVALID.keys())
def test_invalid_fields_get_422_naming_the_field(
    client: TestClient, rows: list[dict[str, Any]], changes: dict[str, Any], field: str
) -> None:
    response = client.post("/predict", json=_invalid(rows, **changes))
    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["detail"]]


def test_batch_over_the_row_limit_is_422(client: TestClient, rows: list[dict[str, Any]]) -> None:
    """A schema violation (maxItems), so 422 like any other: the OpenAPI document says so."""
    response = client.post("/predict/batch", json={"rows": rows[:11]})
    assert response.status_code == 422
    assert "at most 10 rows" in response.json()["detail"]


def test_a_bad_row_in_a_batch_is_named(client: TestClient, rows: list[dict[str, Any]]) -> None:
    bad = [rows[0], dict(rows[1], **{_NUMBER: "ten"})]
    response = client.post("/predict/batch", json={"rows": bad})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["detail"]] == [f"rows.1.{_NUMBER}"]


@pytest.mark.parametrize("path", ["/predict", "/predict/batch"])
@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"tenure": NaN}', {400, 422}),
        (b'{"tenure": Infinity}', {400, 422}),
        (b"[" * 9_000 + b"]" * 9_000, {400}),
        (b'{"a": ' * 2_500 + b"1" + b"}" * 2_500, {400, 422}),
        (rb'{"gender": "\u00e9\u2603\ud83d\ude00"}', {422}),
        (rb'{"gender": "\ud800"}', {400, 422}),
        (b"\xff\xfe not utf-8", {400}),
        (b"", {400, 422}),
    ],
    ids=[
        "nan",
        "infinity",
        "deep-array",
        "deep-object",
        "unicode",
        "lone-surrogate",
        "not-utf8",
        "empty",
    ],
)
def test_hand_made_bodies_get_a_4xx_never_a_500(
    client: TestClient, path: str, body: bytes, status: set[int]
) -> None:
    response = client.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code in status, response.text[:300]
    assert "detail" in response.json()


def test_nan_in_a_real_row_is_refused(client: TestClient, rows: list[dict[str, Any]]) -> None:
    for path, wrap in (
        ("/predict", lambda b: b),
        ("/predict/batch", lambda b: b'{"rows": [' + b + b"]}"),
    ):
        sentinel = 0.123456789012345  # a number no real row holds, swapped for NaN
        row = json.dumps(dict(rows[0], **{_NUMBER: sentinel}))
        row = row.replace(repr(sentinel), "NaN").encode()
        response = client.post(
            path, content=wrap(row), headers={"content-type": "application/json"}
        )
        assert response.status_code == 422, response.text
        assert _NUMBER in response.text


def test_a_10_mb_body_is_413_before_it_is_read(model_dir: Path) -> None:
    with client_for(model_dir) as test_client:  # the default limit: 2 MB
        response = test_client.post(
            "/predict/batch",
            content=b"{" + b" " * 10_000_000 + b"}",
            headers={"content-type": "application/json"},
        )
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/version"), ("DELETE", "/predict"), ("PATCH", "/ready"), ("GET", "/predict/batch")],
)
def test_undeclared_methods_are_405(client: TestClient, method: str, path: str) -> None:
    assert client.request(method, path).status_code == 405


def test_every_answer_names_the_model_version(
    client: TestClient, rows: list[dict[str, Any]]
) -> None:
    assert client.post("/predict", json=rows[0]).headers["x-model-version"] == "7"
    assert client.get("/ready").headers["x-model-version"] == "7"


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
    assert client.get("/ready").json() == {
        "status": "ready",
        "model_version": "7",
        "git_revision": "unknown",  # a release checks the commit it expects here
    }
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
    batch = schema["paths"]["/predict/batch"]["post"]
    body = batch["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/Batch"}
    assert schema["components"]["schemas"]["Batch"]["properties"]["rows"]["maxItems"] == 10
    for path in ("/predict", "/predict/batch"):
        declared = set(schema["paths"][path]["post"]["responses"])
        assert declared == {"200", "400", "413", "415", "422", "503"}


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


def test_one_row_at_a_time_scores_as_the_batch_does_in_any_thread(
    model_dir: Path, rows: list[dict[str, Any]]
) -> None:
    """A single row goes through reused per-thread arrays: no value may leak between calls."""
    predictor = load_model(model_dir, CONTRACT).predictor
    numeric = next(iter(CONTRACT.numeric))
    sample = [*rows[:30], {**rows[0], numeric: None}]  # a missing value takes its fill
    expected = predictor.predict(sample)

    def one_by_one() -> list[float]:
        return [predictor.predict([row])[0] for row in sample]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: one_by_one(), range(8)))
    for result in [one_by_one(), *results]:
        assert result == pytest.approx(expected, abs=1e-6)


def test_a_batch_scored_from_its_columns_scores_as_its_rows(
    model_dir: Path, rows: list[dict[str, Any]]
) -> None:
    """The batch endpoint feeds the model from the validator's columns: identical scores."""
    numeric = next(iter(CONTRACT.numeric))
    sample = [*rows[:30], {**rows[0], numeric: None}]  # a missing value takes its fill
    columns = {name: [row.get(name) for row in sample] for name in CONTRACT.feature_columns}
    onnx = load_model(model_dir, CONTRACT).predictor
    assert onnx.predict_many(sample, columns) == onnx.predict(sample)
    pipeline = PipelinePredictor(model_dir / PIPELINE_FILE, CONTRACT)
    assert pipeline.predict_many(sample, columns) == pipeline.predict(sample)


def test_a_batch_of_scores_counts_as_each_score_observed() -> None:
    one_by_one, at_once = ServiceMetrics(), ServiceMetrics()
    scores = [0.0, 0.1, 0.1000001, 0.5, 0.99, 1.0, *(i / 997 for i in range(997))]
    for score in scores:
        one_by_one.scores.observe(score)
    observe_many(at_once.scores, scores)

    def lines(metrics: ServiceMetrics) -> list[str]:
        text = exposition(metrics.registry).decode()
        return [line for line in text.splitlines() if line.startswith("prediction_score_")]

    assert [line for line in lines(at_once) if "_created" not in line] == [
        line for line in lines(one_by_one) if "_created" not in line
    ]


def test_a_model_input_the_contract_lacks_is_refused_at_load(model_dir: Path) -> None:
    """The feed's names are checked once, at load, since each prediction skips the check."""
    column = next(iter(CONTRACT.numeric))
    numeric = {name: spec for name, spec in CONTRACT.numeric.items() if name != column}
    narrower = CONTRACT.model_copy(update={"numeric": numeric})
    expected = rf"expects input\(s\) {re.escape(column)} .*make train"
    with pytest.raises(ModelLoadError, match=expected):
        OnnxPredictor(model_dir / ONNX_FILE, narrower)


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
    folder = tmp_path / "logs" / "predictions"
    log = PredictionLog(LogPolicy(folder, id_personal=False))
    with client_for(model_dir, prediction_log=log) as test_client:
        test_client.post("/predict", json=rows[0])
        test_client.post("/predict/batch", json={"rows": rows[:3]})
    lines = [json.loads(record.to_json()) for record in read_prediction_log(folder)]
    assert len(lines) == 4
    assert {"ts", "model_version", "features", "score"} <= set(lines[0])
    if ROLES.id:
        assert lines[0]["id"] == rows[0][ROLES.id]
        assert ROLES.id not in lines[0]["features"]
    for column in (ROLES.numeric, ROLES.categorical):
        if column is not None:
            assert lines[0]["features"][column] == rows[0][column]
    assert lines[0]["model_version"] == "7"


def test_an_unwritable_log_never_fails_a_prediction(
    tmp_path: Path, model_dir: Path, rows: list[dict[str, Any]]
) -> None:
    (tmp_path / "file").write_text("a file where the log folder should be")
    log = PredictionLog(LogPolicy(tmp_path / "file" / "predictions"))
    with client_for(model_dir, prediction_log=log) as test_client:
        for row in rows[:5]:
            assert test_client.post("/predict", json=row).status_code == 200
        assert test_client.post("/predict/batch", json={"rows": rows[:5]}).status_code == 200
        log.flush()
        text = test_client.get("/metrics").text
    assert 'prediction_log_records_total{outcome="dropped"} 10.0' in text
    assert 'prediction_log_records_total{outcome="written"} 0.0' in text
    assert "predictions_total 10.0" in text


def test_docs_and_metrics_can_be_turned_off(model_dir: Path) -> None:
    with client_for(model_dir, exposure=Exposure(docs=False, metrics=False)) as test_client:
        for path in ("/docs", "/openapi.json", "/metrics", "/version"):
            assert test_client.get(path).status_code == 404, path
        assert test_client.get("/ready").status_code == 200


def test_requests_beyond_the_in_flight_cap_get_503_with_retry_after(
    model_dir: Path, rows: list[dict[str, Any]]
) -> None:
    import anyio
    import httpx

    app = create_app(
        CONTRACT,
        lambda: load_model(model_dir, CONTRACT),
        fault=parse_fault("slow:300"),
        max_in_flight=3,
    )
    answers: list[httpx.Response] = []

    async def burst() -> None:
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://t") as client,
            anyio.create_task_group() as group,
        ):
            for _ in range(10):
                group.start_soon(_post, client, "/predict", rows[0])
            group.start_soon(_get, client, "/health")

    async def _post(client: httpx.AsyncClient, path: str, body: Any) -> None:
        answers.append(await client.post(path, json=body))

    async def _get(client: httpx.AsyncClient, path: str) -> None:
        await anyio.sleep(0.1)
        answers.append(await client.get(path))

    with TestClient(app):  # runs the lifespan: the model is loaded
        anyio.run(burst)
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(200) == 3 + 1  # three predictions and the health probe
    assert statuses.count(503) == 7
    busy = next(a for a in answers if a.status_code == 503)
    assert busy.headers["retry-after"] == "1"
    assert "3 requests in flight" in busy.json()["detail"]


def _outcome(validate: Any, body: bytes) -> Any:
    try:
        return ("ok", {k: v for k, v in validate(body).items() if v is not None})
    except ValidationError as err:  # "not an object": model_type for a model, dict_type for a dict
        return [(e["type"].replace("model_type", "dict_type"), e["loc"]) for e in err.errors()]


def _dump_batch(batch_model: Any, body: bytes) -> dict[str, Any]:
    return {
        "rows": [r.model_dump(by_alias=True) for r in batch_model.model_validate_json(body).rows]
    }


def test_the_request_validators_agree_with_the_documented_models(
    rows: list[dict[str, Any]],
) -> None:
    """Requests are checked by validators into dicts; the models document them: same rules."""
    row_model = build_row_model(CONTRACT)
    batch_model = build_batch_model(row_model, 3)
    validators = build_validators(CONTRACT, 3)
    bodies = [json.dumps(row).encode() for row in rows[:20]]
    bodies += [json.dumps(_invalid(rows, **changes)).encode() for changes, _ in INVALID.values()]
    if CONTRACT.id_column:
        bodies.append(json.dumps(dict(rows[0], **{CONTRACT.id_column: "x" * 201})).encode())
    bodies += [b"{}", b"", b"[1]", b'{"a": NaN}', b"null"]
    for body in bodies:
        documented = _outcome(
            lambda b: row_model.model_validate_json(b).model_dump(by_alias=True), body
        )
        assert _outcome(validators.row.validate_json, body) == documented, body
        for batch in (b'{"rows": [' + body + b"]}", b'{"rows": [' + b",".join([body] * 4) + b"]}"):
            documented = _outcome(lambda b: _dump_batch(batch_model, b), batch)
            checked = _outcome(validators.batch.validate_json, batch)
            assert checked == documented, batch


@pytest.mark.parametrize("telemetry", [False, True])
def test_fastapi_tracing_is_off_unless_asked_for(
    model_dir: Path, telemetry: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Off by default (it costs every request a check); MLOPS_OTEL=true gives FastAPI's spans."""
    from opentelemetry import trace  # the SDK comes with the train group (MLflow)
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    with client_for(model_dir, telemetry=telemetry) as test_client:
        assert test_client.get("/health").status_code == 200
    assert bool(exporter.get_finished_spans()) is telemetry


def test_probabilities_are_rounded_as_round_rounds_them() -> None:
    """The batch's rounding in numpy gives `round(score, 6)`'s floats, halves and oddities too."""
    scores = np.random.default_rng(7).random(200_000).tolist()
    halves = [(k + 0.5) / 1e6 for k in range(0, 1_000_000, 97)]  # the nearest floats to k.5e-6
    scores += halves + [float(np.nextafter(h, 2.0)) for h in halves]
    scores += [float(np.nextafter(h, -1.0)) for h in halves]
    scores += [0.0, -0.0, 1.0, 5e-7, 1.5e-6, 0.9999995, -3.0000005, 123456.7890125, 1e300]
    scores += [math.inf, -math.inf]
    assert rounded_probabilities(scores) == [round(score, 6) for score in scores]
    assert rounded_probabilities(scores[:3]) == [round(score, 6) for score in scores[:3]]
    assert all(math.isnan(p) for p in rounded_probabilities([math.nan] * 20))
