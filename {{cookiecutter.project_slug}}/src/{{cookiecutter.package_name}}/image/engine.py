"""The container engine: build with its CLI, run and inspect through the Docker API.

Docker Engine and podman both speak the Docker API (podman through `podman
system service`), so one docker-SDK code path runs and inspects containers on
either. Builds shell out to the engine's own CLI, which streams its progress and
knows each engine's build options.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import ContainerEngineError
from ..probes import NotReadyError, poll_until
from .spec import CONTAINER_PORT, ENGINES


def docker_answers(timeout: float = 20.0) -> bool:
    """True when a Docker engine answers `docker info` (not just when the CLI exists)."""
    if shutil.which("docker") is None:
        return False
    try:
        result = subprocess.run(
            ["docker", "info"], capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0


def detect_engine(requested: str = "auto") -> str:
    """`docker` when its engine answers, else `podman`; or the engine asked for."""
    if requested != "auto":
        if requested not in ENGINES:
            raise ContainerEngineError(f"unknown engine {requested!r}; use auto, docker or podman")
        if shutil.which(requested) is None:
            raise ContainerEngineError(f"{requested} is not installed")
        return requested
    if docker_answers():
        return "docker"
    if shutil.which("podman") is not None:
        return "podman"
    raise ContainerEngineError(
        "no container engine: `docker info` failed and podman is not installed "
        "(install Docker or podman)"
    )


def build_image(command: Sequence[str], cwd: Path) -> None:
    """Run a build command; its output streams to the terminal (CI logs show each step)."""
    result = subprocess.run(list(command), cwd=cwd, check=False)
    if result.returncode != 0:
        raise ContainerEngineError(
            f"{command[0]} build failed (exit {result.returncode}); see its output above"
        )


@contextmanager
def podman_service(timeout: float = 30.0) -> Iterator[str]:
    """A temporary podman API socket (`podman system service`), stopped on exit."""
    folder = Path(tempfile.mkdtemp(prefix="podman-api-"))
    socket_path = folder / "podman.sock"
    url = f"unix://{socket_path}"
    log_path = folder / "service.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["podman", "system", "service", "--time=0", url],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + timeout
        while not socket_path.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise ContainerEngineError(
                    f"`podman system service` did not start:\n{log_path.read_text()[-2000:]}"
                )
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)


def _client(base_url: str | None) -> Any:
    try:
        import docker
    except ImportError as err:
        raise ContainerEngineError(
            "the `docker` package is missing: `uv sync` installs it (deploy group)"
        ) from err
    client = docker.from_env() if base_url is None else docker.DockerClient(base_url=base_url)
    client.ping()
    return client


@contextmanager
def api_client(engine: str) -> Iterator[Any]:
    """A docker SDK client for `engine`: DOCKER_HOST if set, else Docker's or a podman socket."""
    if engine == "docker" or os.environ.get("DOCKER_HOST"):
        client = _client(None)
        try:
            yield client
        finally:
            client.close()
        return
    with podman_service() as url:
        client = _client(url)
        try:
            yield client
        finally:
            client.close()


def run_container(
    client: Any, image: str, host_port: int, environment: dict[str, str], name: str
) -> Any:
    """Start `image` detached, its port 8000 published on 127.0.0.1:`host_port`."""
    return client.containers.run(
        image,
        detach=True,
        name=name,
        environment=environment,
        ports={f"{CONTAINER_PORT}/tcp": ("127.0.0.1", host_port)},
    )


def logs_tail(container: Any, lines: int = 20) -> str:
    """The container's last output lines (for error messages)."""
    try:
        return str(container.logs(tail=lines).decode(errors="replace"))
    except Exception as err:  # the logs only decorate another error
        return f"(no logs: {err})"


def wait_container_ready(container: Any, url: str, timeout: float = 60.0) -> float:
    """Poll `url`/ready until 200; fail fast when the container exits. Returns the seconds taken."""

    def died() -> str | None:
        container.reload()
        if container.status in {"exited", "dead"}:
            return "exited before it was ready"
        return None

    try:
        return poll_until(f"{url}/ready", timeout=timeout, died=died)
    except NotReadyError as err:
        raise ContainerEngineError(f"the container {err}:\n{logs_tail(container)}") from err


def run_beside(client: Any, container: Any, command: Sequence[str]) -> tuple[int, str]:
    """Run `command` in a throwaway container of the same image, user and network namespace.

    Checks such as the HEALTHCHECK see the service at 127.0.0.1 as the engine's
    own health probe does. A sidecar rather than `exec`: podman keeps the
    monitor process of an API exec session alive for minutes after it ended.
    """
    import docker.errors

    try:
        output = client.containers.run(
            container.image.id,
            list(command[1:]),
            entrypoint=[command[0]],  # as a HEALTHCHECK runs: not through the image's entry point
            network_mode=f"container:{container.id}",
            remove=True,
        )
    except docker.errors.ContainerError as err:
        return int(err.exit_status), str(err.stderr or b"", errors="replace")
    return 0, bytes(output).decode(errors="replace")


def stop_container(container: Any, timeout: int = 30) -> int:
    """SIGTERM (the service drains in-flight requests), SIGKILL after `timeout`; exit code."""
    container.stop(timeout=timeout)
    return int(container.wait(timeout=timeout + 10).get("StatusCode", -1))


def remove_container(container: Any) -> None:
    """Remove a container, stopping it hard first if it still runs."""
    with contextlib.suppress(Exception):  # best effort in a cleanup path
        container.remove(force=True)
