"""A new local MLflow store is a copy of an empty migrated one, the same as MLflow builds.

The unit tests copy the shared empty store from the user's cache, as `make train`
does (built on first use, once per MLflow version). The integration test builds one
in an empty cache and compares it, table by table, with a store MLflow built itself.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from {{ cookiecutter.package_name }}.train.store_seed import (
    schema_revision,
    seed_local_store,
    template,
)


def _client(db: Path) -> Any:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import mlflow

    return mlflow.MlflowClient(tracking_uri=f"sqlite:///{db}")


def _clauses(sql: str | None) -> list[str]:
    """A CREATE statement's lines, sorted: MLflow's migrations list a rebuilt table's
    constraints in an order that varies between runs (two stores it builds differ so)."""
    return sorted(line.strip().rstrip(",") for line in (sql or "").splitlines())


def _contents(db: Path) -> dict[str, Any]:
    """Schema, revision, rows per table and the experiments of a store."""
    with contextlib.closing(sqlite3.connect(db)) as connection:
        tables = [
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        return {
            "schema": sorted(
                (kind, name, _clauses(sql))
                for kind, name, sql in connection.execute(
                    "SELECT type, name, sql FROM sqlite_master"
                )
            ),
            "rows": {
                t: connection.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables
            },
            "revision": schema_revision(db),
            "experiments": connection.execute(
                "SELECT experiment_id, name, lifecycle_stage FROM experiments"
            ).fetchall(),
        }


def test_a_new_store_is_a_copy_that_mlflow_uses_as_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # MLflow puts its default experiment's artifacts in ./mlruns
    db = tmp_path / "mlflow.db"
    assert seed_local_store(db)
    assert schema_revision(db) == schema_revision(template())
    client = _client(db)
    [default] = client.search_experiments()  # MLflow adds its default experiment, here
    assert default.name == "Default"
    assert Path(default.artifact_location) == tmp_path / "mlruns" / "0"  # not the cache's
    experiment = client.create_experiment("seeded", artifact_location=(tmp_path / "a").as_uri())
    run = client.create_run(experiment)
    client.log_metric(run.info.run_id, "roc_auc", 0.84)
    client.create_registered_model("model")
    assert client.get_run(run.info.run_id).data.metrics == {"roc_auc": 0.84}


def test_an_existing_store_is_never_replaced(tmp_path: Path) -> None:
    db = tmp_path / "mlflow.db"
    db.write_bytes(b"the team's runs")
    assert not seed_local_store(db)
    assert db.read_bytes() == b"the team's runs"
    assert not list(tmp_path.glob(".mlflow.db.*"))  # no copy left behind


def test_without_a_usable_cache_mlflow_builds_the_store_itself(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.write_text("a file where the cache folder would be")
    db = tmp_path / "project" / "mlflow.db"
    db.parent.mkdir()
    assert not seed_local_store(db, cache=cache)
    assert not db.exists()
    assert not list(db.parent.iterdir())


def test_a_file_that_is_not_a_migrated_store_has_no_revision(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not sqlite")
    assert schema_revision(junk) is None
    assert schema_revision(tmp_path / "missing.db") is None
    with contextlib.closing(sqlite3.connect(tmp_path / "empty.db")) as connection:
        connection.execute("CREATE TABLE other (x)")
    assert schema_revision(tmp_path / "empty.db") is None


def test_a_project_folder_named_with_uri_characters_gets_its_store(tmp_path: Path) -> None:
    db = tmp_path / "churn?v=2#draft" / "mlflow.db"  # read as a query and a fragment in a URI
    db.parent.mkdir()
    assert seed_local_store(db)
    assert schema_revision(db) == schema_revision(template())


@pytest.mark.integration
def test_a_seeded_store_is_the_store_mlflow_builds(tmp_path: Path) -> None:
    """Built in an empty cache, copied, opened: table for table what MLflow makes itself."""
    built, seeded = tmp_path / "built" / "mlflow.db", tmp_path / "seeded" / "mlflow.db"
    built.parent.mkdir()
    seeded.parent.mkdir()
    _client(built).search_experiments()
    assert seed_local_store(seeded, cache=tmp_path / "cache")
    _client(seeded).search_experiments()
    assert _contents(seeded) == _contents(built)
    assert _contents(built)["revision"] is not None
