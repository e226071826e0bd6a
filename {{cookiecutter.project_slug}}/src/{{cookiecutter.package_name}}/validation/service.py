"""Validate a data file: read it, run the plan through GX, explain and report the result.

This is the one entry point for the `validate` command, for training (which
must refuse data that fails, with the same message) and for the data tests.
Unreadable files stop at `contract.datasets` with a `DataFileError` before GX
is even imported; so do files over the size limit and lines over the line
limit. Files are read `chunk_rows` rows at a time (`contract.datasets.read_chunks`)
and each chunk is validated as it comes, so memory stays bounded whatever the
file's size (`chunks.py` combines the results); reading stops as soon as the
file has more rows than the contract's `rows.max`.
"""

from __future__ import annotations

import itertools
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..contract.datasets import DataLimits, read_chunks
from ..contract.model import DataContract, load_contract, training_data_path
from ..errors import DataValidationError
from ..layout import DATA_DOCS_DIR, DATA_VALIDATION_HTML, DATA_VALIDATION_JSON
from ..settings import Settings
from .chunks import UNIQUE, ChunkedResults, id_hashes
from .engine import KEEP_EXAMPLES, GxEngine
from .frames import derived_view, file_view
from .outcome import ValidationOutcome, interpret
from .plan import Check, Stage, build_plan
from .receipt import RECEIPT_FILE, forget, passed_before, receipt_key, write_receipt
from .report import write_html, write_json
from .rules import DataRules, load_rules


@dataclass(frozen=True)
class Validation:
    """An outcome with GX's own result documents (for the JSON report and Data Docs)."""

    outcome: ValidationOutcome
    documents: dict[str, Any]


# GX engines already built in this process, by the checks they run (most recent last).
# Building one (context and suites) takes ~1.7 s after GX's ~4 s import; a test session
# or a command that builds several validators for the same contract shares one engine.
_ENGINES: OrderedDict[str, GxEngine] = OrderedDict()
_KEEP_ENGINES = 4


def _shared_engine(plan: tuple[Check, ...], name: str) -> GxEngine:
    """The engine for these checks, built once per process (a few are kept, the newest)."""
    key = repr((name, plan))
    engine = _ENGINES.pop(key, None) or GxEngine(plan, name)
    _ENGINES[key] = engine
    while len(_ENGINES) > _KEEP_ENGINES:
        _ENGINES.popitem(last=False)
    return engine


class DataValidator:
    """The checks for one contract and rule set, with a GX engine built on first use.

    The engine (GX import, context, suites) is the slow part, and is shared by every
    validator of the process that runs the same checks; validating a 7k-row file
    afterwards takes under a second.
    """

    def __init__(self, contract: DataContract, rules: DataRules) -> None:
        """Plan the checks; GX is not imported until the first validation."""
        self.contract = contract
        self.rules = rules
        self.plan: tuple[Check, ...] = build_plan(contract, rules)
        self._engine: GxEngine | None = None

    @property
    def engine(self) -> GxEngine:
        """The GX engine, built on first use."""
        if self._engine is None:
            self._engine = _shared_engine(self.plan, self.contract.name)
        return self._engine

    def validate_frame(
        self,
        raw: pd.DataFrame,
        *,
        source: str,
        fields: pd.Series | None = None,
        started: float | None = None,
    ) -> Validation:
        """Validate a table as `read_raw` returns it.

        Args:
            raw: the table (text for CSV, typed for Parquet).
            source: how to name the data in messages (usually its path).
            fields: fields on each CSV line, for the short-line check (None: not checked).
            started: `time.perf_counter()` when reading began, to include it in the time.
        """
        started = time.perf_counter() if started is None else started
        setup = time.perf_counter()
        engine = self.engine  # built on first use: GX import, context and suites
        setup = time.perf_counter() - setup
        text = file_view(raw, self.contract)
        derived = derived_view(raw, text, self.contract, self.rules, fields)
        id_column = self.contract.id_column if self.contract.id_column in text.columns else None
        run = engine.run({"file": text, "derived": derived}, id_column, Path(source).name)
        missing = {c for c in self.contract.columns if c not in text.columns}
        results = tuple(
            interpret(check, run.by_check.get(check.key, {}), missing, id_column)
            for check in self.plan
        )
        contract = self.contract
        outcome = ValidationOutcome(
            source=source,
            rows=len(raw),
            columns=len(raw.columns),
            results=results,
            seconds=time.perf_counter() - started - setup,
            setup_seconds=setup,
            id_column=id_column,
            contract=f"{contract.name} v{contract.version} ({contract.fingerprint()})",
        )
        return Validation(outcome, run.documents)

    def validate_path(self, path: Path, limits: DataLimits | None = None) -> Validation:
        """Read and validate a CSV or Parquet file, chunk by chunk.

        Raises:
            DataFileError: the file is unreadable, over the size limit or has a line
                over the line limit.
        """
        started = time.perf_counter()
        limits = limits or DataLimits()
        chunks = read_chunks(path, limits)
        first = next(chunks)
        second = next(chunks, None)
        high = self.contract.rows.max
        if second is None and (high is None or len(first.frame) <= high):
            return self.validate_frame(
                first.frame, source=_shown(path), fields=first.fields, started=started
            )
        return self._validate_chunks(path, [first, second], chunks, limits, started)

    def _validate_chunks(
        self,
        path: Path,
        head: list[Any],
        rest: Any,
        limits: DataLimits,
        started: float,
    ) -> Validation:
        setup = time.perf_counter()
        engine = self.engine
        setup = time.perf_counter() - setup
        combined = ChunkedResults(self.plan)
        high = self.contract.rows.max
        file_columns: list[str] = []
        documents: dict[str, Any] = {}
        id_column: str | None = None
        for chunk in itertools.chain(head, rest):
            if chunk is None:
                break
            raw = chunk.frame
            file_columns = [str(c) for c in raw.columns]
            text = file_view(raw, self.contract)
            derived = derived_view(raw, text, self.contract, self.rules, chunk.fields)
            id_column = self.contract.id_column if self.contract.id_column in text.columns else None
            views: dict[Stage, pd.DataFrame] = {"file": text, "derived": derived}
            run = engine.run(views, id_column, Path(path).name)
            documents = documents or run.documents
            combined.add(run.by_check, views, len(raw))
            if high is not None and combined.rows > high:
                combined.stopped_at = combined.rows  # the row check fails: no need to read on
                break
        missing = {c for c in self.contract.columns if c not in file_columns}
        results = []
        for check in self.plan:
            examples = self._duplicate_examples(path, check, combined, limits)
            results.append(interpret(check, combined.result(check, examples), missing, id_column))
        contract = self.contract
        outcome = ValidationOutcome(
            source=_shown(path),
            rows=combined.rows,
            columns=len(file_columns),
            results=tuple(results),
            seconds=time.perf_counter() - started - setup,
            setup_seconds=setup,
            id_column=id_column,
            contract=f"{contract.name} v{contract.version} ({contract.fingerprint()})",
            chunks=combined.chunks,
            stopped_at=combined.stopped_at,
        )
        documents = {
            "note": f"Great Expectations' documents of the first of {combined.chunks} chunks "
            f"({limits.chunk_rows:,} rows each); the verdict covers every chunk",
            **documents,
        }
        return Validation(outcome, documents)

    def _duplicate_examples(
        self, path: Path, check: Check, combined: ChunkedResults, limits: DataLimits
    ) -> list[Any]:
        """A few ids that occur more than once in the file: a second pass, on failure only."""
        if check.expectation != UNIQUE:
            return []
        duplicated = combined.duplicated(check)
        column = check.kwargs["column"]
        found: list[Any] = []
        if not duplicated:
            return found
        for chunk in read_chunks(path, limits):
            values = chunk.frame[column].dropna().astype(str)
            for value, digest in zip(values, id_hashes(values), strict=True):
                if int(digest) in duplicated and value not in found:
                    found.append(value)
                    if len(found) >= KEEP_EXAMPLES:
                        return found
        return found

    def write_reports(self, validation: Validation, reports_dir: Path) -> list[Path]:
        """Write the JSON result, GX Data Docs and the offline HTML page; return their paths."""
        docs = self.engine.build_data_docs(reports_dir / DATA_DOCS_DIR)
        links = {"index": docs.index} | {f"{k} view results": v for k, v in docs.pages.items()}
        return [
            write_html(validation.outcome, reports_dir / DATA_VALIDATION_HTML, links),
            write_json(
                validation.outcome, validation.documents, reports_dir / DATA_VALIDATION_JSON
            ),
            docs.index,
        ]


def _shown(path: Path) -> str:
    """The path as the user will recognise it: relative to the current folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def validate_file(
    path: Path,
    contract: DataContract,
    rules: DataRules,
    *,
    validator: DataValidator | None = None,
    reports_dir: Path | None = None,
    limits: DataLimits | None = None,
    key: str | None = None,
) -> ValidationOutcome:
    """Validate a file and refuse it when a check fails: the guard before training.

    Args:
        path: CSV or Parquet file.
        contract: the data contract.
        rules: the cross-column rules.
        validator: a validator to reuse (its engine is the slow part to build).
        reports_dir: where to write the JSON, HTML and Data Docs reports; None writes none.
        limits: size, line and chunk limits (default: `DataLimits()`).
        key: the file's receipt key (`receipt.receipt_key`) when the caller has it;
            else it is computed here when reports are written.

    Raises:
        DataFileError: the file cannot be read as a table.
        DataValidationError: a check failed; the message is the failure table
            (plus the report's path when reports were written).
    """
    validator = validator or DataValidator(contract, rules)
    if (validator.contract, validator.rules) != (contract, rules):
        raise ValueError("the validator was built for another contract or rule set")
    limits = limits or DataLimits()
    if reports_dir is not None and key is None and path.is_file():
        key = receipt_key(path, contract, validator.plan, limits)
    validation = validator.validate_path(path, limits)
    report = ""
    if reports_dir is not None:
        # The reports about to be written are about this file: the receipt of the earlier
        # ones goes first. A file that could not be read replaced nothing, so its
        # failure leaves the earlier receipt (and the reports it vouches for) as they were.
        forget(reports_dir)
        html = validator.write_reports(validation, reports_dir)[0]
        report = f"\nfull report: {_shown(html)}"
    if not validation.outcome.success:
        raise DataValidationError(validation.outcome.failure_table() + report)
    if reports_dir is not None and key is not None:
        write_receipt(reports_dir, key, validation.outcome.scope())
    return validation.outcome


def project_validator(settings: Settings) -> DataValidator:
    """A validator for the project's configured contract and rules."""
    contract = load_contract(settings.contract_path)
    return DataValidator(contract, load_rules(settings.data_rules_path, contract))


def validate_project_data(
    settings: Settings,
    path: Path | None = None,
    *,
    validator: DataValidator | None = None,
    key: str | None = None,
) -> ValidationOutcome:
    """Validate `path` (default: the configured data) with the project's contract and rules.

    Writes the reports to the configured reports folder. This is what
    `<package> validate` runs, and what training calls before it reads the data.

    Raises:
        ContractError: the contract or the rules file is missing or invalid.
        DataFileError: the file cannot be read as a table.
        DataValidationError: a check failed; the message is the failure table.
    """
    validator = validator or project_validator(settings)
    return validate_file(
        path or training_data_path(settings, validator.contract),
        validator.contract,
        validator.rules,
        validator=validator,
        reports_dir=settings.reports_dir,
        limits=DataLimits.from_settings(settings),
        key=key,
    )


def validate_before_training(settings: Settings) -> str:
    """Validate the configured data unless these very bytes passed these very checks.

    Returns the line to print: the verdict of this validation, or of the earlier
    one whose receipt (`receipt.py`) matches. Training calls this first, so bad
    data still stops before anything is fitted, written or logged.

    Raises:
        the errors of `validate_project_data`.
    """
    validator = project_validator(settings)
    path = training_data_path(settings, validator.contract)
    key = None
    if path.is_file():
        limits = DataLimits.from_settings(settings)
        key = receipt_key(path, validator.contract, validator.plan, limits)
        earlier = passed_before(settings.reports_dir, key)
        if earlier is not None:
            receipt = _shown(settings.reports_dir / RECEIPT_FILE)
            return (
                f"data validation passed earlier: {earlier}; the same bytes, checks and code, "
                f"so not validated again ({receipt})"
            )
    # Not validated yet: the key just computed (a hash of the whole file) goes along.
    return validate_project_data(settings, validator=validator, key=key).summary_line()
