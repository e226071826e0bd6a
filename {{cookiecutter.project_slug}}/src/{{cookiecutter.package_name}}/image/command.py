"""The `image build` and `image smoke` commands: the deployable unit, built and proven.

`build` bakes one exact model version into the serving image, tags it with the
git revision and records what it built in reports/image.json, which `smoke`
(and the deploy step) read to know which image to use. `smoke` runs that
image like production does and checks it end to end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..commands import Command
from ..contract.model import load_contract, training_data_path
from ..errors import ContainerEngineError, ImageError
from ..layout import IMAGE_RECORD_FILE, METADATA_FILE, ONNX_FILE, ModelMetadata
from ..probes import free_port, http_json
from ..settings import Settings
from .engine import (
    api_client,
    build_image,
    detect_engine,
    remove_container,
    run_beside,
    run_container,
    stop_container,
    wait_container_ready,
)
from .spec import (
    build_args,
    build_command,
    healthcheck_command,
    image_problems,
    image_tags,
    prediction_problems,
    push_commands,
    pushed_digest,
    source_url,
)

MODEL_FILES = (ONNX_FILE, METADATA_FILE)


@dataclass(frozen=True)
class BuiltImage:
    """What `image build` produced: read by `image smoke` and the deploy step."""

    image: str
    tags: list[str]
    engine: str
    image_id: str
    size_bytes: int
    git_revision: str
    model_version: str
    model_dir: str
    build_seconds: float


def _git(project_dir: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", *args], cwd=project_dir, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def _model_dir(settings: Settings, model_dir: Path | None) -> Path:
    """The model folder to bake in: inside the project (the build context), complete."""
    folder = model_dir or settings.current_model_dir
    folder = folder if folder.is_absolute() else settings.project_dir / folder
    missing = [name for name in MODEL_FILES if not (folder / name).is_file()]
    if missing:
        raise ImageError(
            f"no trained model in {folder} ({', '.join(missing)} missing): run `make train` first"
        )
    try:
        folder.resolve().relative_to(settings.project_dir.resolve())
    except ValueError as err:
        raise ImageError(f"the model folder {folder} must be inside the project") from err
    return folder


def _model_version(folder: Path) -> str:
    try:
        return ModelMetadata.read(folder).model_version
    except ValueError as err:
        raise ImageError(f"{folder / METADATA_FILE} is unreadable: {err}") from err


def _project_name(project_dir: Path) -> str:
    import tomllib

    pyproject = project_dir / "pyproject.toml"
    return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["name"])


def record_path(settings: Settings) -> Path:
    """reports/image.json: the image the last build produced."""
    return settings.reports_dir / IMAGE_RECORD_FILE


def run_image_build(
    settings: Settings, engine: str = "auto", model_dir: Path | None = None
) -> BuiltImage:
    """Build and tag the serving image with `model_dir` (default models/current) baked in."""
    project = settings.project_dir
    folder = _model_dir(settings, model_dir)
    if not (project / "uv.lock").is_file():
        raise ImageError("uv.lock is missing: run `make setup` (the image installs from the lock)")
    try:
        chosen = detect_engine(engine)
    except ContainerEngineError as err:
        raise ImageError(str(err)) from err
    version = _model_version(folder)
    revision = _git(project, "rev-parse", "HEAD") or "unknown"
    tags = image_tags(_project_name(project), _git(project, "rev-parse", "--short", "HEAD"))
    args = build_args(
        revision=revision,
        model_version=version,
        model_dir=folder.resolve().relative_to(project.resolve()).as_posix(),
        source=source_url(_git(project, "remote", "get-url", "origin")),
        created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    print(f"image: building {', '.join(tags)} with {chosen} (model version {version})", flush=True)
    started = time.perf_counter()
    try:
        build_image(build_command(chosen, project, tags, args), cwd=project)
        seconds = time.perf_counter() - started
        with api_client(chosen) as client:
            attrs = client.images.get(tags[0]).attrs
    except ContainerEngineError as err:
        raise ImageError(str(err)) from err
    built = BuiltImage(
        image=tags[0],
        tags=tags,
        engine=chosen,
        image_id=str(attrs["Id"]),
        size_bytes=int(attrs["Size"]),
        git_revision=revision,
        model_version=version,
        model_dir=args["MODEL_DIR"],
        build_seconds=round(seconds, 1),
    )
    path = record_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(built), indent=2) + "\n", encoding="utf-8")
    print(
        f"image: built {built.image} ({built.size_bytes / 1e6:.0f} MB) in {seconds:.1f} s; "
        f"recorded in {path.relative_to(project)}"
    )
    return built


def recorded_image(settings: Settings) -> BuiltImage:
    """The image `image build` recorded last (clear error when none was built)."""
    path = record_path(settings)
    if not path.is_file():
        raise ImageError(f"no image recorded in {path}: run `make image` first")
    return BuiltImage(**json.loads(path.read_text(encoding="utf-8")))


def _expected_answer(
    settings: Settings, folder: Path
) -> tuple[dict[str, Any], float, list[str], str]:
    """A real request row, the local model's probability for it, the labels, the version."""
    from ..serving.payloads import sample_rows
    from ..serving.predictor import OnnxPredictor

    contract = load_contract(settings.contract_path)
    (row,) = sample_rows(training_data_path(settings, contract), contract, 1, seed=7)
    (probability,) = OnnxPredictor(folder / ONNX_FILE, contract).predict([row])
    labels = [str(contract.target.positive), str(contract.target.negative)]
    return row, probability, labels, _model_version(folder)


def run_image_smoke(settings: Settings, engine: str = "auto", image: str | None = None) -> int:
    """Run the image as production does; check /health, /ready, /predict, user, HEALTHCHECK."""
    record = recorded_image(settings)
    image = image or record.image
    folder = _model_dir(settings, Path(record.model_dir))
    row, probability, labels, version = _expected_answer(settings, folder)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    problems: list[str] = []
    try:
        with api_client(detect_engine(record.engine if engine == "auto" else engine)) as client:
            name = f"{_project_name(settings.project_dir)}-smoke-{port}"
            container = run_container(client, image, port, {}, name)
            try:
                # The container's config is the image's (podman's Docker API leaves
                # the HEALTHCHECK out of image inspection, not out of containers).
                config = container.attrs["Config"]
                problems += image_problems(config, version)
                seconds = wait_container_ready(container, url)
                print(f"image smoke: {image} ready in {seconds:.1f} s at {url}")
                problems += _check_endpoints(url, row, probability, labels, version)
                problems += _check_healthcheck(client, container, config)
                exit_code = stop_container(container)
                if exit_code != 0:
                    problems.append(f"the service exited with code {exit_code} on SIGTERM")
            finally:
                remove_container(container)
    except ContainerEngineError as err:
        raise ImageError(str(err)) from err
    for problem in problems:
        print(f"image smoke: FAILED: {problem}")
    if problems:
        return 1
    print(f"image smoke: PASSED ({image}: /health, /ready, /predict, user, HEALTHCHECK, SIGTERM)")
    return 0


def _check_endpoints(
    url: str, row: dict[str, Any], probability: float, labels: list[str], version: str
) -> list[str]:
    problems = []
    status, body = http_json(f"{url}/health")
    if status != 200:
        problems.append(f"/health answered {status}: {body}")
    status, body = http_json(f"{url}/ready")
    if status != 200 or (body or {}).get("model_version") != version:
        problems.append(f"/ready answered {status}: {body} (expected model version {version})")
    status, body = http_json(f"{url}/predict", row)
    problems += prediction_problems(status, body, probability, labels)
    if not problems:
        print(f"image smoke: /predict -> {body} (local model: {probability:.6f})")
    return problems


def _check_healthcheck(client: Any, container: Any, config: dict[str, Any]) -> list[str]:
    command = healthcheck_command(config)
    if not command:
        return []  # image_problems already named the missing HEALTHCHECK
    code, output = run_beside(client, container, command)
    if code != 0:
        return [f"the HEALTHCHECK command failed (exit {code}): {output[-500:]}"]
    return []


def _write_github_outputs(values: dict[str, str]) -> None:
    """Step outputs for the workflow (cd.yml reads `digest` and `model_version`)."""
    target = os.environ.get("GITHUB_OUTPUT")
    if target:
        with Path(target).open("a", encoding="utf-8") as handle:
            handle.writelines(f"{key}={value}\n" for key, value in values.items())


def run_image_push(settings: Settings, repository: str, insecure: bool = False) -> int:
    """Push the last built image as <repository>:<git revision>; print and output its digest.

    Releases refer to the image by this digest, never by a tag, so what was
    tested is exactly what runs. Pushing again (a re-run of the same commit)
    is safe: registries keep layers they already have, the tag moves to the
    image just built, and the output names that exact digest.
    """
    if not repository:
        raise ImageError("IMAGE_REPOSITORY is empty: name the repository, e.g. ghcr.io/org/repo")
    # Registries take lower-case repository names only (GitHub owners may have capitals).
    repository = repository.lower()
    built = recorded_image(settings)
    target = f"{repository}:{built.tags[0].rsplit(':', 1)[-1]}"
    with tempfile.TemporaryDirectory() as tmp:
        digest_file = Path(tmp) / "digest"
        commands = push_commands(
            built.engine, built.image, target, insecure=insecure, digest_file=str(digest_file)
        )
        output = ""
        for command in commands:
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise ImageError(f"{' '.join(command[:2])} failed: {result.stderr.strip()[-800:]}")
            output += result.stdout + result.stderr
        digest = digest_file.read_text().strip() if digest_file.is_file() else pushed_digest(output)
    if not digest:
        raise ImageError(f"pushed {target} but found no digest in the engine's output")
    print(f"image: pushed {target} ({digest}), model version {built.model_version}")
    _write_github_outputs(
        {
            "digest": digest,
            "image": f"{repository}@{digest}",
            "model_version": built.model_version,
            "git_revision": built.git_revision,
        }
    )
    return 0


def _write_summary(text: str) -> None:
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if target:
        with Path(target).open("a", encoding="utf-8") as handle:
            handle.write(text + "\n")


def run_image_scan(image: str, wait_seconds: float = 300.0) -> int:
    """ECR's scan-on-push findings for `image` (by digest), counted by severity.

    A documented choice: findings are reported (stdout and the job summary), not
    blocking. A base-image CVE must not stop a model release that fixes a real
    problem; the table puts it in front of the team on every release.
    """
    import boto3

    repository, _, digest = image.partition("@")
    host, _, name = repository.partition("/")
    if not digest or ".dkr.ecr." not in host:
        raise ImageError(f"image scan needs an ECR image by digest, got {image!r}")
    region = host.split(".dkr.ecr.", 1)[1].split(".", 1)[0]
    ecr = boto3.session.Session(region_name=os.environ.get("AWS_REGION") or region).client("ecr")
    image_id = {"imageDigest": digest}
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            found = ecr.describe_image_scan_findings(repositoryName=name, imageId=image_id)
        except ecr.exceptions.ClientError as err:
            print(f"image scan: no findings for {image}: {err}")
            _write_summary(f"### Image scan\n\nNo scan findings for `{image}`: {err}")
            return 0
        status = (found.get("imageScanStatus") or {}).get("status", "")
        if status != "IN_PROGRESS" or time.monotonic() > deadline:
            break
        time.sleep(5)
    counts = (found.get("imageScanFindings") or {}).get("findingSeverityCounts") or {}
    shown = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "none"
    print(f"image scan of {image} ({status or 'unknown'}): {shown}")
    rows = "".join(f"| {k} | {v} |\n" for k, v in sorted(counts.items())) or "| none | 0 |\n"
    _write_summary(
        f"### Image scan ({status or 'unknown'})\n\n`{image}`\n\n| severity | findings |\n"
        f"| --- | --- |\n{rows}\nReported, not blocking: see the README's scan policy."
    )
    return 0


def _image(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "build":
        run_image_build(settings, engine=args.engine, model_dir=args.model_dir)
        return 0
    if args.action == "push":
        return run_image_push(settings, args.repository, insecure=args.insecure_registry)
    if args.action == "scan":
        return run_image_scan(args.image or "")
    return run_image_smoke(settings, engine=args.engine, image=args.image)


def _image_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        choices=["build", "smoke", "push", "scan"],
        help="build: build and tag the image; smoke: run it and check the API; "
        "push: push it to --repository and print its digest; scan: report ECR's findings",
    )
    parser.add_argument(
        "--repository",
        default=os.environ.get("IMAGE_REPOSITORY", ""),
        help="push: registry/repository (default: IMAGE_REPOSITORY)",
    )
    parser.add_argument(
        "--insecure-registry",
        action="store_true",
        default=os.environ.get("IMAGE_REGISTRY_INSECURE") == "1",
        help="push: plain HTTP / unverified TLS, a local test registry only "
        "(default: IMAGE_REGISTRY_INSECURE=1)",
    )
    parser.add_argument(
        "--engine",
        choices=["auto", "docker", "podman"],
        default="auto",
        help="container engine (default: docker if its engine answers, else podman)",
    )
    parser.add_argument(
        "--model-dir",
        type=Path,
        default=None,
        help="build: model folder to bake in, inside the project (default: models/current)",
    )
    parser.add_argument(
        "--image",
        default=None,
        help="smoke: image to run (default: the last one built); scan: <ecr repo>@sha256:…",
    )


COMMANDS = (
    Command(
        "image",
        "build the serving image, push it, or smoke-test it in a container",
        _image,
        _image_arguments,
    ),
)
