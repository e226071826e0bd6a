from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def project_dir() -> Path:
    return PROJECT_DIR


@pytest.fixture(scope="session")
def contract_path(project_dir: Path) -> Path:
    return project_dir / "config" / "data_contract.yaml"


@pytest.fixture(scope="session")
def sample_path(project_dir: Path) -> Path:
    return project_dir / "data" / "raw" / "telco_customer_churn.csv"
