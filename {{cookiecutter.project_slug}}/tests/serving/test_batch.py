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
from {{ cookiecutter.package_name }}.contract.datasets import read_raw, to_typed
from {{ cookiecutter.package_name }}.errors import BatchInputError
from {{ cookiecutter.package_name }}.layout import PIPELINE_FILE
from {{ cookiecutter.package_name }}.serving.batch import score_file
from {{ cookiecutter.package_name }}.serving.batch_check import Coded, check_chunk
from {{ cookiecutter.package_name }}.serving.predictor import LoadedModel, load_model
from {{ cookiecutter.package_name }}.train import training

from ..conftest import SAMPLE, build_model_dir, contract

CONTRACT = contract()
READERS = ["arrow", "csv"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_model_dir(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def model(model_dir: Path) -> LoadedModel:
    return load_model(model_dir, CONTRACT)


@pytest.fixture(scope="module")
def sample_lines() -> list[str]:
    return SAMPLE.read_text(encoding="utf-8").splitlines()


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_scores(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def with_value(line: str, header: str, column: str, value: str) -> str:
    fields = next(csv.reader([line]))
    fields[header.split(",").index(column)] = value
    return ",".join(f'"{f}"' if "," in f else f for f in fields)


@pytest.mark.parametrize("reader", READERS)
def test_scores_match_the_pipeline_with_ids_labels_and_version(
    tmp_path: Path, model: LoadedModel, model_dir: Path, reader: str
) -> None:
    out = tmp_path / "scores.csv"
    result = score_file(str(SAMPLE), str(out), CONTRACT, model, reader=reader, chunk_rows=1000)
    scores = read_scores(out)
    frame = to_typed(read_raw(SAMPLE), CONTRACT)
    pipeline = joblib.load(model_dir / PIPELINE_FILE)
    expected = pipeline.predict_proba(training.feature_frame(frame, CONTRACT))[:, 1]
    assert result.rows_in == result.rows_scored == len(frame) == len(scores)
    assert [s["customerID"] for s in scores] == frame["customerID"].tolist()
    got = np.array([float(s["probability"]) for s in scores])
    assert np.abs(got - expected).max() < 1e-5
    labels = np.where(got >= model.threshold, "Yes", "No")
    assert [s["label"] for s in scores] == labels.tolist()
    assert {s["model_version"] for s in scores} == {model.version}


@pytest.mark.parametrize("reader", READERS)
def test_bad_rows_fail_the_run_naming_their_lines_and_leave_no_output(
    tmp_path: Path, model: LoadedModel, sample_lines: list[str], reader: str
) -> None:
    header = sample_lines[0]
    lines = list(sample_lines[:20])
    lines[4] = with_value(lines[4], header, "Contract", "Forever")  # line 5
    lines[9] = with_value(lines[9], header, "tenure", "ten")  # line 10
    lines[12] = lines[12].rsplit(",", 3)[0]  # line 13: three fields short
    out = tmp_path / "scores.csv"
    with pytest.raises(BatchInputError) as failure:
        score_file(
            str(write_lines(tmp_path / "in.csv", lines)), str(out), CONTRACT, model, reader=reader
        )
    message = str(failure.value)
    assert "line 5: Contract 'Forever' is not one of" in message
    assert "line 10: tenure 'ten' is not a number" in message
    assert "line 13: has 18 fields, the header 21" in message
    assert "--on-error skip" in message
    assert list(tmp_path.glob("*scores*")) == []


@pytest.mark.parametrize("reader", READERS)
def test_skipped_rows_are_listed_by_line_never_dropped_silently(
    tmp_path: Path, model: LoadedModel, sample_lines: list[str], reader: str
) -> None:
    header = sample_lines[0]
    lines = list(sample_lines[:30])
    lines[2] = with_value(lines[2], header, "MonthlyCharges", "-5")  # line 3
    lines[6] = with_value(lines[6], header, "gender", "")  # line 7
    lines.insert(15, "")  # a blank line 16 is no row, but it counts as a line
    lines[20] = with_value(lines[20], header, "SeniorCitizen", "2")  # line 21
    out = tmp_path / "scores.csv"
    result = score_file(
        str(write_lines(tmp_path / "in.csv", lines)),
        str(out),
        CONTRACT,
        model,
        on_error="skip",
        reader=reader,
        chunk_rows=7,
    )
    assert result.rows_in == 29
    assert result.rejected == 3
    assert result.rows_scored == 26 == len(read_scores(out))
    assert result.rejects_file == tmp_path / "scores.rejected.csv"
    rejected = read_scores(result.rejects_file)
    assert [r["line"] for r in rejected] == ["3", "7", "21"]
    assert "MonthlyCharges -5 is below the minimum 0" in rejected[0]["reasons"]
    assert "gender is blank" in rejected[1]["reasons"]
    assert "SeniorCitizen '2' is not allowed" in rejected[2]["reasons"]
    scored_ids = {s["customerID"] for s in read_scores(out)}
    assert lines[21].split(",")[0] in scored_ids  # the row after the blank line


def test_rows_without_an_id_get_their_line_number(
    tmp_path: Path, model: LoadedModel, sample_lines: list[str]
) -> None:
    frame = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False).head(5)
    frame.loc[2, "customerID"] = ""
    frame.to_csv(tmp_path / "blank-id.csv", index=False)
    frame.drop(columns=["customerID", "Churn"]).to_csv(tmp_path / "no-id.csv", index=False)
    score_file(str(tmp_path / "blank-id.csv"), str(tmp_path / "a.csv"), CONTRACT, model)
    score_file(str(tmp_path / "no-id.csv"), str(tmp_path / "b.csv"), CONTRACT, model)
    ids = [s["customerID"] for s in read_scores(tmp_path / "a.csv")]
    assert ids == [
        frame.loc[0, "customerID"],
        frame.loc[1, "customerID"],
        "4",
        frame.loc[3, "customerID"],
        frame.loc[4, "customerID"],
    ]
    assert [s["customerID"] for s in read_scores(tmp_path / "b.csv")] == ["2", "3", "4", "5", "6"]


def test_parquet_in_and_out(tmp_path: Path, model: LoadedModel) -> None:
    frame = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False).head(200)
    typed = to_typed(frame, CONTRACT)
    typed.to_parquet(tmp_path / "in.parquet", index=False)
    result = score_file(
        str(tmp_path / "in.parquet"), str(tmp_path / "out.parquet"), CONTRACT, model, chunk_rows=64
    )
    scores = pd.read_parquet(tmp_path / "out.parquet")
    assert result.reader == "parquet"
    assert len(scores) == 200
    assert scores.columns.tolist() == ["customerID", "probability", "label", "model_version"]
    assert scores["customerID"].tolist() == frame["customerID"].tolist()


def test_a_file_without_a_feature_column_is_refused(tmp_path: Path, model: LoadedModel) -> None:
    frame = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False).head(5)
    frame.drop(columns=["tenure"]).to_csv(tmp_path / "in.csv", index=False)
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
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


def test_urls_in_and_out_like_s3_presigned_urls(
    http_files: tuple[str, Path], model: LoadedModel, sample_lines: list[str]
) -> None:
    base, root = http_files
    write_lines(root / "in.csv", sample_lines[:11])
    result = score_file(
        f"{base}/in.csv?X-Amz-Signature=abc", f"{base}/out.csv?sig=1", CONTRACT, model
    )
    assert result.rows_scored == 10
    assert len(read_scores(root / "out.csv")) == 10


def test_cli_predict_prints_a_summary_and_fails_with_one_line(
    tmp_path: Path,
    model_dir: Path,
    sample_lines: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MLOPS_MODEL_DIR", str(model_dir))
    good = write_lines(tmp_path / "good.csv", sample_lines[:6])
    assert main(["predict", str(good), "-o", str(tmp_path / "out.csv")]) == 0
    assert "scored 5 of 5 rows with model version 7" in capsys.readouterr().out
    header = sample_lines[0]
    bad = write_lines(
        tmp_path / "bad.csv", [header, with_value(sample_lines[1], header, "tenure", "-1")]
    )
    assert main(["predict", str(bad), "--output", str(tmp_path / "out2.csv")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "line 2: tenure -1 is below the minimum 0" in err[0]
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
