"""The `drift` and `simulate-drift` commands.

`drift` reads the training data (reference) and recent data (the service's
prediction log by default), scores both with the current model when there is
one, runs the checks of monitoring/detect.py and writes reports/drift.json,
drift.md and drift.html. It exits 1 when anything drifted, so a scheduled CI
job turns red and, when configured, a Slack message or a GitHub issue goes out:
the signal to look at the report and retrain.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from ..contract.model import DataContract, load_contract, training_data_path
from ..contract.pii import is_hashed
from ..errors import DriftError, FetchError, MetricsFileError
from ..layout import (
    DATA_VALIDATION_HTML,
    DRIFT_HTML,
    DRIFT_JSON,
    DRIFT_MARKDOWN,
    LOADTEST_FILE,
    METRICS_FILE,
    RECENT_LABELLED_CSV,
    REPORT_FILE,
    SIMULATED_DIR,
)
from ..settings import PACKAGE_NAME, STDOUT, Settings
from ..train.metrics_file import read_metrics
from .config import DriftConfig, SegmentValue, load_drift_config
from .detect import DriftResult, detect_drift
from .fetch import fetch, fetch_prefix, fetched_name, is_prefix
from .frames import Sample, labelled_table
from .inputs import (
    attach_labels,
    load_current,
    read_table,
    sample_from_log,
    sample_from_table,
)
from .model import TrainedModel, load_trained_model, score
from .notify import notify
from .prediction_log import has_records
from .render import to_dict, to_html, to_markdown
from .simulate import Kind, resample, simulate
from .summary import summary_lines

DEFAULT_THRESHOLD = 0.5


def _training_metrics(settings: Settings) -> tuple[dict[str, float] | None, float | None]:
    """The `metrics` section of metrics/metrics.json and the model's decision threshold."""
    path = settings.metrics_dir / METRICS_FILE
    if not path.is_file():
        return None, None
    try:
        doc = read_metrics(path)
    except MetricsFileError as err:
        raise DriftError(str(err)) from err
    numbers = {k: float(v) for k, v in doc["metrics"].items() if isinstance(v, int | float)}
    threshold = (doc.get("model") or {}).get("threshold")
    return numbers, float(threshold) if isinstance(threshold, int | float) else None


def _current_sample(
    settings: Settings,
    contract: DataContract,
    *,
    config: DriftConfig,
    current: Path | None,
    reference_raw: pd.DataFrame,
    reference_path: Path,
    notes: list[str],
) -> Sample:
    if current is not None:
        return load_current(settings.path(current), contract)
    log = settings.prediction_log_dir
    if has_records(log):
        return sample_from_log(log, contract)
    rows, seed = config.fallback.rows, config.fallback.seed
    notes.append(
        f"no prediction log at {log}: checked a fresh resample of the training data instead "
        f"({rows} rows, seed {seed}); this shows the check runs, not that production is healthy"
    )
    return sample_from_table(
        resample(reference_raw, rows, seed),
        contract,
        f"resample of {reference_path} ({rows} rows, seed {seed})",
    )


def _with_scores(
    model: TrainedModel | None,
    reference: Sample,
    current: Sample,
    contract: DataContract,
    notes: list[str],
) -> tuple[Sample, Sample]:
    if model is None:
        notes.append(
            "no trained model in models/current: prediction-score drift and live metrics "
            "are skipped (run `make train`)"
        )
        return reference, current
    try:
        reference = dataclasses.replace(
            reference, scores=score(model, reference.features, contract)
        )
        if current.scores is None:
            current = dataclasses.replace(current, scores=score(model, current.features, contract))
            notes.append(f"current data has no scores: scored with model version {model.version}")
    except DriftError as err:
        notes.append(f"score checks skipped: {err}")
        return dataclasses.replace(reference, scores=None), dataclasses.replace(
            current, scores=None
        )
    if current.model_versions:
        seen = ", ".join(f"{v} ({n} rows)" for v, n in sorted(current.model_versions.items()))
        notes.append(f"model versions in the log: {seen}")
        if model.version not in current.model_versions:
            notes.append(
                f"the log was scored by other model versions than models/current "
                f"({model.version}): a score shift may come from the model change"
            )
    return reference, current


def _without_personal_columns(
    config: DriftConfig, contract: DataContract, current: Sample, notes: list[str]
) -> DriftConfig:
    """Personal columns are hashed or absent in a prediction log: they are not compared."""
    personal = [c for c in contract.pii_columns if c in contract.feature_columns]
    if not personal or not current.description.startswith("prediction log"):
        return config
    notes.append(
        "not compared: " + ", ".join(personal) + " (personal data, `pii: true` in the contract:"
        " the prediction log keeps them hashed or not at all)"
    )
    excluded = tuple(dict.fromkeys([*config.exclude, *personal]))
    return config.model_copy(update={"exclude": excluded})


def check_drift(
    settings: Settings,
    reference: Path | None = None,
    current: Path | None = None,
    labels: Path | None = None,
) -> DriftResult:
    """Load everything, run the checks, return the result (no files written)."""
    return check_drift_and_current(settings, reference, current, labels)[0]


def check_drift_and_current(
    settings: Settings,
    reference: Path | None = None,
    current: Path | None = None,
    labels: Path | None = None,
) -> tuple[DriftResult, Sample]:
    """The result of `check_drift` and the current sample it checked."""
    contract = load_contract(settings.contract_path)
    config = load_drift_config(settings.drift_config_path)
    config.check_against(contract, settings.drift_config_path)
    reference_path = settings.path(reference or training_data_path(settings, contract))
    reference_raw = read_table(reference_path)
    reference_sample = sample_from_table(reference_raw, contract, str(reference_path))
    notes: list[str] = []
    current_sample = _current_sample(
        settings,
        contract,
        config=config,
        current=current,
        reference_raw=reference_raw,
        reference_path=reference_path,
        notes=notes,
    )
    if labels is not None:
        key = settings.prediction_log_pii_key.get_secret_value()
        current_sample = attach_labels(current_sample, settings.path(labels), contract, key)
    config = _without_personal_columns(config, contract, current_sample, notes)
    model = load_trained_model(settings.current_model_dir)
    reference_sample, current_sample = _with_scores(
        model, reference_sample, current_sample, contract, notes
    )
    training_metrics, metrics_threshold = _training_metrics(settings)
    threshold = (model.threshold if model else None) or metrics_threshold or DEFAULT_THRESHOLD
    result = detect_drift(
        reference_sample,
        current_sample,
        contract,
        config,
        training_metrics=training_metrics,
        threshold=threshold,
        notes=tuple(notes),
    )
    return result, current_sample


def write_reports(result: DriftResult, directory: Path) -> list[Path]:
    """reports/drift.json, drift.md and drift.html; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    outputs = {
        DRIFT_JSON: json.dumps(to_dict(result), indent=2, allow_nan=False) + "\n",
        DRIFT_MARKDOWN: to_markdown(result),
        DRIFT_HTML: to_html(result),
    }
    paths = []
    for name, text in outputs.items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def _print_summary(result: DriftResult) -> None:
    for note in result.notes:
        print(f"note: {note}")
    for check in result.columns:
        if check.status != "ok":
            print(f"  {check.status:5} {check.column}: {'; '.join(check.reasons)} ({check.change})")
    for missing in result.missing:
        if missing.drifted:
            print(
                f"  drift {missing.column}: missing values "
                f"{missing.reference_rate:.1%} → {missing.current_rate:.1%}"
            )
    if result.concept is not None:
        for metric in result.concept.checks:
            if metric.degraded:
                print(
                    f"  drift {metric.name}: {metric.training:.3f} in training → "
                    f"{metric.live:.3f} live (max drop {metric.max_drop:g})"
                )
        if result.concept.note:
            print(f"note: live metrics: {result.concept.note}")
    print(result.headline())


def run_drift(
    settings: Settings,
    reference: Path | None = None,
    current: Path | None = None,
    labels: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """The `drift` command: check, write the reports, notify on drift; 1 when drift was found.

    The labelled rows of the recent data (outcomes known) are kept in
    reports/recent_labelled.csv for `append-recent`. In GitHub Actions the step
    output `drift` says whether drift was found; with MLOPS_DRIFT_FAIL_ON_DRIFT=false
    the command then exits 0 on drift, so that only a crash fails the step.
    """
    contract = load_contract(settings.contract_path)
    result, recent = check_drift_and_current(settings, reference, current, labels)
    paths = write_reports(result, settings.reports_dir)
    # The fallback resample is the training data itself: nothing new to learn from.
    from_recent_data = current is not None or has_records(settings.prediction_log_dir)
    labelled = labelled_table(recent, contract)
    if not from_recent_data:
        labelled = labelled.iloc[:0]
    target = settings.reports_dir / RECENT_LABELLED_CSV
    target.unlink(missing_ok=True)
    if len(labelled):
        labelled.to_csv(target, index=False)
        paths.append(target)
    print(f"labelled recent rows: {len(labelled):,} of {recent.rows:,}")
    outputs = (env if env is not None else os.environ).get("GITHUB_OUTPUT")
    if outputs:
        with Path(outputs).open("a", encoding="utf-8") as handle:
            handle.write(f"drift={'true' if result.failed else 'false'}\n")
    _print_summary(result)
    print("reports: " + ", ".join(str(p) for p in paths))
    if result.failed:
        body = to_markdown(result)
        for delivery in notify(result.headline(), body, os.environ if env is None else env):
            print(f"{'notified' if delivery.ok else 'warning'}: {delivery.detail}")
    return 1 if result.failed and settings.drift_fail_on_drift else 0


def run_append_recent(settings: Settings) -> int:
    """The `append-recent` command: add the new labelled recent rows to the training data.

    Reads reports/recent_labelled.csv (written by `drift`), keeps the rows whose id
    the training file does not hold yet, and appends them to it (CSV, as text, the
    existing lines untouched). `train` then validates the grown file against the
    contract before it trains. Nothing labelled or nothing new: the file stays as is.
    """
    contract = load_contract(settings.contract_path)
    data_path = training_data_path(settings, contract)
    source = settings.reports_dir / RECENT_LABELLED_CSV
    if not source.is_file():
        print(
            f"append-recent: no labelled recent data ({source} is absent: `make drift` writes "
            "it when the recent data has outcomes); the training data stays as is"
        )
        return 0
    if data_path.suffix.lower() != ".csv":
        raise DriftError(f"append-recent appends to CSV training data only, not {data_path}")
    recent = pd.read_csv(source, dtype=str, keep_default_na=False)
    header = list(pd.read_csv(data_path, dtype=str, nrows=0).columns)
    absent = [c for c in header if c not in recent.columns]
    if absent:
        raise DriftError(f"{source} lacks the training data's column(s): {', '.join(absent)}")
    recent = recent[header]
    hashed = [c for c in contract.pii_columns if c in recent and recent[c].map(is_hashed).any()]
    if hashed:
        raise DriftError(
            f"{source}: personal column(s) {', '.join(hashed)} hold hashed values (the "
            "prediction log hashes them, MLOPS_PREDICTION_LOG_PII=hash): appending them would "
            "corrupt the training data. Append labelled rows with their plain values from "
            "your own records instead; nothing was appended"
        )
    id_column = contract.id_column
    if id_column:
        known = set(pd.read_csv(data_path, dtype=str, usecols=[id_column])[id_column])
        new = recent[~recent[id_column].isin(known)].drop_duplicates(subset=[id_column])
    else:
        new = recent.drop_duplicates()
    if new.empty:
        print(f"append-recent: the {len(recent):,} labelled recent rows are all in {data_path}")
        return 0
    with data_path.open("rb+") as handle:  # the file must end with a line break
        handle.seek(0, os.SEEK_END)
        if handle.tell():
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                handle.write(b"\n")
    new.to_csv(data_path, mode="a", header=False, index=False)
    print(
        f"append-recent: {len(new):,} new labelled rows appended to {data_path} "
        f"({len(recent) - len(new):,} already there)"
    )
    return 0


def _pairs(items: Sequence[str], what: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise DriftError(f"{what} must look like COLUMN=VALUE, got {item!r}")
        pairs[name] = value
    return pairs


def run_simulate(
    settings: Settings,
    kind: Kind,
    *,
    output: Path | None = None,
    rows: int | None = None,
    seed: int | None = None,
    shifts: Sequence[str] = (),
    segment: Sequence[str] = (),
) -> int:
    """The `simulate-drift` command: write a drifted resample of the training data."""
    contract = load_contract(settings.contract_path)
    config = load_drift_config(settings.drift_config_path)
    config.check_against(contract, settings.drift_config_path)
    spec = config.simulation
    try:
        factors = {k: float(v) for k, v in _pairs(shifts, "--shift").items()} or spec.data_drift
    except ValueError as err:
        raise DriftError(f"--shift factors must be numbers: {err}") from err
    chosen_segment: dict[str, SegmentValue] = dict(_pairs(segment, "--segment")) or (
        dict(spec.concept_drift.segment) if spec.concept_drift else {}
    )
    source = training_data_path(settings, contract)
    frame = simulate(
        read_table(source),
        contract,
        kind,
        rows=rows or spec.rows,
        seed=spec.seed if seed is None else seed,
        factors=factors,
        segment=chosen_segment,
    )
    path = settings.path(output or settings.reports_dir / SIMULATED_DIR / f"{kind}.csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in {".parquet", ".pq"}:
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    what = {
        "none": "no drift (a plain resample)",
        "data": "data drift: " + ", ".join(f"{k} x{v:g}" for k, v in factors.items()),
        "concept": "concept drift: labels flipped where "
        + ", ".join(f"{name}={value}" for name, value in chosen_segment.items()),
    }[kind]
    print(f"wrote {len(frame)} rows with {what} to {path}")
    print(f"check it: {PACKAGE_NAME} drift --current {path}")
    return 0


def run_fetch_predictions(settings: Settings, uri: str | None) -> int:
    """Copy the configured log (MLOPS_PREDICTION_LOG_URI) into the prediction log folder.

    A file is copied whole; from an S3 prefix, its newest files up to the cap.
    """
    source = uri or settings.prediction_log_uri
    if not source:
        print("fetch-predictions: MLOPS_PREDICTION_LOG_URI is not set: nothing to fetch")
        return 0
    if settings.prediction_log_dir == STDOUT:
        raise FetchError("MLOPS_PREDICTION_LOG_DIR is '-' (standard output): set a folder")
    cap = int(settings.fetch_max_mb * 1024 * 1024)
    if is_prefix(source):
        fetched = fetch_prefix(source, settings.prediction_log_dir, cap)
        line = (
            f"fetch-predictions: {source} -> {settings.prediction_log_dir}: "
            f"{len(fetched.files)} of {fetched.found} files, {fetched.bytes:,} bytes, newest first"
        )
        if fetched.skipped_bytes:
            line += f"; {fetched.skipped_bytes:,} bytes of older files left (MLOPS_FETCH_MAX_MB)"
        print(line)
        return 0
    target = settings.prediction_log_dir / fetched_name(source)
    size = fetch(source, target, cap)
    print(f"fetch-predictions: {source} -> {target} ({size:,} bytes)")
    return 0


def run_summary(settings: Settings) -> int:
    """The `summary` command: where the service runs, the reports, metrics, drift, how to stop."""
    from ..deploy.local import local_state_path
    from ..deploy.state import load_state
    from ..probes import http_json

    state = load_state(local_state_path(settings))
    ready = None
    port = state.get("production_port")
    if port and state.get("live"):
        try:
            status, body = http_json(f"http://127.0.0.1:{port}/ready", timeout=2.0)
            ready = body if status == 200 and isinstance(body, dict) else None
        except OSError:
            ready = None
    metrics = None
    if port and settings.metrics:
        metrics_port = settings.admin_port or port
        metrics = f"http://127.0.0.1:{metrics_port}/metrics (Prometheus text format)"
    names = (REPORT_FILE, DATA_VALIDATION_HTML, LOADTEST_FILE, DRIFT_HTML)
    reports = [
        str(settings.relative(settings.reports_dir / n))
        for n in names
        if (settings.reports_dir / n).is_file()
    ]
    drift_path = settings.reports_dir / DRIFT_JSON
    drift = json.loads(drift_path.read_text(encoding="utf-8")) if drift_path.is_file() else None
    lines = summary_lines(
        state=state,
        ready=ready,
        metrics_url=metrics,
        reports=reports,
        drift=drift,
        stop="make deploy-stop (nginx and the service processes)",
    )
    print("\n".join(lines))
    return 0
