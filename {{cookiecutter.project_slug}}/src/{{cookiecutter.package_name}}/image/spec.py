"""The serving image worked out from plain values: tags, build arguments, commands, checks.

Everything here is pure, so the rules that decide what an image is called and
what a healthy one looks like are unit-tested without a container engine; the
engine itself is driven from `io/containers.py`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ENGINES = ("docker", "podman")
CONTAINER_PORT = 8000
DEV_TAG = "dev"
LABEL_REVISION = "org.opencontainers.image.revision"
LABEL_VERSION = "org.opencontainers.image.version"
LABEL_SOURCE = "org.opencontainers.image.source"
LABEL_CREATED = "org.opencontainers.image.created"
ROOT_USERS = frozenset({"", "0", "root", "0:0", "root:root"})

_SCP_REMOTE = re.compile(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+):(?P<path>[^/].*)$")


def image_tags(name: str, short_revision: str | None) -> list[str]:
    """`<name>:<short git sha>` (or `:dev` outside a repository) and `<name>:latest`."""
    return [f"{name}:{short_revision or DEV_TAG}", f"{name}:latest"]


def source_url(remote: str | None) -> str:
    """The browsable https address of a git remote ('' when there is none).

    OCI's `source` label should be a URL people can open, while remotes are
    often SSH (`git@github.com:org/repo.git`) or carry credentials.
    """
    if not remote:
        return ""
    remote = remote.strip()
    scp = _SCP_REMOTE.match(remote)
    if scp and "://" not in remote:
        remote = f"https://{scp['host']}/{scp['path']}"
    remote = re.sub(r"^(?:ssh|git)://(?:[^@/]+@)?", "https://", remote)
    remote = re.sub(r"^https?://[^@/]+@", "https://", remote)
    return remote.removesuffix(".git")


def build_args(
    *, revision: str, model_version: str, model_dir: str, source: str, created: str
) -> dict[str, str]:
    """The Dockerfile's build arguments (label values and which model to bake in)."""
    return {
        "MODEL_DIR": model_dir,
        "GIT_REVISION": revision,
        "MODEL_VERSION": model_version,
        "SOURCE_URL": source,
        "CREATED": created,
    }


def build_command(
    engine: str, context: Path, tags: Sequence[str], args: Mapping[str, str]
) -> list[str]:
    """The engine's build command line.

    podman writes OCI images by default, and the OCI format has no HEALTHCHECK:
    `--format docker` keeps it.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown container engine {engine!r}; expected one of {ENGINES}")
    command = [engine, "build"]
    if engine == "podman":
        command += ["--format", "docker"]
    for tag in tags:
        command += ["--tag", tag]
    for key, value in args.items():
        command += ["--build-arg", f"{key}={value}"]
    command.append(str(context))
    return command


def image_problems(config: Mapping[str, Any], expected_version: str) -> list[str]:
    """What is wrong with an image's configuration (a container's inspect `Config`)."""
    problems = []
    user = str(config.get("User") or "")
    if user in ROOT_USERS:
        problems.append(f"the image runs as root (USER {user or 'unset'})")
    test = (config.get("Healthcheck") or {}).get("Test") or []
    if not test or test[0] == "NONE":
        problems.append("the image has no HEALTHCHECK (podman: build with --format docker)")
    labels = config.get("Labels") or {}
    if labels.get(LABEL_VERSION) != expected_version:
        problems.append(
            f"label {LABEL_VERSION} is {labels.get(LABEL_VERSION)!r}, "
            f"expected the model version {expected_version!r}"
        )
    if not labels.get(LABEL_REVISION):
        problems.append(f"label {LABEL_REVISION} is missing")
    return problems


def healthcheck_command(config: Mapping[str, Any]) -> list[str]:
    """The HEALTHCHECK as an exec argument list (so a smoke test can run it itself)."""
    test = list((config.get("Healthcheck") or {}).get("Test") or [])
    if not test or test[0] == "NONE":
        return []
    kind, rest = test[0], test[1:]
    if kind == "CMD-SHELL":
        return ["/bin/sh", "-c", *rest]
    return rest if kind == "CMD" else test


def prediction_problems(
    status: int,
    body: Any,
    expected_probability: float,
    labels: Sequence[str],
    tolerance: float = 1e-5,
) -> list[str]:
    """What is wrong with a /predict answer, compared with the same model scored locally."""
    if status != 200:
        return [f"/predict answered {status}: {body}"]
    if not isinstance(body, dict):
        return [f"/predict answered non-JSON or not an object: {body!r}"]
    problems = []
    probability = body.get("probability")
    if not isinstance(probability, int | float) or not math.isfinite(probability):
        problems.append(f"/predict returned no probability: {body}")
    elif abs(probability - expected_probability) > tolerance:
        problems.append(
            f"/predict probability {probability} differs from the local model's "
            f"{expected_probability:.6f} by more than {tolerance:g}"
        )
    if body.get("label") not in labels:
        problems.append(f"/predict label {body.get('label')!r} is not one of {list(labels)}")
    return problems


def push_commands(
    engine: str, source: str, target: str, *, insecure: bool, digest_file: str
) -> list[list[str]]:
    """Tag `source` as `target` and push it; podman writes the pushed digest to `digest_file`.

    Docker schema 2 keeps HEALTHCHECK in the pushed config (OCI configs drop it).
    """
    tag = [engine, "tag", source, target]
    if engine == "podman":
        push = [engine, "push", "--format=v2s2", "--digestfile", digest_file]
        if insecure:
            push.append("--tls-verify=false")
        return [tag, [*push, target]]
    return [tag, [engine, "push", target]]


def pushed_digest(push_output: str) -> str | None:
    """The manifest digest `docker push` prints ("…: digest: sha256:… size: …")."""
    match = re.search(r"digest: (sha256:[0-9a-f]{64})", push_output)
    return match.group(1) if match else None
