"""Run one job of a rendered project's pull-request workflows on this machine, as Actions would.

Enough of Actions for the pull-request workflows, so a template test drives the
real workflow files rather than a copy of their steps:

- `run: make X` steps, with the workflow's, the job's and the step's `env`;
- `if:` conditions and the job's outcome (a failed step skips the steps after it
  unless their condition says otherwise);
- the project's own composite actions (`uses: ./.github/actions/...`), step by step;
- artifacts: upload-artifact and download-artifact against a folder;
- `${{ }}` expressions, from a table the test gives (plus `toJSON(steps)`, the status
  functions, `steps.<id>.outcome`, `steps.<id>.outputs.*` (from $GITHUB_OUTPUT), `==`,
  `!=`, `&&`, `||` and `inputs.*`): an expression the table lacks fails the test, so a
  workflow change cannot slip past it; the job's `outputs` are kept for the next job;
- other actions through the local equivalents the test gives (`actions`).

Steps that only prepare a runner (checkout, setup-python, setup-uv, the cache
actions) are skipped: the test has checked out and set up the project itself.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .helpers import project_env, run

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
RUNNER_PREPARATION = (
    "actions/checkout@",
    "actions/setup-python@",
    "astral-sh/setup-uv@",
    "actions/cache/restore@",
    "actions/cache/save@",
)


@dataclass
class JobRun:
    """What happened: each step's outcome (by id, else by name) and the commands' output."""

    outcomes: dict[str, str] = field(default_factory=dict)
    output: list[str] = field(default_factory=list)
    seconds: float = 0.0
    step_outputs: dict[str, dict[str, str]] = field(default_factory=dict)  # $GITHUB_OUTPUT
    outputs: dict[str, str] = field(default_factory=dict)  # the job's `outputs:`

    @property
    def failed(self) -> bool:
        return "failure" in self.outcomes.values()


@dataclass
class Runner:
    """One workflow job's world: the workspace, the GitHub environment, the artifacts."""

    workspace: Path
    artifacts: Path  # one folder per artifact name
    github_env: dict[str, str]  # GITHUB_* variables
    values: dict[str, Any]  # expression text -> value (str or bool)
    job: JobRun = field(default_factory=JobRun)
    # Other actions' local equivalents: `uses` prefix -> (the step's `with`) -> success.
    actions: dict[str, Callable[[dict[str, str]], bool]] = field(default_factory=dict)
    _step_id: str = ""  # the step running now (its id, else its name)

    def run_job(self, workflow: Path, job_name: str) -> JobRun:
        doc = yaml.safe_load(workflow.read_text(encoding="utf-8"))
        job = doc["jobs"][job_name]
        self.job = JobRun()
        started = time.perf_counter()
        if "if" in job and not self._condition(job["if"], {}):
            self.job.outcomes["job"] = "skipped"
            return self.job
        env = {**doc.get("env", {}), **job.get("env", {})}
        self._steps(job["steps"], env, {})
        self.job.outputs = {
            name: self._text(str(value), {}) for name, value in job.get("outputs", {}).items()
        }
        self.job.seconds = time.perf_counter() - started
        return self.job

    # ------------------------------------------------------------------ steps

    def _steps(self, steps: list[dict[str, Any]], env: Mapping[str, Any], inputs: dict[str, str]):
        for step in steps:
            key = step.get("id") or step.get("name") or str(step.get("uses") or step.get("run"))
            if not self._condition(step.get("if", "success()"), inputs):
                self.job.outcomes[key] = "skipped"
                continue
            step_env = {**env, **step.get("env", {})}
            self._step_id = key
            ok = self._step(step, step_env, inputs)
            if not ok and step.get("continue-on-error") is True:
                ok = True
            self.job.outcomes[key] = "success" if ok else "failure"

    def _step(self, step: dict[str, Any], env: Mapping[str, Any], inputs: dict[str, str]) -> bool:
        uses = str(step.get("uses", ""))
        with_ = {k: self._text(_yaml_text(v), inputs) for k, v in step.get("with", {}).items()}
        if uses.startswith(RUNNER_PREPARATION):
            return True
        if uses.startswith("actions/upload-artifact@"):
            return self._upload(with_)
        if uses.startswith("actions/download-artifact@"):
            return self._download(with_)
        if uses.startswith("./"):
            action = yaml.safe_load((self.workspace / uses / "action.yml").read_text())
            declared = {k: str(v.get("default", "")) for k, v in action.get("inputs", {}).items()}
            self._steps(action["runs"]["steps"], env, {**declared, **with_})
            return True
        if "run" in step:
            return self._make(step["run"].strip(), env, inputs)
        for prefix, action in self.actions.items():
            if uses.startswith(prefix):
                return action(with_)
        raise AssertionError(f"the workflow runner does not know the step {step}")

    def _make(self, command: str, env: Mapping[str, Any], inputs: dict[str, str]) -> bool:
        match = re.fullmatch(r"make ([a-z-]+)", command)
        assert match, f"not one make call: {command!r}"
        variables = {name: self._text(_yaml_text(value), inputs) for name, value in env.items()}
        outputs = self.artifacts.parent / f"github-output-{len(self.job.output)}"
        outputs.write_text("")
        result = run(
            ["make", "-C", self.workspace, match.group(1)],
            env=project_env(**self.github_env, **variables, GITHUB_OUTPUT=str(outputs)),
            check=False,
        )
        pairs = (line.partition("=") for line in outputs.read_text().splitlines())
        self.job.step_outputs[self._step_id] = {k: v for k, sep, v in pairs if sep}
        log = f"$ {command} -> {result.returncode}\n{result.stdout}{result.stderr}"
        self.job.output.append(log)
        return result.returncode == 0

    # -------------------------------------------------------------- artifacts

    def _upload(self, with_: dict[str, str]) -> bool:
        files: list[Path] = []
        for pattern in with_["path"].split():
            for found in sorted(self.workspace.glob(pattern.rstrip("/"))):
                inside = sorted(p for p in found.rglob("*") if p.is_file())
                files += inside if found.is_dir() else [found]
        if not files:
            return with_.get("if-no-files-found", "warn") != "error"
        root = Path(os.path.commonpath([f.parent for f in files]))
        target = self.artifacts / with_["name"]
        for path in files:
            destination = target / path.relative_to(root)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
        return True

    def _download(self, with_: dict[str, str]) -> bool:
        names = sorted(p.name for p in self.artifacts.iterdir()) if self.artifacts.is_dir() else []
        if "name" in with_:
            if with_["name"] not in names:
                return False
            chosen, merge = [with_["name"]], True
        else:
            chosen = [n for n in names if fnmatch.fnmatch(n, with_.get("pattern", "*"))]
            merge = with_.get("merge-multiple") == "true"
        target = self.workspace / with_.get("path", ".")
        for name in chosen:
            destination = target if merge else target / name
            shutil.copytree(self.artifacts / name, destination, dirs_exist_ok=True)
        return True

    # ------------------------------------------------------------ expressions

    def _value(self, expression: str, inputs: dict[str, str]) -> Any:
        if expression in self.values:
            return self.values[expression]
        if "||" in expression:  # the first true value, as in Actions
            values = [self._value(part.strip(), inputs) for part in expression.split("||")]
            return next((value for value in values if value), values[-1])
        if "&&" in expression:
            return all(self._value(part.strip(), inputs) for part in expression.split("&&"))
        for operator in ("==", "!="):
            if operator in expression:
                left, _, right = expression.partition(operator)
                equal = str(self._value(left.strip(), inputs)) == right.strip().strip("'\"")
                return equal if operator == "==" else not equal
        step = re.fullmatch(r"steps\.([\w-]+)\.outcome", expression)
        if step:  # a step that has not run (yet) has no outcome
            return self.job.outcomes.get(step.group(1), "")
        output = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expression)
        if output:
            return self.job.step_outputs.get(output.group(1), {}).get(output.group(2), "")
        if expression == "toJSON(steps)":
            steps = {
                key: {"outcome": outcome, "conclusion": outcome, "outputs": {}}
                for key, outcome in self.job.outcomes.items()
            }
            return json.dumps(steps)
        if expression.startswith("inputs."):
            return inputs[expression.removeprefix("inputs.")]
        status = {
            "success()": not self.job.failed,
            "failure()": self.job.failed,
            "always()": True,
            "!cancelled()": True,
            "cancelled()": False,
        }
        if expression in status:
            return status[expression]
        assert expression in self.values, f"the test gives no value for ${{{{ {expression} }}}}"
        return self.values[expression]

    def _text(self, text: str, inputs: dict[str, str]) -> str:
        return EXPRESSION.sub(lambda m: str(self._value(m.group(1), inputs)), text)

    def _condition(self, condition: Any, inputs: dict[str, str]) -> bool:
        if isinstance(condition, bool):
            return condition
        text = str(condition).strip()
        match = EXPRESSION.fullmatch(text)
        return bool(self._value(match.group(1) if match else text, inputs))


def _yaml_text(value: Any) -> str:
    """A YAML scalar as Actions passes it to a step: booleans as `true`/`false`."""
    return str(value).lower() if isinstance(value, bool) else str(value)
