"""The alert rules, the dashboard and the compose stack agree with each other and the service.

promtool itself runs in the template's tests; these checks need nothing but
Python, so they guard edits to infra/ in every project.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from {{ cookiecutter.package_name }}.monitoring.metric_names import (
    HISTOGRAM_SUFFIXES,
    SERVICE_METRICS,
)

from ..conftest import PROJECT_DIR

MONITORING = PROJECT_DIR / "infra" / "monitoring"
ALERTS = {
    "ModelServiceDown",
    "HighErrorRate",
    "HighLatencyP99",
    "PredictionScoreShift",
    "NoPredictionTraffic",
    "PredictionLogDropping",
    "PredictionLogUploadsFailing",
}
PROMQL_FUNCTIONS = {
    "sum", "rate", "increase", "histogram_quantile", "abs", "absent", "max", "min", "by",
    "and", "or", "offset", "unless", "on",
}  # fmt: skip


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def series_names() -> set[str]:
    names = {"up"}
    for name, (kind, _) in SERVICE_METRICS.items():
        names.add(name)
        if kind == "histogram":
            names.update(name + suffix for suffix in HISTOGRAM_SUFFIXES)
    return names


def metrics_in(expr: str) -> set[str]:
    """Identifiers of an expression that are neither functions, labels nor keywords."""
    bare = re.sub(r"\{[^}]*\}|\[[^\]]*\]", "", expr)  # label matchers, ranges
    bare = re.sub(r"\b(by|on)\s*\([^)]*\)", "", bare)  # grouping labels
    bare = re.sub(r"\boffset\s+\w+", "", bare)
    words = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", bare))
    return words - PROMQL_FUNCTIONS


def rules() -> list[dict[str, Any]]:
    doc = load_yaml(MONITORING / "alerts.yml")
    return [rule for group in doc["groups"] for rule in group["rules"]]


def test_the_alerts_exist_and_carry_a_severity_and_a_summary() -> None:
    found = {rule["alert"]: rule for rule in rules()}
    assert set(found) == ALERTS
    for rule in found.values():
        assert rule["labels"]["severity"] in {"page", "ticket"}
        assert rule["annotations"]["summary"]


def test_alerts_query_only_the_service_metrics() -> None:
    for rule in rules():
        assert metrics_in(rule["expr"]) <= series_names(), rule["alert"]


def test_every_alert_has_a_firing_and_a_quiet_unit_test() -> None:
    doc = load_yaml(MONITORING / "alerts_test.yml")
    firing, quiet = set(), set()
    for case in doc["tests"]:
        for check in case["alert_rule_test"]:
            (firing if check["exp_alerts"] else quiet).add(check["alertname"])
    assert firing == ALERTS
    assert quiet == ALERTS


def test_prometheus_config_loads_the_rules() -> None:
    config = load_yaml(MONITORING / "prometheus.yml")
    for rule_file in config["rule_files"]:
        assert (MONITORING / rule_file).is_file()
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    assert "model-service" in jobs  # the alerts select up{job="model-service"}


def dashboard() -> dict[str, Any]:
    return json.loads((MONITORING / "grafana" / "dashboards" / "model-service.json").read_text())


def test_dashboard_panels_use_the_provisioned_data_source_and_known_metrics() -> None:
    sources = load_yaml(MONITORING / "grafana" / "provisioning" / "datasources" / "prometheus.yml")
    uid = sources["datasources"][0]["uid"]
    panels = dashboard()["panels"]
    for panel in panels:
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == uid
            assert metrics_in(target["expr"]) <= series_names(), panel["title"]


@pytest.mark.parametrize(
    "title", ["Requests per second", "Error rate", "Latency p50 / p99", "score", "Model version"]
)
def test_dashboard_shows(title: str) -> None:
    assert any(title in panel["title"] for panel in dashboard()["panels"])


def test_compose_mounts_files_that_exist() -> None:
    compose = load_yaml(PROJECT_DIR / "docker-compose.yml")
    assert set(compose["services"]) == {"service", "prometheus", "grafana", "mlflow"}
    assert compose["services"]["service"]["build"] == "."
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./") and source != "./logs":
                assert (PROJECT_DIR / source).exists(), f"{name}: {source}"


def test_compose_points_grafana_at_the_dashboard_folder() -> None:
    compose = load_yaml(PROJECT_DIR / "docker-compose.yml")
    mounts = dict(v.split(":")[:2] for v in compose["services"]["grafana"]["volumes"])
    provider = load_yaml(
        MONITORING / "grafana" / "provisioning" / "dashboards" / "model-service.yml"
    )
    path = provider["providers"][0]["options"]["path"]
    assert mounts["./infra/monitoring/grafana/dashboards"] == path
