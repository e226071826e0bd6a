"""Run a GitHub workflow's jobs here, each `run:` step as written, with exactly its `env:`.

What GitHub gives a step is rebuilt from the workflow file: the workflow's,
the job's and the step's `env:` (in that order of precedence), every
`${{ }}` expression the steps use (`vars.*` from the repository or the job's
environment, `steps.<id>.outputs.*` from $GITHUB_OUTPUT, `needs.<job>.outputs.*`,
`github.*`); a variable nobody set is an empty string, as on GitHub. A step
runs as GitHub runs it: `bash --noprofile --norc -eo pipefail -c <run>`.

What cannot run here has one documented local equivalent per `uses:` (the
caller's `uses` table): e.g. checkout is the rendered repository reset to the
commit, AWS credentials are the emulator's. A local composite action
(`uses: ./…`) is expanded into its own steps, which run the same way.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")
# An action's local equivalent: (step, job context) -> (outputs, env exported to later steps).
Equivalent = Callable[[dict[str, Any], "JobRun"], tuple[dict[str, str], dict[str, str]]]


@dataclass
class StepResult:
    name: str
    command: str
    env: dict[str, str]
    returncode: int
    output: str
    seconds: float


@dataclass
class JobRun:
    """One job's run: its context while it runs, and what each step did."""

    name: str
    job: dict[str, Any]
    workdir: Path
    variables: dict[str, str]
    steps: list[StepResult] = field(default_factory=list)
    step_outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    exported: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    failed: bool = False

    @property
    def environment(self) -> str:
        environment = self.job.get("environment", "")
        return str(environment.get("name", "") if isinstance(environment, dict) else environment)

    @property
    def output(self) -> str:
        return "\n".join(f"$ {s.command}\n{s.output}" for s in self.steps)


class WorkflowRunner:
    """Runs one workflow's jobs, in the order asked, the way GitHub would."""

    def __init__(
        self,
        workflow: Path,
        project: Path,
        *,
        github: Mapping[str, str],
        repository_variables: Mapping[str, str],
        environment_variables: Mapping[str, Mapping[str, str]],
        machine_env: Mapping[str, str],
        uses: Mapping[str, Equivalent],
        log: Callable[[str], None] = print,
    ) -> None:
        self.workflow_path = workflow
        self.doc = yaml.safe_load(workflow.read_text())
        self.project = project
        self.github = dict(github)
        self.repository_variables = dict(repository_variables)
        self.environment_variables = {k: dict(v) for k, v in environment_variables.items()}
        self.machine_env = dict(machine_env)
        self.uses = dict(uses)
        self.log = log
        self.jobs: dict[str, JobRun] = {}

    # -- expressions ----------------------------------------------------------------------

    def evaluate(self, expression: str, run: JobRun) -> str:
        """The value of one `${{ }}` expression (an unset variable is '')."""
        if "==" in expression:
            left, _, right = expression.partition("==")
            equal = self.evaluate(left.strip(), run) == right.strip().strip("'\"")
            return "true" if equal else ""
        parts = expression.split(".")
        head = parts[0]
        if head == "vars":
            return run.variables.get(parts[1], "")
        if head == "secrets":  # none is set here: an unset secret is '' on GitHub too
            return ""
        if head == "github":
            return self.github.get(parts[1], "")
        if head == "steps" and parts[2] == "outputs":
            return run.step_outputs.get(parts[1], {}).get(parts[3], "")
        if head == "needs" and parts[2] == "outputs":
            needed = self.jobs.get(parts[1])
            return needed.outputs.get(parts[3], "") if needed else ""
        if head == "inputs":
            return ""
        raise ValueError(f"{self.workflow_path.name}: expression not understood: {expression}")

    def substitute(self, text: Any, run: JobRun) -> str:
        return EXPRESSION.sub(lambda m: self.evaluate(m.group(1), run), str(text))

    def env_of(self, *layers: Mapping[str, Any] | None, run: JobRun) -> dict[str, str]:
        env: dict[str, str] = {}
        for layer in layers:
            for key, value in (layer or {}).items():
                env[key] = self.substitute(value, run)
        return env

    # -- steps ----------------------------------------------------------------------------

    def _steps(self, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Steps with local composite actions expanded into their own steps."""
        expanded = []
        for step in steps:
            uses = str(step.get("uses", ""))
            if uses.startswith("./"):
                action = yaml.safe_load((self.project / uses / "action.yml").read_text())
                assert action["runs"]["using"] == "composite", uses
                expanded += self._steps(action["runs"]["steps"])
            else:
                expanded.append(step)
        return expanded

    def _run_step(self, step: dict[str, Any], run: JobRun, job_env: dict[str, str]) -> StepResult:
        command = step["run"]
        outputs_file = run.workdir / f"output-{len(run.steps)}"
        outputs_file.write_text("")
        env = {
            **self.machine_env,
            **{f"GITHUB_{k.upper()}": v for k, v in self.github.items()},
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_OUTPUT": str(outputs_file),
            "GITHUB_STEP_SUMMARY": str(run.workdir / "summary.md"),
            "GITHUB_ENV": str(run.workdir / "env"),
            **run.exported,
            **job_env,
            **self.env_of(step.get("env"), run=run),
        }
        started = time.perf_counter()
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", command],
            cwd=self.project,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        seconds = time.perf_counter() - started
        if step.get("id"):
            values = {}
            for line in outputs_file.read_text().splitlines():
                key, _, value = line.partition("=")
                values[key] = value
            run.step_outputs[step["id"]] = values
        step_env = self.env_of(step.get("env"), run=run)
        return StepResult(
            str(step.get("name", command)),
            command,
            step_env,
            result.returncode,
            result.stdout + result.stderr,
            seconds,
        )

    def run_job(self, name: str, workdir: Path) -> JobRun:
        """Run job `name` (its `needs` must have run); stops at the first failing step."""
        job = self.doc["jobs"][name]
        workdir.mkdir(parents=True, exist_ok=True)
        run = JobRun(name, job, workdir, dict(self.repository_variables))
        run.variables.update(self.environment_variables.get(run.environment, {}))
        self.jobs[name] = run
        needs = job.get("needs", [])
        for needed in [needs] if isinstance(needs, str) else needs:
            previous = self.jobs.get(needed)
            if previous is None or previous.failed:
                raise AssertionError(f"{name} needs {needed}, which has not succeeded")
        condition = job.get("if")
        if condition and not self.evaluate(str(condition), run):
            raise AssertionError(f"{name} would be skipped: if {condition}")
        job_env = self.env_of(self.doc.get("env"), job.get("env"), run=run)
        started = time.perf_counter()
        for step in self._steps(job["steps"]):
            if "uses" in step:
                action = str(step["uses"]).split("@", 1)[0]
                if action not in self.uses:
                    raise AssertionError(f"no local equivalent for {action}")
                outputs, exported = self.uses[action](step, run)
                if step.get("id"):
                    run.step_outputs[step["id"]] = outputs
                run.exported.update(exported)
                continue
            result = self._run_step(step, run, job_env)
            run.steps.append(result)
            self.log(
                f"  {name}: {result.command} -> exit {result.returncode} ({result.seconds:.1f} s)"
            )
            if result.returncode != 0:
                run.failed = True
                break
        if not run.failed:
            run.outputs = {
                key: self.substitute(value, run) for key, value in job.get("outputs", {}).items()
            }
        self.log(
            f"  {name}: {'FAILED' if run.failed else 'ok'} in {time.perf_counter() - started:.0f} s"
        )
        return run

    def rerun_step(self, name: str, step_id: str) -> StepResult:
        """Run one step of a job that ran before again, with the same context (a re-run)."""
        run = self.jobs[name]
        job_env = self.env_of(self.doc.get("env"), run.job.get("env"), run=run)
        step = next(s for s in self._steps(run.job["steps"]) if s.get("id") == step_id)
        result = self._run_step(step, run, job_env)
        run.steps.append(result)
        self.log(f"  {name} (re-run): {result.command} -> exit {result.returncode}")
        return result


def runner_env() -> dict[str, str]:
    """The parts of this machine's environment a runner also has (PATH, HOME, locale, caches)."""
    keep = (
        "PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "UV_CACHE_DIR", "XDG_CACHE_HOME",
        # how this machine reaches the package registries (a runner's trust store and proxy)
        "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "PIP_CERT",
        "GIT_SSL_CAINFO", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy",
        "no_proxy",
    )  # fmt: skip
    return {key: os.environ[key] for key in keep if key in os.environ}
