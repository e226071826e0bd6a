"""Great Expectations plumbing: an ephemeral context holding one suite per view of the file.

Uses the GX Core 1.x API: `get_context(mode="ephemeral")`, a pandas data
source with one dataframe asset per view (see `frames.py`), an
`ExpectationSuite` per view built from the plan, and a `ValidationDefinition`
that is run with the frame as a batch parameter. Nothing is written to disk
unless Data Docs are asked for. GX itself is imported here only, inside the
constructor: the import takes ~5 s, so an engine is built once per process
(a CLI call, a training run, a test session) and reused for every file.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from .plan import Check, Stage

STAGES: tuple[Stage, ...] = ("file", "derived")
KEEP_EXAMPLES = 10  # offending values/rows GX keeps per check (the table shows 3)


# GX 1.x rebuilds an expectation's configuration (a pydantic `.dict()` and a new
# ExpectationConfiguration) every time `Expectation.configuration` is read, and one
# validation reads it dozens of times per expectation: a third of the time a validation
# of the sample takes. While this engine runs a validation, the reads are memoized per
# expectation object, in this thread only: the expectations GX validates with are built
# from the suite for that run and not changed during it, so the memo returns what GX
# would build (tests/validation/test_engine.py compares whole result documents). Any
# other read, in any other thread or outside a run, computes as GX wrote it.
_RUNNING = threading.local()


def _memoize_expectation_configurations() -> None:
    """Wrap `Expectation.configuration` once per process; a no-op if GX changed its shape."""
    from great_expectations.expectations.expectation import Expectation

    current = Expectation.__dict__.get("configuration")
    if not isinstance(current, property) or current.fget is None:
        return  # not the property this memo was written for: GX computes as it does
    if getattr(current.fget, "memoized_per_run", False):
        return
    compute = current.fget

    def configuration(self: Any) -> Any:
        memo: dict[int, tuple[Any, Any]] | None = getattr(_RUNNING, "memo", None)
        if memo is None:
            return compute(self)
        # The memo keeps the object itself too, so its id is not reused during the run.
        found = memo.get(id(self))
        if found is None:
            found = memo[id(self)] = (self, compute(self))
        return found[1]

    configuration.memoized_per_run = True  # type: ignore[attr-defined]
    Expectation.configuration = property(configuration, doc=current.__doc__)


@contextmanager
def _configurations_memoized() -> Iterator[None]:
    """Memoize expectation configurations in this thread for the length of one run."""
    _RUNNING.memo = {}
    try:
        yield
    finally:
        _RUNNING.memo = None


@dataclass(frozen=True)
class EngineRun:
    """Results of one validation: per check, and GX's own result documents per view."""

    by_check: dict[str, dict[str, Any]]
    documents: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class DataDocs:
    """Where the Data Docs landed: the site index and this run's page per view."""

    index: Path
    pages: dict[Stage, Path]


class GxEngine:
    """The GX context, suites and validation definitions for one plan."""

    def __init__(self, plan: Sequence[Check], name: str) -> None:
        """Build the context and one suite per view.

        Args:
            plan: the checks to run (`plan.build_plan`).
            name: prefix of GX object names, shown in Data Docs (the contract's name).
        """
        import great_expectations as gx
        import great_expectations.expectations as gxe
        from great_expectations.data_context.types.base import (
            ProgressBarsConfig,
        )

        _memoize_expectation_configurations()
        self.plan = tuple(plan)
        self._context = gx.get_context(mode="ephemeral")
        # GX draws tqdm bars on every run and ignores TQDM_DISABLE; CI logs need none.
        self._context.variables.progress_bars = ProgressBarsConfig(globally=False)
        source = self._context.data_sources.add_pandas(name)
        self._definitions: dict[Stage, Any] = {}
        for stage in STAGES:
            suite = self._context.suites.add(gx.ExpectationSuite(name=f"{name}.{stage}"))
            for check in self.plan:
                if check.stage == stage:
                    expectation = getattr(gxe, check.expectation)
                    suite.add_expectation(expectation(**check.kwargs, meta={"check": check.key}))
            asset = source.add_dataframe_asset(stage)
            batch = asset.add_batch_definition_whole_dataframe("whole file")
            self._definitions[stage] = self._context.validation_definitions.add(
                gx.ValidationDefinition(name=f"{name}.{stage}", data=batch, suite=suite)
            )

    def run(
        self, views: Mapping[Stage, pd.DataFrame], id_column: str | None, run_name: str
    ) -> EngineRun:
        """Validate each view against its suite; only this run's results are kept.

        GX stores every result in the context, for Data Docs. Results of earlier
        runs are dropped, so a long-lived engine (a test session validating dozens
        of files) neither grows nor renders stale pages.

        Args:
            views: the frame for each stage.
            id_column: names offending rows in the results when the view has it.
            run_name: names the run in Data Docs (the file's name).
        """
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.resource_identifiers import (
            ValidationResultIdentifier,
        )

        run_id = RunIdentifier(run_name=run_name, run_time=datetime.now(UTC))
        by_check: dict[str, dict[str, Any]] = {}
        documents: dict[str, dict[str, Any]] = {}
        for stage, definition in self._definitions.items():
            frame = views[stage]
            result_format: dict[str, Any] = {
                "result_format": "SUMMARY",
                "partial_unexpected_count": KEEP_EXAMPLES,
            }
            if id_column is not None and id_column in frame.columns:
                result_format["unexpected_index_column_names"] = [id_column]
            with _configurations_memoized():
                result = definition.run(
                    batch_parameters={"dataframe": frame},
                    result_format=result_format,
                    run_id=run_id,
                )
            document: dict[str, Any] = result.to_json_dict()
            documents[stage] = document
            for item in document["results"]:
                by_check[item["expectation_config"]["meta"]["check"]] = item
        store = self._context.validation_results_store
        for key in store.list_keys():
            if isinstance(key, ValidationResultIdentifier) and key.run_id != run_id:
                store.remove_key(key)
        return EngineRun(by_check, documents)

    def build_data_docs(self, directory: Path) -> DataDocs:
        """Render GX's Data Docs for the latest validation, replacing older pages.

        The ephemeral context's built-in site (`local_site`) writes to a temporary
        folder; pointing its store at `directory` keeps the pages with the other
        reports. The folder is emptied first: a new process knows nothing of the
        pages of earlier runs, which would otherwise pile up unlisted.
        """
        from great_expectations.data_context.store.store import (
            DataDocsSiteConfigTypedDict,
        )

        site: DataDocsSiteConfigTypedDict = {
            "class_name": "SiteBuilder",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(directory.resolve()),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
        shutil.rmtree(directory, ignore_errors=True)
        self._context.update_data_docs_site("local_site", site)
        self._context.build_data_docs(site_names=["local_site"])
        pages = {}
        for stage, definition in self._definitions.items():
            suite_folder = directory / "validations" / Path(*definition.suite.name.split("."))
            for page in suite_folder.rglob("*.html"):  # only this run's result is stored
                pages[stage] = page
        return DataDocs(directory / "index.html", pages)
