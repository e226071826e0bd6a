"""Production checks after an nginx change stop at once when nginx is gone.

nginx killed in the middle of a reload used to leave production refusing
connections for the whole verification window (10 s) before the rollback
started it again; a dead master cannot answer later, so the check says so now.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.deploy.config import LocalConfig
from {{ cookiecutter.package_name }}.deploy.local import LocalPlatform
from {{ cookiecutter.package_name }}.deploy.nginx import NginxError
from {{ cookiecutter.package_name }}.probes import free_port
from {{ cookiecutter.package_name }}.settings import Settings


def test_verification_stops_at_once_when_nginx_is_not_running(tmp_path: Path) -> None:
    settings = Settings(project_dir=tmp_path, deploy_dir=tmp_path / "deploy", tracking_uri=None)
    platform = LocalPlatform(settings, LocalConfig(), production_port=free_port(), log=print)
    with pytest.raises(NginxError, match="nginx exited while production was verified"):
        platform._verify_production({("blue", "7")})
