"""Run-time settings of every process (CLI, service, compose): one env variable per field.

Everything that differs between a laptop, CI and the cloud lives here (not in
template answers), so one generated project runs everywhere. Defaults keep all
state inside the project folder: no server or network is needed. Paths are
resolved against the project folder once, when the settings are built, so
every step sees absolute paths and the same file under the same name.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .config_files import validation_problems
from .errors import ConfigError
from .layout import BASELINE_MODEL_DIR, CURRENT_MODEL_DIR

PACKAGE_NAME = __name__.rpartition(".")[0]
# A path setting that means standard output (the prediction log in a container).
STDOUT = Path("-")


class Settings(BaseSettings):
    """Frozen settings; `MLOPS_<FIELD>` overrides a field (e.g. MLOPS_DATA_PATH)."""

    model_config = SettingsConfigDict(
        env_prefix="MLOPS_", frozen=True, extra="ignore", protected_namespaces=()
    )

    project_dir: Path = Field(default_factory=Path.cwd)
    # -- data and configuration ------------------------------------------------------------
    # The training data; unset, the data contract's `data_file` says where it is.
    data_path: Path | None = None
    contract_path: Path = Path("config/data_contract.yaml")
    data_rules_path: Path = Path("config/data_rules.yaml")
    training_config_path: Path = Path("config/model.yaml")
    gates_config_path: Path = Path("config/gates.yaml")
    loadtest_config_path: Path = Path("config/loadtest.yaml")
    drift_config_path: Path = Path("config/drift.yaml")
    deploy_config_path: Path = Path("config/deploy.yaml")
    model_card_config_path: Path = Path("config/model_card.yaml")
    # -- what the pipeline writes ----------------------------------------------------------
    metrics_dir: Path = Path("metrics")
    reports_dir: Path = Path("reports")
    models_dir: Path = Path("models")
    # The model the service loads (default: models/current).
    model_dir: Path | None = None
    # The model `compare` times and sizes beside the candidate (default: models/baseline).
    baseline_model_dir: Path | None = None
    # The git ref holding the baseline metrics (default: origin/$GITHUB_BASE_REF in a pull
    # request, else baseline.git_ref in config/gates.yaml). CI sets it to the base commit.
    baseline_ref: str = ""
    deploy_dir: Path = Path("deploy")
    # Where an AWS release reaches the load balancer's test and production listeners
    # (default: its DNS name), and the runner's address allowed on the test listener
    # (default: its public address). For emulators and private networks.
    deploy_test_url: str = ""
    deploy_production_url: str = ""
    deploy_runner_cidr: str = ""
    # -- data files: refused before reading when larger (validate, train, drift) ------------
    max_data_mb: float = Field(default=1024.0, gt=0)
    # A longer line (one huge field) is refused with its line number instead of read.
    max_line_kb: float = Field(default=1024.0, gt=0)
    # Rows validated at a time: memory stays bounded whatever the file's size.
    validation_chunk_rows: int = Field(default=25_000, ge=1000)
    # Training holds the whole table in memory: it refuses data it estimates above this
    # budget (default: half of this machine's memory).
    train_memory_mb: float | None = Field(default=None, gt=0)
    # -- the prediction log: each service process writes its own files, `drift` reads all --
    # A folder (one file per process, rotated by size), or "-" for standard output.
    prediction_log_dir: Path = Path("logs/predictions")
    # Share of predictions the service logs; 0 turns the log off.
    prediction_log_sample: float = Field(default=1.0, ge=0.0, le=1.0)
    prediction_log_max_file_mb: float = Field(default=16.0, gt=0)
    # Files kept in the folder (oldest deleted first): at most max_file_mb x keep_files.
    prediction_log_keep_files: int = Field(default=20, ge=2)
    # Records waiting for the writer; beyond it records are dropped (and counted), never waited for.
    prediction_log_queue: int = Field(default=10_000, ge=1)
    # Contract columns marked `pii: true` (and the id column): "hash" or "drop" them.
    prediction_log_pii: Literal["hash", "drop"] = "hash"
    # Key of the keyed hash (HMAC-SHA256); set a secret in production. Empty: plain SHA-256.
    prediction_log_pii_key: SecretStr = SecretStr("")
    # Where the service ships its closed log files (s3://bucket/prefix/; needs a folder, not "-"),
    # every ship_seconds and at shutdown; removed here once stored. Empty: kept here only.
    prediction_log_s3_uri: str = Field(
        default="", pattern=r"^(s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?)?$"
    )
    prediction_log_ship_seconds: float = Field(default=300.0, gt=0)
    # Where `fetch-predictions` copies the log from (s3://bucket/prefix/: the newest files under
    # it; one s3:// object, https:// or a path), and its cap.
    prediction_log_uri: str = ""
    fetch_max_mb: float = Field(default=512.0, gt=0)
    # `drift` exits 1 when it finds drift; false: 0 (the retraining workflow reads its
    # `drift` step output instead, so only a crash fails the step).
    drift_fail_on_drift: bool = True
    # -- MLflow ----------------------------------------------------------------------------
    tracking_uri: str | None = Field(
        default=None, validation_alias=AliasChoices("MLFLOW_TRACKING_URI", "MLOPS_TRACKING_URI")
    )
    experiment_name: str = PACKAGE_NAME
    registered_model_name: str = PACKAGE_NAME
    # -- the team's tracking server (`tracking-server`); no password has a default ---------
    tracking_dir: Path = Path("tracking")
    tracking_host: str = "127.0.0.1"
    tracking_port: int = Field(default=5000, ge=1, le=65535)
    tracking_workers: int = Field(default=2, ge=1)
    tracking_allowed_hosts: str = ""
    tracking_artifacts: str = ""
    tracking_backend_uri: str = ""
    tracking_db_port: int = Field(default=5433, ge=1, le=65535)
    tracking_db_password: SecretStr | None = None
    tracking_admin_username: str = "admin"
    tracking_admin_password: SecretStr | None = None
    # -- the service -----------------------------------------------------------------------
    max_batch_rows: int = Field(default=1000, ge=1)
    max_body_bytes: int = Field(default=2_000_000, ge=1024)
    # Predictions served at once per process; beyond it 503 + Retry-After (other routes uncapped).
    max_in_flight: int = Field(default=64, ge=1)
    # Longer than a load balancer's idle timeout (ALB: 60 s), or it sees sporadic 502s.
    keep_alive_seconds: int = Field(default=75, ge=1)
    # Worker processes of `serve`: a number, or "auto" (one per CPU this process may use,
    # its container's CPU limit included; what the image does).
    workers: Annotated[int, Field(ge=1)] | Literal["auto"] = 1
    # With several workers, their Prometheus metrics meet in a folder made here (one per
    # service, removed at exit). Default: the system's temporary folder.
    workers_metrics_dir: Path | None = None
    # /docs and /openapi.json; /metrics and /version. Both on by default (local use).
    docs: bool = True
    metrics: bool = True
    # When set, /metrics, /version, /docs and /openapi.json move off the API to this port.
    admin_port: int | None = Field(default=None, ge=1, le=65535)
    # The operator port's interface (default: the one `serve --host` listens on).
    admin_host: str = "127.0.0.1"
    log_level: str = "INFO"
    # FastAPI's own OpenTelemetry traces, metrics and logs (needs an OpenTelemetry SDK and
    # exporter set up in the process). Off: it costs ~6 us per request even unexported.
    otel: bool = False
    # Rehearsal switch for release tests: crash | never-ready | error | slow:<ms>. Off by default.
    fault: str = ""
    git_revision: str = Field(
        default="unknown",
        validation_alias=AliasChoices("MLOPS_GIT_REVISION", "GIT_REVISION", "GITHUB_SHA"),
    )

    @model_validator(mode="before")
    @classmethod
    def _resolve_paths(cls, data: Any) -> Any:
        """Make every path absolute against the project folder (absolute paths win)."""
        if not isinstance(data, dict):
            return data
        resolved = dict(data)
        project = Path(resolved.get("project_dir") or Path.cwd()).resolve()
        resolved["project_dir"] = project
        for name, info in cls.model_fields.items():
            if name == "project_dir" or "Path" not in str(info.annotation):
                continue
            value = resolved.get(name, info.default)
            if value is None:
                continue
            value = Path(value)
            if value == STDOUT:
                resolved[name] = value
                continue
            resolved[name] = value if value.is_absolute() else project / value
        if resolved.get("model_dir") is None:
            resolved["model_dir"] = Path(resolved["models_dir"]) / CURRENT_MODEL_DIR
        if resolved.get("baseline_model_dir") is None:
            resolved["baseline_model_dir"] = Path(resolved["models_dir"]) / BASELINE_MODEL_DIR
        return resolved

    @classmethod
    def load(cls, project_dir: Path | None = None) -> Settings:
        """Settings from the environment; a bad value is one clear ConfigError, not a traceback."""
        try:
            return cls() if project_dir is None else cls(project_dir=project_dir)
        except ValidationError as err:
            raise ConfigError(f"invalid MLOPS_* setting: {validation_problems(err)}") from err

    @property
    def current_model_dir(self) -> Path:
        """The model the service loads and the image bakes in (MLOPS_MODEL_DIR)."""
        assert self.model_dir is not None  # set by the validator
        return self.model_dir

    @property
    def baseline_model(self) -> Path:
        """The model `compare` times beside the candidate (MLOPS_BASELINE_MODEL_DIR)."""
        assert self.baseline_model_dir is not None  # set by the validator
        return self.baseline_model_dir

    def path(self, given: Path) -> Path:
        """A path given on the command line, resolved like the configured ones."""
        return given if given.is_absolute() else self.project_dir / given

    def relative(self, path: Path) -> Path:
        """`path` relative to the project folder (for `git show` and messages)."""
        try:
            return path.relative_to(self.project_dir)
        except ValueError:
            return path

    @property
    def train_memory_bytes(self) -> tuple[int, str]:
        """The training memory budget in bytes, and where it comes from (for messages)."""
        if self.train_memory_mb is not None:
            return int(self.train_memory_mb * 1024 * 1024), "MLOPS_TRAIN_MEMORY_MB"
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):  # not POSIX: assume a small laptop
            total = 8 * 1024**3
        return total // 2, "half of this machine's memory; MLOPS_TRAIN_MEMORY_MB sets it"

    @property
    def local_store_path(self) -> Path:
        """The project's own MLflow store: the SQLite file used without MLFLOW_TRACKING_URI."""
        return self.project_dir / "mlflow.db"

    @property
    def mlflow_tracking_uri(self) -> str:
        """MLFLOW_TRACKING_URI if set, else a SQLite store inside the project."""
        if self.tracking_uri:
            return self.tracking_uri
        return f"sqlite:///{self.local_store_path}"
