"""Emulated AWS for the as-shipped CD test: moto, the gaps of its CloudFormation, and ECS.

moto (server mode) serves every AWS call the project makes, except:

* CloudFormation gaps, each filled from the same template and parameters with boto3
  (`fill_gaps`): CloudWatch alarms, the IAM OIDC provider (created first and passed
  as ExistingOidcProviderArn, as for an account that has one), Secrets Manager (the
  GHCR pull secret), application autoscaling (scalable target and policy), and the
  ECS service's load balancers (moto's CloudFormation drops them; the same values are
  set with UpdateService). moto gives load balancers DNS names that resolve nowhere:
  the release reaches each environment's listeners through the one documented
  setting for that, MLOPS_DEPLOY_TEST_URL / MLOPS_DEPLOY_PRODUCTION_URL.
* ECS service deployments, which moto accepts but never runs: `EcsFake` listens on
  AWS_ENDPOINT_URL_ECS, forwards every other ECS call to moto, and plays ECS's part.
  It starts green as a real container of the task definition's image (pulled from
  the local registry the pushed image went to), moves the listener rules in moto,
  pauses at the release's hooks, and serves each environment's production and test
  listeners as HTTP proxies that route by those rules' weights and report request
  counts to CloudWatch as a load balancer does. ECS's clock runs `SPEED` times faster
  than the wall clock, so minutes of canary and bake pass in seconds.
"""

from __future__ import annotations

import http.client
import itertools
import json
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import yaml

from .helpers import answers_ok, free_port
from .podman import DEBIAN_MIRROR

ACCOUNT = "123456789012"
SPEED = 20  # ECS seconds per wall-clock second
API_PATHS = {"/predict", "/predict/batch", "/health", "/ready", "/version"}
DEPLOYMENT_CALLS = {
    "ListServiceDeployments",
    "DescribeServiceDeployments",
    "ContinueServiceDeployment",
    "StopServiceDeployment",
}


def aws_client(name: str, url: str, region: str) -> Any:
    return boto3.client(
        name,
        endpoint_url=url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


class QuietServer(ThreadingHTTPServer):
    """A threading HTTP server that does not print a client hanging up (probes time out)."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags as plain values ({'!Sub': ...})."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {f"!{suffix}": value}


_CfnLoader.add_multi_constructor("!", _tag)


def load_template(path: Path) -> dict[str, Any]:
    """A CloudFormation template with its short-form tags kept as {'!Tag': value}."""
    return dict(yaml.load(path.read_text(), Loader=_CfnLoader))


def sub(text: str, values: dict[str, str]) -> str:
    """`!Sub` with the given names (parameters, pseudo parameters)."""
    for key, value in values.items():
        text = text.replace("${" + key + "}", value)
    return text


# ---------------------------------------------------------------- the gaps


def fill_gaps(
    url: str, region: str, project: Path, environment_stack: str, pull_secret: str = ""
) -> list[str]:
    """Create what moto's CloudFormation skipped for one environment stack; what was filled."""
    cfn = aws_client("cloudformation", url, region)
    stack = cfn.describe_stacks(StackName=environment_stack)["Stacks"][0]
    params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    prefix = f"{params['Name']}-{params['Code']}"
    template = load_template(project / "infra" / "aws" / "service.yaml")
    resources = template["Resources"]
    filled = []
    elb = aws_client("elbv2", url, region)
    balancer = elb.describe_load_balancers(Names=[prefix])["LoadBalancers"][0]
    full_name = balancer["LoadBalancerArn"].split(":loadbalancer/", 1)[1]
    cloudwatch = aws_client("cloudwatch", url, region)
    for logical, resource in resources.items():
        if resource["Type"] != "AWS::CloudWatch::Alarm":
            continue
        props = resource["Properties"]
        arguments: dict[str, Any] = {
            "AlarmName": sub(
                props["AlarmName"]["!Sub"], {"Name": params["Name"], "Code": params["Code"]}
            ),
            "AlarmDescription": props["AlarmDescription"],
            "Namespace": props["Namespace"],
            "MetricName": props["MetricName"],
            "Dimensions": [{"Name": "LoadBalancer", "Value": full_name}],
            "Period": props["Period"],
            "EvaluationPeriods": props["EvaluationPeriods"],
            "Threshold": float(
                params.get(props["Threshold"]["!Ref"], 0)
                or template["Parameters"][props["Threshold"]["!Ref"]]["Default"]
            ),
            "ComparisonOperator": props["ComparisonOperator"],
            "TreatMissingData": props["TreatMissingData"],
        }
        if "ExtendedStatistic" in props:
            arguments["ExtendedStatistic"] = props["ExtendedStatistic"]
        else:
            arguments["Statistic"] = props["Statistic"]
        if "DatapointsToAlarm" in props:
            arguments["DatapointsToAlarm"] = props["DatapointsToAlarm"]
        cloudwatch.put_metric_alarm(**arguments)
        filled.append(f"AWS::CloudWatch::Alarm {logical} ({arguments['AlarmName']})")
    scaling = aws_client("application-autoscaling", url, region)
    resource_id = f"service/{prefix}/{prefix}"
    scaling.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=resource_id,
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=int(params.get("MinTasks", "1")),
        MaxCapacity=int(params.get("MaxTasks", "4")),
    )
    policy = resources["CpuScaling"]["Properties"]["TargetTrackingScalingPolicyConfiguration"]
    scaling.put_scaling_policy(
        PolicyName=f"{prefix}-cpu",
        ServiceNamespace="ecs",
        ResourceId=resource_id,
        ScalableDimension="ecs:service:DesiredCount",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": float(template["Parameters"]["TargetCpuPercent"]["Default"]),
            "PredefinedMetricSpecification": policy["PredefinedMetricSpecification"],
        },
    )
    filled.append("AWS::ApplicationAutoScaling::ScalableTarget and ::ScalingPolicy (CPU)")
    # moto's CloudFormation drops the service's load balancers: set the template's values.
    groups = {
        g["TargetGroupName"]: g["TargetGroupArn"]
        for g in elb.describe_target_groups(LoadBalancerArn=balancer["LoadBalancerArn"])[
            "TargetGroups"
        ]
    }
    rules = {}
    for listener in elb.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])[
        "Listeners"
    ]:
        for rule in elb.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]:
            if not rule["IsDefault"]:
                rules[listener["Port"]] = rule["RuleArn"]
    role = aws_client("iam", url, region).get_role(RoleName=f"{prefix}-ecs-blue-green")["Role"][
        "Arn"
    ]
    aws_client("ecs", url, region).update_service(
        cluster=prefix,
        service=prefix,
        loadBalancers=[
            {
                "targetGroupArn": groups[f"{prefix}-blue"],
                "containerName": "service",
                "containerPort": 8000,
                "advancedConfiguration": {
                    "alternateTargetGroupArn": groups[f"{prefix}-green"],
                    "productionListenerRule": rules[80],
                    "testListenerRule": rules[8443],
                    "roleArn": role,
                },
            }
        ],
    )
    filled.append("AWS::ECS::Service LoadBalancers (blue/green advanced configuration)")
    if pull_secret:  # the secret was skipped, so the stack's PullSecretArn came out empty
        ecs = aws_client("ecs", url, region)
        current = ecs.describe_services(cluster=prefix, services=[prefix])["services"][0]
        definition = ecs.describe_task_definition(taskDefinition=current["taskDefinition"])
        task = definition["taskDefinition"]
        containers = [
            {**c, "repositoryCredentials": {"credentialsParameter": pull_secret}}
            for c in task["containerDefinitions"]
        ]
        keys = (
            "family", "taskRoleArn", "executionRoleArn", "networkMode",
            "requiresCompatibilities", "cpu", "memory",
        )  # fmt: skip
        registered = ecs.register_task_definition(
            **{k: task[k] for k in keys if task.get(k)}, containerDefinitions=containers
        )["taskDefinition"]["taskDefinitionArn"]
        ecs.update_service(cluster=prefix, service=prefix, taskDefinition=registered)
        filled.append("BootstrapTaskDefinition RepositoryCredentials (the GHCR pull secret)")
    return filled


# ---------------------------------------------------------------- the ECS fake


@dataclass
class Container:
    name: str
    url: str
    image: str


@dataclass
class Deployment:
    arn: str
    configuration: dict[str, Any]
    image: str
    status: str = "IN_PROGRESS"
    stage: str = "SCALE_UP"
    queue: list[str] = field(default_factory=list)
    hold_until: float = 0.0  # ECS seconds
    green: Container | None = None
    green_group: str = ""
    hooks: set[str] = field(default_factory=set)
    ready: threading.Event = field(default_factory=threading.Event)
    paused: str = ""


@dataclass
class Environment:
    """One environment's service as ECS and its load balancer see it."""

    prefix: str
    production_port: int
    test_port: int
    production_rule: str = ""
    test_rule: str = ""
    load_balancer: str = ""
    groups: dict[str, Container | None] = field(default_factory=dict)  # target group -> tasks
    weights: dict[str, dict[str, int]] = field(default_factory=dict)  # rule -> group -> weight
    deployment: Deployment | None = None
    counter: itertools.count = field(default_factory=itertools.count)
    counts: dict[str, int] = field(default_factory=dict)
    quiet_after_production_shift: bool = False  # requests crawl once ECS waits for the bake
    green_fault: str = ""  # MLOPS_FAULT for the next green (a broken release)
    servers: list[ThreadingHTTPServer] = field(default_factory=list)


class EcsFake:
    """ECS service deployments and the load balancers' listeners; see the module docstring."""

    def __init__(self, moto_url: str, region: str, podman_env: dict[str, str]) -> None:
        self.moto_url = moto_url
        self.region = region
        self.podman_env = podman_env
        self.elb = aws_client("elbv2", moto_url, region)
        self.cloudwatch = aws_client("cloudwatch", moto_url, region)
        self.environments: dict[str, Environment] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.started = time.monotonic()
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self.server = QuietServer(("127.0.0.1", free_port()), self._api_handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._threads = [
            threading.Thread(target=self.server.serve_forever, daemon=True),
            threading.Thread(target=self._report_metrics, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    # -- clock and environments
    def ecs_now(self) -> float:
        return (time.monotonic() - self.started) * SPEED

    def add_environment(self, prefix: str) -> Environment:
        environment = Environment(prefix, free_port(), free_port())
        balancer = self.elb.describe_load_balancers(Names=[prefix])["LoadBalancers"][0]
        environment.load_balancer = balancer["LoadBalancerArn"]
        for listener in self.elb.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])[
            "Listeners"
        ]:
            for rule in self.elb.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]:
                if rule["IsDefault"]:
                    continue
                groups = rule["Actions"][0]["ForwardConfig"]["TargetGroups"]
                environment.weights[rule["RuleArn"]] = {
                    g["TargetGroupArn"]: g["Weight"] for g in groups
                }
                if listener["Port"] == 80:
                    environment.production_rule = rule["RuleArn"]
                else:
                    environment.test_rule = rule["RuleArn"]
        for group in environment.weights[environment.production_rule]:
            environment.groups[group] = None
        for port, rule in (
            (environment.production_port, environment.production_rule),
            (environment.test_port, environment.test_rule),
        ):
            server = QuietServer(("127.0.0.1", port), self._listener_handler(environment, rule))
            environment.servers.append(server)
            threading.Thread(target=server.serve_forever, daemon=True).start()
        self.environments[prefix] = environment
        return environment

    def close(self) -> None:
        self._stop.set()
        self.server.shutdown()
        for environment in self.environments.values():
            for server in environment.servers:
                server.shutdown()
            for container in environment.groups.values():
                if container is not None:
                    self._remove(container)
            if environment.deployment and environment.deployment.green:
                self._remove(environment.deployment.green)

    # -- the API endpoint
    def _api_handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                target = self.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
                if target in DEPLOYMENT_CALLS:
                    status, answer = fake.handle(target, json.loads(body or b"{}"))
                    data = json.dumps(answer).encode()
                    headers = {"Content-Type": "application/x-amz-json-1.1"}
                else:
                    status, headers, data = fake.forward(
                        self.command, self.path, dict(self.headers), body
                    )
                    if target == "UpdateService" and status == 200:
                        fake.updated(json.loads(body))
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in {"content-length", "transfer-encoding", "connection"}:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        host = self.moto_url.removeprefix("http://")
        connection = http.client.HTTPConnection(host, timeout=60)
        headers = {k: v for k, v in headers.items() if k.lower() != "host"}
        connection.request(method, path, body, headers)
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, dict(response.getheaders()), data

    # -- ECS's part
    def updated(self, request: dict[str, Any]) -> None:
        """UpdateService with a task definition: ECS starts a service deployment."""
        self.calls.append(("UpdateService", request))
        if "taskDefinition" not in request:
            return
        environment = self.environments[request["service"].split("/")[-1]]
        ecs = aws_client("ecs", self.moto_url, self.region)
        definition = ecs.describe_task_definition(taskDefinition=request["taskDefinition"])[
            "taskDefinition"
        ]
        image = definition["containerDefinitions"][0]["image"]
        arn = (
            f"arn:aws:ecs:{self.region}:{ACCOUNT}:service-deployment/"
            f"{environment.prefix}/{environment.prefix}/{len(self.calls)}"
        )
        deployment = Deployment(arn, request.get("deploymentConfiguration", {}), image)
        with self._lock:
            environment.deployment = deployment
        threading.Thread(
            target=self._start_green, args=(environment, deployment), daemon=True
        ).start()

    def _start_green(self, environment: Environment, deployment: Deployment) -> None:
        port = free_port()
        name = f"green-{environment.prefix}-{port}"
        command = ["podman", "run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:8000"]
        if environment.green_fault:
            command += ["-e", f"MLOPS_FAULT={environment.green_fault}"]
            environment.green_fault = ""
        result = subprocess.run(
            [*command, deployment.image],
            env=self.podman_env,
            capture_output=True,
            text=True,
            check=False,
        )
        container = Container(name, f"http://127.0.0.1:{port}", deployment.image)
        deployment.green = container
        if result.returncode != 0:
            deployment.status, deployment.stage = "ROLLBACK_SUCCESSFUL", "SCALE_UP"
            deployment.configuration["statusReason"] = (
                f"green did not start: {result.stderr[-500:]}"
            )
            deployment.ready.set()
            return
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not answers_ok(f"{container.url}/health"):
            time.sleep(0.3)
        deployment.ready.set()

    def _idle_group(self, environment: Environment) -> str:
        weights = environment.weights[environment.production_rule]
        return min(weights, key=lambda group: weights[group])

    def _set_rule(self, environment: Environment, rule: str, green: str, percent: int) -> None:
        blue = next(g for g in environment.groups if g != green)
        new = {blue: 100 - percent, green: percent}
        environment.weights[rule] = new
        self.elb.modify_rule(
            RuleArn=rule,
            Actions=[
                {
                    "Type": "forward",
                    "ForwardConfig": {
                        "TargetGroups": [{"TargetGroupArn": g, "Weight": w} for g, w in new.items()]
                    },
                }
            ],
        )

    @staticmethod
    def _stages(deployment: Deployment) -> list[str]:
        hooks = deployment.configuration.get("lifecycleHooks", [])
        deployment.hooks = {stage for hook in hooks for stage in hook["lifecycleStages"]}
        return [
            "TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT",
            "POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP", "SUCCESSFUL",
        ]  # fmt: skip

    def _enter(self, environment: Environment, deployment: Deployment, stage: str) -> None:
        deployment.stage = stage
        config = deployment.configuration
        now = self.ecs_now()
        green = deployment.green_group
        if stage == "TEST_TRAFFIC_SHIFT":
            green = deployment.green_group = self._idle_group(environment)
            environment.groups[green] = deployment.green
            self._set_rule(environment, environment.test_rule, green, 100)
        elif stage == "PRODUCTION_TRAFFIC_SHIFT":
            if config.get("strategy") == "CANARY":
                canary = config["canaryConfiguration"]
                percent = int(canary["canaryPercent"])
                self._set_rule(environment, environment.production_rule, green, percent)
                deployment.hold_until = now + 60 * canary["canaryBakeTimeInMinutes"]
            elif config.get("strategy") == "LINEAR":
                linear = config["linearConfiguration"]
                percent = int(linear["stepPercent"])
                self._set_rule(environment, environment.production_rule, green, percent)
                steps = int(100 // linear["stepPercent"])
                deployment.hold_until = now + 60 * linear["stepBakeTimeInMinutes"] * (steps - 1)
        elif stage == "POST_PRODUCTION_TRAFFIC_SHIFT":
            self._set_rule(environment, environment.production_rule, green, 100)
        elif stage == "BAKE_TIME":
            deployment.hold_until = now + 60 * config.get("bakeTimeInMinutes", 0)
        elif stage == "CLEAN_UP":
            blue = next(g for g in environment.groups if g != green)
            retired = environment.groups.get(blue)
            if retired is not None:
                self._remove(retired)
            environment.groups[blue] = None
        elif stage == "SUCCESSFUL":
            deployment.status = "SUCCESSFUL"
        if stage in deployment.hooks:
            deployment.paused = f"hook-{stage.lower()}"

    def _advance(self, environment: Environment, deployment: Deployment) -> None:
        if deployment.status != "IN_PROGRESS" and not deployment.status.startswith("ROLLBACK_IN"):
            return
        if deployment.status == "ROLLBACK_IN_PROGRESS":
            deployment.status = "ROLLBACK_SUCCESSFUL"
            return
        if (
            not deployment.ready.is_set()
            or deployment.paused
            or self.ecs_now() < deployment.hold_until
        ):
            return
        if not deployment.queue and deployment.stage == "SCALE_UP":
            deployment.queue = self._stages(deployment)
        if deployment.queue:
            self._enter(environment, deployment, deployment.queue.pop(0))

    def _roll_back(self, environment: Environment, deployment: Deployment) -> None:
        deployment.status, deployment.paused = "ROLLBACK_IN_PROGRESS", ""
        green = deployment.green_group
        if green:
            live = next(g for g in environment.groups if g != green)
            for rule in (environment.production_rule, environment.test_rule):
                environment.weights[rule] = {live: 100, green: 0}
                groups = [
                    {"TargetGroupArn": live, "Weight": 100},
                    {"TargetGroupArn": green, "Weight": 0},
                ]
                self.elb.modify_rule(
                    RuleArn=rule,
                    Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}],
                )
            environment.groups[green] = None
        if deployment.green is not None:
            self._remove(deployment.green)

    def handle(self, target: str, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.calls.append((target, request))
        with self._lock:
            if target == "ListServiceDeployments":
                environment = self.environments[request["service"].split("/")[-1]]
                deployment = environment.deployment
                found = []
                if deployment and deployment.status in set(
                    request.get("status", [deployment.status])
                ):
                    found = [{"serviceDeploymentArn": deployment.arn, "status": deployment.status}]
                return 200, {"serviceDeployments": found}
            arn = request.get("serviceDeploymentArn") or request["serviceDeploymentArns"][0]
            environment = self.environments[arn.split("/")[1]]
            deployment = environment.deployment
            if deployment is None or deployment.arn != arn:
                return 400, {"__type": "ServiceDeploymentNotFoundException", "message": arn}
            if target == "DescribeServiceDeployments":
                self._advance(environment, deployment)
                hooks = []
                if deployment.paused and deployment.status == "IN_PROGRESS":
                    hooks = [
                        {
                            "hookId": deployment.paused,
                            "targetType": "PAUSE",
                            "status": "AWAITING_ACTION",
                        }
                    ]
                return 200, {"serviceDeployments": [{
                    "serviceDeploymentArn": deployment.arn,
                    "status": deployment.status,
                    "statusReason": deployment.configuration.get("statusReason", ""),
                    "lifecycleStage": deployment.stage,
                    "lifecycleHookDetails": hooks,
                }]}  # fmt: skip
            if target == "ContinueServiceDeployment":
                if request["hookId"] != deployment.paused:
                    return 400, {
                        "__type": "InvalidParameterException",
                        "message": "not paused there",
                    }
                if request["action"] == "ROLLBACK":
                    self._roll_back(environment, deployment)
                else:
                    deployment.paused = ""
                return 200, {"serviceDeploymentArn": arn}
            if target == "StopServiceDeployment":
                self._roll_back(environment, deployment)
                return 200, {"serviceDeploymentArn": arn}
        return 400, {"__type": "UnknownOperationException", "message": target}

    # -- containers
    def _remove(self, container: Container) -> None:
        subprocess.run(
            ["podman", "rm", "--force", "--time", "2", container.name],
            env=self.podman_env, capture_output=True, check=False,
        )  # fmt: skip

    # -- the load balancer's listeners
    def _listener_handler(
        self, environment: Environment, rule: str
    ) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _answer(
                self, status: int, body: bytes, content_type: str = "application/json"
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True

            def _route(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length) if length else None
                if self.path.split("?")[0] not in API_PATHS:
                    self._answer(404, b"not an API path")
                    return
                group = fake.pick(environment, rule)
                container = environment.groups.get(group) if group else None
                if container is None:
                    self._answer(503, b"no healthy target")
                    return
                deployment = environment.deployment
                if (
                    rule == environment.production_rule
                    and environment.quiet_after_production_shift
                    and deployment is not None
                    and deployment.stage in {"POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME"}
                ):
                    time.sleep(4.5)
                request = urllib.request.Request(
                    container.url + self.path, data=body, method=self.command,
                    headers={"Content-Type": self.headers.get("Content-Type", "application/json")},
                )  # fmt: skip
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:
                        status, data = response.status, response.read()
                except urllib.error.HTTPError as err:
                    status, data = err.code, err.read()
                except OSError:
                    status, data = 502, b"bad gateway"
                with fake._lock:
                    environment.counts[group] = environment.counts.get(group, 0) + 1
                self._answer(status, data)

            do_GET = _route
            do_POST = _route

        return Handler

    def pick(self, environment: Environment, rule: str) -> str | None:
        """Weighted round robin over the rule's target groups."""
        weights = environment.weights.get(rule, {})
        total = sum(weights.values())
        if not total:
            return None
        slot = next(environment.counter) % total
        for group, weight in sorted(weights.items()):
            if slot < weight:
                return group
            slot -= weight
        return None

    def _report_metrics(self) -> None:
        """Each second, what each target group served, as ALB's RequestCount."""
        while not self._stop.wait(1.0):
            for environment in list(self.environments.values()):
                with self._lock:
                    counts, environment.counts = environment.counts, {}
                balancer = environment.load_balancer.split(":loadbalancer/", 1)[-1]
                for group, count in counts.items():
                    self.cloudwatch.put_metric_data(
                        Namespace="AWS/ApplicationELB",
                        MetricData=[{
                            "MetricName": "RequestCount",
                            "Dimensions": [
                                {"Name": "TargetGroup", "Value": group.split(":", 5)[-1]},
                                {"Name": "LoadBalancer", "Value": balancer},
                            ],
                            "Value": count,
                        }],
                    )  # fmt: skip

    def deployment_calls(self, prefix: str) -> list[tuple[str, dict[str, Any]]]:
        """The ECS calls one environment's release made, in order."""
        return [
            (target, request) for target, request in self.calls if prefix in json.dumps(request)
        ]


# ---------------------------------------------------------------- registry hosts on this machine


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    """The request body, plain or chunked."""
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        body = bytearray()
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                handler.rfile.readline()
                return bytes(body)
            body += handler.rfile.read(size)
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length", 0) or 0)
    return handler.rfile.read(length) if length else b""


# Hosts a Dockerfile build fetches packages from: Debian's apt sources (and the mirror
# the base image is built from) and PyPI.
PACKAGE_HOSTS = tuple(
    dict.fromkeys(
        host
        for host in (
            urllib.parse.urlsplit(DEBIAN_MIRROR).hostname,
            "deb.debian.org",
            "security.debian.org",
            "pypi.org",
            "files.pythonhosted.org",
        )
        if host
    )
)


class RegistryProxy:
    """An HTTP proxy that sends ECR's and GHCR's registry hosts to the local registry.

    A push cannot be redirected by registries.conf (it rewrites pulls only), so the
    runner's registry traffic goes through this proxy (HTTP_PROXY/HTTPS_PROXY, with
    the package registries and loopback in NO_PROXY). HTTPS to a registry host is
    refused, so podman falls back to plain HTTP for those insecure registries, which
    this proxy forwards to the local registry; nothing else is proxied.
    """

    def __init__(self, registry: str, hosts: tuple[str, ...]) -> None:
        self.registry = registry
        self.hosts = hosts
        self.server = QuietServer(("127.0.0.1", free_port()), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def env(self) -> dict[str, str]:
        """podman's environment for it. podman build hands the proxy variables to the
        image's RUN steps too (containers.conf's `http_proxy = false` covers containers
        only), where this loopback proxy is out of reach: the Dockerfile's package
        sources (Debian's apt, PyPI) go direct. Without Debian here, a build whose
        `apt-get update` layer was not cached yet failed on a fresh machine."""
        direct = ",".join(("127.0.0.1", "localhost", *PACKAGE_HOSTS))
        return {
            "HTTP_PROXY": self.url, "HTTPS_PROXY": self.url, "http_proxy": self.url,
            "https_proxy": self.url, "NO_PROXY": direct, "no_proxy": direct,
        }  # fmt: skip

    def close(self) -> None:
        self.server.shutdown()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_CONNECT(self) -> None:
                self.send_response(502)  # no TLS here: the client falls back to HTTP
                self.send_header("Content-Length", "0")
                self.end_headers()
                self.close_connection = True

            def _forward(self) -> None:
                target = urllib.parse.urlsplit(self.path)
                if target.hostname not in proxy.hosts:
                    self.send_response(502)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = _read_body(self)
                path = target.path + (f"?{target.query}" if target.query else "")
                dropped = {"proxy-connection", "transfer-encoding", "content-length", "connection"}
                headers = {k: v for k, v in self.headers.items() if k.lower() not in dropped}
                connection = http.client.HTTPConnection(proxy.registry, timeout=300)
                connection.request(self.command, path, body=body or None, headers=headers)
                response = connection.getresponse()
                data = response.read()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in {"content-length", "transfer-encoding", "connection"}:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                connection.close()

            do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = _forward

        return Handler
