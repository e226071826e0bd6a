"""The AWS platform: Amazon ECS native blue/green behind an Application Load Balancer.

Why native ECS blue/green (deploymentConfiguration.strategy BLUE_GREEN, or
CANARY / LINEAR for canary steps) rather than ALB weights moved by this
command: ECS itself starts green, shifts test and production traffic through
the listener rules (`advancedConfiguration` of the service's load balancer),
bakes, watches the CloudWatch alarms and rolls back on its own, so a CI runner
that dies mid-release cannot leave production half-switched. What ECS cannot
do is run our validation, so the release adds a PAUSE lifecycle hook after the
test-traffic shift: the deployment waits there while this command validates
green through the test listener (smoke + load gate), then calls
ContinueServiceDeployment with CONTINUE, or ROLLBACK. If the command never
answers, the hook times out and ECS rolls back by itself.

    register task definition (image by digest) -> update_service
      -> ECS: scale up green, test listener rule -> green, PAUSE
      -> this command: validate on the test listener -> CONTINUE | ROLLBACK
      -> ECS: production rule -> green (all at once, canary or linear), bake
         while the alarms are watched (by ECS and by this command)
      -> ECS: blue retired | rollback on alarm (StopServiceDeployment ROLLBACK)

Only boto3 calls live here; the order of the steps is deploy/lifecycle.py's.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..errors import DeployError
from ..settings import Settings
from .config import AwsConfig
from .health import Observation
from .lifecycle import Policy, Release, ReleaseError, TrafficStep
from .state import add_history, load_state, save_state

FINISHED = {"SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"}
ROLLING_BACK = {
    "ROLLBACK_REQUESTED",
    "ROLLBACK_IN_PROGRESS",
    "ROLLBACK_SUCCESSFUL",
    "ROLLBACK_FAILED",
}
HOOK_STAGE = "POST_TEST_TRAFFIC_SHIFT"


def strategy_for(steps: Sequence[int], step_seconds: float) -> dict[str, Any]:
    """ECS strategy fields for the configured traffic steps.

    [100] is BLUE_GREEN (all at once), [p, 100] CANARY (p % first), equal
    increments [s, 2s, ..., 100] LINEAR; other shapes have no ECS equivalent.
    """
    minutes = max(1, math.ceil(step_seconds / 60))
    if list(steps) == [100]:
        return {"strategy": "BLUE_GREEN"}
    if len(steps) == 2:
        return {
            "strategy": "CANARY",
            "canaryConfiguration": {
                "canaryPercent": float(steps[0]),
                "canaryBakeTimeInMinutes": minutes,
            },
        }
    step = steps[0]
    if list(steps) == list(range(step, 101, step)):
        return {
            "strategy": "LINEAR",
            "linearConfiguration": {"stepPercent": float(step), "stepBakeTimeInMinutes": minutes},
        }
    raise DeployError(
        f"traffic.steps {list(steps)} have no ECS equivalent: use [100], [p, 100] (canary) "
        "or equal increments such as [25, 50, 75, 100] (linear)"
    )


def deployment_configuration(
    policy: Policy, alarms: Sequence[str], hook_timeout_minutes: int
) -> dict[str, Any]:
    """The deploymentConfiguration of a release: strategy, bake time, pause hook, alarms."""
    return {
        **strategy_for(policy.steps, policy.step_seconds),
        "bakeTimeInMinutes": math.ceil(policy.bake_seconds / 60),
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "alarms": {"alarmNames": list(alarms), "enable": bool(alarms), "rollback": True},
        "lifecycleHooks": [
            {
                "targetType": "PAUSE",
                "lifecycleStages": [HOOK_STAGE],
                "timeoutConfiguration": {
                    "timeoutInMinutes": hook_timeout_minutes,
                    "action": "ROLLBACK",
                },
            }
        ],
    }


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


@dataclass
class AwsClients:
    """boto3 clients; `deployments` serves the ECS service-deployment calls.

    It is the ECS client itself in real use. It is a separate field because
    moto does not implement service deployments, so tests stub those calls
    (botocore's Stubber) while every other call goes to moto.
    """

    ecr: Any
    ecs: Any
    elbv2: Any
    cloudwatch: Any
    deployments: Any = None

    def __post_init__(self) -> None:
        """Default the deployments client to the ECS client."""
        if self.deployments is None:
            self.deployments = self.ecs

    @classmethod
    def create(cls, region: str) -> AwsClients:
        """Clients from the usual credential chain (in CI: the GitHub OIDC role)."""
        import boto3

        session = boto3.session.Session(region_name=region)
        return cls(
            ecr=session.client("ecr"),
            ecs=session.client("ecs"),
            elbv2=session.client("elbv2"),
            cloudwatch=session.client("cloudwatch"),
        )


class AwsPlatform:
    """ECS native blue/green; see the module docstring."""

    name = "aws"

    def __init__(
        self,
        settings: Settings,
        config: AwsConfig,
        clients: AwsClients,
        *,
        policy: Policy,
        log: Callable[[str], None] = print,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Read the state file; no AWS call is made until a lifecycle method runs."""
        self.config = config
        self.clients = clients
        self.policy = policy
        self.log = log
        self.sleep = sleep
        self.state_path = settings.deploy_dir / "state" / "aws.json"
        self.state = load_state(self.state_path)
        self.state["platform"] = self.name
        self._deployment: dict[str, Any] = {}

    def _save(self, event: str | None = None) -> None:
        if event:
            add_history(self.state, event)
        save_state(self.state_path, self.state)

    # -- AWS reads ---------------------------------------------------------------------------

    def _service(self) -> dict[str, Any]:
        found = self.clients.ecs.describe_services(
            cluster=self.config.cluster, services=[self.config.service]
        )["services"]
        if not found:
            raise DeployError(
                f"ECS service {self.config.service!r} not found in cluster "
                f"{self.config.cluster!r}: create the stack in infra/aws first"
            )
        service: dict[str, Any] = found[0]
        return service

    def _rules(self) -> tuple[str, str]:
        """(production rule, test rule) ARNs from the service's load balancer configuration."""
        for balancer in self._service().get("loadBalancers", []):
            advanced = balancer.get("advancedConfiguration") or {}
            if advanced.get("productionListenerRule") and advanced.get("testListenerRule"):
                return advanced["productionListenerRule"], advanced["testListenerRule"]
        raise DeployError(
            "the service has no blue/green load balancer configuration "
            "(advancedConfiguration with production and test listener rules)"
        )

    def traffic(self) -> dict[str, dict[str, int]]:
        """Weights per target group of the production and test listener rules."""
        production, test = self._rules()
        rules = self.clients.elbv2.describe_rules(RuleArns=[production, test])["Rules"]
        by_arn = {rule["RuleArn"]: forward_weights(rule.get("Actions", [])) for rule in rules}
        return {"production": by_arn.get(production, {}), "test": by_arn.get(test, {})}

    def test_url(self) -> str:
        """The load balancer's test listener (or config aws.test_url)."""
        if self.config.test_url:
            return self.config.test_url.rstrip("/")
        balancers = self.clients.elbv2.describe_load_balancers(Names=[self.config.load_balancer])
        dns = balancers["LoadBalancers"][0]["DNSName"]
        return f"http://{dns}:{self.config.test_listener_port}"

    def image_uri(self, digest: str) -> str:
        """`<repository uri>@<digest>`, after checking that ECR holds that image."""
        if not digest.startswith("sha256:"):
            raise DeployError(f"--image-digest must look like sha256:<hex>, got {digest!r}")
        ecr = self.clients.ecr
        try:
            ecr.describe_images(
                repositoryName=self.config.repository, imageIds=[{"imageDigest": digest}]
            )
        except ecr.exceptions.ImageNotFoundException as err:
            raise DeployError(f"{self.config.repository}@{digest} is not in ECR") from err
        repository = ecr.describe_repositories(repositoryNames=[self.config.repository])
        return f"{repository['repositories'][0]['repositoryUri']}@{digest}"

    def _describe(self) -> dict[str, Any]:
        arn = self.state["candidate"]["deployment"]
        found = self.clients.deployments.describe_service_deployments(serviceDeploymentArns=[arn])
        deployment: dict[str, Any] = found["serviceDeployments"][0]
        self._deployment = deployment
        return deployment

    def _paused_hook(self, deployment: dict[str, Any]) -> str | None:
        for hook in deployment.get("lifecycleHookDetails", []):
            if hook.get("targetType") == "PAUSE" and hook.get("status") == "AWAITING_ACTION":
                return str(hook["hookId"])
        return None

    def _find_deployment(self, task_definition: str) -> str:
        """The service deployment that ECS started for `task_definition`."""
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            listed = self.clients.deployments.list_service_deployments(
                cluster=self.config.cluster,
                service=self.config.service,
                status=["PENDING", "IN_PROGRESS"],
            )["serviceDeployments"]
            if listed:
                newest = max(listed, key=lambda brief: brief.get("createdAt") or 0)
                return str(newest["serviceDeploymentArn"])
            self.sleep(self.config.poll_seconds)
        raise ReleaseError(f"ECS started no deployment for {task_definition}")

    # -- lifecycle ---------------------------------------------------------------------------

    def recover(self) -> list[str]:
        """Settle a release that an earlier run left in flight.

        Paused at the validation hook: nobody vouched for green, so roll it back.
        Past the hook: ECS owns it (it watches the alarms), so wait for its end.
        """
        candidate = self.state.get("candidate")
        if not candidate or not candidate.get("deployment"):
            self.state["candidate"] = None
            return []
        deployment = self._describe()
        status = deployment.get("status", "")
        note = f"release {candidate['version']} of an interrupted run was {status}"
        hook = self._paused_hook(deployment)
        if hook is not None:
            self.clients.deployments.continue_service_deployment(
                serviceDeploymentArn=candidate["deployment"], hookId=hook, action="ROLLBACK"
            )
            note = f"rolled back release {candidate['version']} left paused by an interrupted run"
        final = self._wait_finished()
        if final == "SUCCESSFUL":
            self.promote()
        else:
            self.state["candidate"] = None
        self._save(note)
        return [f"{note} (now {final})"]

    def live_version(self) -> str | None:
        """Version of the live release, from the state file."""
        live = self.state.get("live") or {}
        return live.get("version")

    def plan(self, policy: Policy) -> list[TrafficStep]:
        """One step: ECS runs the canary/linear steps and the bake, this command watches."""
        return [TrafficStep(100, None)]

    def start_green(self, release: Release) -> None:
        """New task-definition revision with the image by digest, then update_service."""
        image = self.image_uri(release.source)
        service = self._service()
        current = service["taskDefinition"]
        definition = self.clients.ecs.describe_task_definition(taskDefinition=current)[
            "taskDefinition"
        ]
        name = self.config.container
        containers = [
            {**c, "image": image} if c["name"] == name else c
            for c in definition["containerDefinitions"]
        ]
        if all(c["name"] != name for c in containers):
            raise DeployError(f"task definition {current} has no container {name!r}")
        keys = (
            "family", "taskRoleArn", "executionRoleArn", "networkMode", "volumes",
            "requiresCompatibilities", "cpu", "memory", "runtimePlatform",
        )  # fmt: skip
        registered = self.clients.ecs.register_task_definition(
            **{k: definition[k] for k in keys if definition.get(k) is not None},
            containerDefinitions=containers,
        )["taskDefinition"]["taskDefinitionArn"]
        self.state["candidate"] = {
            "version": release.version,
            "image": image,
            "task_definition": registered,
            "previous_task_definition": current,
            "deployment": None,
        }
        self._save(f"registered {registered} for {release.version}")
        self.clients.ecs.update_service(
            cluster=self.config.cluster,
            service=self.config.service,
            taskDefinition=registered,
            deploymentConfiguration=deployment_configuration(
                self.policy, self.config.alarms, self.config.hook_timeout_minutes
            ),
        )
        self.state["candidate"]["deployment"] = self._find_deployment(registered)
        self._save(f"ECS deployment {self.state['candidate']['deployment']} started")

    def wait_green_ready(self, timeout_seconds: float) -> None:
        """Wait until ECS paused after shifting test traffic to green."""
        deadline = time.monotonic() + max(timeout_seconds, self.config.timeout_minutes * 60)
        while time.monotonic() < deadline:
            deployment = self._describe()
            status = deployment.get("status", "")
            if status in FINISHED or status in ROLLING_BACK:
                raise ReleaseError(
                    f"ECS ended the deployment before validation: {status} "
                    f"{deployment.get('statusReason', '')}".strip()
                )
            if self._paused_hook(deployment) is not None:
                return
            self.sleep(self.config.poll_seconds)
        raise ReleaseError("green did not reach the test-traffic stage in time")

    def route_test_traffic(self) -> str:
        """ECS already moved the test rule; check it no longer points where production does."""
        traffic = self.traffic()
        production = {arn for arn, weight in traffic["production"].items() if weight > 0}
        test = {arn for arn, weight in traffic["test"].items() if weight > 0}
        if not test or test & production:
            raise ReleaseError(
                "the test listener rule still sends traffic to the production target group; "
                "validation would test blue"
            )
        return self.test_url()

    def shift(self, percent: int) -> None:
        """Release the pause: ECS shifts production traffic with the configured strategy."""
        hook = self._paused_hook(self._describe())
        if hook is None:
            raise ReleaseError("the deployment is no longer paused at the validation hook")
        self.clients.deployments.continue_service_deployment(
            serviceDeploymentArn=self.state["candidate"]["deployment"],
            hookId=hook,
            action="CONTINUE",
        )
        self.log("validation passed: ECS continues (production traffic shift, then bake)")

    def _alarms_firing(self) -> list[str]:
        if not self.config.alarms:
            return []
        found = self.clients.cloudwatch.describe_alarms(AlarmNames=list(self.config.alarms))
        return [
            f"{alarm['AlarmName']} ({alarm.get('StateReason', '')})".strip()
            for alarm in found.get("MetricAlarms", [])
            if alarm.get("StateValue") == "ALARM"
        ]

    def observe(self) -> Observation:
        """CloudWatch alarms and the deployment's status; ECS's own rollback is an alarm too."""
        deployment = self._describe()
        status = deployment.get("status", "")
        alarms = self._alarms_firing()
        if status in ROLLING_BACK or status == "STOPPED":
            alarms.append(f"ECS {status}: {deployment.get('statusReason', '')}".strip())
        return Observation(alarms=tuple(alarms), settled=status == "SUCCESSFUL")

    def promote(self) -> None:
        """Record the release as live."""
        candidate = self.state.get("candidate") or {}
        self.state["previous"] = self.state.get("live")
        self.state["live"] = {
            "version": candidate.get("version"),
            "image": candidate.get("image"),
            "task_definition": candidate.get("task_definition"),
        }
        self.state["candidate"] = None
        self.state["last"] = {"version": candidate.get("version"), "outcome": "released"}
        self._save(f"released {candidate.get('version')} ({candidate.get('task_definition')})")

    def retire_blue(self) -> None:
        """ECS retired blue at the end of the bake (CLEAN_UP stage); nothing left to do."""

    def _wait_finished(self) -> str:
        deadline = time.monotonic() + self.config.timeout_minutes * 60
        while time.monotonic() < deadline:
            status = str(self._describe().get("status", ""))
            if status in FINISHED:
                return status
            self.sleep(self.config.poll_seconds)
        return "unknown (timed out waiting)"

    def abort(self, reason: str) -> None:
        """Roll the ECS deployment back (from the pause hook or during the bake), wait for it."""
        candidate = self.state.get("candidate") or {}
        arn = candidate.get("deployment")
        final = "never started"
        if arn:
            deployment = self._describe()
            status = deployment.get("status", "")
            hook = self._paused_hook(deployment)
            if hook is not None:
                self.clients.deployments.continue_service_deployment(
                    serviceDeploymentArn=arn, hookId=hook, action="ROLLBACK"
                )
            elif status not in FINISHED and status not in ROLLING_BACK:
                self.clients.deployments.stop_service_deployment(
                    serviceDeploymentArn=arn, stopType="ROLLBACK"
                )
            final = self._wait_finished()
        self.state["candidate"] = None
        self.state["last"] = {
            "version": candidate.get("version"),
            "outcome": f"rolled back ({final})",
            "reason": reason,
        }
        self._save(f"rolled back {candidate.get('version')}: {reason} -> {final}")

    # -- other commands ----------------------------------------------------------------------

    def previous_release(self) -> Release:
        """The image before the live one, for `deploy rollback`."""
        previous = self.state.get("previous")
        if not previous or not previous.get("image"):
            raise DeployError("nothing to roll back to: no earlier release is recorded")
        digest = str(previous["image"]).rpartition("@")[2]
        return Release(version=str(previous["version"]), source=digest)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """ECS allows one service deployment at a time; nothing more to hold here."""
        yield

    def stop_all(self) -> list[str]:
        """Not the release's job on AWS: the stack owns the service."""
        raise DeployError("`deploy stop` is local only: delete the CloudFormation stack instead")

    def status(self) -> dict[str, Any]:
        """The state file plus the live traffic split read from the load balancer."""
        return {
            "platform": self.name,
            "live": self.state.get("live"),
            "in flight": self.state.get("candidate"),
            "last": self.state.get("last"),
            "traffic": self.traffic(),
            "alarms firing": self._alarms_firing(),
            "history": self.state.get("history", [])[-5:],
        }
