"""cd.yml as shipped, job by job, against emulated AWS: build, staging, production, promote.

For every cloud=aws combination whose code differs (ECR and GHCR; a license-only twin
renders the same files, compared in test_generated_project.py), in parallel, each with
its own emulator: render,
commit, `make aws-bootstrap` for staging and production on a moto server (the gaps
of moto's CloudFormation filled with boto3, see tests/aws_emulator.py), then run
each job of `.github/workflows/cd.yml` with tests/workflow_runner.py: every `run:`
step as written, with exactly the `env:` the workflow gives it. Nothing in the
project is changed: config/deploy.yaml is the shipped one.

Local equivalents, one per `uses:` step:
  actions/checkout            the rendered repository, reset to the commit and cleaned of
                              everything untracked except .venv (what `make setup` installs)
  actions/setup-python, astral-sh/setup-uv   this machine's Python 3.11 and uv
  aws-actions/configure-aws-credentials      the emulator's credentials; AWS_REGION and
                              AWS_DEFAULT_REGION from its aws-region input, as the action exports
  aws-actions/amazon-ecr-login               outputs the emulated account's ECR registry host
  docker/login-action                        nothing: podman's registries.conf sends ECR and
                              ghcr.io references to a local registry (no credentials needed)
The pushed image is then also registered in moto's ECR (same manifest, same digest).
The machine adds what a runner's machine has: AWS_ENDPOINT_URL (moto),
AWS_ENDPOINT_URL_ECS (the ECS fake), podman's configuration, and the documented
MLOPS_DEPLOY_TEST_URL / MLOPS_DEPLOY_PRODUCTION_URL / MLOPS_DEPLOY_RUNNER_CIDR
(moto's load balancer names resolve nowhere; the runner's address is injected).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .aws_emulator import ACCOUNT, EcsFake, RegistryProxy, aws_client, fill_gaps
from .combinations import RUNNABLE, combo_id, distinct_code
from .helpers import Renders, answers_ok, free_port, git, make, project_env, wait_until
from .podman import engine_problem, ensure_base_image, local_registry, podman_env
from .workflow_runner import JobRun, WorkflowRunner, runner_env

# CD_AS_SHIPPED_ONLY=<combination id> runs one combination (when debugging it).
# License-only twins render the same code (tests/combinations.py distinct_code): not rerun.
AWS_COMBOS = [
    c
    for c in distinct_code(RUNNABLE)
    if c["cloud"] == "aws" and os.environ.get("CD_AS_SHIPPED_ONLY", combo_id(c)) == combo_id(c)
]
REGIONS = ["eu-central-1", "ap-southeast-2", "ca-central-1", "sa-east-1"]  # none is the default
GITHUB_REPOSITORY = "MyOrg/Churn-Prediction"  # capitals: GHCR names must be lower-cased
RUNNER_CIDR = "198.51.100.7/32"
VARIABLE_LINE = re.compile(
    r"^\s+(repository|staging|production)\s+([A-Z_]+)\s+(\S+)$", re.MULTILINE
)


def github_context(sha: str) -> dict[str, str]:
    """The `github.*` context of a push to main (the owner has capitals, as many do)."""
    return {
        "repository": GITHUB_REPOSITORY,
        "ref": "refs/heads/main",
        "sha": sha,
        "actor": "octocat",
        "token": "ghs_not_a_real_token",
        "run_id": str(int(time.time())),
        "run_attempt": "1",
        "event_name": "push",
    }


@contextmanager
def moto_server(folder: Path) -> Iterator[str]:
    """A moto server process of its own (moto's state is per process)."""
    port = free_port()
    log = folder / "moto.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [
                str(Path(__file__).resolve().parents[1] / ".venv/bin/moto_server"),
                "-H",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: answers_ok(f"{url}/moto-api/"),
            "moto server",
            alive=lambda: process.poll() is None,
        )
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


@dataclass
class Pipeline:
    """One combination's project, emulator and workflow runs."""

    combo: dict[str, str]
    project: Path
    region: str
    moto_url: str
    fake: EcsFake
    registry: str
    engine_env: dict[str, str]
    variables: dict[str, dict[str, str]]
    bootstrap_output: str
    filled: list[str]
    log: list[str] = field(default_factory=list)
    roles: list[tuple[str, str, str]] = field(default_factory=list)  # job, role, region
    timings: dict[str, float] = field(default_factory=dict)

    def client(self, name: str) -> Any:
        return aws_client(name, self.moto_url, self.region)

    def prefix(self, environment: str) -> str:
        return f"{self.project.name}-{'stg' if environment == 'staging' else 'prod'}"

    # -- local equivalents of the `uses:` steps
    def checkout(self, step: dict[str, Any], run: JobRun) -> tuple[dict[str, str], dict[str, str]]:
        sha = git(self.project, "rev-parse", "HEAD").strip()
        git(self.project, "reset", "-q", "--hard", sha)
        git(self.project, "clean", "-q", "-ffdx", "-e", ".venv")
        return {}, {}

    def nothing(self, step: dict[str, Any], run: JobRun) -> tuple[dict[str, str], dict[str, str]]:
        return {}, {}

    def credentials(
        self, step: dict[str, Any], run: JobRun
    ) -> tuple[dict[str, str], dict[str, str]]:
        runner = self.runner
        role = runner.substitute(step["with"]["role-to-assume"], run)
        region = runner.substitute(step["with"]["aws-region"], run)
        assert role, f"{run.name}: role-to-assume is empty"
        self.roles.append((run.name, role, region))
        self.client("sts").assume_role_with_web_identity(
            RoleArn=role, RoleSessionName=run.name, WebIdentityToken="github-oidc-token"
        )
        exported = {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
        }
        return {}, exported

    def ecr_login(self, step: dict[str, Any], run: JobRun) -> tuple[dict[str, str], dict[str, str]]:
        return {"registry": f"{ACCOUNT}.dkr.ecr.{self.region}.amazonaws.com"}, {}

    # -- running jobs
    def make_runner(self) -> WorkflowRunner:
        sha = git(self.project, "rev-parse", "HEAD").strip()
        uses = {
            "actions/checkout": self.checkout,
            "actions/setup-python": self.nothing,
            "astral-sh/setup-uv": self.nothing,
            "aws-actions/configure-aws-credentials": self.credentials,
            "aws-actions/amazon-ecr-login": self.ecr_login,
            "docker/login-action": self.nothing,
        }
        self.runner = WorkflowRunner(
            self.project / ".github" / "workflows" / "cd.yml",
            self.project,
            github=github_context(sha),
            repository_variables=self.variables.get("repository", {}),
            environment_variables={k: v for k, v in self.variables.items() if k != "repository"},
            machine_env={
                **runner_env(),
                "UV_PYTHON_DOWNLOADS": "never",
                "CONTAINERS_CONF": self.engine_env["CONTAINERS_CONF"],
                "CONTAINERS_REGISTRIES_CONF": self.engine_env["CONTAINERS_REGISTRIES_CONF"],
                **{k: v for k, v in self.engine_env.items() if "proxy" in k.lower()},
                "AWS_ENDPOINT_URL": self.moto_url,
                "AWS_ENDPOINT_URL_ECS": self.fake.url,
                "MLOPS_DEPLOY_RUNNER_CIDR": RUNNER_CIDR,
            },
            uses=uses,
            log=self.log.append,
        )
        return self.runner

    def job(self, name: str, workdir: Path) -> JobRun:
        environment = self.runner.doc["jobs"][name].get("environment")
        if environment:
            listeners = self.fake.environments[self.prefix(environment)]
            self.runner.machine_env["MLOPS_DEPLOY_TEST_URL"] = (
                f"http://127.0.0.1:{listeners.test_port}"
            )
            self.runner.machine_env["MLOPS_DEPLOY_PRODUCTION_URL"] = (
                f"http://127.0.0.1:{listeners.production_port}"
            )
        started = time.perf_counter()
        result = self.runner.run_job(name, workdir / name)
        self.timings[name] = self.timings.get(name, 0) + time.perf_counter() - started
        if name == "build" and not result.failed and self.combo["registry"] == "ecr":
            self.register_in_ecr(result.outputs["image"])
        return result

    def register_in_ecr(self, image: str) -> None:
        """The pushed manifest, read back from the local registry, registered in moto's ECR."""
        repository, _, digest = image.partition("@")
        name = repository.split("/", 1)[1]
        request = urllib.request.Request(
            f"http://{self.registry}/v2/{name}/manifests/{digest}",
            headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            manifest = response.read().decode()
        tag = git(self.project, "rev-parse", "--short", "HEAD").strip()
        ecr = self.client("ecr")
        with contextlib.suppress(ecr.exceptions.ImageAlreadyExistsException):
            # ECR: the same tag on the same digest is a no-op
            ecr.put_image(
                repositoryName=name, imageManifest=manifest, imageTag=tag, imageDigest=digest
            )

    # -- what AWS looks like
    def service(self, environment: str) -> dict[str, Any]:
        prefix = self.prefix(environment)
        return self.client("ecs").describe_services(cluster=prefix, services=[prefix])["services"][
            0
        ]

    def state(self, environment: str) -> dict[str, Any]:
        name = f"/{self.prefix(environment)}/deploy/state"
        return json.loads(self.client("ssm").get_parameter(Name=name)["Parameter"]["Value"])

    def ingress(self, environment: str) -> list[dict[str, Any]]:
        name = f"{self.prefix(environment)}-validation"
        group = self.client("ec2").describe_security_groups(
            Filters=[{"Name": "group-name", "Values": [name]}]
        )
        return [r for p in group["SecurityGroups"][0]["IpPermissions"] for r in p["IpRanges"]]

    def production_weights(self, environment: str) -> dict[str, int]:
        listeners = self.fake.environments[self.prefix(environment)]
        return dict(listeners.weights[listeners.production_rule])


def bootstrap(project: Path, moto_url: str, region: str) -> tuple[dict[str, dict[str, str]], str]:
    """`make aws-bootstrap` for both environments, as a user runs it; the variables it printed."""
    env = project_env(
        AWS_ENDPOINT_URL=moto_url, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION=region, UV_COMPILE_BYTECODE="0", PATH="/usr/bin:/bin:" + project_env()["PATH"],
    )  # fmt: skip
    env.pop("GITHUB_REPOSITORY", None)
    output = ""
    for environment in ("staging", "production"):
        result = make(
            project, "aws-bootstrap", f"ENVIRONMENT={environment}",
            f"GITHUB_REPOSITORY={GITHUB_REPOSITORY}", env=env,
        )  # fmt: skip
        output += f"$ make aws-bootstrap ENVIRONMENT={environment}\n{result.stdout}"
    variables: dict[str, dict[str, str]] = {}
    for scope, name, value in VARIABLE_LINE.findall(output):
        variables.setdefault(scope, {})[name] = value
    return variables, output


@contextmanager
def registry_stand_in(
    folder: Path, engine: dict[str, str], hosts: tuple[str, ...]
) -> Iterator[tuple[str, dict[str, str]]]:
    """A local registry that answers for `hosts` (ECR, ghcr.io); podman's env to reach it."""
    with ExitStack() as stack:
        registry = stack.enter_context(local_registry(folder / "registry"))
        registries = folder / "registries.conf"
        registries.write_text(
            "".join(
                f'[[registry]]\nprefix = "{prefix}"\nlocation = "{registry}"\ninsecure = true\n\n'
                for prefix in hosts
            )
        )
        proxy = RegistryProxy(registry, hosts)
        stack.callback(proxy.close)
        # podman's own registry traffic goes through the proxy, never a build's or a container's
        conf = folder / "containers.conf"
        conf.write_text(
            Path(engine["CONTAINERS_CONF"])
            .read_text()
            .replace("[containers]\n", "[containers]\nhttp_proxy = false\n")
        )
        yield registry, {
            **engine, **proxy.env(),
            "CONTAINERS_CONF": str(conf), "CONTAINERS_REGISTRIES_CONF": str(registries),
        }  # fmt: skip


@contextmanager
def pipeline(
    combo: dict[str, str], folder: Path, renders: Renders, engine: dict[str, str], region: str
) -> Iterator[Pipeline]:
    with ExitStack() as stack:
        project = renders.copy(combo, folder)
        git(project, "init", "-q", "-b", "main")
        git(project, "add", "-A")
        git(
            project,
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "commit",
            "-qm",
            "rendered",
        )
        moto_url = stack.enter_context(moto_server(folder))
        hosts = (f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com", "ghcr.io")
        registry, engine_env = stack.enter_context(registry_stand_in(folder, engine, hosts))
        iam = aws_client("iam", moto_url, region)
        iam.create_open_id_connect_provider(  # gap: AWS::IAM::OIDCProvider
            Url="https://token.actions.githubusercontent.com",
            ClientIDList=["sts.amazonaws.com"],
            ThumbprintList=["0" * 40],
        )
        variables, output = bootstrap(project, moto_url, region)
        # As a user does after the first `make setup`: commit uv.lock if setup changed it
        # (a render ships a lock for its Python, so usually there is nothing to commit).
        git(project, "add", "uv.lock")
        if git(project, "status", "--porcelain", "--", "uv.lock").strip():
            git(project, "commit", "-qm", "lock")
        filled = ["AWS::IAM::OIDCProvider (created first, passed as ExistingOidcProviderArn)"]
        pull_secret = ""
        if combo["registry"] == "ghcr":  # gap: AWS::SecretsManager::Secret
            pull_secret = aws_client("secretsmanager", moto_url, region).create_secret(
                Name=f"{project.name}/ghcr-pull", SecretString='{"username": "u", "password": "p"}'
            )["ARN"]
            filled.append("AWS::SecretsManager::Secret GhcrPullSecret")
        for code in ("stg", "prod"):
            stack_name = f"{project.name}-{code}"  # the stacks are named for the slug
            filled += fill_gaps(moto_url, region, project, stack_name, pull_secret)
        fake = EcsFake(moto_url, region, engine_env)
        stack.callback(fake.close)
        for code in ("stg", "prod"):
            fake.add_environment(f"{project.name}-{code}")
        yield Pipeline(
            combo, project, region, moto_url, fake, registry, engine_env, variables, output, filled
        )


def assert_configuration(p: Pipeline, environment: str, strategy: str) -> None:
    """What the last release of `environment` asked ECS for."""
    updates = [r for t, r in p.fake.deployment_calls(p.prefix(environment)) if t == "UpdateService"]
    configuration = updates[-1]["deploymentConfiguration"]
    assert configuration["strategy"] == strategy
    if strategy == "CANARY":
        assert configuration["canaryConfiguration"] == {
            "canaryPercent": 25.0,
            "canaryBakeTimeInMinutes": 1,
        }
    assert configuration["bakeTimeInMinutes"] == 3  # the alarms' 2 minutes, and then some
    assert [h["lifecycleStages"][0] for h in configuration["lifecycleHooks"]] == [
        "POST_TEST_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT",
    ]  # fmt: skip
    assert configuration["alarms"]["alarmNames"] == [
        f"{p.prefix(environment)}-{s}" for s in ("5xx-target", "5xx-lb", "latency")
    ]


def release_as_shipped(p: Pipeline, work: Path, *, rehearse_failures: bool) -> None:
    """build -> staging -> production (and promote): each environment's first release.

    With `rehearse_failures`, staging first gets a green that fails validation, then a
    bake nobody's requests reach; both roll back, and re-running the job then succeeds.
    Afterwards the same commit runs again: the push and both releases are no-ops.
    """
    runner = p.make_runner()
    build = p.job("build", work / "run1")
    assert not build.failed, build.output[-6000:]
    image = build.outputs["image"]
    assert re.fullmatch(r"[a-z0-9./-]+@sha256:[0-9a-f]{64}", image), image
    if p.combo["registry"] == "ghcr":
        assert image.startswith("ghcr.io/myorg/churn-prediction@"), image
    assert "image smoke: PASSED" in build.output
    production_before = p.service("production")["taskDefinition"]
    revision = runner.github["sha"]
    listeners = p.fake.environments[p.prefix("staging")]

    if rehearse_failures:
        # The push again (a re-run of the same commit): the registry takes it (mutable tags;
        # podman may re-compress, so the manifest digest can differ for the same image).
        push = runner.rerun_step("build", "push")
        assert push.returncode == 0, push.output
        assert "image: pushed" in push.output
        listeners.green_fault = "error"  # the new release answers 500 on /predict
        broken = p.job("staging", work / "broken")
        assert broken.failed
        assert "validation failed: /predict answered 500" in broken.output, broken.output[-3000:]
        assert p.state("staging").get("live") is None  # production traffic stays where it was
        assert sorted(p.production_weights("staging").values()) == [0, 100]
        assert p.ingress("staging") == []
        listeners.quiet_after_production_shift = True  # requests crawl once ECS waits for the bake
        quiet = p.job("staging", work / "quiet")
        assert quiet.failed
        assert "inconclusive at 100 %" in quiet.output, quiet.output[-3000:]
        assert p.state("staging").get("live") is None
        listeners.quiet_after_production_shift = False

    staging = p.job("staging", work / "run1")  # after failures: a re-run of the same commit
    assert not staging.failed, staging.output[-6000:]
    assert f"RELEASED 1@{revision[:12]}" in staging.output
    # production untouched by the staging job: its own service, no deployment there
    assert p.service("production")["taskDefinition"] == production_before
    assert p.fake.environments[p.prefix("production")].deployment is None
    assert p.ingress("staging") == []  # the validation window closed
    assert_configuration(p, "staging", "BLUE_GREEN")  # nothing live yet: no blue to canary against
    continued = [
        r["action"]
        for t, r in p.fake.deployment_calls(p.prefix("staging"))
        if t == "ContinueServiceDeployment"
    ]
    assert continued[-2:] == ["CONTINUE", "CONTINUE"]
    definition = p.client("ecs").describe_task_definition(
        taskDefinition=p.service("staging")["taskDefinition"]
    )
    container = definition["taskDefinition"]["containerDefinitions"][0]
    assert container["image"] == image
    if p.combo["registry"] == "ghcr":
        assert container["repositoryCredentials"]["credentialsParameter"]

    production = p.job("production", work / "run1")
    assert not production.failed, production.output[-6000:]
    assert f"RELEASED 1@{revision[:12]}" in production.output
    assert "promote: no tracking server" in production.output
    assert p.state("production")["live"]["image"] == image
    assert p.ingress("production") == []
    # every role was assumed in the region the workflow's variable names, by the right job
    assert {region for _, _, region in p.roles} == {p.region}
    expected = {"staging", "production"} | ({"build"} if p.combo["registry"] == "ecr" else set())
    assert {job for job, _, _ in p.roles} == expected

    if rehearse_failures:  # the deploy jobs of the same commit again: nothing to do
        for job in ("staging", "production"):
            again = p.job(job, work / "run2")
            assert not again.failed, again.output[-6000:]
            assert "is already live" in again.output


@pytest.fixture(scope="module")
def engine() -> dict[str, str]:
    folder = Path(subprocess.check_output(["mktemp", "-d"], text=True).strip())
    env = podman_env(folder)
    if (problem := engine_problem(env)) is not None:
        pytest.skip(f"no container engine can start here: {problem}")
    ensure_base_image(env, folder)
    return env


@pytest.mark.slow
def test_cd_workflow_releases_every_aws_combination_as_shipped(
    tmp_path: Path, renders: Renders, engine: dict[str, str]
) -> None:
    started = time.perf_counter()
    for combo in AWS_COMBOS:
        renders[combo]  # render in this thread: cookiecutter changes the working folder

    def one(index: int, combo: dict[str, str]) -> Pipeline:
        folder = tmp_path / combo_id(combo)
        folder.mkdir()
        with pipeline(combo, folder, renders, engine, REGIONS[index]) as p:
            try:
                release_as_shipped(p, folder / "runs", rehearse_failures=index == 0)
            except BaseException as err:
                steps = "\n".join(p.log)
                print(f"--- {combo_id(combo)} steps ---\n{steps}\n--- failed: {str(err)[-3000:]}")
                raise
            return p

    # Two at a time: the machine has two cores (each build trains a model and builds an image).
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(one, i, c) for i, c in enumerate(AWS_COMBOS)]
        pipelines = [f.result() for f in futures]
    print(
        f"\nas-shipped CD for {len(pipelines)} combinations: {time.perf_counter() - started:.0f} s"
    )
    for p in pipelines:
        print(
            f"{combo_id(p.combo)} ({p.region}): "
            + ", ".join(f"{k} {v:.0f} s" for k, v in p.timings.items())
        )
    print(
        "gaps of moto's CloudFormation, filled with boto3:\n  " + "\n  ".join(pipelines[0].filled)
    )
    print(pipelines[0].bootstrap_output)


IMAGE_ONLY = [c for c in RUNNABLE if c["cloud"] == "none"]


@pytest.mark.slow
@pytest.mark.parametrize("combo", IMAGE_ONLY[:1], ids=combo_id)
def test_cd_without_a_cloud_builds_and_pushes_by_digest_as_shipped(
    tmp_path: Path, renders: Renders, engine: dict[str, str], combo: dict[str, str]
) -> None:
    """cloud=none: cd.yml's one job as written, its image pushed to "ghcr.io" by digest."""
    project = renders.copy(combo, tmp_path)
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "r")
    sha = git(project, "rev-parse", "HEAD").strip()

    def checkout(step: dict[str, Any], run: JobRun) -> tuple[dict[str, str], dict[str, str]]:
        git(project, "reset", "-q", "--hard", sha)
        git(project, "clean", "-q", "-ffdx", "-e", ".venv")
        return {}, {}

    def nothing(step: dict[str, Any], run: JobRun) -> tuple[dict[str, str], dict[str, str]]:
        return {}, {}

    with registry_stand_in(tmp_path, engine, ("ghcr.io",)) as (registry, engine_env):
        log: list[str] = []
        runner = WorkflowRunner(
            project / ".github" / "workflows" / "cd.yml",
            project,
            github=github_context(sha),
            repository_variables={},  # nothing to set up without a cloud
            environment_variables={},
            machine_env={
                **runner_env(),
                "UV_PYTHON_DOWNLOADS": "never",
                "CONTAINERS_CONF": engine_env["CONTAINERS_CONF"],
                "CONTAINERS_REGISTRIES_CONF": engine_env["CONTAINERS_REGISTRIES_CONF"],
                **{k: v for k, v in engine_env.items() if "proxy" in k.lower()},
            },
            uses={
                "actions/checkout": checkout,
                "actions/setup-python": nothing,
                "astral-sh/setup-uv": nothing,
                "docker/login-action": nothing,  # registries.conf sends ghcr.io to `registry`
            },
            log=log.append,
        )
        assert list(runner.doc["jobs"]) == ["build"], "cloud=none deploys nowhere"
        build = runner.run_job("build", tmp_path / "runs" / "build")
        assert not build.failed, "\n".join(log) + build.output[-6000:]
        image = build.outputs["image"]
        assert re.fullmatch(r"ghcr\.io/myorg/churn-prediction@sha256:[0-9a-f]{64}", image), image
        assert build.outputs["digest"] == image.partition("@")[2]
        assert build.outputs["model_version"], build.outputs
        assert "image smoke: PASSED" in build.output
        # the digest is what the registry holds under the lower-cased repository name
        request = urllib.request.Request(
            f"http://{registry}/v2/myorg/churn-prediction/manifests/{build.outputs['digest']}",
            method="HEAD",
            headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.headers["Docker-Content-Digest"] == build.outputs["digest"]
    print(", ".join(f"{s.name} {s.seconds:.0f} s" for s in build.steps))
