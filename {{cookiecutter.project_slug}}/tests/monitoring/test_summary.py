"""The closing summary of `make all`: where the service runs and what the pipeline found."""

from __future__ import annotations

from {{ cookiecutter.package_name }}.monitoring.summary import summary_lines

LIVE = {"production_port": 8080, "live": {"colour": "green", "version": "3"}}
DRIFT = {
    "headline": "drift: none detected (19 columns checked)",
    "current": {"source": "prediction log logs/predictions (3 files, 9,000 records)"},
}


def test_a_released_service_and_its_verdict() -> None:
    text = "\n".join(
        summary_lines(
            state=LIVE,
            ready={"model_version": "3"},
            metrics_url="http://127.0.0.1:8080/metrics",
            reports=["reports/report.md", "reports/drift.html"],
            drift=DRIFT,
            stop="make deploy-stop",
        )
    )
    assert "http://127.0.0.1:8080 (green, model version 3)" in text
    assert "metrics  http://127.0.0.1:8080/metrics" in text
    assert "reports/report.md, reports/drift.html" in text
    assert "none detected (19 columns checked); on prediction log logs/predictions" in text
    assert text.splitlines()[-1] == "stop it  make deploy-stop"


def test_nothing_released_or_a_service_that_stopped_answering() -> None:
    nothing = summary_lines(
        state={}, ready=None, metrics_url=None, reports=[], drift=None, stop="make deploy-stop"
    )
    assert "not released (run `make deploy-local`)" in nothing[1]
    assert "not checked (run `make drift`)" in "\n".join(nothing)
    dead = summary_lines(
        state=LIVE, ready=None, metrics_url=None, reports=[], drift=DRIFT, stop="-"
    )
    assert "NOT ANSWERING" in dead[1]
