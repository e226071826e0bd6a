"""The shipped AWS infrastructure: cfn-lint clean, least privilege, pruned without AWS."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .combinations import COMBINATIONS, DEFAULT
from .helpers import Renders


@pytest.fixture(scope="module")
def aws_project(renders: Renders) -> Path:
    return renders[{**DEFAULT, "cloud": "aws", "registry": "ecr"}]


def test_cloudformation_is_cfn_lint_clean(aws_project: Path) -> None:
    templates = sorted((aws_project / "infra" / "aws").glob("*.yaml"))
    assert [t.name for t in templates] == ["registry.yaml", "service.yaml"]
    result = subprocess.run(
        ["cfn-lint", *map(str, templates)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_service_uses_native_blue_green_with_both_listeners(aws_project: Path) -> None:
    text = (aws_project / "infra" / "aws" / "service.yaml").read_text()
    for needle in (
        "Strategy: BLUE_GREEN",
        "AlternateTargetGroupArn: !Ref GreenTargetGroup",
        "ProductionListenerRule: !Ref ProductionRule",
        "TestListenerRule: !Ref TestRule",
        "Rollback: true",
        'Default: "churn-prediction"',
    ):
        assert needle in text


def test_deploy_role_trusts_only_this_repository_and_environment(aws_project: Path) -> None:
    text = (aws_project / "infra" / "aws" / "registry.yaml").read_text()
    assert "token.actions.githubusercontent.com:aud: sts.amazonaws.com" in text
    assert (
        'token.actions.githubusercontent.com:sub: !Sub "repo:${GitHubRepository}'
        ':environment:${GitHubEnvironment}"' in text
    )
    assert "AdministratorAccess" not in text and '"ecs:*"' not in text and "ecs:*" not in text
    assert "iam:PassedToService: ecs-tasks.amazonaws.com" in text


def test_deploy_config_names_what_the_stacks_create(aws_project: Path) -> None:
    config = (aws_project / "config" / "deploy.yaml").read_text()
    assert 'alarms: ["churn-prediction-5xx", "churn-prediction-latency"]' in config


def test_no_aws_infrastructure_without_aws(renders: Renders) -> None:
    project = renders[next(c for c in COMBINATIONS if c["cloud"] == "none")]
    assert not (project / "infra" / "aws").exists()
    assert (project / "src" / "churn_prediction" / "deploy" / "local.py").is_file()
