"""The AWS platform against moto in server mode, with botocore's Stubber where moto stops.

moto serves ECR, ECS task definitions and services, ELBv2 listeners/rules with
weighted target groups and CloudWatch alarm states. It does not run ECS
service deployments (ListServiceDeployments, DescribeServiceDeployments,
ContinueServiceDeployment, StopServiceDeployment), so those calls go to a
stubbed ECS client that plays the deployment's stages in order; the stubbed
parameters check that the platform continues, or rolls back, the right
deployment at the right hook. Validation is real: smoke checks over HTTP
against a service process standing in for the test listener.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto.server import ThreadedMotoServer

from {{ cookiecutter.package_name }}.deploy.aws import AwsClients, AwsPlatform
from {{ cookiecutter.package_name }}.deploy.command import DeployRequest, run_configured
from {{ cookiecutter.package_name }}.deploy.config import DeployConfig
from {{ cookiecutter.package_name }}.deploy.lifecycle import Policy
from {{ cookiecutter.package_name }}.deploy.state import save_state
from {{ cookiecutter.package_name }}.probes import free_port
from {{ cookiecutter.package_name }}.serving.process import (
    ServiceProcess,
    start_service,
    wait_ready,
)
from {{ cookiecutter.package_name }}.settings import Settings

from ..conftest import PROJECT_DIR
from .conftest import model_version_dir

pytestmark = pytest.mark.integration

REGION = "us-east-1"
ACCOUNT = "123456789012"
DEPLOYMENT = "arn:aws:ecs:us-east-1:123456789012:service-deployment/mlops/mlops/abc123"
HOOK = "ecs-pause-test-hook"
ALARMS = ("mlops-5xx", "mlops-latency")


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def client(name: str, url: str) -> Any:
    return boto3.client(
        name,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


class Stack:
    """What infra/aws creates, built in moto: repository, cluster, service, ALB, alarms."""

    def __init__(self, url: str, name: str) -> None:
        self.url = url
        self.name = name
        ec2, elb, ecs, ecr, cw = (
            client(n, url) for n in ("ec2", "elbv2", "ecs", "ecr", "cloudwatch")
        )
        self.elb, self.ecs, self.ecr, self.cloudwatch = elb, ecs, ecr, cw
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(
                VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}"
            )["Subnet"]["SubnetId"]
            for i, z in ((1, "a"), (2, "b"))
        ]
        group = ec2.create_security_group(GroupName=name, Description="alb", VpcId=vpc)["GroupId"]
        balancer = elb.create_load_balancer(Name=name, Subnets=subnets, SecurityGroups=[group])
        lb_arn = balancer["LoadBalancers"][0]["LoadBalancerArn"]
        self.blue, self.green = (
            elb.create_target_group(
                Name=f"{name}-{c}", Protocol="HTTP", Port=8000, VpcId=vpc, TargetType="ip"
            )["TargetGroups"][0]["TargetGroupArn"]
            for c in ("blue", "green")
        )
        rules = []
        for port in (80, 8443):
            listener = elb.create_listener(
                LoadBalancerArn=lb_arn,
                Protocol="HTTP",
                Port=port,
                DefaultActions=[
                    {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}
                ],
            )["Listeners"][0]["ListenerArn"]
            rule = elb.create_rule(
                ListenerArn=listener,
                Priority=1,
                Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
                Actions=self.forward(100, 0),
            )["Rules"][0]["RuleArn"]
            rules.append(rule)
        self.production_rule, self.test_rule = rules
        ecs.create_cluster(clusterName=name)
        self.task_definition = ecs.register_task_definition(
            family=name,
            containerDefinitions=[
                {
                    "name": "service",
                    "image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{name}@sha256:{'0' * 64}",
                    "portMappings": [{"containerPort": 8000}],
                    "essential": True,
                }
            ],
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="256",
            memory="512",
        )["taskDefinition"]["taskDefinitionArn"]
        ecs.create_service(
            cluster=name,
            serviceName=name,
            taskDefinition=self.task_definition,
            desiredCount=2,
            launchType="FARGATE",
            networkConfiguration={
                "awsvpcConfiguration": {"subnets": subnets, "securityGroups": [group]}
            },
            loadBalancers=[
                {
                    "targetGroupArn": self.blue,
                    "containerName": "service",
                    "containerPort": 8000,
                    "advancedConfiguration": {
                        "alternateTargetGroupArn": self.green,
                        "productionListenerRule": self.production_rule,
                        "testListenerRule": self.test_rule,
                        "roleArn": "arn:aws:iam::123456789012:role/ecs-infrastructure",
                    },
                }
            ],
            deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 5},
        )
        ecr.create_repository(repositoryName=name)
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 7,
                "digest": "sha256:" + "c" * 64,
            },
            "layers": [],
        }
        pushed = ecr.put_image(
            repositoryName=name, imageManifest=json.dumps(manifest), imageTag="8"
        )
        self.digest = pushed["image"]["imageId"]["imageDigest"]
        for alarm in ALARMS:
            cw.put_metric_alarm(
                AlarmName=f"{name}-{alarm}",
                Namespace="AWS/ApplicationELB",
                MetricName="HTTPCode_Target_5XX_Count",
                Statistic="Sum",
                Period=60,
                EvaluationPeriods=1,
                Threshold=5,
                ComparisonOperator="GreaterThanThreshold",
            )

    def forward(self, blue: int, green: int) -> list[dict[str, Any]]:
        groups = [
            {"TargetGroupArn": self.blue, "Weight": blue},
            {"TargetGroupArn": self.green, "Weight": green},
        ]
        return [{"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}]

    def ecs_moves_test_traffic_to_green(self) -> None:
        self.elb.modify_rule(RuleArn=self.test_rule, Actions=self.forward(0, 100))

    def ecs_moves_production_to_green(self) -> None:
        self.elb.modify_rule(RuleArn=self.production_rule, Actions=self.forward(0, 100))


def deployment(
    status: str, stage: str, hook: str | None = None, reason: str = ""
) -> dict[str, Any]:
    hooks = [{"hookId": HOOK, "targetType": "PAUSE", "status": hook}] if hook else []
    return {
        "serviceDeployments": [
            {
                "serviceDeploymentArn": DEPLOYMENT,
                "status": status,
                "statusReason": reason,
                "lifecycleStage": stage,
                "lifecycleHookDetails": hooks,
            }
        ]
    }


class EcsDeployments:
    """A stubbed ECS client playing one service deployment, stage by stage."""

    def __init__(self, url: str, name: str) -> None:
        self.name = name
        self.client = client("ecs", url)
        self.stubber = Stubber(self.client)

    def started(self) -> None:
        self.stubber.add_response(
            "list_service_deployments",
            {
                "serviceDeployments": [
                    {
                        "serviceDeploymentArn": DEPLOYMENT,
                        "status": "IN_PROGRESS",
                        "createdAt": datetime(2026, 1, 1, tzinfo=UTC),
                    }
                ]
            },
            {"cluster": self.name, "service": self.name, "status": ["PENDING", "IN_PROGRESS"]},
        )

    def describe(self, status: str, stage: str, hook: str | None = None, reason: str = "") -> None:
        self.stubber.add_response(
            "describe_service_deployments",
            deployment(status, stage, hook, reason),
            {"serviceDeploymentArns": [DEPLOYMENT]},
        )

    def expect(self, method: str, **params: str) -> None:
        self.stubber.add_response(
            method,
            {"serviceDeploymentArn": DEPLOYMENT},
            {"serviceDeploymentArn": DEPLOYMENT, **params},
        )

    def paused_for_validation(self) -> None:
        self.started()
        self.describe("IN_PROGRESS", "SCALE_UP")
        self.describe("IN_PROGRESS", "POST_TEST_TRAFFIC_SHIFT", hook="AWAITING_ACTION")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return model_version_dir(tmp_path_factory.mktemp("aws-model"), "8")


def launch_green(tmp_path: Path, model_dir: Path, fault: str) -> ServiceProcess:
    """A real service process standing in for green behind the ALB's test listener."""
    service = start_service(
        PROJECT_DIR,
        free_port(),
        tmp_path / "green.log",
        env={"MLOPS_FAULT": fault},
        model_dir=model_dir,
    )
    wait_ready(service)
    return service


@pytest.fixture
def green(
    request: pytest.FixtureRequest, tmp_path: Path, model_dir: Path
) -> Iterator[ServiceProcess]:
    service = launch_green(tmp_path, model_dir, getattr(request, "param", ""))
    try:
        yield service
    finally:
        service.stop()
    assert service.process.poll() is not None


class Steps:
    """A fake clock whose sleeps let 'ECS' (the test) act between two polls."""

    def __init__(self) -> None:
        self.actions: list[Callable[[], None]] = []
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds
        if self.actions:
            self.actions.pop(0)()


def settings_and_config(
    tmp_path: Path, stack: Stack, green: ServiceProcess
) -> tuple[Settings, DeployConfig]:
    settings = Settings(
        project_dir=PROJECT_DIR, deploy_dir=tmp_path / "deploy", reports_dir=tmp_path
    )
    config = DeployConfig.model_validate(
        {
            "traffic": {"steps": [100]},
            "bake": {"seconds": 300},
            "validation": {"smoke_predictions": 3, "load": None},
            "aws": {
                "region": REGION,
                "cluster": stack.name,
                "service": stack.name,
                "repository": stack.name,
                "load_balancer": stack.name,
                "alarms": [f"{stack.name}-{a}" for a in ALARMS],
                "poll_seconds": 1,
                "test_url": green.url,
            },
        }
    )
    return settings, config


def moto_clients(stack: Stack, deployments: EcsDeployments) -> AwsClients:
    return AwsClients(
        ecr=stack.ecr,
        ecs=stack.ecs,
        elbv2=stack.elb,
        cloudwatch=stack.cloudwatch,
        deployments=deployments.client,
    )


def release(
    tmp_path: Path, stack: Stack, deployments: EcsDeployments, green: ServiceProcess, steps: Steps
) -> int:
    settings, config = settings_and_config(tmp_path, stack, green)
    request = DeployRequest(platform="aws", image_digest=stack.digest, model_version="8")
    with deployments.stubber:
        code = run_configured(
            settings, config, request, clients=moto_clients(stack, deployments), clock=steps
        )
        deployments.stubber.assert_no_pending_responses()
    return code


def state(tmp_path: Path) -> dict[str, Any]:
    return json.loads((tmp_path / "deploy" / "state" / "aws.json").read_text())


def test_happy_path_registers_the_image_by_digest_and_continues(
    moto_url: str, tmp_path: Path, green: ServiceProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = Stack(moto_url, "mlops")
    ecs = EcsDeployments(moto_url, stack.name)
    ecs.paused_for_validation()
    ecs.describe("IN_PROGRESS", "POST_TEST_TRAFFIC_SHIFT", hook="AWAITING_ACTION")  # shift
    ecs.expect("continue_service_deployment", hookId=HOOK, action="CONTINUE")
    ecs.describe("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT")  # watch: baseline
    ecs.describe("IN_PROGRESS", "BAKE_TIME")
    ecs.describe("SUCCESSFUL", "CLEAN_UP")
    steps = Steps()
    steps.actions = [stack.ecs_moves_test_traffic_to_green, stack.ecs_moves_production_to_green]
    assert release(tmp_path, stack, ecs, green, steps) == 0
    assert "RELEASED 8" in capsys.readouterr().out
    service = stack.ecs.describe_services(cluster="mlops", services=["mlops"])["services"][0]
    assert service["taskDefinition"].endswith(":2")
    container = stack.ecs.describe_task_definition(taskDefinition=service["taskDefinition"])[
        "taskDefinition"
    ]["containerDefinitions"][0]
    assert container["image"] == f"123456789012.dkr.ecr.{REGION}.amazonaws.com/mlops@{stack.digest}"
    deployment_config = service["deploymentConfiguration"]
    assert deployment_config["strategy"] == "BLUE_GREEN"
    assert deployment_config["lifecycleHooks"][0]["targetType"] == "PAUSE"
    assert deployment_config["alarms"]["rollback"] is True
    saved = state(tmp_path)
    assert saved["live"]["version"] == "8"
    assert saved["candidate"] is None
    traffic = stack.elb.describe_rules(RuleArns=[stack.production_rule])["Rules"][0]["Actions"]
    assert {
        g["TargetGroupArn"]: g["Weight"] for g in traffic[0]["ForwardConfig"]["TargetGroups"]
    } == {
        stack.blue: 0,
        stack.green: 100,
    }
    settings, config = settings_and_config(tmp_path, stack, green)
    status = DeployRequest(action="status", platform="aws")
    assert run_configured(settings, config, status, clients=moto_clients(stack, ecs)) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["live"]["version"] == "8"
    assert shown["traffic"]["production"] == {stack.blue: 0, stack.green: 100}
    assert shown["alarms firing"] == []


def test_alarm_during_the_bake_stops_the_deployment_with_rollback(
    moto_url: str, tmp_path: Path, green: ServiceProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = Stack(moto_url, "mlops-alarm")
    ecs = EcsDeployments(moto_url, stack.name)
    ecs.paused_for_validation()
    ecs.describe("IN_PROGRESS", "POST_TEST_TRAFFIC_SHIFT", hook="AWAITING_ACTION")
    ecs.expect("continue_service_deployment", hookId=HOOK, action="CONTINUE")
    ecs.describe("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT")  # watch: baseline
    ecs.describe("IN_PROGRESS", "BAKE_TIME")  # the alarm fires here
    ecs.describe("IN_PROGRESS", "BAKE_TIME")  # abort: not paused, not finished
    ecs.expect("stop_service_deployment", stopType="ROLLBACK")
    ecs.describe("ROLLBACK_IN_PROGRESS", "BAKE_TIME")
    ecs.describe("ROLLBACK_SUCCESSFUL", "CLEAN_UP")

    def latency_alarm() -> None:
        stack.cloudwatch.set_alarm_state(
            AlarmName="mlops-alarm-mlops-latency",
            StateValue="ALARM",
            StateReason="p95 above 250 ms",
        )

    steps = Steps()
    steps.actions = [stack.ecs_moves_test_traffic_to_green, latency_alarm]
    assert release(tmp_path, stack, ecs, green, steps) == 1
    out = capsys.readouterr().out
    assert (
        "ROLLED BACK 8: unhealthy at 100 %: alarm: mlops-alarm-mlops-latency (p95 above 250 ms)"
        in out
    )
    saved = state(tmp_path)
    assert saved.get("live") is None
    assert saved["last"]["outcome"] == "rolled back (ROLLBACK_SUCCESSFUL)"


@pytest.mark.parametrize("green", ["error"], indirect=True)
def test_failed_validation_rolls_back_at_the_pause_hook(
    moto_url: str, tmp_path: Path, green: ServiceProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = Stack(moto_url, "mlops-invalid")
    ecs = EcsDeployments(moto_url, stack.name)
    ecs.paused_for_validation()
    ecs.describe("IN_PROGRESS", "POST_TEST_TRAFFIC_SHIFT", hook="AWAITING_ACTION")  # abort
    ecs.expect("continue_service_deployment", hookId=HOOK, action="ROLLBACK")
    ecs.describe("ROLLBACK_SUCCESSFUL", "CLEAN_UP")
    steps = Steps()
    steps.actions = [stack.ecs_moves_test_traffic_to_green]
    assert release(tmp_path, stack, ecs, green, steps) == 1
    out = capsys.readouterr().out
    assert "ROLLED BACK 8: validation failed: /predict answered 500" in out
    assert state(tmp_path)["last"]["outcome"] == "rolled back (ROLLBACK_SUCCESSFUL)"


def test_validation_refuses_a_test_route_that_still_points_at_blue(
    moto_url: str, tmp_path: Path, green: ServiceProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = Stack(moto_url, "mlops-misrouted")
    ecs = EcsDeployments(moto_url, stack.name)
    ecs.paused_for_validation()
    ecs.describe("IN_PROGRESS", "POST_TEST_TRAFFIC_SHIFT", hook="AWAITING_ACTION")
    ecs.expect("continue_service_deployment", hookId=HOOK, action="ROLLBACK")
    ecs.describe("ROLLBACK_SUCCESSFUL", "CLEAN_UP")
    assert release(tmp_path, stack, ecs, green, Steps()) == 1
    assert "validation would test blue" in capsys.readouterr().out


def test_rerun_rolls_back_a_release_left_paused_by_a_killed_run(
    moto_url: str, tmp_path: Path, green: ServiceProcess
) -> None:
    stack = Stack(moto_url, "mlops-killed")
    ecs = EcsDeployments(moto_url, stack.name)
    settings, config = settings_and_config(tmp_path, stack, green)
    save_state(
        tmp_path / "deploy" / "state" / "aws.json",
        {"live": {"version": "7"}, "candidate": {"version": "8", "deployment": DEPLOYMENT}},
    )
    ecs.describe("IN_PROGRESS", "POST_TEST_TRAFFIC_SHIFT", hook="AWAITING_ACTION")
    ecs.expect("continue_service_deployment", hookId=HOOK, action="ROLLBACK")
    ecs.describe("ROLLBACK_IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT")
    ecs.describe("ROLLBACK_SUCCESSFUL", "CLEAN_UP")
    platform = AwsPlatform(
        settings,
        config.aws,
        moto_clients(stack, ecs),
        policy=Policy(),
        sleep=Steps().sleep,
    )
    with ecs.stubber:
        notes = platform.recover()
        ecs.stubber.assert_no_pending_responses()
    assert notes == [
        "rolled back release 8 left paused by an interrupted run (now ROLLBACK_SUCCESSFUL)"
    ]
    saved = state(tmp_path)
    assert saved["candidate"] is None
    assert saved["live"] == {"version": "7"}
