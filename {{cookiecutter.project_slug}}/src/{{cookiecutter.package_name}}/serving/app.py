"""The FastAPI application: predictions, health, readiness, version and metrics.

`create_app` builds everything from explicit arguments (tests pass their own),
`app_from_env` reads ServingSettings for uvicorn. The model loads in the
lifespan, so the process answers `/health` at once and `/ready` only when it
can predict: the signal that blue/green switching waits for.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from .. import __version__
from ..contract.model import DataContract, load_contract
from ..errors import ModelLoadError
from ..layout import MODEL_CARD_HTML
from ..settings import Settings
from .faults import Fault, parse_fault
from .guards import BodyGuard
from .logs import configure_logging
from .metrics import MetricsMiddleware, ServiceMetrics
from .prediction_log import PredictionLogWriter
from .predictor import LoadedModel, load_model
from .schema import MAX_BATCH_ROWS, Prediction, PredictionBatch, build_batch_model, build_row_model

logger = logging.getLogger(__name__)

ROUTES = frozenset(
    {
        "/predict",
        "/predict/batch",
        "/health",
        "/ready",
        "/version",
        "/metrics",
        "/model-card",
        "/docs",
        "/openapi.json",
    }
)


@dataclass
class ServiceState:
    """What the routes share; the model is None until the lifespan loaded it."""

    contract: DataContract
    metrics: ServiceMetrics
    loader: Callable[[], LoadedModel]
    fault: Fault = field(default_factory=Fault)
    git_revision: str = "unknown"
    prediction_log: PredictionLogWriter | None = None
    model: LoadedModel | None = None
    load_error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _with_body(
    handler: Callable[..., Awaitable[Any]], model: type[BaseModel]
) -> Callable[..., Any]:
    """Give `handler` a signature whose body parameter is the contract-generated model.

    FastAPI reads parameter types from the signature, and these models only
    exist at run time, so the signature is built here instead of annotated.
    """
    parameter = inspect.Parameter("body", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=model)
    handler.__signature__ = inspect.Signature([parameter])  # type: ignore[attr-defined]
    return handler


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


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(
        e.get("type") == "too_long" and tuple(e.get("loc", ())) == ("body", "rows") for e in errors
    ):
        limit = request.app.state.max_batch_rows
        return JSONResponse({"detail": f"a batch may hold at most {limit} rows"}, status_code=413)
    if any(e.get("type") == "json_invalid" for e in errors):
        return JSONResponse({"detail": "request body is not valid JSON"}, status_code=400)
    return JSONResponse({"detail": _field_errors(errors)}, status_code=422)


def _not_ready(state: ServiceState) -> JSONResponse:
    reason = state.load_error or "the model is still loading"
    return JSONResponse({"detail": f"not ready: {reason}"}, status_code=503)


def _score(state: ServiceState, rows: list[dict[str, Any]]) -> tuple[LoadedModel, list[float]]:
    assert state.model is not None
    scores = state.model.predictor.predict(rows)
    for score in scores:
        state.metrics.scores.observe(score)
    if state.prediction_log is not None:
        id_column = state.contract.id_column
        for row, score in zip(rows, scores, strict=True):
            features = {k: v for k, v in row.items() if k != id_column}
            record_id = row.get(id_column) if id_column else None
            state.prediction_log.log(features, score, state.model.version, record_id=record_id)
    return state.model, scores


def _prediction(
    model: LoadedModel, contract: DataContract, row: dict[str, Any], score: float
) -> Prediction:
    label = contract.target.positive if score >= model.threshold else contract.target.negative
    row_id = row.get(contract.id_column) if contract.id_column else None
    return Prediction(id=row_id, probability=round(score, 6), label=label)


async def _apply_fault(fault: Fault) -> JSONResponse | None:
    if fault.delay_ms:
        await asyncio.sleep(fault.delay_ms / 1000)
    if fault.error:
        return JSONResponse({"detail": "injected fault: error"}, status_code=500)
    return None


def create_app(
    contract: DataContract,
    loader: Callable[[], LoadedModel],
    *,
    fault: Fault | None = None,
    git_revision: str = "unknown",
    prediction_log: PredictionLogWriter | None = None,
    max_batch_rows: int = MAX_BATCH_ROWS,
    max_body_bytes: int = 2_000_000,
    model_card: Path | None = None,
) -> FastAPI:
    """Build the service around a contract and a way to load the model."""
    state = ServiceState(
        contract=contract,
        metrics=ServiceMetrics(),
        loader=loader,
        fault=fault or Fault(),
        git_revision=git_revision,
        prediction_log=prediction_log,
    )
    row_model = build_row_model(contract)
    batch_model = build_batch_model(row_model, max_batch_rows)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if state.fault.crash:
            raise SystemExit("injected fault: crash at start")
        try:
            state.model = await asyncio.to_thread(state.loader)
        except ModelLoadError as err:
            state.load_error = str(err)
            logger.error("model not loaded", extra={"reason": str(err)})
        else:
            gc.collect()
            gc.freeze()  # long-lived objects leave the GC's scans: shorter pauses, better p99
            version = state.model.version
            state.metrics.model_info.labels(version, contract.fingerprint()).set(1)
            logger.info(
                "model loaded",
                extra={"model_version": version, "predictor": state.model.predictor.kind},
            )
        yield

    app = FastAPI(
        title="Model service",
        version=__version__,
        description=f"Predicts `{contract.target.column}` = {contract.target.positive!r}; "
        "request fields come from the data contract.",
        lifespan=lifespan,
    )
    app.state.max_batch_rows = max_batch_rows
    app.state.service = state
    app.add_exception_handler(RequestValidationError, _validation_error)

    async def predict(body: BaseModel) -> Response:
        if state.model is None or state.fault.never_ready:
            return _not_ready(state)
        if (failed := await _apply_fault(state.fault)) is not None:
            return failed
        row = body.model_dump(by_alias=True)
        model, (score,) = _score(state, [row])
        return JSONResponse(_prediction(model, contract, row, score).model_dump())

    async def predict_batch(body: BaseModel) -> Response:
        if state.model is None or state.fault.never_ready:
            return _not_ready(state)
        if (failed := await _apply_fault(state.fault)) is not None:
            return failed
        rows = [row.model_dump(by_alias=True) for row in body.rows]  # type: ignore[attr-defined]
        model, scores = _score(state, rows)
        predictions = [
            _prediction(model, contract, r, s) for r, s in zip(rows, scores, strict=True)
        ]
        batch = PredictionBatch(predictions=predictions, model_version=model.version)
        return JSONResponse(batch.model_dump())

    responses: dict[int | str, dict[str, Any]] = {
        400: {"description": "malformed JSON"},
        413: {"description": "body or batch too large"},
        415: {"description": "content type is not application/json"},
        422: {"description": "a field is missing, unknown or out of its allowed values"},
        503: {"description": "the model is not loaded"},
    }
    app.add_api_route(
        "/predict",
        _with_body(predict, row_model),
        methods=["POST"],
        response_model=Prediction,
        responses=responses,
        summary="Score one row",
    )
    app.add_api_route(
        "/predict/batch",
        _with_body(predict_batch, batch_model),
        methods=["POST"],
        response_model=PredictionBatch,
        responses=responses,
        summary=f"Score up to {max_batch_rows} rows",
    )

    @app.get("/health", summary="Liveness: the process answers")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready", summary="Readiness: the model is loaded", responses={503: {}})
    async def ready() -> Response:
        if state.model is None or state.fault.never_ready:
            return _not_ready(state)
        return JSONResponse({"status": "ready", "model_version": state.model.version})

    @app.get("/version", summary="What is running")
    async def version() -> dict[str, Any]:
        model = state.model
        return {
            "service": __version__,
            "git_revision": state.git_revision,
            "model_version": model.version if model else None,
            "predictor": model.predictor.kind if model else None,
            "contract": contract.fingerprint(),
            "fault": state.fault.active,
        }

    @app.get("/model-card", summary="The model card (HTML)", response_class=HTMLResponse)
    async def card() -> Response:
        if model_card is None or not model_card.is_file():
            detail = "no model card in the model folder: run `make model-card` before `make image`"
            return JSONResponse({"detail": detail}, status_code=404)
        return HTMLResponse(model_card.read_text(encoding="utf-8"))

    @app.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(BodyGuard, max_bytes=max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=state.metrics, routes=ROUTES)
    return app


def app_from_env() -> FastAPI:
    """Factory for uvicorn: everything from Settings (MLOPS_* variables)."""
    settings = Settings.load()
    configure_logging(settings.log_level)
    contract = load_contract(settings.contract_path)
    model_dir = settings.current_model_dir
    log = None
    if settings.prediction_log_sample > 0:
        log = PredictionLogWriter(settings.prediction_log_path, settings.prediction_log_sample)
    return create_app(
        contract,
        lambda: load_model(model_dir, contract),
        fault=parse_fault(settings.fault),
        git_revision=settings.git_revision,
        prediction_log=log,
        max_batch_rows=settings.max_batch_rows,
        max_body_bytes=settings.max_body_bytes,
        model_card=model_dir / MODEL_CARD_HTML,
    )
