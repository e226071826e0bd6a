"""The AWS platform against moto in server mode, with an ECS simulator where moto stops.

moto serves ECR, ECS task definitions and services, ELBv2 listener rules with
weighted target groups, CloudWatch alarms and metrics, EC2 security groups and
SSM parameters. It does not run ECS service deployments (list, describe,
continue, stop), so those calls go to `EcsSimulator`, which plays ECS's stages
one per poll (its clock is the number of polls), moves the listener rules in
moto the way ECS does, pauses at the hooks the release configured, and rolls
back when asked. Validation is real: smoke checks over HTTP against a service
process standing in for the load balancer's listeners.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from {{ cookiecutter.package_name }}.deploy.aws import AwsClients, AwsPlatform, Endpoints
from {{ cookiecutter.package_name }}.deploy.command import (
    DeployRequest,
    policy_from,
    run_configured,
)
from {{ cookiecutter.package_name }}.deploy.config import DeployConfig
from {{ cookiecutter.package_name }}.errors import DeployError
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

REGION = "eu-west-1"
ACCOUNT = "123456789012"
REVISION = "a" * 40
NAME = "mlops"
HOOK_IDS = {
    "POST_TEST_TRAFFIC_SHIFT": "hook-validation",
    "POST_PRODUCTION_TRAFFIC_SHIFT": "hook-bake",
}


def client(name: str, url: str) -> Any:
    return boto3.client(
        name,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def forward(blue: str, green: str, blue_weight: int) -> list[dict[str, Any]]:
    groups = [
        {"TargetGroupArn": blue, "Weight": blue_weight},
        {"TargetGroupArn": green, "Weight": 100 - blue_weight},
    ]
    return [{"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}]


class Stack:
    """One environment as infra/aws/service.yaml creates it, built in moto."""

    def __init__(self, url: str, code: str) -> None:
        self.prefix = f"{NAME}-{code}"
        names = ("ec2", "elbv2", "ecs", "ecr", "cloudwatch", "ssm")
        self.ec2, self.elb, self.ecs, self.ecr, self.cloudwatch, self.ssm = (
            client(n, url) for n in names
        )
        vpc = self.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            self.ec2.create_subnet(
                VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}"
            )["Subnet"]["SubnetId"]
            for i, z in ((1, "a"), (2, "b"))
        ]
        groups = [
            self.ec2.create_security_group(
                GroupName=f"{self.prefix}-{kind}", Description=kind, VpcId=vpc
            )["GroupId"]
            for kind in ("alb", "validation")
        ]
        self.validation_group = groups[1]
        balancer = self.elb.create_load_balancer(
            Name=self.prefix, Subnets=subnets, SecurityGroups=groups
        )["LoadBalancers"][0]
        self.blue, self.green = (
            self.elb.create_target_group(
                Name=f"{self.prefix}-{c}", Protocol="HTTP", Port=8000, VpcId=vpc, TargetType="ip"
            )["TargetGroups"][0]["TargetGroupArn"]
            for c in ("blue", "green")
        )
        rules = []
        for port in (80, 8443):
            listener = self.elb.create_listener(
                LoadBalancerArn=balancer["LoadBalancerArn"],
                Protocol="HTTP",
                Port=port,
                DefaultActions=[
                    {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}
                ],
            )["Listeners"][0]["ListenerArn"]
            rules.append(
                self.elb.create_rule(
                    ListenerArn=listener,
                    Priority=1,
                    Conditions=[{"Field": "path-pattern", "Values": ["/predict"]}],
                    Actions=forward(self.blue, self.green, 100),
                )["Rules"][0]["RuleArn"]
            )
        self.production_rule, self.test_rule = rules
        self.ecs.create_cluster(clusterName=self.prefix)
        definition = self.ecs.register_task_definition(
            family=self.prefix,
            containerDefinitions=[
                {
                    "name": "service",
                    "image": "busybox",
                    "essential": True,
                    "portMappings": [],
                    "environment": [{"name": "MLOPS_LOG_LEVEL", "value": "DEBUG"}],
                }
            ],
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="256",
            memory="512",
        )["taskDefinition"]["taskDefinitionArn"]
        self.ecs.create_service(
            cluster=self.prefix,
            serviceName=self.prefix,
            taskDefinition=definition,
            desiredCount=0,
            launchType="FARGATE",
            networkConfiguration={
                "awsvpcConfiguration": {"subnets": subnets, "securityGroups": groups[:1]}
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
                        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/ecs-infrastructure",
                    },
                }
            ],
        )
        if NAME not in [
            r["repositoryName"] for r in self.ecr.describe_repositories()["repositories"]
        ]:
            self.ecr.create_repository(repositoryName=NAME)
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 7,
                "digest": "sha256:" + code.encode().hex().ljust(64, "c")[:64],
            },
            "layers": [],
        }
        digest = self.ecr.put_image(
            repositoryName=NAME, imageManifest=json.dumps(manifest), imageTag=f"build-{code}"
        )["image"]["imageId"]["imageDigest"]
        self.image = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{NAME}@{digest}"
        for suffix in ("5xx-target", "5xx-lb", "latency"):
            self.cloudwatch.put_metric_alarm(
                AlarmName=f"{self.prefix}-{suffix}",
                Namespace="AWS/ApplicationELB",
                MetricName="HTTPCode_Target_5XX_Count",
                Statistic="Sum",
                Period=60,
                EvaluationPeriods=1,
                Threshold=5,
                ComparisonOperator="GreaterThanThreshold",
            )

    def weights(self, rule: str) -> dict[str, int]:
        actions = self.elb.describe_rules(RuleArns=[rule])["Rules"][0]["Actions"]
        return {
            g["TargetGroupArn"]: g["Weight"] for g in actions[0]["ForwardConfig"]["TargetGroups"]
        }

    def ingress(self) -> list[dict[str, Any]]:
        group = self.ec2.describe_security_groups(GroupIds=[self.validation_group])
        return [r for p in group["SecurityGroups"][0]["IpPermissions"] for r in p["IpRanges"]]


class EcsSimulator:
    """ECS service deployments, one stage per describe call; also the `deployments` client."""

    ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service-deployment/{NAME}/{NAME}/d1"

    def __init__(self, stack: Stack, *, alarm_at: str = "", traffic: int = 30) -> None:
        self.stack = stack
        self.alarm_at = alarm_at  # set an alarm when this stage is reached
        self.traffic = traffic  # requests users send green per poll once it takes production
        self.status = ""
        self.stage = ""
        self.queue: list[str] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []

    # -- what ECS does to the listener rules
    def _live_and_idle(self) -> tuple[str, str]:
        weights = self.stack.weights(self.stack.production_rule)
        live = max(weights, key=lambda arn: weights[arn])
        idle = next(arn for arn in weights if arn != live)
        return live, idle

    def _set(self, rule: str, green_percent: int) -> None:
        self.stack.elb.modify_rule(
            RuleArn=rule, Actions=forward(self.live, self.idle, 100 - green_percent)
        )

    def list_service_deployments(self, **params: Any) -> dict[str, Any]:
        self.calls.append(("list", params))
        if not self.status:
            self.live, self.idle = self._live_and_idle()
            self.status, self.stage = "IN_PROGRESS", "SCALE_UP"
            self.queue = ["TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT"]
        return {"serviceDeployments": [{"serviceDeploymentArn": self.ARN, "status": self.status}]}

    def _advance(self) -> None:
        if not self.queue:
            return
        self.stage = self.queue.pop(0)
        if self.stage == "TEST_TRAFFIC_SHIFT":
            self._set(self.stack.test_rule, 100)
        elif self.stage == "PRODUCTION_TRAFFIC_SHIFT":
            self._set(self.stack.production_rule, 25)
        elif self.stage == "POST_PRODUCTION_TRAFFIC_SHIFT":
            self._set(self.stack.production_rule, 100)
        elif self.stage == "SUCCESSFUL":
            self.status = "SUCCESSFUL"
        elif self.stage == "ROLLBACK_SUCCESSFUL":
            self.status = "ROLLBACK_SUCCESSFUL"
        if self.stage in {"PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT"}:
            self._count_requests()
        if self.stage == self.alarm_at:
            self.stack.cloudwatch.set_alarm_state(
                AlarmName=f"{self.stack.prefix}-5xx-lb", StateValue="ALARM", StateReason="502s"
            )

    def _count_requests(self) -> None:
        """What the load balancer reports to CloudWatch while users reach green."""
        if not self.traffic:
            return
        balancer = self.stack.elb.describe_load_balancers(Names=[self.stack.prefix])
        dimensions = [
            {"Name": "TargetGroup", "Value": self.idle.split(":", 5)[-1]},
            {
                "Name": "LoadBalancer",
                "Value": balancer["LoadBalancers"][0]["LoadBalancerArn"].split(":loadbalancer/")[1],
            },
        ]
        self.stack.cloudwatch.put_metric_data(
            Namespace="AWS/ApplicationELB",
            MetricData=[
                {"MetricName": "RequestCount", "Dimensions": dimensions, "Value": self.traffic}
            ],
        )

    def describe_service_deployments(self, **params: Any) -> dict[str, Any]:
        self.calls.append(("describe", params))
        self._advance()
        hooks = []
        if self.stage in HOOK_IDS and not self.queue and self.status == "IN_PROGRESS":
            hooks = [
                {"hookId": HOOK_IDS[self.stage], "targetType": "PAUSE", "status": "AWAITING_ACTION"}
            ]
        deployment = {
            "serviceDeploymentArn": self.ARN,
            "status": self.status,
            "lifecycleStage": self.stage,
            "lifecycleHookDetails": hooks,
        }
        return {"serviceDeployments": [deployment]}

    def _roll_back(self) -> None:
        self.status = "ROLLBACK_IN_PROGRESS"
        self._set(self.stack.production_rule, 0)
        self._set(self.stack.test_rule, 0)
        self.queue = ["ROLLBACK_SUCCESSFUL"]

    def continue_service_deployment(self, **params: Any) -> dict[str, Any]:
        self.calls.append(("continue", params))
        if params["action"] == "ROLLBACK":
            self._roll_back()
        elif params["hookId"] == HOOK_IDS["POST_TEST_TRAFFIC_SHIFT"]:
            self.queue = [
                "PRODUCTION_TRAFFIC_SHIFT",
                "PRODUCTION_TRAFFIC_SHIFT",
                "POST_PRODUCTION_TRAFFIC_SHIFT",
            ]
        else:
            self.queue = ["BAKE_TIME", "BAKE_TIME", "CLEAN_UP", "SUCCESSFUL"]
        return {"serviceDeploymentArn": self.ARN}

    def stop_service_deployment(self, **params: Any) -> dict[str, Any]:
        self.calls.append(("stop", params))
        self._roll_back()
        return {"serviceDeploymentArn": self.ARN}

    def called(self, name: str) -> list[dict[str, Any]]:
        return [params for call, params in self.calls if call == name]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return model_version_dir(tmp_path_factory.mktemp("aws-model"), "8")


@pytest.fixture
def green(
    request: pytest.FixtureRequest, tmp_path: Path, model_dir: Path
) -> Iterator[ServiceProcess]:
    """A real service process standing in for both listeners of the load balancer."""
    service = start_service(
        PROJECT_DIR,
        free_port(),
        tmp_path / "green.log",
        env={"MLOPS_FAULT": getattr(request, "param", ""), "MLOPS_GIT_REVISION": REVISION},
        model_dir=model_dir,
    )
    wait_ready(service)
    try:
        yield service
    finally:
        service.stop()


def shipped_config(**aws: Any) -> DeployConfig:
    """config/deploy.yaml as shipped, with fast polls, a short bake and no load gate."""
    shipped = (PROJECT_DIR / "config" / "deploy.yaml").read_text()
    import yaml

    data = yaml.safe_load(shipped)
    data["aws"].update({"name": NAME, "poll_seconds": 0.05, "lock_wait_minutes": 0, **aws})
    data["bake"]["seconds"] = 2
    data["validation"].update({"smoke_predictions": 3, "load": None})
    return DeployConfig.model_validate(data)


def platform_for(
    stack: Stack,
    ecs: EcsSimulator,
    green: ServiceProcess,
    config: DeployConfig,
    environment: str = "staging",
) -> AwsPlatform:
    clients = AwsClients(
        ecr=stack.ecr, ecs=stack.ecs, elbv2=stack.elb, cloudwatch=stack.cloudwatch,
        ec2=stack.ec2, ssm=stack.ssm, deployments=ecs,
    )  # fmt: skip
    return AwsPlatform(
        config.aws,
        environment,
        clients,
        policy=policy_from(config),
        endpoints=Endpoints(green.url, green.url, "203.0.113.7/32"),
    )


def blue_is_live(stack: Stack, green: ServiceProcess, config: DeployConfig) -> None:
    """An earlier release is live (in SSM): the next one canaries against it."""
    platform = platform_for(stack, EcsSimulator(stack), green, config)
    platform.state["live"] = {"release": "7@0123456789ab", "version": "7", "image": "old"}
    platform._save("released 7")


def release(
    stack: Stack,
    ecs: EcsSimulator,
    green: ServiceProcess,
    config: DeployConfig,
    environment: str = "staging",
) -> int:
    settings = Settings(
        project_dir=PROJECT_DIR,
        deploy_test_url=green.url,
        deploy_production_url=green.url,
        deploy_runner_cidr="203.0.113.7/32",
    )
    request = DeployRequest(
        platform="aws", image=stack.image, model_version="8", git_revision=REVISION,
        environment=environment,
    )  # fmt: skip
    clients = platform_for(stack, ecs, green, config, environment).clients
    return run_configured(settings, config, request, clients=clients)


def test_release_validates_bakes_and_waits_for_ecs(
    moto_url: str, green: ServiceProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = Stack(moto_url, "stg")
    blue_is_live(stack, green, shipped_config())
    ecs = EcsSimulator(stack)
    assert release(stack, ecs, green, shipped_config()) == 0
    out = capsys.readouterr().out
    assert f"RELEASED 8@{REVISION[:12]}" in out
    assert "test listener open to 203.0.113.7/32" in out
    # what the deploy set on the service: its own task definition, both hooks, the strategy
    service = stack.ecs.describe_services(cluster=stack.prefix, services=[stack.prefix])[
        "services"
    ][0]
    definition = stack.ecs.describe_task_definition(taskDefinition=service["taskDefinition"])[
        "taskDefinition"
    ]
    container = definition["containerDefinitions"][0]
    assert container["image"] == stack.image
    assert (definition["cpu"], definition["memory"]) == ("512", "1024")
    # it ships its prediction log to the shared bucket, under this environment's prefix
    assert container["environment"] == [
        {"name": "MLOPS_LOG_LEVEL", "value": "DEBUG"},
        {
            "name": "MLOPS_PREDICTION_LOG_S3_URI",
            "value": f"s3://{NAME}-predictions-{ACCOUNT}-{REGION}/staging/",
        },
    ]
    assert [(m["sourceVolume"], m["containerPath"]) for m in container["mountPoints"]] == [
        ("logs", "/app/logs")
    ]
    assert [v["name"] for v in definition["volumes"]] == ["logs"]
    assert service["desiredCount"] == 1
    deployment = service["deploymentConfiguration"]
    assert deployment["strategy"] == "CANARY"
    assert deployment["canaryConfiguration"]["canaryPercent"] == 25.0
    assert deployment["bakeTimeInMinutes"] == 3
    assert [h["lifecycleStages"] for h in deployment["lifecycleHooks"]] == [
        ["POST_TEST_TRAFFIC_SHIFT"], ["POST_PRODUCTION_TRAFFIC_SHIFT"],
    ]  # fmt: skip
    assert deployment["alarms"]["alarmNames"] == [
        f"{stack.prefix}-5xx-target", f"{stack.prefix}-5xx-lb", f"{stack.prefix}-latency",
    ]  # fmt: skip
    assert [c["action"] for c in ecs.called("continue")] == ["CONTINUE", "CONTINUE"]
    assert ecs.called("stop") == []
    assert stack.ingress() == []  # the validation window closed
    assert stack.weights(stack.production_rule) == {stack.blue: 0, stack.green: 100}
    tags = {
        tag
        for image in stack.ecr.describe_images(repositoryName=NAME)["imageDetails"]
        for tag in image.get("imageTags", [])
    }
    assert "staging-live" in tags
    # state lives in SSM: a fresh checkout (a new platform object) sees the live release
    fresh = platform_for(stack, EcsSimulator(stack), green, shipped_config())
    status = fresh.status()
    assert status["live"]["release"] == f"8@{REVISION[:12]}"
    assert status["traffic"]["production"] == {stack.blue: 0, stack.green: 100}
    # the same release again is a no-op; the next one starts green in the other group
    assert release(stack, EcsSimulator(stack), green, shipped_config()) == 0
    assert "is already live" in capsys.readouterr().out


def test_a_release_keeps_the_task_count_autoscaling_chose(
    moto_url: str, green: ServiceProcess
) -> None:
    """Only the first release starts the service (min_tasks); later ones leave the count alone."""
    stack = Stack(moto_url, "n")
    config = shipped_config(environments={"staging": "n"})
    blue_is_live(stack, green, config)
    stack.ecs.update_service(cluster=stack.prefix, service=stack.prefix, desiredCount=3)
    assert release(stack, EcsSimulator(stack), green, config) == 0
    service = stack.ecs.describe_services(cluster=stack.prefix, services=[stack.prefix])[
        "services"
    ][0]
    assert service["desiredCount"] == 3


@pytest.mark.parametrize("green", ["error"], indirect=True)
def test_failed_validation_rolls_back_at_the_validation_hook(
    moto_url: str, green: ServiceProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = Stack(moto_url, "v")
    blue_is_live(stack, green, shipped_config(environments={"staging": "v"}))
    ecs = EcsSimulator(stack)
    assert release(stack, ecs, green, shipped_config(environments={"staging": "v"})) == 1
    assert "validation failed: /predict answered 500" in capsys.readouterr().out
    assert [c["action"] for c in ecs.called("continue")] == ["ROLLBACK"]
    assert stack.weights(stack.production_rule) == {stack.blue: 100, stack.green: 0}
    assert stack.ingress() == []


def test_an_alarm_during_the_canary_stops_the_deployment(
    moto_url: str, green: ServiceProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = Stack(moto_url, "a")
    blue_is_live(stack, green, shipped_config(environments={"staging": "a"}))
    ecs = EcsSimulator(stack, alarm_at="PRODUCTION_TRAFFIC_SHIFT")
    assert release(stack, ecs, green, shipped_config(environments={"staging": "a"})) == 1
    out = capsys.readouterr().out
    assert f"unhealthy at 25 %: alarm: {stack.prefix}-5xx-lb (502s)" in out
    # stopped mid-shift, or answered ROLLBACK if ECS reached the bake hook meanwhile
    rollbacks = ecs.called("stop") + [
        c for c in ecs.called("continue") if c["action"] == "ROLLBACK"
    ]
    assert len(rollbacks) == 1
    assert stack.weights(stack.production_rule) == {stack.blue: 100, stack.green: 0}


def test_an_alarm_already_firing_because_of_blue_does_not_block_the_fix(
    moto_url: str, green: ServiceProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = Stack(moto_url, "f")
    stack.cloudwatch.set_alarm_state(
        AlarmName=f"{stack.prefix}-latency", StateValue="ALARM", StateReason="blue is slow"
    )
    assert (
        release(stack, EcsSimulator(stack), green, shipped_config(environments={"staging": "f"}))
        == 0
    )
    out = capsys.readouterr().out
    assert f"alarm {stack.prefix}-latency already fires (blue's doing)" in out
    service = stack.ecs.describe_services(cluster=stack.prefix, services=[stack.prefix])[
        "services"
    ][0]
    configuration = service["deploymentConfiguration"]
    assert f"{stack.prefix}-latency" not in configuration["alarms"]["alarmNames"]
    assert configuration["strategy"] == "BLUE_GREEN"  # the first release: no blue to canary against


def test_an_inconclusive_bake_rolls_back(
    moto_url: str, green: ServiceProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = Stack(moto_url, "q")
    config = shipped_config(environments={"staging": "q"})
    blue_is_live(stack, green, config)
    quiet = DeployConfig.model_validate({**config.model_dump(), "probe": {"rate_per_second": 0}})
    ecs = EcsSimulator(stack, traffic=0)  # no user calls, and the release sends no probe
    assert release(stack, ecs, green, quiet) == 1
    assert "inconclusive at 25 %: green served 0 requests" in capsys.readouterr().out
    assert ecs.status == "ROLLBACK_SUCCESSFUL"


def test_one_release_per_environment_across_runners(moto_url: str, green: ServiceProcess) -> None:
    stack = Stack(moto_url, "l")
    config = shipped_config(environments={"staging": "l"})
    first = platform_for(stack, EcsSimulator(stack), green, config)
    second = platform_for(stack, EcsSimulator(stack), green, config)
    second._lock_owner = "github run 2/1"
    refused = pytest.raises(DeployError, match=r"another release of staging is running \(.*pid")
    with first.locked(), refused, second.locked():
        pass
    with second.locked():  # released: the next one gets it
        pass


def test_expired_validation_rules_are_swept_and_a_paused_release_is_rolled_back(
    moto_url: str, green: ServiceProcess
) -> None:
    stack = Stack(moto_url, "k")
    config = shipped_config(environments={"staging": "k"})
    expired = (datetime.now(UTC) - timedelta(minutes=1)).isoformat(timespec="seconds")
    note = f"release validation, expires {expired}"
    ip_range = {"CidrIp": "198.51.100.9/32", "Description": note}
    permission = {"IpProtocol": "tcp", "FromPort": 8443, "ToPort": 8443, "IpRanges": [ip_range]}
    stack.ec2.authorize_security_group_ingress(
        GroupId=stack.validation_group, IpPermissions=[permission]
    )
    ecs = EcsSimulator(stack)
    ecs.list_service_deployments()  # a killed run left a deployment paused for validation
    ecs.describe_service_deployments()
    ecs.describe_service_deployments()
    assert ecs.stage == "POST_TEST_TRAFFIC_SHIFT"
    platform = platform_for(stack, ecs, green, config)
    platform.state["candidate"] = {"release": "7@dead", "deployment": EcsSimulator.ARN}
    platform._save()
    notes = platform_for(stack, ecs, green, config).recover()
    assert notes == [
        "removed the expired validation rule for 198.51.100.9/32",
        "rolled back release 7@dead left paused by an interrupted run (now ROLLBACK_SUCCESSFUL)",
    ]
    assert stack.ingress() == []
