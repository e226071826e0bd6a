"""`tracking-server`: start the team's MLflow tracking server (and its PostgreSQL), stop both.

Without `MLOPS_TRACKING_BACKEND_URI` a private PostgreSQL cluster lives in
`MLOPS_TRACKING_DIR/postgres` (created on first start with the role `mlflow`
and the password `MLOPS_TRACKING_DB_PASSWORD`) and listens on 127.0.0.1 only.
PostgreSQL refuses to run as root: started by root, its commands run as the
`postgres` user (Debian's package creates it). With the setting, the server uses
that database instead (Amazon RDS, Cloud SQL, a shared server) and starts none.
The command runs in the foreground; Ctrl-C or SIGTERM stops the server and the
cluster it started.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import FrameType

from ..errors import TrackingServerError
from ..settings import Settings
from .server_plan import DATABASE, DB_USER, ServerPlan, plan_server

READY_TIMEOUT_S = 180
PG_GLOB = "/usr/lib/postgresql/*/bin"  # Debian/Ubuntu keep the server binaries here


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if getter else None


def plan_from_settings(settings: Settings) -> ServerPlan:
    """The server's plan from MLOPS_TRACKING_* (see server_plan.plan_server)."""
    return plan_server(
        python=sys.executable,
        project_dir=settings.project_dir,
        tracking_dir=settings.tracking_dir,
        host=settings.tracking_host,
        port=settings.tracking_port,
        workers=settings.tracking_workers,
        extra_allowed_hosts=settings.tracking_allowed_hosts,
        artifacts=settings.tracking_artifacts,
        given_backend_uri=settings.tracking_backend_uri,
        db_port=settings.tracking_db_port,
        db_password=_secret(settings.tracking_db_password),
        admin_username=settings.tracking_admin_username,
        admin_password=_secret(settings.tracking_admin_password),
        secret_key=secrets.token_hex(32),
        environ=os.environ,
    )


# ---------------------------------------------------------------- PostgreSQL


def postgres_bin(name: str) -> str:
    """A PostgreSQL server program: Debian's versioned folder (newest), else PATH."""
    for folder in sorted(glob.glob(PG_GLOB), key=lambda p: int(Path(p).parent.name), reverse=True):
        if (Path(folder) / name).is_file():
            return str(Path(folder) / name)
    found = shutil.which(name)
    if found:
        return found
    raise TrackingServerError(
        f"PostgreSQL's {name} was not found: install PostgreSQL (Debian/Ubuntu: "
        "`apt-get install postgresql`; macOS: `brew install postgresql`), or point "
        "MLOPS_TRACKING_BACKEND_URI at an existing database"
    )


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the `postgres` user."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def _run(command: list[str], what: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise TrackingServerError(f"{what} failed: {' / '.join(detail)}")
    return result


def _hand_to_postgres(folder: Path) -> None:
    """As root, make `folder` the postgres user's and check that user can reach it."""
    if os.geteuid() != 0:
        return
    shutil.chown(folder, user="postgres", group="postgres")
    probe = subprocess.run(_as_postgres(["test", "-w", str(folder)]), check=False)
    if probe.returncode != 0:
        raise TrackingServerError(
            f"PostgreSQL runs as the postgres user, which cannot reach {folder} (a parent "
            "folder is private): set MLOPS_TRACKING_DIR to a folder it can reach, e.g. "
            "/var/lib/mlflow-tracking"
        )


class LocalPostgres:
    """A private cluster in `<tracking dir>/postgres`, on 127.0.0.1 only."""

    def __init__(self, tracking_dir: Path, port: int, password: str) -> None:
        """Nothing starts until `start`."""
        self.home = tracking_dir / "postgres"
        self.data = self.home / "data"
        self.log = self.home / "postgres.log"
        self.port = port
        self._password = password

    def _initdb(self) -> None:
        pwfile = self.home / ".initdb-password"
        pwfile.write_text(self._password, encoding="utf-8")
        pwfile.chmod(0o600)
        try:
            if os.geteuid() == 0:
                shutil.chown(pwfile, user="postgres", group="postgres")
            _run(
                _as_postgres(
                    [
                        postgres_bin("initdb"),
                        "--pgdata",
                        str(self.data),
                        "--username",
                        DB_USER,
                        "--auth",
                        "scram-sha-256",
                        "--pwfile",
                        str(pwfile),
                        "--encoding",
                        "UTF8",
                    ]
                ),
                "initdb (creating the PostgreSQL cluster)",
            )
        finally:
            pwfile.unlink(missing_ok=True)

    def start(self) -> None:
        """Create the cluster on first use, start it, create the database if absent."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.home.chmod(0o700)
        _hand_to_postgres(self.home)
        if not (self.data / "PG_VERSION").is_file():
            print(f"tracking-server: creating a PostgreSQL cluster in {self.data}")
            self._initdb()
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories="
        _run(
            _as_postgres(
                [
                    postgres_bin("pg_ctl"),
                    "--pgdata",
                    str(self.data),
                    "--log",
                    str(self.log),
                    "--options",
                    options,
                    "--wait",
                    "--timeout",
                    "60",
                    "start",
                ]
            ),
            f"starting PostgreSQL on 127.0.0.1:{self.port} (log: {self.log})",
        )
        self._create_database()

    def _create_database(self) -> None:
        import psycopg2

        try:
            connection = psycopg2.connect(
                host="127.0.0.1",
                port=self.port,
                user=DB_USER,
                password=self._password,
                dbname="postgres",
                connect_timeout=10,
            )
        except psycopg2.OperationalError as err:
            self.stop()
            raise TrackingServerError(
                f"cannot log in to the PostgreSQL cluster in {self.data} as {DB_USER!r}: "
                f"{str(err).strip()}. It was created with another MLOPS_TRACKING_DB_PASSWORD: "
                "set that one"
            ) from err
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
                if cursor.fetchone() is None:
                    cursor.execute(f"CREATE DATABASE {DATABASE}")
        finally:
            connection.close()

    def stop(self) -> None:
        """Fast shutdown (open sessions are ended); a stopped cluster is left alone."""
        subprocess.run(
            _as_postgres(
                [postgres_bin("pg_ctl"), "--pgdata", str(self.data), "--mode", "fast", "stop"]
            ),
            capture_output=True,
            check=False,
        )


# ---------------------------------------------------------------- the server


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def wait_until_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    """Poll /health until it answers; fail with the log's tail if the server exits or hangs."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-5:]
            raise TrackingServerError(
                f"the MLflow server exited ({process.returncode}): " + " / ".join(tail)
            )
        if _answers(url):
            return
        time.sleep(0.5)
    raise TrackingServerError(f"the MLflow server did not answer {url}/health in time: see {log}")


def run_tracking_server(settings: Settings) -> int:
    """Start PostgreSQL (unless an external database is set) and the server; wait; stop both."""
    plan = plan_from_settings(settings)
    tracking_dir = settings.tracking_dir
    tracking_dir.mkdir(parents=True, exist_ok=True)
    ini = tracking_dir / "basic_auth.ini"
    ini.write_text(plan.auth_ini, encoding="utf-8")
    ini.chmod(0o600)
    if not plan.artifacts.startswith("s3://"):
        Path(plan.artifacts).mkdir(parents=True, exist_ok=True)
    postgres = None
    if plan.local_postgres:
        postgres = LocalPostgres(tracking_dir, settings.tracking_db_port, plan.env["PGPASSWORD"])
        postgres.start()
    log = tracking_dir / "server.log"
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        if process.poll() is None:
            process.terminate()

    with log.open("ab") as out:
        process = subprocess.Popen(plan.command, env=plan.env, stdout=out, stderr=out)
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        wait_until_ready(process, plan.url, log)
        print(f"tracking-server: MLflow at {plan.url} (log: {log})")
        print(f"  store: {plan.backend_uri}; artifacts: {plan.artifacts} (served by the server)")
        for note in plan.notes:
            print(f"  note: {note}")
        print(
            f"  clients: MLFLOW_TRACKING_URI={plan.url} MLFLOW_TRACKING_USERNAME=... "
            "MLFLOW_TRACKING_PASSWORD=... make train"
        )
        sys.stdout.flush()
        code = process.wait()
        return 0 if stopping else code
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if postgres is not None:
            postgres.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        print("tracking-server: stopped")
