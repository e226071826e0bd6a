"""Run-time settings: paths and service addresses, from the environment with local defaults.

Everything that differs between a laptop, CI and the cloud lives here (not in
template answers), so one generated project runs everywhere. Defaults keep all
state inside the project folder: no server or network is needed.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_NAME = __name__.rpartition(".")[0]


class Settings(BaseSettings):
    """Frozen settings; `MLOPS_<FIELD>` overrides a field (e.g. MLOPS_DATA_PATH)."""

    model_config = SettingsConfigDict(env_prefix="MLOPS_", frozen=True, extra="ignore")

    project_dir: Path = Field(default_factory=Path.cwd)
    data_path: Path = Path("data/raw/telco_customer_churn.csv")
    contract_path: Path = Path("config/data_contract.yaml")
    data_rules_path: Path = Path("config/data_rules.yaml")
    training_config_path: Path = Path("config/model.yaml")
    gates_config_path: Path = Path("config/gates.yaml")
    metrics_dir: Path = Path("metrics")
    reports_dir: Path = Path("reports")
    models_dir: Path = Path("models")
    drift_config_path: Path = Path("config/drift.yaml")
    prediction_log_path: Path = Path("logs/predictions.jsonl")
    deploy_config_path: Path = Path("config/deploy.yaml")
    deploy_dir: Path = Path("deploy")
    tracking_uri: str | None = Field(
        default=None, validation_alias=AliasChoices("MLFLOW_TRACKING_URI", "MLOPS_TRACKING_URI")
    )
    experiment_name: str = PACKAGE_NAME
    registered_model_name: str = PACKAGE_NAME

    def path(self, relative: Path) -> Path:
        """Resolve a configured path against the project folder (absolute paths win)."""
        return relative if relative.is_absolute() else self.project_dir / relative

    @property
    def mlflow_tracking_uri(self) -> str:
        """MLFLOW_TRACKING_URI if set, else a SQLite store inside the project."""
        if self.tracking_uri:
            return self.tracking_uri
        return f"sqlite:///{(self.project_dir / 'mlflow.db').resolve()}"
