"""`make aws-bootstrap ENVIRONMENT=<name>`: the AWS side of a first release, in one command.

Creates or updates, with CloudFormation through boto3, the shared stack
(infra/aws/registry.yaml: registry, GitHub OIDC provider, image-push role) and
the environment's stack (infra/aws/service.yaml), waits for both, then prints
the exact GitHub variables the workflows read, and sets them with `gh` when it
is installed and logged in. Run it once per environment; re-running updates.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DeployError
from .config import AwsConfig

OIDC_HOST = "token.actions.githubusercontent.com"
_GITHUB_REMOTE = re.compile(r"github\.com[:/](?P<repo>[^/\s]+/[^/\s]+?)(?:\.git)?/?$")


@dataclass(frozen=True)
class BootstrapRequest:
    """What `aws-bootstrap` was asked for (empty: discovered)."""

    environment: str
    github_repository: str = ""
    vpc_id: str = ""
    subnet_ids: tuple[str, ...] = ()
    certificate_arn: str = ""


@dataclass(frozen=True)
class Variable:
    """One GitHub Actions variable: its scope (`repository` or an environment), name, value."""

    scope: str
    name: str
    value: str


def github_repository(project_dir: Path) -> str:
    """owner/name from the `origin` remote (DeployError when it is not on GitHub)."""
    try:
        remote = subprocess.run(
            ["git", "remote", "get-url", "origin"],
            cwd=project_dir,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except FileNotFoundError:
        remote = ""
    match = _GITHUB_REMOTE.search(remote)
    if not match:
        raise DeployError(
            "cannot tell the GitHub repository from `git remote get-url origin`: "
            "pass GITHUB_REPOSITORY=<owner>/<name>"
        )
    return match["repo"]


class Bootstrap:
    """The two stacks of one environment, created or updated and waited for."""

    def __init__(
        self,
        session: Any,
        config: AwsConfig,
        infra_dir: Path,
        log: Callable[[str], None] = print,
    ) -> None:
        """`session` is a boto3 session (its region is where the stacks go)."""
        self.session = session
        self.config = config
        self.infra_dir = infra_dir
        self.log = log
        self.cloudformation = session.client("cloudformation")

    def _stack_outputs(self, name: str) -> dict[str, str]:
        stack = self.cloudformation.describe_stacks(StackName=name)["Stacks"][0]
        return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}

    def _exists(self, name: str) -> bool:
        try:
            stacks = self.cloudformation.describe_stacks(StackName=name)["Stacks"]
        except self.cloudformation.exceptions.ClientError as err:
            if "does not exist" in str(err):
                return False
            raise
        return bool(stacks) and stacks[0]["StackStatus"] != "DELETE_COMPLETE"

    def apply(self, name: str, template: str, parameters: dict[str, str]) -> dict[str, str]:
        """Create or update the stack, wait for it, return its outputs."""
        body = (self.infra_dir / template).read_text(encoding="utf-8")
        arguments = {
            "StackName": name,
            "TemplateBody": body,
            "Parameters": [
                {"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()
            ],
            "Capabilities": ["CAPABILITY_NAMED_IAM"],
            "Tags": [{"Key": "project", "Value": self.config.name}],
        }
        if self._exists(name):
            try:
                self.cloudformation.update_stack(**arguments)
            except self.cloudformation.exceptions.ClientError as err:
                if "No updates are to be performed" not in str(err):
                    raise
                self.log(f"aws-bootstrap: stack {name}: up to date")
                return self._stack_outputs(name)
            waiter = "stack_update_complete"
        else:
            self.cloudformation.create_stack(**arguments)
            waiter = "stack_create_complete"
        self.log(f"aws-bootstrap: stack {name}: waiting for {waiter.removeprefix('stack_')} ...")
        self.cloudformation.get_waiter(waiter).wait(
            StackName=name, WaiterConfig={"Delay": 5, "MaxAttempts": 360}
        )
        status = self.cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        self.log(f"aws-bootstrap: stack {name}: {status}")
        return self._stack_outputs(name)

    def existing_oidc_provider(self) -> str:
        """The account's GitHub OIDC provider ARN, '' when there is none (the stack creates it)."""
        iam = self.session.client("iam")
        for provider in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
            if provider["Arn"].endswith(f"oidc-provider/{OIDC_HOST}"):
                return str(provider["Arn"])
        return ""

    def network(self, request: BootstrapRequest) -> tuple[str, list[str]]:
        """The VPC and subnets asked for, or the default VPC's subnets."""
        if request.vpc_id and request.subnet_ids:
            return request.vpc_id, list(request.subnet_ids)
        ec2 = self.session.client("ec2")
        vpcs = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
        if not vpcs:
            raise DeployError("no default VPC in this region: pass VPC_ID=… SUBNET_IDS=…,…")
        vpc = str(vpcs[0]["VpcId"])
        subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
        return vpc, [str(s["SubnetId"]) for s in subnets]

    def run(self, request: BootstrapRequest, repository: str, region: str) -> list[Variable]:
        """Both stacks for `request.environment`; the variables the workflows need."""
        prefix = self.config.prefix(request.environment)
        shared = self.apply(
            f"{self.config.name}-shared",
            "registry.yaml",
            {
                "Name": self.config.name,
                "GitHubRepository": repository,
                "ExistingOidcProviderArn": self.existing_oidc_provider(),
            },
        )
        vpc, subnets = self.network(request)
        environment = self.apply(
            prefix,
            "service.yaml",
            {
                "Name": self.config.name,
                "Environment": request.environment,
                "Code": self.config.environments[request.environment],
                "GitHubRepository": repository,
                "OidcProviderArn": shared["OidcProviderArn"],
                "RepositoryName": shared.get("RepositoryName", ""),
                "PullSecretArn": shared.get("GhcrPullSecretArn", ""),
                "VpcId": vpc,
                "SubnetIds": ",".join(subnets),
                "CertificateArn": request.certificate_arn,
                "MinTasks": str(self.config.min_tasks),
                "MaxTasks": str(self.config.max_tasks),
            },
        )
        variables = [Variable("repository", "AWS_REGION", region)]
        if "ImagePushRoleArn" in shared:
            variables.append(
                Variable("repository", "AWS_IMAGE_PUSH_ROLE_ARN", shared["ImagePushRoleArn"])
            )
            variables.append(Variable("repository", "ECR_REPOSITORY", shared["RepositoryName"]))
        if "PredictionLogReadRoleArn" in shared:  # retrain.yml reads the log with it
            variables.append(
                Variable(
                    "repository", "AWS_PREDICTION_LOG_ROLE_ARN", shared["PredictionLogReadRoleArn"]
                )
            )
        variables.append(
            Variable(request.environment, "AWS_DEPLOY_ROLE_ARN", environment["DeployRoleArn"])
        )
        if "GhcrPullSecretArn" in shared:
            self.log(
                f"aws-bootstrap: put a GitHub token with read:packages into the secret "
                f"{shared['GhcrPullSecretArn']} (ECS pulls the image from GHCR with it)"
            )
        return variables


def gh_ready() -> bool:
    """True when the GitHub CLI is installed and logged in."""
    if shutil.which("gh") is None:
        return False
    status = subprocess.run(["gh", "auth", "status"], capture_output=True, check=False)
    return status.returncode == 0


def set_with_gh(variables: list[Variable], repository: str) -> list[str]:
    """`gh variable set` each variable (creating environments as needed); what failed."""
    failed = []
    for variable in variables:
        command = ["gh", "variable", "set", variable.name, "--body", variable.value]
        command += ["--repo", repository]
        if variable.scope != "repository":
            path = f"repos/{repository}/environments/{variable.scope}"
            subprocess.run(["gh", "api", "--method", "PUT", path], capture_output=True, check=False)
            command += ["--env", variable.scope]
        if subprocess.run(command, capture_output=True, check=False).returncode != 0:
            failed.append(f"{variable.scope} {variable.name}")
    return failed


def print_variables(variables: list[Variable], repository: str, log: Callable[[str], None]) -> None:
    """The variables as a table a person can copy, and what else to set up on GitHub."""
    log(f"GitHub variables for {repository} (Settings > Secrets and variables > Actions):")
    width = max((len(variable.name) for variable in variables), default=0)
    for variable in variables:
        log(f"  {variable.scope:<12} {variable.name:<{width}} {variable.value}")
    environments = sorted({v.scope for v in variables if v.scope != "repository"})
    log(
        f"GitHub environments: {', '.join(environments)} (Settings > Environments); "
        "give `production` required reviewers: its job then waits for approval."
    )
