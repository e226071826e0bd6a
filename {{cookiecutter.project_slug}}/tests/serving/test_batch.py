"""Batch scoring (`predict`): contract checks by line, fail or skip, ids, formats, URLs."""

from __future__ import annotations

import csv
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.contract.datasets import read_as_text, read_raw, to_typed
from {{ cookiecutter.package_name }}.errors import BatchInputError
from {{ cookiecutter.package_name }}.layout import PIPELINE_FILE
from {{ cookiecutter.package_name }}.serving.batch import score_file
from {{ cookiecutter.package_name }}.serving.batch_check import Coded, check_chunk
from {{ cookiecutter.package_name }}.serving.predictor import LoadedModel, load_model
from {{ cookiecutter.package_name }}.train import training

from ..conftest import SAMPLE, build_model_dir, contract, roles

# The contract's columns by role, never the sample's names: these tests hold on any data.
CONTRACT = contract()
ROLES = roles()
ID = ROLES.id or "id"  # the output's id column: the contract's, else "id" (line numbers)
READERS = ["arrow", "csv"]
NOT_A_VALUE = "no-such-value"
# A bad value and how batch scoring words it: an unlisted category, or (all-numeric data)
# text in a numeric column.
REFUSED = ROLES.categorical or ROLES.numeric
REFUSED_WHY = f"{REFUSED} '{NOT_A_VALUE}' is " + (
    "not one of" if ROLES.categorical else "not a number"
)


def _a_required_feature() -> str:
    """A feature that may not be blank."""
    required = [
        name
        for name in CONTRACT.feature_columns
        if not {**CONTRACT.numeric, **CONTRACT.categorical}[name].nullable
    ]
    assert required, "these tests need a non-nullable feature in the contract"
    return required[0]


REQUIRED = _a_required_feature()


def _above_the_maximum() -> str:
    spec = CONTRACT.numeric[ROLES.numeric]
    assert spec.max is not None
    return str(int(spec.max) + 1) if spec.dtype == "int" else f"{spec.max + 1:g}"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_model_dir(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def model(model_dir: Path) -> LoadedModel:
    return load_model(model_dir, CONTRACT)


@pytest.fixture(scope="module")
def sample_rows(sample_csv: Path) -> list[list[str]]:
    """The configured data file's header and rows, as text fields."""
    with sample_csv.open(newline="", encoding="utf-8") as handle:
        return [row for row in csv.reader(handle) if row]


def write_rows(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return path


def read_scores(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def with_value(row: list[str], header: list[str], column: str, value: str) -> list[str]:
    changed = list(row)
    changed[header.index(column)] = value
    return changed


def expected_ids(frame: pd.DataFrame, first: int = 2) -> list[str]:
    """The contract's id column, or each row's number: its CSV line (the header is line 1),
    its row in a Parquet file (from 1)."""
    if ROLES.id:
        return frame[ROLES.id].astype(str).tolist()
    return [str(line) for line in range(first, len(frame) + first)]


@pytest.mark.parametrize("reader", READERS)
def test_scores_match_the_pipeline_with_ids_labels_and_version(
    tmp_path: Path, model: LoadedModel, model_dir: Path, sample_csv: Path, reader: str
) -> None:
    out = tmp_path / "scores.csv"
    result = score_file(str(sample_csv), str(out), CONTRACT, model, reader=reader, chunk_rows=1000)
    scores = read_scores(out)
    frame = to_typed(read_raw(sample_csv), CONTRACT)
    pipeline = joblib.load(model_dir / PIPELINE_FILE)
    expected = pipeline.predict_proba(training.feature_frame(frame, CONTRACT))[:, 1]
    assert result.rows_in == result.rows_scored == len(frame) == len(scores)
    assert [s[ID] for s in scores] == expected_ids(frame)
    got = np.array([float(s["probability"]) for s in scores])
    assert np.abs(got - expected).max() < 1e-5
    labels = np.where(got >= model.threshold, ROLES.positive, ROLES.negative)
    assert [s["label"] for s in scores] == labels.tolist()
    assert {s["model_version"] for s in scores} == {model.version}


@pytest.mark.parametrize("reader", READERS)
def test_bad_rows_fail_the_run_naming_their_lines_and_leave_no_output(
    tmp_path: Path, model: LoadedModel, sample_rows: list[list[str]], reader: str
) -> None:
    header = sample_rows[0]
    rows = [list(row) for row in sample_rows[:20]]
    rows[4] = with_value(rows[4], header, REFUSED, NOT_A_VALUE)  # line 5
    rows[9] = with_value(rows[9], header, ROLES.numeric, "ten")  # line 10
    rows[12] = rows[12][:-3]  # line 13: three fields short
    out = tmp_path / "scores.csv"
    with pytest.raises(BatchInputError) as failure:
        score_file(
            str(write_rows(tmp_path / "in.csv", rows)), str(out), CONTRACT, model, reader=reader
        )
    message = str(failure.value)
    assert f"line 5: {REFUSED_WHY}" in message
    assert f"line 10: {ROLES.numeric} 'ten' is not a number" in message
    assert f"line 13: has {len(header) - 3} fields, the header {len(header)}" in message
    assert "--on-error skip" in message
    assert list(tmp_path.glob("*scores*")) == []


@pytest.mark.parametrize("reader", READERS)
def test_skipped_rows_are_listed_by_line_never_dropped_silently(
    tmp_path: Path, model: LoadedModel, sample_rows: list[list[str]], reader: str
) -> None:
    header = sample_rows[0]
    rows = [list(row) for row in sample_rows[:30]]
    rows[2] = with_value(rows[2], header, ROLES.numeric, _above_the_maximum())  # line 3
    rows[6] = with_value(rows[6], header, REQUIRED, "")  # line 7
    rows[10] = rows[10][:-2]  # line 11: two fields short (the reader itself skips it)
    rows[20] = with_value(rows[20], header, REFUSED, NOT_A_VALUE)  # line 21
    path = write_rows(tmp_path / "in.csv", rows)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(15, "")  # a blank line 16 is no row, but it counts as a line
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "scores.csv"
    result = score_file(
        str(path), str(out), CONTRACT, model, on_error="skip", reader=reader, chunk_rows=7
    )
    assert result.rows_in == 29
    assert result.rejected == 4
    assert result.rows_scored == 25 == len(read_scores(out))
    assert result.rejects_file == tmp_path / "scores.rejected.csv"
    rejected = read_scores(result.rejects_file)
    assert [r["line"] for r in rejected] == ["3", "7", "11", "22"]
    assert f"{ROLES.numeric} {_above_the_maximum()} is above the maximum" in rejected[0]["reasons"]
    assert f"{REQUIRED} is blank" in rejected[1]["reasons"]
    assert f"has {len(header) - 2} fields, the header {len(header)}" in rejected[2]["reasons"]
    assert REFUSED_WHY in rejected[3]["reasons"]
    if ROLES.id:  # the row after the blank line is scored
        scored_ids = {s[ID] for s in read_scores(out)}
        assert rows[15][header.index(ROLES.id)] in scored_ids


def test_rows_without_an_id_get_their_line_number(tmp_path: Path, model: LoadedModel) -> None:
    frame = read_as_text(SAMPLE).head(5)
    if ROLES.id:
        frame.loc[2, ROLES.id] = ""
        frame.to_csv(tmp_path / "blank-id.csv", index=False)
        score_file(str(tmp_path / "blank-id.csv"), str(tmp_path / "a.csv"), CONTRACT, model)
        ids = [s[ID] for s in read_scores(tmp_path / "a.csv")]
        assert ids == [*frame[ROLES.id].tolist()[:2], "4", *frame[ROLES.id].tolist()[3:]]
    unlabelled = [c for c in (ROLES.id, ROLES.target) if c and c in frame.columns]
    frame.drop(columns=unlabelled).to_csv(tmp_path / "no-id.csv", index=False)
    score_file(str(tmp_path / "no-id.csv"), str(tmp_path / "b.csv"), CONTRACT, model)
    assert [s[ID] for s in read_scores(tmp_path / "b.csv")] == ["2", "3", "4", "5", "6"]


def test_parquet_in_and_out(tmp_path: Path, model: LoadedModel) -> None:
    frame = read_as_text(SAMPLE).head(200)
    typed = to_typed(frame, CONTRACT)
    typed.to_parquet(tmp_path / "in.parquet", index=False)
    result = score_file(
        str(tmp_path / "in.parquet"), str(tmp_path / "out.parquet"), CONTRACT, model, chunk_rows=64
    )
    scores = pd.read_parquet(tmp_path / "out.parquet")
    assert result.reader == "parquet"
    assert len(scores) == len(typed)
    assert scores.columns.tolist() == [ID, "probability", "label", "model_version"]
    assert scores[ID].astype(str).tolist() == expected_ids(typed, first=1)


def test_a_file_without_a_feature_column_is_refused(tmp_path: Path, model: LoadedModel) -> None:
    frame = read_as_text(SAMPLE).head(5)
    frame.drop(columns=[ROLES.numeric]).to_csv(tmp_path / "in.csv", index=False)
    with pytest.raises(BatchInputError, match="lacks the contract's feature column"):
        score_file(str(tmp_path / "in.csv"), str(tmp_path / "out.csv"), CONTRACT, model)


def test_check_chunk_reports_every_reason_of_a_row() -> None:
    rows = 2
    columns = {name: Coded.from_values(["x"] * rows) for name in CONTRACT.feature_columns}
    checked = check_chunk(CONTRACT, columns, rows)
    assert not checked.good.any()
    assert len(checked.bad[0].reasons) == len(CONTRACT.feature_columns)


@pytest.fixture
def http_files(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A loopback HTTP server: GET serves tmp_path's files, PUT stores them (a presigned URL)."""
    root = tmp_path

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(root), **kwargs)  # type: ignore[arg-type]

        def do_PUT(self) -> None:
            length = int(self.headers["Content-Length"])
            (root / self.path.split("?")[0].lstrip("/")).write_bytes(self.rfile.read(length))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


def test_urls_in_and_out_like_s3_presigned_urls(
    http_files: tuple[str, Path], model: LoadedModel, sample_rows: list[list[str]]
) -> None:
    base, root = http_files
    write_rows(root / "in.csv", sample_rows[:11])
    result = score_file(
        f"{base}/in.csv?X-Amz-Signature=abc", f"{base}/out.csv?sig=1", CONTRACT, model
    )
    assert result.rows_scored == 10
    assert len(read_scores(root / "out.csv")) == 10


def test_cli_predict_prints_a_summary_and_fails_with_one_line(
    tmp_path: Path,
    model_dir: Path,
    sample_rows: list[list[str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MLOPS_MODEL_DIR", str(model_dir))
    good = write_rows(tmp_path / "good.csv", sample_rows[:6])
    assert main(["predict", str(good), "-o", str(tmp_path / "out.csv")]) == 0
    assert "scored 5 of 5 rows with model version 7" in capsys.readouterr().out
    header = sample_rows[0]
    too_big = _above_the_maximum()
    bad = write_rows(
        tmp_path / "bad.csv", [header, with_value(sample_rows[1], header, ROLES.numeric, too_big)]
    )
    assert main(["predict", str(bad), "--output", str(tmp_path / "out2.csv")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert f"line 2: {ROLES.numeric} {too_big} is above the maximum" in err[0]
    assert main(["predict", str(bad), "-o", str(tmp_path / "out3.csv"), "--on-error", "skip"]) == 0
    assert "skipped 1 row(s)" in capsys.readouterr().out


def test_cli_predict_without_input_scores_the_contracts_data_file(
    tmp_path: Path,
    model_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`make predict` (no INPUT): the training data named by the contract, into reports/."""
    monkeypatch.setenv("MLOPS_MODEL_DIR", str(model_dir))
    monkeypatch.setenv("MLOPS_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.delenv("MLOPS_DATA_PATH", raising=False)
    assert main(["predict"]) == 0
    assert "predict: scored" in capsys.readouterr().out
    assert (tmp_path / "reports" / "predictions.csv").is_file()
