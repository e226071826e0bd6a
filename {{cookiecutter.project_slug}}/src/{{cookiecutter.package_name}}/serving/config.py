"""Settings of the running service, from `MLOPS_*` environment variables.

Kept apart from the training settings so the container only needs what the
service reads: where the model is, what to log, and the rehearsal fault switch.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServingSettings(BaseSettings):
    """Frozen; every field can be set as MLOPS_<FIELD>."""

    model_config = SettingsConfigDict(env_prefix="MLOPS_", frozen=True, extra="ignore")

    project_dir: Path = Field(default_factory=Path.cwd)
    model_dir: Path = Path("models/current")
    contract_path: Path = Path("config/data_contract.yaml")
    max_batch_rows: int = Field(default=1000, ge=1)
    max_body_bytes: int = Field(default=2_000_000, ge=1024)
    prediction_log: Path | None = None
    prediction_log_sample: float = Field(default=1.0, ge=0.0, le=1.0)
    log_level: str = "INFO"
    access_log: bool = False
    # Rehearsal switch for release tests: crash | never-ready | error | slow:<ms>. Off by default.
    fault: str = ""
    git_revision: str = Field(
        default="unknown", validation_alias=AliasChoices("GIT_REVISION", "MLOPS_GIT_REVISION")
    )

    def path(self, relative: Path) -> Path:
        """Resolve a configured path against the project folder (absolute paths win)."""
        return relative if relative.is_absolute() else self.project_dir / relative
