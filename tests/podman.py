"""Real container parts for the image tests: podman, a local base image, a registry.

Where Docker Hub answers (GitHub's runners), the base image the generated
Dockerfile starts FROM is pulled: the real one. Where no registry is reachable
(a sandboxed CI machine), it is built here with debootstrap (Debian bookworm
with its Python 3.11, the host's CA bundle for the TLS-intercepting proxy in
front of PyPI; needs root) and tagged with the official image's name. It is
built once and cached as an archive under ~/.cache/cookiecutter-mlops, so later
runs load it in seconds. Every process started here is stopped by the object
that started it.

    uv run python -m tests.podman   # the base image, ahead of the tests that build FROM it
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .helpers import answers_ok, free_port, log_tail, process_alive, run, stop, wait_until

BASE_IMAGE = "docker.io/library/python:3.11-slim-bookworm"
REGISTRY_PROBE = "https://registry-1.docker.io/v2/"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
DEBIAN_MIRROR = os.environ.get("DEBIAN_MIRROR", "http://deb.debian.org/debian")
# Bump when the recipe below changes: the cached archive's name includes it.
BASE_RECIPE = "bookworm-minbase-python3-v1"
BASE_PACKAGES = "python3,python3-venv,ca-certificates"
# runc (crun is not in Debian's podman here) and explicit ulimits: podman's
# defaults fail in this sandbox. Both ulimits, always, if any is set.
CONTAINERS_CONF = """\
[engine]
runtime = "runc"

[containers]
default_ulimits = ["nofile=16384:16384", "nproc=16384:16384"]
"""
# What a base image leaves out: package caches, docs, man pages, translations.
TRIM = (
    "var/cache/apt/archives",
    "var/lib/apt/lists",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/locale",
    "var/log",
)


def cache_dir() -> Path:
    """Where the base image archive lives between runs (XDG cache)."""
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "cookiecutter-mlops"


def podman_env(folder: Path) -> dict[str, str]:
    """The environment podman commands need here: CONTAINERS_CONF with runc and ulimits."""
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "containers.conf"
    conf.write_text(CONTAINERS_CONF)
    env = dict(os.environ)
    env["CONTAINERS_CONF"] = str(conf)
    env.pop("DOCKER_HOST", None)
    return env


def engine_problem(env: dict[str, str]) -> str | None:
    """Why podman cannot work here, or None when `podman info` answers."""
    if shutil.which("podman") is None:
        return "podman is not installed (.ci/run installs podman, buildah, skopeo, runc)"
    result = subprocess.run(
        ["podman", "info"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode != 0:
        return f"`podman info` failed: {result.stderr.strip()[-500:]}"
    return None


def image_exists(name: str, env: dict[str, str]) -> bool:
    """True when local storage holds `name`."""
    result = subprocess.run(["podman", "image", "exists", name], env=env, check=False)
    return result.returncode == 0


def registry_reachable(timeout: float = 5) -> bool:
    """True when Docker Hub's registry answers (401 without a token is an answer)."""
    try:
        with urllib.request.urlopen(REGISTRY_PROBE, timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:  # refused, unreachable, timed out, or a proxy that refuses the host
        return False


def base_archive() -> Path:
    """The cached base archive; its name changes with the recipe and the host's CA bundle."""
    ca = hashlib.sha256(HOST_CA_BUNDLE.read_bytes()).hexdigest()[:12]
    return cache_dir() / f"python-3.11-slim-bookworm-{BASE_RECIPE}-{ca}.docker.tar"


def build_base_rootfs(rootfs: Path, env: dict[str, str]) -> None:
    """Debian bookworm (minbase) with python3 + venv, trimmed, trusting the host's CA bundle.

    The second debootstrap stage runs with dpkg's unsafe-io (no fsync per file):
    about half the time of a plain debootstrap, and the result is only archived.
    """
    if shutil.which("debootstrap") is None:
        raise RuntimeError("debootstrap is not installed (apt-get install debootstrap)")
    run(
        [
            "debootstrap",
            "--foreign",
            "--variant=minbase",
            f"--include={BASE_PACKAGES}",
            "bookworm",
            str(rootfs),
            DEBIAN_MIRROR,
        ],
        env=env,
    )
    unsafe_io = rootfs / "etc/dpkg/dpkg.cfg.d/unsafe-io"
    unsafe_io.parent.mkdir(parents=True, exist_ok=True)
    unsafe_io.write_text("force-unsafe-io\n")
    run(["chroot", str(rootfs), "/debootstrap/debootstrap", "--second-stage"], env=env)
    unsafe_io.unlink()
    shutil.copyfile(HOST_CA_BUNDLE, rootfs / "etc/ssl/certs/ca-certificates.crt")
    for relative in TRIM:
        folder = rootfs / relative
        if folder.is_dir():
            for child in folder.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()


def import_rootfs(rootfs: Path, env: dict[str, str]) -> None:
    """`podman import` the folder as BASE_IMAGE, configured like the official image."""
    with tempfile.TemporaryDirectory(prefix="base-tar-") as folder:
        tarball = Path(folder) / "rootfs.tar"
        run(["tar", "-C", str(rootfs), "-cf", str(tarball), "."], env=env)
        run(
            [
                "podman",
                "import",
                "--change",
                "ENV LANG=C.UTF-8",
                "--change",
                'CMD ["python3"]',
                str(tarball),
                BASE_IMAGE,
            ],
            env=env,
        )


@dataclass(frozen=True)
class BaseImage:
    """How the base image became available, and how long that took."""

    name: str
    how: str  # present | pulled | loaded | built
    seconds: float


def ensure_base_image(env: dict[str, str], work: Path) -> BaseImage:
    """BASE_IMAGE in local storage: there, pulled, loaded from the cache, or built (once).

    A lock file serialises concurrent test runs, so the slow build happens once.
    """
    started = time.perf_counter()
    archive = base_archive()
    archive.parent.mkdir(parents=True, exist_ok=True)
    with (archive.parent / "base.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if image_exists(BASE_IMAGE, env):
            how = "present"
        elif registry_reachable():
            run(["podman", "pull", "--quiet", BASE_IMAGE], env=env, timeout=600)
            how = "pulled"
        elif archive.is_file():
            run(["podman", "load", "--input", str(archive)], env=env)
            how = "loaded"
        else:
            rootfs = work / "base-rootfs"
            try:
                build_base_rootfs(rootfs, env)
                import_rootfs(rootfs, env)
            finally:
                shutil.rmtree(rootfs, ignore_errors=True)
            partial = archive.with_suffix(".partial")
            run(
                ["podman", "save", "--format", "docker-archive", "-o", str(partial), BASE_IMAGE],
                env=env,
            )
            partial.replace(archive)
            how = "built"
    return BaseImage(BASE_IMAGE, how, time.perf_counter() - started)


@contextlib.contextmanager
def podman_api(env: dict[str, str], folder: Path) -> Iterator[str]:
    """podman's Docker-compatible API on a unix socket (DOCKER_HOST value), stopped on exit."""
    folder.mkdir(parents=True, exist_ok=True)
    socket_path = folder / "podman.sock"
    log = folder / "podman-service.log"
    url = f"unix://{socket_path}"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            ["podman", "system", "service", "--time=0", url],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(
            socket_path.exists,
            "podman system service",
            alive=process_alive(process),
            logs=log_tail(log),
        )
        yield url
    finally:
        stop(process)


@contextlib.contextmanager
def local_registry(folder: Path) -> Iterator[str]:
    """Debian's docker-registry on 127.0.0.1:<free port>, own config and storage; host:port."""
    binary = shutil.which("docker-registry")
    if binary is None:
        raise RuntimeError("docker-registry is not installed (apt-get install docker-registry)")
    folder.mkdir(parents=True, exist_ok=True)
    address = f"127.0.0.1:{free_port()}"
    config = folder / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: warn\n"
        f"storage:\n  filesystem:\n    rootdirectory: {folder / 'storage'}\n"
        "  delete:\n    enabled: true\n"
        f"http:\n  addr: {address}\n"
    )
    log = folder / "registry.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [binary, "serve", str(config)], stdout=handle, stderr=subprocess.STDOUT
        )
    try:
        wait_until(
            lambda: answers_ok(f"http://{address}/v2/"),
            "docker-registry",
            alive=process_alive(process),
            logs=log_tail(log),
        )
        yield address
    finally:
        stop(process)


def main() -> int:
    """Make the base image available now (`make test` does it beside the `alone` tests).

    On a clean machine, building it takes a minute of CPU that no test has to wait
    for when it is done while the `alone` tests leave a core idle. A failure here
    fails nothing: the tests that need the image try again and say why.
    """
    with tempfile.TemporaryDirectory(prefix="base-image-") as folder:
        env = podman_env(Path(folder))
        if (problem := engine_problem(env)) is not None:
            print(f"base image: not prepared, no container engine ({problem})")
            return 0
        try:
            base = ensure_base_image(env, Path(folder))
        except (AssertionError, OSError, RuntimeError, subprocess.SubprocessError) as err:
            print(f"base image: not prepared ({err}); the image tests will try again")
            return 0
    print(f"base image {base.name}: {base.how} in {base.seconds:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
