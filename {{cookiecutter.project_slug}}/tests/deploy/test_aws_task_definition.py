"""What every release's task-definition revision carries besides the image: the log's way out."""

from __future__ import annotations

import pytest

from {{ cookiecutter.package_name }}.deploy.aws import (
    LOG_SHIPPING_SETTING,
    PREDICTION_LOG_BUCKET,
    prediction_log_uri,
    with_prediction_log,
)

from ..conftest import PROJECT_DIR

ARN = "arn:aws:ecs:eu-central-1:123456789012:task-definition/mlops-prod:7"
URI = "s3://mlops-predictions-123456789012-eu-central-1/production/"
STACKS = PROJECT_DIR / "infra" / "aws"


def test_the_uri_names_the_shared_bucket_and_the_environment() -> None:
    assert prediction_log_uri("mlops", ARN, "production") == URI


@pytest.mark.skipif(not STACKS.is_dir(), reason="rendered without AWS stacks (cloud=none)")
def test_the_bucket_is_the_one_the_stacks_create_and_let_the_task_write() -> None:
    as_in_cloudformation = PREDICTION_LOG_BUCKET.format(
        name="${Name}", account="${AWS::AccountId}", region="${AWS::Region}"
    )
    registry = (STACKS / "registry.yaml").read_text()
    service = (STACKS / "service.yaml").read_text()
    assert f'BucketName: !Sub "{as_in_cloudformation}"' in registry
    assert "s3:::" + as_in_cloudformation + "/${Environment}/*" in service


def test_merged_into_the_previous_revision_never_replacing_it() -> None:
    container = {
        "name": "service",
        "environment": [{"name": "MLOPS_WORKERS", "value": "2"}],
        "mountPoints": [],
    }
    added, volumes = with_prediction_log(container, [{"name": "scratch"}], URI)
    assert added["environment"] == [
        {"name": "MLOPS_WORKERS", "value": "2"},
        {"name": LOG_SHIPPING_SETTING, "value": URI},
    ]
    assert added["mountPoints"] == [
        {"sourceVolume": "logs", "containerPath": "/app/logs", "readOnly": False}
    ]
    assert volumes == [{"name": "scratch"}, {"name": "logs"}]
    assert container["environment"] == [{"name": "MLOPS_WORKERS", "value": "2"}]  # not mutated
    # the next release copies that revision: nothing doubles
    assert with_prediction_log(added, volumes, URI) == (added, volumes)


def test_what_an_operator_set_wins() -> None:
    container = {
        "name": "service",
        "environment": [{"name": LOG_SHIPPING_SETTING, "value": ""}],  # shipping turned off
        "mountPoints": [{"sourceVolume": "efs", "containerPath": "/app/logs"}],
    }
    efs = [{"name": "efs", "efsVolumeConfiguration": {"fileSystemId": "fs-1"}}]
    kept, volumes = with_prediction_log(container, efs, URI)
    assert kept["environment"] == container["environment"]
    assert kept["mountPoints"] == container["mountPoints"]
    assert volumes == efs
