"""The AWS platform: Amazon ECS native blue/green behind an Application Load Balancer.

Why native ECS blue/green (strategy BLUE_GREEN, CANARY or LINEAR) rather than
ALB weights moved by this command: ECS itself starts green, shifts test and
production traffic through the listener rules, bakes with the alarms armed and
rolls back on its own, so a CI runner that dies mid-release cannot leave
production half-switched. Two PAUSE lifecycle hooks hand control to this
command where ECS cannot decide alone:

    register task definition (image by digest) -> update_service
      -> ECS: scale up green, test listener rule -> green, PAUSE (validation hook)
      -> this command: open the test listener to the runner, validate, close it
         -> CONTINUE | ROLLBACK
      -> ECS: production rule -> green (all at once, canary or linear steps),
         watched by this command (alarms, probe traffic, request counts)
      -> ECS: PAUSE after the production shift (bake hook)
      -> this command: its own bake with probe traffic -> CONTINUE | ROLLBACK
      -> ECS: bake with the alarms armed (never shorter than their window)
         -> blue retired (SUCCESSFUL) | rollback; this command waits for the end

If the command never answers a hook, the hook times out into a rollback.
Everything another runner needs lives in AWS, not on the runner: the release
state and the release lock are SSM parameters of the environment.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..errors import DeployError
from .config import AwsConfig
from .health import Observation
from .lifecycle import Policy, Release, ReleaseError, TrafficStep
from .strategy import BAKE_STAGE, VALIDATION_STAGE, alarm_names, deployment_configuration

FINISHED = {"SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"}
ROLLING_BACK = {
    "ROLLBACK_REQUESTED",
    "ROLLBACK_IN_PROGRESS",
    "ROLLBACK_SUCCESSFUL",
    "ROLLBACK_FAILED",
}
INGRESS_NOTE = "release validation, expires "
ECR_HOST = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com$")
HISTORY_LENGTH = 10  # SSM standard parameters hold 4 KB
RUNNER_ADDRESS_URL = "https://checkip.amazonaws.com"
# Where the service ships its prediction log (serving/log_shipper.py): the shared stack's
# bucket (infra/aws/registry.yaml, PredictionLogBucket), the environment's prefix (the
# task role may only write there, infra/aws/service.yaml).
LOG_SHIPPING_SETTING = "MLOPS_PREDICTION_LOG_S3_URI"
PREDICTION_LOG_BUCKET = "{name}-predictions-{account}-{region}"
# The image's log folder (Dockerfile: VOLUME /app/logs). With a read-only root file system
# a Fargate task can only write there through a task-definition volume mounted at that path.
LOG_VOLUME = "logs"
LOG_VOLUME_PATH = "/app/logs"


def forward_weights(actions: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Target group ARN -> weight of a listener rule's forward action."""
    for action in actions:
        if action.get("Type") != "forward":
            continue
        groups = (action.get("ForwardConfig") or {}).get("TargetGroups")
        if groups:
            return {g["TargetGroupArn"]: int(g.get("Weight", 1)) for g in groups}
        if action.get("TargetGroupArn"):
            return {action["TargetGroupArn"]: 1}
    return {}


def split_image(image: str) -> tuple[str, str]:
    """`<repository>@sha256:<hex>` -> (repository, digest); DeployError for anything else."""
    repository, _, digest = image.partition("@")
    if not repository or not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        raise DeployError(
            f"the image must be given by digest, <repository>@sha256:<64 hex>, got {image!r} "
            "(the build job's `image` output)"
        )
    return repository, digest


def with_prediction_log(
    container: dict[str, Any], volumes: list[dict[str, Any]], uri: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The service's container and the task's volumes, with the log shipped to `uri`.

    Merged into what the previous revision had, never replacing it: every other
    environment variable stays, and a shipping URI or a log mount an operator set
    wins (an empty URI turns shipping off).
    """
    environment = list(container.get("environment") or [])
    if all(variable.get("name") != LOG_SHIPPING_SETTING for variable in environment):
        environment.append({"name": LOG_SHIPPING_SETTING, "value": uri})
    mounts = list(container.get("mountPoints") or [])
    volumes = list(volumes)
    if all(mount.get("containerPath") != LOG_VOLUME_PATH for mount in mounts):
        mounts.append(
            {"sourceVolume": LOG_VOLUME, "containerPath": LOG_VOLUME_PATH, "readOnly": False}
        )
        if all(volume.get("name") != LOG_VOLUME for volume in volumes):
            volumes.append({"name": LOG_VOLUME})  # task storage, gone with the task
    return {**container, "environment": environment, "mountPoints": mounts}, volumes


def prediction_log_uri(name: str, task_definition_arn: str, environment: str) -> str:
    """s3://<the shared stack's bucket>/<environment>/, the account and region from an ARN."""
    _, _, _, region, account, _ = task_definition_arn.split(":", 5)
    bucket = PREDICTION_LOG_BUCKET.format(name=name, account=account, region=region)
    return f"s3://{bucket}/{environment}/"


def owner_id() -> str:
    """Who holds the release lock: the workflow run, or this host and process."""
    run = os.environ.get("GITHUB_RUN_ID")
    if run:
        return f"github run {run}/{os.environ.get('GITHUB_RUN_ATTEMPT', '1')}"
    return f"{socket.gethostname()} pid {os.getpid()}"


@dataclass
class AwsClients:
    """boto3 clients; `deployments` serves the ECS service-deployment calls.

    It is the ECS client itself in real use; a separate field so that unit tests
    can stub the calls moto lacks while every other call goes to moto.
    """

    ecr: Any
    ecs: Any
    elbv2: Any
    cloudwatch: Any
    ec2: Any
    ssm: Any
    deployments: Any = None

    def __post_init__(self) -> None:
        """Default the deployments client to the ECS client."""
        if self.deployments is None:
            self.deployments = self.ecs

    @classmethod
    def create(cls, region: str) -> AwsClients:
        """Clients from the usual credential chain (in CI: the environment's OIDC role)."""
        import boto3

        session = boto3.session.Session(region_name=region)
        names = ("ecr", "ecs", "elbv2", "cloudwatch", "ec2", "ssm")
        return cls(**{name: session.client(name) for name in names})


@dataclass(frozen=True)
class Endpoints:
    """Where the release reaches the load balancer (default: its DNS name) and who it is."""

    test_url: str = ""  # MLOPS_DEPLOY_TEST_URL
    production_url: str = ""  # MLOPS_DEPLOY_PRODUCTION_URL
    runner_cidr: str = ""  # MLOPS_DEPLOY_RUNNER_CIDR (default: this machine's public address)


class AwsPlatform:
    """ECS native blue/green for one environment; see the module docstring."""

    name = "aws"

    def __init__(
        self,
        config: AwsConfig,
        environment: str,
        clients: AwsClients,
        *,
        policy: Policy,
        endpoints: Endpoints = Endpoints(),
        log: Callable[[str], None] = print,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """No AWS call is made until a method needs one."""
        self.config = config
        self.environment = environment
        self.prefix = config.prefix(environment)
        self.clients = clients
        self.policy = policy
        self.endpoints = endpoints
        self.log = log
        self.sleep = sleep
        self.state_name = f"/{self.prefix}/deploy/state"
        self.lock_name = f"/{self.prefix}/deploy/lock"
        self._state: dict[str, Any] | None = None
        self._ignored_alarms: set[str] = set()
        self._lock_owner = owner_id()

    # -- state and lock: SSM parameters every runner sees ---------------------------------

    @property
    def state(self) -> dict[str, Any]:
        """The environment's release state (read once from SSM)."""
        if self._state is None:
            try:
                raw = self.clients.ssm.get_parameter(Name=self.state_name)["Parameter"]["Value"]
                self._state = json.loads(raw)
            except self.clients.ssm.exceptions.ParameterNotFound:
                self._state = {}
        return self._state

    def _save(self, event: str | None = None) -> None:
        if event:
            history = list(self.state.get("history", []))
            history.append({"at": datetime.now(UTC).isoformat(timespec="seconds"), "event": event})
            self.state["history"] = history[-HISTORY_LENGTH:]
        self.clients.ssm.put_parameter(
            Name=self.state_name,
            Value=json.dumps(self.state, sort_keys=True),
            Type="String",
            Overwrite=True,
        )

    def _try_lock(self) -> dict[str, Any] | None:
        """Take the lock (None), or return who holds it."""
        now = datetime.now(UTC)
        expires = now + timedelta(minutes=self.config.timeout_minutes + 15)
        value = json.dumps(
            {"owner": self._lock_owner, "since": now.isoformat(), "expires": expires.isoformat()}
        )
        ssm = self.clients.ssm
        try:
            ssm.put_parameter(Name=self.lock_name, Value=value, Type="String", Overwrite=False)
            return None
        except ssm.exceptions.ParameterAlreadyExists:
            pass
        try:
            held: dict[str, Any] = json.loads(
                ssm.get_parameter(Name=self.lock_name)["Parameter"]["Value"]
            )
        except ssm.exceptions.ParameterNotFound:
            return {"owner": "(released meanwhile)", "expires": now.isoformat()}
        if datetime.fromisoformat(held["expires"]) < now:
            self.log(f"breaking the expired release lock of {held['owner']}")
            ssm.delete_parameter(Name=self.lock_name)
        return held

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One release per environment at a time, across runners; a second one waits."""
        deadline = time.monotonic() + self.config.lock_wait_minutes * 60
        while (held := self._try_lock()) is not None:
            if time.monotonic() >= deadline:
                raise DeployError(
                    f"another release of {self.environment} is running ({held['owner']}, since "
                    f"{held.get('since', '?')}); waited {self.config.lock_wait_minutes:g} min"
                )
            self.log(f"waiting for the release of {self.environment} held by {held['owner']}")
            self.sleep(self.config.poll_seconds)
        try:
            yield
        finally:
            self.clients.ssm.delete_parameter(Name=self.lock_name)

    # -- AWS reads ------------------------------------------------------------------------

    def _service(self) -> dict[str, Any]:
        found = self.clients.ecs.describe_services(cluster=self.prefix, services=[self.prefix])[
            "services"
        ]
        if not found or found[0].get("status") == "INACTIVE":
            raise DeployError(
                f"ECS service {self.prefix!r} not found in {self.environment}: create the "
                f"environment's stack first (make aws-bootstrap ENVIRONMENT={self.environment})"
            )
        service: dict[str, Any] = found[0]
        return service

    def _load_balancing(self) -> dict[str, Any]:
        for balancer in self._service().get("loadBalancers", []):
            advanced = balancer.get("advancedConfiguration") or {}
            if advanced.get("productionListenerRule") and advanced.get("testListenerRule"):
                return {**advanced, "targetGroupArn": balancer["targetGroupArn"]}
        raise DeployError(
            "the service has no blue/green load balancer configuration "
            "(advancedConfiguration with production and test listener rules)"
        )

    def traffic(self) -> dict[str, dict[str, int]]:
        """Weights per target group of the production and test listener rules."""
        advanced = self._load_balancing()
        production, test = advanced["productionListenerRule"], advanced["testListenerRule"]
        rules = self.clients.elbv2.describe_rules(RuleArns=[production, test])["Rules"]
        by_arn = {rule["RuleArn"]: forward_weights(rule.get("Actions", [])) for rule in rules}
        return {"production": by_arn.get(production, {}), "test": by_arn.get(test, {})}

    def _idle_target_group(self) -> str:
        """The target group production does not use: where ECS starts green.

        ECS alternates the two groups from release to release, so green is
        found from the production rule's weights, not from the service's fields.
        """
        advanced = self._load_balancing()
        groups = (advanced["targetGroupArn"], advanced["alternateTargetGroupArn"])
        production = self.traffic()["production"]
        idle = [str(group) for group in groups if production.get(group, 0) == 0]
        return idle[0] if idle else str(groups[1])

    def _dns_name(self) -> str:
        found = self.clients.elbv2.describe_load_balancers(Names=[self.prefix])["LoadBalancers"]
        return str(found[0]["DNSName"])

    def test_url(self) -> str:
        """The load balancer's test listener (or MLOPS_DEPLOY_TEST_URL)."""
        if self.endpoints.test_url:
            return self.endpoints.test_url.rstrip("/")
        return f"http://{self._dns_name()}:{self.config.test_listener_port}"

    @property
    def production_url(self) -> str:
        """The load balancer's production listener (or MLOPS_DEPLOY_PRODUCTION_URL)."""
        if self.endpoints.production_url:
            return self.endpoints.production_url.rstrip("/")
        listeners = self.clients.elbv2.describe_listeners(
            LoadBalancerArn=self.clients.elbv2.describe_load_balancers(Names=[self.prefix])[
                "LoadBalancers"
            ][0]["LoadBalancerArn"]
        )["Listeners"]
        secure = any(listener.get("Protocol") == "HTTPS" for listener in listeners)
        return f"{'https' if secure else 'http'}://{self._dns_name()}"

    def check_image(self, image: str) -> str:
        """The image reference, after checking that ECR holds it (other registries: as given)."""
        repository, digest = split_image(image)
        host, _, name = repository.partition("/")
        if ECR_HOST.match(host):
            ecr = self.clients.ecr
            try:
                ecr.describe_images(repositoryName=name, imageIds=[{"imageDigest": digest}])
            except (
                ecr.exceptions.ImageNotFoundException,
                ecr.exceptions.RepositoryNotFoundException,
            ) as err:
                raise DeployError(f"{repository}@{digest} is not in ECR") from err
        return f"{repository}@{digest}"

    def _describe(self) -> dict[str, Any]:
        arn = self.state["candidate"]["deployment"]
        found = self.clients.deployments.describe_service_deployments(serviceDeploymentArns=[arn])
        deployment: dict[str, Any] = found["serviceDeployments"][0]
        return deployment

    @staticmethod
    def _paused_at(deployment: dict[str, Any], stage: str | None = None) -> str | None:
        """The hook id ECS waits on (at `stage` if given), or None."""
        if stage is not None and deployment.get("lifecycleStage") != stage:
            return None
        for hook in deployment.get("lifecycleHookDetails", []):
            if hook.get("targetType") == "PAUSE" and hook.get("status") == "AWAITING_ACTION":
                return str(hook["hookId"])
        return None

    def _answer(self, hook: str, action: str) -> None:
        self.clients.deployments.continue_service_deployment(
            serviceDeploymentArn=self.state["candidate"]["deployment"], hookId=hook, action=action
        )

    def _find_deployment(self, task_definition: str) -> str:
        """The service deployment that ECS started for `task_definition`."""
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            listed = self.clients.deployments.list_service_deployments(
                cluster=self.prefix, service=self.prefix, status=["PENDING", "IN_PROGRESS"]
            )["serviceDeployments"]
            if listed:
                newest = max(listed, key=lambda brief: str(brief.get("createdAt") or ""))
                return str(newest["serviceDeploymentArn"])
            self.sleep(self.config.poll_seconds)
        raise ReleaseError(f"ECS started no deployment for {task_definition}")

    def _alarm_states(self) -> dict[str, tuple[str, str]]:
        found = self.clients.cloudwatch.describe_alarms(AlarmNames=alarm_names(self.prefix))
        return {
            alarm["AlarmName"]: (alarm.get("StateValue", ""), alarm.get("StateReason", ""))
            for alarm in found.get("MetricAlarms", [])
        }

    def _alarms_firing(self) -> list[str]:
        return [
            f"{name} ({reason})".strip()
            for name, (state, reason) in self._alarm_states().items()
            if state == "ALARM" and name not in self._ignored_alarms
        ]

    def _green_requests(self) -> tuple[int, int]:
        """(requests, load balancer 5xx) of green's target group since the deployment started."""
        candidate = self.state.get("candidate") or {}
        green = candidate.get("green_target_group")
        if not green:
            return 0, 0
        started = datetime.fromisoformat(candidate["started_at"]) - timedelta(minutes=1)
        dimensions = [
            {"Name": "TargetGroup", "Value": green.split(":", 5)[-1]},
            {"Name": "LoadBalancer", "Value": candidate["load_balancer"]},
        ]
        totals = []
        for metric in ("RequestCount", "HTTPCode_Target_5XX_Count"):
            points = self.clients.cloudwatch.get_metric_statistics(
                Namespace="AWS/ApplicationELB",
                MetricName=metric,
                Dimensions=dimensions,
                StartTime=started,
                EndTime=datetime.now(UTC) + timedelta(minutes=1),
                Period=60,
                Statistics=["Sum"],
            )["Datapoints"]
            totals.append(int(sum(point.get("Sum", 0) for point in points)))
        return totals[0], totals[1]

    # -- the validation window: the runner's address on the test listener -----------------

    def _validation_group(self) -> str:
        name = f"{self.prefix}-validation"
        found = self.clients.ec2.describe_security_groups(
            Filters=[{"Name": "group-name", "Values": [name]}]
        )["SecurityGroups"]
        if not found:
            raise DeployError(f"security group {name} not found: update the environment's stack")
        return str(found[0]["GroupId"])

    def runner_cidr(self) -> str:
        """This runner's public address as /32 (MLOPS_DEPLOY_RUNNER_CIDR overrides it)."""
        if self.endpoints.runner_cidr:
            return self.endpoints.runner_cidr
        try:
            with urllib.request.urlopen(RUNNER_ADDRESS_URL, timeout=10) as response:
                address = response.read().decode().strip()
        except OSError as err:
            raise DeployError(
                f"cannot learn this runner's public address from {RUNNER_ADDRESS_URL} ({err}); "
                "set MLOPS_DEPLOY_RUNNER_CIDR"
            ) from err
        return f"{address}/32"

    def _permission(self, cidr: str, note: str = "") -> dict[str, Any]:
        port = self.config.test_listener_port
        ip_range = {"CidrIp": cidr, **({"Description": note} if note else {})}
        return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [ip_range]}

    def sweep_ingress(self, *, everything: bool = False) -> list[str]:
        """Remove the validation rules that expired (all of them with `everything`)."""
        group = self._validation_group()
        described = self.clients.ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"]
        now = datetime.now(UTC)
        removed = []
        for permission in described[0].get("IpPermissions", []):
            for ip_range in permission.get("IpRanges", []):
                note = ip_range.get("Description", "")
                if not note.startswith(INGRESS_NOTE):
                    continue
                expires = datetime.fromisoformat(note.removeprefix(INGRESS_NOTE))
                if everything or expires < now:
                    self.clients.ec2.revoke_security_group_ingress(
                        GroupId=group, IpPermissions=[self._permission(ip_range["CidrIp"])]
                    )
                    removed.append(ip_range["CidrIp"])
        return removed

    def open_ingress(self) -> str:
        """Let this runner reach the test listener, for at most `ingress_minutes`."""
        cidr = self.runner_cidr()
        expires = datetime.now(UTC) + timedelta(minutes=self.config.ingress_minutes)
        note = INGRESS_NOTE + expires.isoformat(timespec="seconds")
        ec2 = self.clients.ec2
        try:
            ec2.authorize_security_group_ingress(
                GroupId=self._validation_group(), IpPermissions=[self._permission(cidr, note)]
            )
        except ec2.exceptions.ClientError as err:
            if "Duplicate" not in str(err):
                raise
        self.log(f"test listener open to {cidr} until {expires:%H:%M} UTC")
        return cidr

    # -- lifecycle --------------------------------------------------------------------------

    def recover(self) -> list[str]:
        """Close leftover validation windows; settle a release an earlier run left in flight.

        Paused at a hook: nobody vouched for green, so roll it back.
        Otherwise ECS owns it (it watches the alarms): wait for its end.
        """
        notes = [f"removed the expired validation rule for {c}" for c in self.sweep_ingress()]
        candidate = self.state.get("candidate")
        if not candidate or not candidate.get("deployment"):
            self.state["candidate"] = None
            return notes
        deployment = self._describe()
        note = (
            f"release {candidate['release']} of an interrupted run was {deployment.get('status')}"
        )
        hook = self._paused_at(deployment)
        if hook is not None:
            self._answer(hook, "ROLLBACK")
            note = f"rolled back release {candidate['release']} left paused by an interrupted run"
        final = self._wait_finished()
        if final == "SUCCESSFUL":
            self._record_live()
        else:
            self.state["candidate"] = None
        self._save(note)
        return [*notes, f"{note} (now {final})"]

    def live_version(self) -> str | None:
        """Identity of the live release."""
        live = self.state.get("live") or {}
        return live.get("release")

    def plan(self, policy: Policy) -> list[TrafficStep]:
        """ECS's canary/linear steps (watched until its bake hook), then the release's own bake.

        The first release has no blue to compare with (its target group is empty):
        it goes all at once, then bakes.
        """
        bake = TrafficStep(100, policy.bake_seconds)
        if list(policy.steps) == [100] or not self.live_version():
            return [bake]
        return [TrafficStep(policy.steps[0], None), bake]

    def start_green(self, release: Release) -> None:
        """New task-definition revision with the image by digest, then update_service.

        The revision copies the previous one and makes sure the service ships its
        prediction log to this environment's prefix (`with_prediction_log`).
        """
        image = self.check_image(release.source)
        service = self._service()
        current = service["taskDefinition"]
        definition = self.clients.ecs.describe_task_definition(taskDefinition=current)[
            "taskDefinition"
        ]
        name = self.config.container
        if all(c["name"] != name for c in definition["containerDefinitions"]):
            raise DeployError(f"task definition {current} has no container {name!r}")
        uri = prediction_log_uri(
            self.config.name, definition["taskDefinitionArn"], self.environment
        )
        volumes = list(definition.get("volumes") or [])
        containers = []
        for container in definition["containerDefinitions"]:
            if container["name"] != name:
                containers.append(container)
                continue
            shipping, volumes = with_prediction_log({**container, "image": image}, volumes, uri)
            containers.append(shipping)
        keys = (
            "family", "taskRoleArn", "executionRoleArn", "networkMode",
            "requiresCompatibilities", "runtimePlatform",
        )  # fmt: skip
        registered = self.clients.ecs.register_task_definition(
            **{k: definition[k] for k in keys if definition.get(k) is not None},
            cpu=self.config.cpu,
            memory=self.config.memory,
            containerDefinitions=containers,
            volumes=volumes,
        )["taskDefinition"]["taskDefinitionArn"]
        states = self._alarm_states()
        self._ignored_alarms = {n for n, (state, _) in states.items() if state == "ALARM"}
        for alarm in sorted(self._ignored_alarms):
            self.log(f"alarm {alarm} already fires (blue's doing): not held against green")
        green = self._idle_target_group()
        balancer = self.clients.elbv2.describe_load_balancers(Names=[self.prefix])["LoadBalancers"][
            0
        ]["LoadBalancerArn"]
        self.state["candidate"] = {
            "release": release.identity,
            "version": release.version,
            "revision": release.revision,
            "image": image,
            "task_definition": registered,
            "previous_task_definition": current,
            "deployment": None,
            "started_at": datetime.now(UTC).isoformat(),
            "green_target_group": green,
            "load_balancer": balancer.split(":loadbalancer/", 1)[-1],
        }
        self._save(f"registered {registered} for {release.identity}")
        update: dict[str, Any] = {
            "cluster": self.prefix,
            "service": self.prefix,
            "taskDefinition": registered,
            "deploymentConfiguration": deployment_configuration(
                self.policy.steps if self.live_version() else (100,),
                self.policy.step_seconds,
                self.policy.bake_seconds,
                alarms=[a for a in alarm_names(self.prefix) if a not in self._ignored_alarms],
                alarm_window_minutes=self.config.alarm_window_minutes,
                hook_timeout_minutes=self.config.hook_timeout_minutes,
            ),
        }
        if not service.get("desiredCount"):
            update["desiredCount"] = self.config.min_tasks  # the first release starts the service
        self.clients.ecs.update_service(**update)
        self.state["candidate"]["deployment"] = self._find_deployment(registered)
        self._save(f"ECS deployment {self.state['candidate']['deployment']} started")

    def _wait_for(self, stage: str, what: str) -> str:
        """Block until ECS pauses at `stage`; ReleaseError if it ends or rolls back first."""
        deadline = time.monotonic() + self.config.timeout_minutes * 60
        while time.monotonic() < deadline:
            deployment = self._describe()
            status = deployment.get("status", "")
            if status in FINISHED or status in ROLLING_BACK:
                raise ReleaseError(
                    f"ECS ended the deployment before {what}: {status} "
                    f"{deployment.get('statusReason', '')}".strip()
                )
            hook = self._paused_at(deployment, stage)
            if hook is not None:
                return hook
            self.sleep(self.config.poll_seconds)
        raise ReleaseError(f"ECS did not reach {what} in {self.config.timeout_minutes:g} min")

    def wait_green_ready(self, timeout_seconds: float) -> None:
        """Wait until ECS paused after shifting test traffic to green."""
        self._wait_for(VALIDATION_STAGE, "validation")

    def route_test_traffic(self) -> str:
        """ECS moved the test rule; check it left blue, then open it to this runner."""
        traffic = self.traffic()
        production = {arn for arn, weight in traffic["production"].items() if weight > 0}
        test = {arn for arn, weight in traffic["test"].items() if weight > 0}
        if not test or test & production:
            raise ReleaseError(
                "the test listener rule still sends traffic to the production target group; "
                "validation would test blue"
            )
        self.open_ingress()
        return self.test_url()

    @contextmanager
    def front_door_watched(self) -> Iterator[list[str]]:
        """The ALB is AWS's to keep up: nothing to restart, no note."""
        yield []

    def shift(self, percent: int) -> None:
        """Answer the validation hook (ECS starts the production shift); at 100 % wait for it."""
        deployment = self._describe()
        hook = self._paused_at(deployment, VALIDATION_STAGE)
        if hook is not None:
            removed = self.sweep_ingress(everything=True)
            self.log(f"test listener closed again ({', '.join(removed) or 'no rule left'})")
            self._answer(hook, "CONTINUE")
            self.log("validation passed: ECS shifts production traffic")
        if percent == 100:
            self._wait_for(BAKE_STAGE, "the bake")
            self.log("ECS moved all production traffic to green and waits for the bake")

    def observe(self) -> Observation:
        """Alarms, green's request counts, ECS's status; paused at the bake hook = settled."""
        deployment = self._describe()
        status = deployment.get("status", "")
        alarms = self._alarms_firing()
        if status in ROLLING_BACK or status in FINISHED:
            alarms.append(f"ECS {status}: {deployment.get('statusReason', '')}".strip())
        requests, errors = self._green_requests()
        settled = self._paused_at(deployment, BAKE_STAGE) is not None
        return Observation(requests=requests, errors=errors, alarms=tuple(alarms), settled=settled)

    def _record_live(self) -> None:
        candidate = self.state.get("candidate") or {}
        self.state["previous"] = self.state.get("live")
        self.state["live"] = {
            key: candidate.get(key) for key in ("release", "version", "revision", "image")
        } | {"task_definition": candidate.get("task_definition")}
        self.state["candidate"] = None
        self.state["last"] = {"release": candidate.get("release"), "outcome": "released"}

    def promote(self) -> None:
        """Answer the bake hook; ECS bakes with the alarms armed; wait for its final word."""
        hook = self._paused_at(self._describe(), BAKE_STAGE)
        if hook is None:
            raise ReleaseError("the deployment is no longer paused at the bake hook")
        self._answer(hook, "CONTINUE")
        self.log("bake passed: ECS bakes with the alarms armed, then retires blue")
        deadline = time.monotonic() + self.config.timeout_minutes * 60
        while time.monotonic() < deadline:
            deployment = self._describe()
            status = deployment.get("status", "")
            if status == "SUCCESSFUL":
                break
            firing = self._alarms_firing()
            if status in FINISHED or status in ROLLING_BACK or firing:
                reason = deployment.get("statusReason", "") or "; ".join(firing)
                raise ReleaseError(f"ECS's bake failed: {status} {reason}".strip())
            self.sleep(self.config.poll_seconds)
        else:
            raise ReleaseError("ECS did not finish its bake in time")
        self._record_live()
        self._tag_releases()
        self._save(f"released {self.live_version()} ({self.state['live']['task_definition']})")

    def _tag_releases(self) -> None:
        """ECR only: tag the live and previous images `<env>-live`, `<env>-previous`.

        The repository's lifecycle rule never expires those tags, so neither the
        running image nor the one a rollback needs can disappear.
        """
        ecr = self.clients.ecr
        for key in ("live", "previous"):
            image = (self.state.get(key) or {}).get("image") or ""
            repository, _, digest = image.partition("@")
            host, _, name = repository.partition("/")
            if not ECR_HOST.match(host) or not digest:
                continue
            try:
                found = ecr.batch_get_image(repositoryName=name, imageIds=[{"imageDigest": digest}])
                ecr.put_image(
                    repositoryName=name,
                    imageManifest=found["images"][0]["imageManifest"],
                    imageTag=f"{self.environment}-{key}",
                    imageDigest=digest,
                )
            except Exception as err:  # a missing label must not fail a release that went live
                if "ImageAlreadyExists" not in str(err):
                    self.log(f"could not tag {image} as {self.environment}-{key}: {err}")

    def retire_blue(self) -> None:
        """ECS retired blue at the end of its bake (CLEAN_UP stage); nothing left to do."""

    def _wait_finished(self) -> str:
        deadline = time.monotonic() + self.config.timeout_minutes * 60
        while time.monotonic() < deadline:
            status = str(self._describe().get("status", ""))
            if status in FINISHED:
                return status
            self.sleep(self.config.poll_seconds)
        return "unknown (timed out waiting)"

    def abort(self, reason: str) -> None:
        """Roll the ECS deployment back (at a hook or during a shift or bake), wait for the end."""
        candidate = self.state.get("candidate") or {}
        arn = candidate.get("deployment")
        final = "never started"
        if arn:
            deployment = self._describe()
            status = deployment.get("status", "")
            hook = self._paused_at(deployment)
            if hook is not None:
                self._answer(hook, "ROLLBACK")
            elif status not in FINISHED and status not in ROLLING_BACK:
                self.clients.deployments.stop_service_deployment(
                    serviceDeploymentArn=arn, stopType="ROLLBACK"
                )
            final = self._wait_finished()
        self.sweep_ingress(everything=True)
        self.state["candidate"] = None
        self.state["last"] = {
            "release": candidate.get("release"),
            "outcome": f"rolled back ({final})",
            "reason": reason,
        }
        self._save(f"rolled back {candidate.get('release')}: {reason} -> {final}")

    # -- other commands -------------------------------------------------------------------

    def previous_release(self) -> Release:
        """The release before the live one, for `deploy rollback`."""
        previous = self.state.get("previous")
        if not previous or not previous.get("image"):
            raise DeployError(f"nothing to roll back to: no earlier release of {self.environment}")
        return Release(
            version=str(previous["version"]),
            source=str(previous["image"]),
            revision=str(previous.get("revision") or ""),
        )

    def stop_all(self) -> list[str]:
        """Not the release's job on AWS: the stack owns the service."""
        raise DeployError("`deploy stop` is local only: delete the environment's stack instead")

    def status(self) -> dict[str, Any]:
        """The release state from SSM plus what ECS and the load balancer say now."""
        service = self._service()
        return {
            "platform": self.name,
            "environment": self.environment,
            "service": self.prefix,
            "live": self.state.get("live"),
            "previous": self.state.get("previous"),
            "in flight": self.state.get("candidate"),
            "last": self.state.get("last"),
            "task definition": service.get("taskDefinition"),
            "desired tasks": service.get("desiredCount"),
            "traffic": self.traffic(),
            "alarms firing": self._alarms_firing(),
            "history": self.state.get("history", [])[-5:],
        }
