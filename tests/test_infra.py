"""The shipped AWS infrastructure: lint-clean, least privilege, identities that match, one owner.

Static checks of infra/aws against the workflows and config/deploy.yaml of each
cloud=aws combination: every job that assumes a role gets an OIDC subject that
role's trust policy accepts (and no other job's), the service resource leaves to
the deploy what the deploy owns, the alarms fit in ECS's bake, and role sessions
and job timeouts cover the longest release the config allows.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from .aws_emulator import load_template
from .combinations import COMBINATIONS, DEFAULT, combo_id
from .helpers import Renders, render

AWS_COMBOS = [c for c in COMBINATIONS if c["cloud"] == "aws"]
REPOSITORY = "MyOrg/Churn-Prediction"
ROLE_VARIABLE = re.compile(r"^\$\{\{\s*vars\.([A-Z_]+)\s*\}\}$")
API_PATHS = ["/predict", "/predict/batch", "/health", "/ready", "/version"]


@pytest.fixture(scope="module")
def aws_project(renders: Renders) -> Path:
    return renders[{**DEFAULT, "cloud": "aws", "registry": "ecr"}]


def test_cloudformation_is_cfn_lint_clean(renders: Renders) -> None:
    for combo in AWS_COMBOS[:2]:
        templates = sorted((renders[combo] / "infra" / "aws").glob("*.yaml"))
        assert [t.name for t in templates] == ["registry.yaml", "service.yaml"]
        result = subprocess.run(
            ["cfn-lint", *map(str, templates)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------- identities


def trusted_subjects(project: Path) -> dict[str, set[str]]:
    """GitHub variable -> the OIDC subjects the role it names trusts, per shipped environment."""
    config = yaml.safe_load((project / "config" / "deploy.yaml").read_text())
    environments = list(config["aws"]["environments"])
    trusted: dict[str, set[str]] = {}
    for name in ("registry.yaml", "service.yaml"):
        template = load_template(project / "infra" / "aws" / name)
        for output in template.get("Outputs", {}).values():
            match = re.search(r"GitHub variable ([A-Z_]+)", output.get("Description", ""))
            if not match:
                continue
            value = output["Value"]
            if not (isinstance(value, dict) and "!GetAtt" in value):
                continue
            role = template["Resources"][value["!GetAtt"].split(".")[0]]
            if role["Type"] != "AWS::IAM::Role":
                continue
            for statement in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
                equals = statement["Condition"]["StringEquals"]
                assert equals["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
                pattern = equals["token.actions.githubusercontent.com:sub"]["!Sub"]
                # one environment stack per shipped environment, Environment = its name
                for environment in environments if "${Environment}" in pattern else [""]:
                    subject = pattern.replace("${GitHubRepository}", REPOSITORY)
                    subject = subject.replace("${Environment}", environment)
                    trusted.setdefault(match.group(1), set()).add(subject)
    return trusted


def job_subject(job: dict[str, Any], workflow: dict[str, Any]) -> str:
    """The `sub` claim GitHub puts in this job's OIDC token."""
    environment = job.get("environment")
    if environment:
        name = environment["name"] if isinstance(environment, dict) else environment
        return f"repo:{REPOSITORY}:environment:{name}"
    triggers = workflow.get(True, workflow.get("on"))
    assert "pull_request" not in triggers, "a role must never be assumed on pull requests"
    # push to main, or dispatch/schedule gated to main by the job's `if`
    assert "branches" not in (triggers.get("push") or {}) or triggers["push"]["branches"] == [
        "main"
    ]
    return f"repo:{REPOSITORY}:ref:refs/heads/main"


def assumed_roles(project: Path) -> list[tuple[str, str, str]]:
    """(workflow:job, role variable, subject) for every step that assumes an AWS role."""
    found = []
    for path in sorted((project / ".github" / "workflows").glob("*.yml")):
        workflow = yaml.safe_load(path.read_text())
        for name, job in workflow["jobs"].items():
            for step in job.get("steps", []):
                if not str(step.get("uses", "")).startswith(
                    "aws-actions/configure-aws-credentials@"
                ):
                    continue
                variable = ROLE_VARIABLE.match(step["with"]["role-to-assume"])
                assert variable, f"{path.name}:{name} assumes a role not named by a variable"
                found.append((f"{path.name}:{name}", variable.group(1), job_subject(job, workflow)))
    return found


def identity_problems(project: Path) -> list[str]:
    trusted = trusted_subjects(project)
    problems = []
    for job, variable, subject in assumed_roles(project):
        if subject not in trusted.get(variable, set()):
            problems.append(
                f"{job}: its token's subject {subject} is not trusted by the role in "
                f"{variable} (trusted: {sorted(trusted.get(variable, []))})"
            )
    return problems


@pytest.mark.parametrize("combo", AWS_COMBOS, ids=combo_id)
def test_every_job_that_assumes_a_role_is_trusted_by_it(
    renders: Renders, combo: dict[str, str]
) -> None:
    project = renders[combo]
    roles = assumed_roles(project)
    jobs = {job for job, _, _ in roles}
    assert {"cd.yml:staging", "cd.yml:production"} <= jobs
    assert ("cd.yml:build" in jobs) == (combo["registry"] == "ecr")  # GHCR: the job's token
    assert identity_problems(project) == []
    # least privilege: a deploy role per environment, never the build job's
    by_job = {job: variable for job, variable, _ in roles}
    assert by_job["cd.yml:staging"] == by_job["cd.yml:production"] == "AWS_DEPLOY_ROLE_ARN"
    if "cd.yml:build" in by_job:
        assert by_job["cd.yml:build"] == "AWS_IMAGE_PUSH_ROLE_ARN"


def test_renaming_a_jobs_environment_breaks_its_identity(renders: Renders, tmp_path: Path) -> None:
    project = renders.copy(AWS_COMBOS[0], tmp_path)
    workflow = project / ".github" / "workflows" / "cd.yml"
    workflow.write_text(workflow.read_text().replace("environment: staging", "environment: stage"))
    problems = identity_problems(project)
    assert len(problems) == 1
    assert (
        "cd.yml:staging: its token's subject repo:MyOrg/Churn-Prediction:environment:stage"
        in (problems[0])
    )


# ---------------------------------------------------------------- one owner, exposure


def parameter_refs(value: Any) -> set[str]:
    """Names referenced with !Ref / ${…} / !GetAtt anywhere in `value`."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "!Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "!Sub":
                text = inner if isinstance(inner, str) else inner[0]
                found |= set(re.findall(r"\$\{([A-Za-z0-9:]+)(?:\.[A-Za-z]+)?\}", text))
            found |= parameter_refs(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= parameter_refs(inner)
    return found


def test_the_service_leaves_to_the_deploy_what_the_deploy_owns(aws_project: Path) -> None:
    template = load_template(aws_project / "infra" / "aws" / "service.yaml")
    parameters = set(template["Parameters"])
    service = template["Resources"]["Service"]["Properties"]
    # a parameter update never touches the service: only the network placement is one
    assert parameter_refs(service) & parameters <= {"SubnetIds", "AssignPublicIp", "Name", "Code"}
    assert service["DesiredCount"] == 0  # autoscaling and the first release own the count
    assert set(service["DeploymentConfiguration"]) == {"Strategy"}  # hooks, bake, alarms: deploy
    bootstrap = template["Resources"][service["TaskDefinition"]["!Ref"]]["Properties"]
    # the bootstrap revision names no parameter that could change (image, cpu, memory)
    assert parameter_refs(bootstrap) & parameters <= {"Name", "Code", "PullSecretArn"}
    assert "Image" not in parameter_refs(bootstrap)


def test_exposure_api_paths_only_https_option_test_listener_closed(aws_project: Path) -> None:
    template = load_template(aws_project / "infra" / "aws" / "service.yaml")
    resources = template["Resources"]
    for rule in ("ProductionRule", "TestRule"):
        (condition,) = resources[rule]["Properties"]["Conditions"]
        assert condition["PathPatternConfig"]["Values"] == API_PATHS  # no /metrics, no /docs
    assert resources["HttpsListener"]["Condition"] == "HasCertificate"
    assert template["Parameters"]["CertificateArn"]["Default"] == ""
    validation = resources["ValidationSecurityGroup"]["Properties"]
    assert "SecurityGroupIngress" not in validation  # only a release adds, then removes, a rule
    public = resources["LoadBalancerSecurityGroup"]["Properties"]["SecurityGroupIngress"]
    assert {rule["FromPort"] for rule in public} == {80, 443}


def test_alarms_fit_in_ecs_bake_and_sessions_cover_the_longest_release(aws_project: Path) -> None:
    template = load_template(aws_project / "infra" / "aws" / "service.yaml")
    alarms = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    ]
    metrics = {a["MetricName"] for a in alarms}
    assert {"HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count", "TargetResponseTime"} <= metrics
    window = max(a["Period"] * a["EvaluationPeriods"] for a in alarms) // 60
    config = yaml.safe_load((aws_project / "config" / "deploy.yaml").read_text())
    aws = config["aws"]
    assert aws["alarm_window_minutes"] == window
    bake = max(-(-config["bake"]["seconds"] // 60), window + 1)  # ECS's bake, in minutes
    assert bake > window
    steps = len(config["traffic"]["steps"]) - 1
    longest = (
        2 * aws["hook_timeout_minutes"]
        + steps * max(1, -(-config["traffic"]["step_seconds"] // 60))
        + bake
        + 15
    )
    workflow = yaml.safe_load((aws_project / ".github" / "workflows" / "cd.yml").read_text())
    role_session = template["Resources"]["DeployRole"]["Properties"]["MaxSessionDuration"]
    for name in ("staging", "production"):
        job = workflow["jobs"][name]
        assert job["timeout-minutes"] >= longest + 10, name
        (credentials,) = [
            s for s in job["steps"] if "configure-aws-credentials" in str(s.get("uses", ""))
        ]
        duration = credentials["with"]["role-duration-seconds"]
        assert longest * 60 <= duration <= role_session
        assert job["concurrency"] == {"group": f"deploy-{name}", "cancel-in-progress": False}
        assert job["if"] == "github.ref == 'refs/heads/main'"
    assert (
        workflow["concurrency"]["group"] == "cd"
    )  # not per ref: two branches never release at once


def test_autoscaling_follows_a_signal_that_survives_blue_green(aws_project: Path) -> None:
    template = load_template(aws_project / "infra" / "aws" / "service.yaml")
    policy = template["Resources"]["CpuScaling"]["Properties"]
    metric = policy["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"]
    assert metric["PredefinedMetricType"] == "ECSServiceAverageCPUUtilization"
    target = template["Resources"]["ScalableTarget"]["Properties"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (
        {"!Ref": "MinTasks"},
        {"!Ref": "MaxTasks"},
    )


def test_registry_keeps_released_images_and_accepts_reruns(renders: Renders) -> None:
    ecr = next(c for c in AWS_COMBOS if c["registry"] == "ecr")
    template = load_template(renders[ecr] / "infra" / "aws" / "registry.yaml")
    repository = template["Resources"]["Repository"]["Properties"]
    assert repository["ImageTagMutability"] == "MUTABLE"  # a re-run moves the commit tag
    rules = yaml.safe_load(repository["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
    assert rules[0]["selection"]["tagPatternList"] == ["*-live", "*-previous"]
    assert rules[0]["rulePriority"] < rules[1]["rulePriority"]


def test_deploy_config_names_come_from_the_project(aws_project: Path, tmp_path: Path) -> None:
    config = yaml.safe_load((aws_project / "config" / "deploy.yaml").read_text())
    assert config["aws"]["name"] == "churn-prediction"
    longest = render(tmp_path, project_name="A Twenty One Chars Xy", cloud="aws")
    assert len(longest.name) == 21
    named = yaml.safe_load((longest / "config" / "deploy.yaml").read_text())["aws"]["name"]
    assert f"{named}-prod-green" == "a-twenty-one-chars-xy-prod-green"
    assert len(f"{named}-prod-green") == 32


def test_no_aws_infrastructure_without_aws(renders: Renders) -> None:
    project = renders[next(c for c in COMBINATIONS if c["cloud"] == "none")]
    assert not (project / "infra" / "aws").exists()
    makefile = (project / "Makefile").read_text()
    assert "aws-bootstrap" not in makefile
    assert "deploy-aws" not in makefile
    cd = (project / ".github" / "workflows" / "cd.yml").read_text()
    assert "AWS" not in cd
    assert "ECR" not in cd


@pytest.mark.parametrize("combo", AWS_COMBOS[:2], ids=combo_id)
def test_a_push_before_bootstrap_fails_at_once_naming_the_variables(
    renders: Renders, combo: dict[str, str], tmp_path: Path
) -> None:
    """Each CD job's first run step, as written, with no variable set (as on GitHub: '')."""
    project = renders[combo]
    workflow = yaml.safe_load((project / ".github" / "workflows" / "cd.yml").read_text())
    for name, job in workflow["jobs"].items():
        step = next(s for s in job["steps"] if "run" in s)
        env = {
            key: re.sub(r"\$\{\{\s*vars\.[A-Z_]+\s*\}\}", "", str(value))
            for key, value in step["env"].items()
        }
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=project,
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **env},
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode != 0, name
        message = result.stdout + result.stderr
        assert "::error::GitHub variables not set:" in message
        for variable in env["REQUIRED_VARIABLES"].split():
            assert variable in message
        assert "make aws-bootstrap ENVIRONMENT=staging" in message
