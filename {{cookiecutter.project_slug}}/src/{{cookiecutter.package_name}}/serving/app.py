"""The FastAPI application: predictions, health, readiness, version and metrics.

`create_app` builds everything from explicit arguments (tests pass their own),
`app_from_env` reads Settings for uvicorn. The model loads in the lifespan, so
the process answers `/health` at once and `/ready` only when it can predict:
the signal that blue/green switching waits for.

Under pressure: at most `max_in_flight` requests are served at once (beyond,
503 + Retry-After); a single row is scored on the event loop (~0.1 ms), a
batch is parsed, validated and scored in a worker thread (one of a few rows on
the event loop, as a single row), so a 1,000-row batch (~10 ms of work) never
stalls the single-row requests behind it. A batch is handled column by column
(`batch_body`, `_score_batch`): row by row it cost twice as much. The
prediction log is written by a background thread and never fails a request;
another ships its closed files to S3 when MLOPS_PREDICTION_LOG_S3_URI is set.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import logging
import os
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, ValidationError

from .. import __version__
from ..contract.model import DataContract, load_contract
from ..errors import ConfigError, ModelLoadError
from ..layout import MODEL_CARD_HTML
from ..settings import STDOUT, Settings
from .aws_credentials import CredentialSource
from .batch_body import BatchValidator, ValidBatch
from .faults import Fault, parse_fault
from .guards import BodyGuard, InFlightLimit, VersionHeader
from .log_shipper import LogShipper
from .logs import configure_logging
from .metrics import (
    ASGIApp,
    MetricsMiddleware,
    Receive,
    Scope,
    Send,
    ServiceMetrics,
    exposition,
    observe_many,
)
from .prediction_log import LogPolicy, PredictionLog
from .predictor import LoadedModel, load_model
from .s3_upload import Endpoint, S3Location, S3Uploader
from .schema import (
    MAX_BATCH_ROWS,
    Prediction,
    PredictionBatch,
    build_batch_model,
    build_row_model,
    build_validators,
)

logger = logging.getLogger(__name__)

ROUTES = frozenset(
    {
        "/predict",
        "/predict/batch",
        "/model-card",
        "/health",
        "/ready",
        "/version",
        "/metrics",
        "/docs",
        "/openapi.json",
    }
)
# The routes that take a body: checked by the body guard, capped by the in-flight limit.
BODY_ROUTES = frozenset({"/predict", "/predict/batch"})
# A batch body this small (~10 rows) is scored on the event loop, as a single row is:
# its ~0.2 ms of work costs less than handing it to a worker thread and back.
INLINE_BATCH_BYTES = 5_000
# From this many scores on, `rounded_probabilities` rounds them in numpy.
ROUND_IN_NUMPY_FROM = 16


@dataclass
class ServiceState:
    """What the routes share; the model is None until the lifespan loaded it."""

    contract: DataContract
    metrics: ServiceMetrics
    loader: Callable[[], LoadedModel]
    fault: Fault = field(default_factory=Fault)
    git_revision: str = "unknown"
    prediction_log: PredictionLog | None = None
    log_shipper: LogShipper | None = None
    model: LoadedModel | None = None
    load_error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _field_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pydantic errors as {field, message, type}, with the field named as in the request."""
    result = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ()) if part != "body"]
        result.append(
            {
                "field": ".".join(loc) or "body",
                "message": error.get("msg", ""),
                "type": error.get("type"),
            }
        )
    return result


class DirectRoute:
    """POST to one path goes straight to its handler: the body in, a response out.

    FastAPI's routing (exception middleware, exit stack, route matching, a Request
    object, dependency solving) costs about as much CPU as a whole single-row
    prediction; the hot routes (POST /predict and /predict/batch) skip it. The
    service's middlewares (metrics, in-flight cap, version header, body guard) stay
    outside it, an exception still becomes a logged 500 (Starlette's outermost
    middleware), and FastAPI still documents the route: an ordinary route with the
    same handler stands behind this one.
    """

    def __init__(
        self, app: ASGIApp, path: str, handler: Callable[[bytes], Awaitable[Response]]
    ) -> None:
        """Wrap `app`; POST `path` is answered by `handler`."""
        self.app = app
        self.path = path
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer POST `path` (its body buffered by the body guard); pass anything else on."""
        if (
            scope["type"] != "http"
            or scope.get("path") != self.path
            or scope.get("method") != "POST"
        ):
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        response = await self.handler(b"".join(chunks))
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": response.raw_headers,
            }
        )
        await send({"type": "http.response.body", "body": response.body})


def _refusal(errors: list[dict[str, Any]], max_batch_rows: int) -> JSONResponse:
    """400 for malformed JSON, else 422 naming every bad field (a batch over the limit too)."""
    if any(e.get("type") == "json_invalid" for e in errors):
        return JSONResponse({"detail": "request body is not valid JSON"}, status_code=400)
    if any(
        e.get("type") == "too_long" and tuple(e.get("loc", ()))[-1:] == ("rows",) for e in errors
    ):
        detail = f"a batch may hold at most {max_batch_rows} rows"
        return JSONResponse({"detail": detail}, status_code=422)
    return JSONResponse({"detail": _field_errors(errors)}, status_code=422)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return _refusal(list(exc.errors()), request.app.state.max_batch_rows)


def _not_ready(state: ServiceState) -> JSONResponse:
    reason = state.load_error or "the model is still loading"
    return JSONResponse({"detail": f"not ready: {reason}"}, status_code=503)


def _score(state: ServiceState, rows: list[dict[str, Any]]) -> tuple[LoadedModel, list[float]]:
    assert state.model is not None
    model = state.model
    scores = model.predictor.predict(rows)
    for score in scores:
        state.metrics.scores.observe(score)
    state.metrics.predictions.inc(len(scores))
    if state.prediction_log is not None:
        id_column = state.contract.id_column
        for row, score in zip(rows, scores, strict=True):
            features = {k: v for k, v in row.items() if k != id_column}
            record_id = row.get(id_column) if id_column else None
            state.prediction_log.submit(features, score, model.version, record_id=record_id)
    return model, scores


def _score_batch(state: ServiceState, batch: ValidBatch) -> tuple[LoadedModel, list[float]]:
    """`_score` for a validated batch: the model fed from its columns, metrics and log per batch.

    The same scores, counts and log records as `_score` gives row by row, at a fraction
    of the cost (a 1,000-row batch: ~1 ms against ~10 ms); the rows lose their ids
    (kept in `batch.ids`) and go to the log, which redacts them in place.
    """
    assert state.model is not None
    model = state.model
    scores = model.predictor.predict_many(batch.rows, batch.columns)
    observe_many(state.metrics.scores, scores)
    state.metrics.predictions.inc(len(scores))
    if state.prediction_log is not None:
        id_column = state.contract.id_column
        if id_column:
            for row in batch.rows:
                row.pop(id_column, None)
        state.prediction_log.submit_batch(batch.rows, scores, model.version, batch.ids)
    return model, scores


def rounded_probabilities(scores: list[float]) -> list[float]:
    """`round(score, 6)` of each score, the same floats, a tenth of the cost for many.

    `round` formats each float in decimal (~0.7 us); numpy's `rint(score * 1e6) / 1e6`
    gives the same float (the division rounds correctly, as `round` does) unless the
    multiplication's rounding error (< 1e-10 for a probability) moves `score * 1e6`
    across a half. The scores within 1e-6 of a half (about 2 in a million), and any
    outside [0, 1] or not finite, go through `round`. A handful of scores is cheaper
    through `round` alone. A 1,000-row batch's answer: ~0.4 ms instead of ~0.6-0.7.
    """
    if len(scores) < ROUND_IN_NUMPY_FROM:
        return [round(score, 6) for score in scores]
    values = np.asarray(scores, dtype=np.float64)
    scaled = values * 1e6
    result: list[float] = (np.rint(scaled) / 1e6).tolist()
    with np.errstate(invalid="ignore"):
        unsure = ~(np.abs(scaled - np.floor(scaled) - 0.5) >= 1e-6) | ~(np.abs(values) <= 1.0)
    for index in np.flatnonzero(unsure).tolist():
        result[index] = round(scores[index], 6)
    return result


def _predictions(
    model: LoadedModel, contract: DataContract, ids: list[Any], scores: list[float]
) -> list[dict[str, Any]]:
    """The answers, shaped as `schema.Prediction` (dicts in one comprehension: no model per row)."""
    positive, negative = contract.target.positive, contract.target.negative
    threshold = model.threshold
    return [
        {
            "id": row_id,
            "probability": probability,
            "label": positive if score >= threshold else negative,
        }
        for row_id, probability, score in zip(
            ids, rounded_probabilities(scores), scores, strict=True
        )
    ]


def _json(document: Any) -> Response:
    """What JSONResponse sends, serialized by orjson (4x pydantic-core, 15x json.dumps).

    The documents are built from validated rows and finite scores: no NaN to refuse.
    """
    return Response(orjson.dumps(document), media_type="application/json")


def _telemetry(enabled: bool) -> dict[str, Any]:
    """FastAPI's own OpenTelemetry (0.142+), off unless asked for (MLOPS_OTEL=true).

    When on, FastAPI asks on every request whether an OpenTelemetry provider has been
    set up: ~6 us per request, 5% of a prediction, for tracing that the image (no
    OpenTelemetry SDK) can never export. The service's metrics are Prometheus's.
    """
    if "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}  # an older FastAPI: no native telemetry at all
    if enabled:
        return {}  # its defaults: traces, metrics and logs to the configured providers
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}


async def _apply_fault(fault: Fault) -> JSONResponse | None:
    if fault.delay_ms:
        await asyncio.sleep(fault.delay_ms / 1000)
    if fault.error:
        return JSONResponse({"detail": "injected fault: error"}, status_code=500)
    return None


def _body_schemas(app: FastAPI, models: list[type[BaseModel]]) -> None:
    """Declare the prediction routes' bodies in the OpenAPI document (they parse them).

    The routes validate the raw body themselves (one call into pydantic-core, no
    FastAPI dependency solving per request); the document still names their schemas.
    """
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = original()
        components = document.setdefault("components", {}).setdefault("schemas", {})
        for model in models:
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(schema.pop("$defs", {}))
            components[model.__name__] = schema
        return document

    app.openapi = openapi  # type: ignore[method-assign]


@dataclass(frozen=True)
class Exposure:
    """Where the operator endpoints are served: docs, metrics and version, on or off, which port."""

    docs: bool = True  # /docs and /openapi.json
    metrics: bool = True  # /metrics and /version
    admin_port: int | None = None  # None: on the API's port
    admin_host: str = "127.0.0.1"


def _lifespan(
    state: ServiceState, exposure: Exposure
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start the log writer, its shipper and the operator port, load the model; stop them.

    At shutdown the log writes what is queued, then the shipper ships its last file.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if state.fault.crash:
            raise SystemExit("injected fault: crash at start")
        if state.prediction_log is not None:
            state.prediction_log.start()
        if state.log_shipper is not None:
            state.log_shipper.start()
        admin = None
        if exposure.admin_port is not None:
            admin = AdminServer(admin_app(app, state, exposure), exposure)
            admin.start()
        try:
            state.model = await asyncio.to_thread(state.loader)
        except ModelLoadError as err:
            state.load_error = str(err)
            logger.error("model not loaded", extra={"reason": str(err)})
        else:
            gc.collect()
            gc.freeze()  # long-lived objects leave the GC's scans: shorter pauses, better p99
            version = state.model.version
            state.metrics.model_info.labels(version, state.contract.fingerprint()).set(1)
            logger.info(
                "model loaded",
                extra={"model_version": version, "predictor": state.model.predictor.kind},
            )
        try:
            yield
        finally:
            if admin is not None:
                admin.stop()
            if state.prediction_log is not None:
                state.prediction_log.close()  # SIGTERM: what is queued is written
            if state.log_shipper is not None:
                await asyncio.to_thread(state.log_shipper.close)  # and the last file shipped

    return lifespan


def _prediction_routes(
    app: FastAPI, state: ServiceState, max_batch_rows: int, max_in_flight: int
) -> None:
    """POST /predict (on the event loop) and POST /predict/batch (in a worker thread)."""
    contract = state.contract
    row_model = build_row_model(contract)  # documents the API
    batch_model = build_batch_model(row_model, max_batch_rows)
    validate = build_validators(contract, max_batch_rows)  # checks requests, the same rules
    validate_batch = BatchValidator(contract, max_batch_rows, validate.batch)  # by column

    async def predict_body(body: bytes) -> Response:
        try:  # validated first, as a body parameter would be: a bad row is 422 even while loading
            row = validate.row.validate_json(body)
        except ValidationError as err:
            return _refusal([dict(e) for e in err.errors()], max_batch_rows)
        if state.model is None or state.fault.never_ready:
            return _not_ready(state)
        if (failed := await _apply_fault(state.fault)) is not None:
            return failed
        model, scores = _score(state, [row])
        row_id = row.get(contract.id_column) if contract.id_column else None
        return _json(_predictions(model, contract, [row_id], scores)[0])

    async def predict(request: Request) -> Response:
        return await predict_body(await request.body())

    def score_batch(raw: bytes) -> Response:
        """Parse, validate and score a batch (in a worker thread, unless it is small)."""
        try:
            batch = validate_batch.validate_json(raw)
        except ValidationError as err:
            return _refusal([dict(e) for e in err.errors()], max_batch_rows)
        model, scores = _score_batch(state, batch)
        predictions = _predictions(model, contract, batch.ids, scores)
        return _json({"predictions": predictions, "model_version": model.version})

    async def predict_batch_body(body: bytes) -> Response:
        if state.model is None or state.fault.never_ready:
            return _not_ready(state)
        if (failed := await _apply_fault(state.fault)) is not None:
            return failed
        if len(body) <= INLINE_BATCH_BYTES:
            return score_batch(body)  # a few rows: cheaper than the hop to a thread
        return await asyncio.to_thread(score_batch, body)

    async def predict_batch(request: Request) -> Response:
        return await predict_batch_body(await request.body())

    busy = f"busy: {max_in_flight} requests in flight (with Retry-After)"
    responses: dict[int | str, dict[str, Any]] = {
        400: {"description": "malformed JSON"},
        413: {"description": "body too large"},
        415: {"description": "content type is not application/json"},
        422: {"description": "a field is missing, unknown or out of its allowed values"},
        503: {"description": f"the model is not loaded, or {busy}"},
    }

    def body(model: type[BaseModel]) -> dict[str, Any]:
        schema = {"$ref": f"#/components/schemas/{model.__name__}"}
        content = {"application/json": {"schema": schema}}
        return {"requestBody": {"required": True, "content": content}}

    app.add_api_route(
        "/predict",
        predict,
        methods=["POST"],
        response_model=Prediction,
        responses=responses,
        summary="Score one row",
        openapi_extra=body(row_model),
    )
    # Served by DirectRoute, in front of this documented route (same handler).
    app.add_middleware(DirectRoute, path="/predict", handler=predict_body)
    too_many = f"{responses[422]['description']}, or more than {max_batch_rows} rows"
    app.add_api_route(
        "/predict/batch",
        predict_batch,
        methods=["POST"],
        response_model=PredictionBatch,
        responses={**responses, 422: {"description": too_many}},
        summary=f"Score up to {max_batch_rows} rows",
        openapi_extra=body(batch_model),
    )
    app.add_middleware(DirectRoute, path="/predict/batch", handler=predict_batch_body)
    _body_schemas(app, [row_model, batch_model])


def _probe_routes(app: FastAPI, state: ServiceState) -> None:
    """GET /health and /ready (never shed by the in-flight cap)."""

    @app.get("/health", summary="Liveness: the process answers")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/ready",
        summary="Readiness: the model is loaded",
        responses={503: {"description": "the model is not loaded"}},
    )
    async def ready() -> Response:
        if state.model is None or state.fault.never_ready:
            return _not_ready(state)
        return JSONResponse(
            {
                "status": "ready",
                "model_version": state.model.version,
                "git_revision": state.git_revision,
            }
        )


def create_app(
    contract: DataContract,
    loader: Callable[[], LoadedModel],
    *,
    fault: Fault | None = None,
    git_revision: str = "unknown",
    prediction_log: PredictionLog | None = None,
    log_shipper: LogShipper | None = None,
    max_batch_rows: int = MAX_BATCH_ROWS,
    max_body_bytes: int = 2_000_000,
    max_in_flight: int = 64,
    exposure: Exposure | None = None,
    model_card: Path | None = None,
    telemetry: bool = False,
) -> FastAPI:
    """Build the service around a contract and a way to load the model."""
    exposure = exposure or Exposure()
    metrics = ServiceMetrics()
    state = ServiceState(
        contract=contract,
        metrics=metrics,
        loader=loader,
        fault=fault or Fault(),
        git_revision=git_revision,
        prediction_log=prediction_log,
        log_shipper=log_shipper,
    )
    if prediction_log is not None:
        prediction_log.count_with(metrics.count_log)
    if log_shipper is not None:
        log_shipper.count_with(metrics.count_upload)
    on_api_port = exposure.admin_port is None
    docs = exposure.docs and on_api_port
    app = FastAPI(
        title="Model service",
        version=__version__,
        description=f"Predicts `{contract.target.column}` = {contract.target.positive!r}; "
        "request fields come from the data contract.",
        lifespan=_lifespan(state, exposure),
        docs_url="/docs" if docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
        **_telemetry(telemetry),
    )
    app.state.max_batch_rows = max_batch_rows
    app.state.service = state
    app.add_exception_handler(RequestValidationError, _validation_error)
    _prediction_routes(app, state, max_batch_rows, max_in_flight)
    _probe_routes(app, state)
    app.add_api_route(
        "/model-card",
        model_card_handler(model_card),
        methods=["GET"],
        summary="The model card (HTML)",
        response_class=HTMLResponse,
        responses={404: {"description": "no model card in the model folder"}},
    )
    if exposure.metrics and on_api_port:
        app.add_api_route(
            "/version", version_handler(state), methods=["GET"], summary="What is running"
        )
        app.add_api_route(
            "/metrics",
            metrics_handler(state),
            methods=["GET"],
            summary="Prometheus metrics",
            response_class=Response,
        )
    app.add_middleware(BodyGuard, max_bytes=max_body_bytes, paths=BODY_ROUTES)
    app.add_middleware(VersionHeader, version=lambda: state.model.version if state.model else None)
    app.add_middleware(
        InFlightLimit, limit=max_in_flight, paths=BODY_ROUTES, on_change=metrics.in_flight.set
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics, routes=ROUTES)
    return app


def model_card_handler(model_card: Path | None) -> Callable[[], Awaitable[Response]]:
    """GET /model-card: the card `make model-card` left in the model folder (in the image)."""

    async def card() -> Response:
        if model_card is None or not model_card.is_file():
            detail = "no model card in the model folder: run `make model-card` before `make image`"
            return JSONResponse({"detail": detail}, status_code=404)
        return HTMLResponse(model_card.read_text(encoding="utf-8"))

    return card


def version_handler(state: ServiceState) -> Callable[[], Awaitable[dict[str, Any]]]:
    """GET /version: the service, revision, model, predictor, contract and any fault."""

    async def version() -> dict[str, Any]:
        model = state.model
        return {
            "service": __version__,
            "git_revision": state.git_revision,
            "model_version": model.version if model else None,
            "predictor": model.predictor.kind if model else None,
            "contract": state.contract.fingerprint(),
            "fault": state.fault.active,
        }

    return version


def metrics_handler(state: ServiceState) -> Callable[[], Awaitable[Response]]:
    """GET /metrics in Prometheus' text format."""

    async def metrics() -> Response:
        return Response(exposition(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return metrics


def admin_app(api: FastAPI, state: ServiceState, exposure: Exposure) -> FastAPI:
    """The operator port: /metrics and /version, /docs and /openapi.json (as enabled)."""
    admin = FastAPI(
        title="Model service (operator port)", docs_url=None, redoc_url=None, openapi_url=None
    )
    if exposure.metrics:
        admin.add_api_route("/version", version_handler(state), methods=["GET"])
        admin.add_api_route("/metrics", metrics_handler(state), methods=["GET"])
    if exposure.docs:

        async def openapi() -> JSONResponse:
            return JSONResponse(api.openapi())

        async def docs() -> HTMLResponse:
            return get_swagger_ui_html(openapi_url="/openapi.json", title=api.title)

        admin.add_api_route("/openapi.json", openapi, methods=["GET"])
        admin.add_api_route("/docs", docs, methods=["GET"])
    return admin


class AdminServer:
    """A second, small uvicorn server in a thread of the same process (shares the metrics)."""

    def __init__(self, app: FastAPI, exposure: Exposure) -> None:
        """Configure; nothing listens until `start`."""
        import uvicorn

        assert exposure.admin_port is not None
        config = uvicorn.Config(
            app,
            host=exposure.admin_host,
            port=exposure.admin_port,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="admin-port", daemon=True)

    def start(self) -> None:
        """Listen (a second worker process finds the port taken: logged, the API still serves)."""
        self.thread.start()

    def stop(self) -> None:
        """Stop listening."""
        self.server.should_exit = True
        self.thread.join(timeout=5)


def prediction_log_from(settings: Settings, contract: DataContract) -> PredictionLog:
    """The prediction log the settings describe (sampling, rotation, personal columns)."""
    personal = [c for c in contract.pii_columns if c != contract.id_column]
    policy = LogPolicy(
        directory=settings.prediction_log_dir,
        sample_rate=settings.prediction_log_sample,
        max_file_bytes=int(settings.prediction_log_max_file_mb * 1024 * 1024),
        keep_files=settings.prediction_log_keep_files,
        queue_size=settings.prediction_log_queue,
        pii_columns=tuple(personal),
        id_personal=contract.id_column in contract.pii_columns,
        pii_mode=settings.prediction_log_pii,
        pii_key=settings.prediction_log_pii_key.get_secret_value(),
    )
    return PredictionLog(policy)


def log_shipper_from(
    settings: Settings, log: PredictionLog | None, environ: Mapping[str, str]
) -> LogShipper | None:
    """The shipper MLOPS_PREDICTION_LOG_S3_URI asks for (None when unset or nothing is logged).

    Raises:
        ConfigError: the log goes to standard output (no files to ship), or the AWS
            settings name no usable endpoint or region.
    """
    uri = settings.prediction_log_s3_uri
    if not uri:
        return None
    if settings.prediction_log_dir == STDOUT:
        raise ConfigError(
            f"MLOPS_PREDICTION_LOG_S3_URI={uri} ships log files, but MLOPS_PREDICTION_LOG_DIR is "
            "'-' (standard output): set a folder, or unset MLOPS_PREDICTION_LOG_S3_URI"
        )
    try:
        location = S3Location.parse(uri)
        endpoint = Endpoint.for_bucket(location.bucket, environ)
    except ValueError as err:
        raise ConfigError(f"MLOPS_PREDICTION_LOG_S3_URI={uri}: {err}") from err
    if log is None:
        return None  # MLOPS_PREDICTION_LOG_SAMPLE=0 (or only checking): nothing to ship
    uploader = S3Uploader(location, endpoint, CredentialSource(environ))
    return LogShipper(log, uploader, interval=settings.prediction_log_ship_seconds)


def app_from_env() -> FastAPI:
    """Factory for uvicorn: everything from Settings (MLOPS_* variables)."""
    settings = Settings.load()
    configure_logging(settings.log_level)
    contract = load_contract(settings.contract_path)
    model_dir = settings.current_model_dir
    log = None
    if settings.prediction_log_sample > 0:
        log = prediction_log_from(settings, contract)
    shipper = log_shipper_from(settings, log, os.environ)
    return create_app(
        contract,
        lambda: load_model(model_dir, contract),
        fault=parse_fault(settings.fault),
        git_revision=settings.git_revision,
        prediction_log=log,
        log_shipper=shipper,
        max_batch_rows=settings.max_batch_rows,
        max_body_bytes=settings.max_body_bytes,
        max_in_flight=settings.max_in_flight,
        exposure=Exposure(
            docs=settings.docs,
            metrics=settings.metrics,
            admin_port=settings.admin_port,
            admin_host=settings.admin_host,
        ),
        model_card=model_dir / MODEL_CARD_HTML,
        telemetry=settings.otel,
    )
