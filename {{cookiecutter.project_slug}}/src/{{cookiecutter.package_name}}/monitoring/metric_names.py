"""Names of the metrics the service exposes, shared with the alert rules and the dashboard.

infra/monitoring/alerts.yml and the Grafana dashboard query exactly these
families; the service registers them (with prometheus_client) under these names.
"""

from __future__ import annotations

# name: (Prometheus type, labels)
SERVICE_METRICS: dict[str, tuple[str, tuple[str, ...]]] = {
    "http_requests_total": ("counter", ("route", "method", "status")),
    "http_request_duration_seconds": ("histogram", ("route",)),
    "prediction_score": ("histogram", ()),
    "model_info": ("gauge", ("model_version", "contract")),
    "predictions_total": ("counter", ()),
    "prediction_log_records_total": ("counter", ("outcome",)),
    "prediction_log_uploads_total": ("counter", ("outcome",)),
    "http_requests_in_flight": ("gauge", ()),
}

# Series that a histogram or counter family produces in queries.
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
