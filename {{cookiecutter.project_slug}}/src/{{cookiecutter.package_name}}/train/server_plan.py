"""What the team's tracking server runs, worked out from the settings (pure, unit-tested).

One MLflow tracking server for the team: runs, metrics and the model registry in
PostgreSQL (a local cluster started by `tracking-server`, or any database given
by `MLOPS_TRACKING_BACKEND_URI`, e.g. Amazon RDS), artifacts uploaded through
the server (`--serve-artifacts`) into a local folder or an `s3://` bucket, so
clients need no storage credentials. MLflow's login (`basic-auth`) guards it:
the admin's password and the database's password have no default and never
appear on a command line or in a file (they travel in environment variables).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import TrackingServerError

MIN_PASSWORD_CHARS = 12  # MLflow's own minimum for the admin password
DATABASE = "mlflow"
DB_USER = "mlflow"
AUTH_CACHE_SECONDS = 60  # how long a server worker trusts a password it verified
DRIVER_SCHEME = "postgresql+psycopg2"
_URI = re.compile(
    r"(?P<scheme>[\w+]+)://(?:(?P<user>[^:@/]*)(?::(?P<password>[^@/]*))?@)?(?P<rest>.+)"
)


@dataclass(frozen=True)
class ServerPlan:
    """The processes and files of one tracking server."""

    command: list[str]
    env: dict[str, str]
    url: str
    backend_uri: str  # without any password
    artifacts: str
    auth_ini: str
    local_postgres: bool
    notes: list[str] = field(default_factory=list)


def backend_uri(given: str, db_port: int) -> str:
    """The SQLAlchemy URI of the store, with the psycopg2 driver and no password in it.

    Raises:
        TrackingServerError: the URI is not PostgreSQL, or carries a password.
    """
    if not given:
        return f"{DRIVER_SCHEME}://{DB_USER}@127.0.0.1:{db_port}/{DATABASE}"
    match = _URI.fullmatch(given)
    if match is None or match["scheme"] not in {"postgresql", "postgres", DRIVER_SCHEME}:
        raise TrackingServerError(
            "MLOPS_TRACKING_BACKEND_URI must be a PostgreSQL URI "
            f"(postgresql://user@host:5432/db), got {given.rsplit('@', maxsplit=1)[-1]!r}"
        )
    if match["password"] is not None:
        raise TrackingServerError(
            "MLOPS_TRACKING_BACKEND_URI holds a password: remove it from the URI and set "
            "MLOPS_TRACKING_DB_PASSWORD instead (kept out of command lines and files)"
        )
    return DRIVER_SCHEME + given[len(match["scheme"]) :]


def allowed_hosts(host: str, port: int, extra: str) -> str:
    """Host headers the server answers (DNS-rebinding protection): loopback plus `extra`."""
    names = [f"localhost:{port}", f"127.0.0.1:{port}"]
    if host not in {"127.0.0.1", "localhost", "0.0.0.0", "::", ""}:
        names.append(f"{host}:{port}")
    names += [name.strip() for name in extra.split(",") if name.strip()]
    return ",".join(dict.fromkeys(names))


def artifacts_destination(given: str, tracking_dir: Path, project_dir: Path) -> str:
    """Where the server stores artifacts: s3://… as given, else a local folder."""
    if given.startswith("s3://"):
        if not re.fullmatch(r"s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?", given):
            raise TrackingServerError(f"MLOPS_TRACKING_ARTIFACTS is not an S3 URI: {given!r}")
        return given.rstrip("/")
    if "://" in given:
        raise TrackingServerError(
            f"MLOPS_TRACKING_ARTIFACTS must be a folder or an s3:// URI, got {given!r}"
        )
    folder = Path(given) if given else tracking_dir / "artifacts"
    return str(folder if folder.is_absolute() else project_dir / folder)


def auth_ini(database_uri: str, admin_username: str) -> str:
    """MLflow's basic-auth configuration: users live in the same database as the runs.

    Every signed-in user may read and write (a team); only the admin manages users.
    No password is written here: MLflow reads the admin's from MLFLOW_AUTH_ADMIN_PASSWORD
    on first start, libpq the database's from PGPASSWORD.

    MLflow checks the password of every request against its scrypt hash, ~0.1-0.2 s
    of server CPU each, and one training sends a few hundred requests (measured: the
    server spent more CPU than the trainings it served). A verified password is
    therefore remembered for AUTH_CACHE_SECONDS, per server worker: a changed or
    deleted password stops working at once on the worker that changed it and within
    that time on the others. Wrong passwords are never cached.
    """
    return (
        "[mlflow]\n"
        "default_permission = EDIT\n"
        f"database_uri = {database_uri}\n"
        f"admin_username = {admin_username}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        f"auth_cache_ttl_seconds = {AUTH_CACHE_SECONDS}\n"
    )


def _password(value: str | None, variable: str, why: str, minimum: int = 1) -> str:
    if not value:
        raise TrackingServerError(
            f"{variable} is not set: {why}. There is no default password; set one, e.g. "
            f'export {variable}="$(openssl rand -base64 18)"'
        )
    if len(value) < minimum:
        raise TrackingServerError(f"{variable} must have at least {minimum} characters")
    return value


def plan_server(
    *,
    python: str,
    project_dir: Path,
    tracking_dir: Path,
    host: str,
    port: int,
    workers: int,
    extra_allowed_hosts: str,
    artifacts: str,
    given_backend_uri: str,
    db_port: int,
    db_password: str | None,
    admin_username: str,
    admin_password: str | None,
    secret_key: str,
    environ: Mapping[str, str],
) -> ServerPlan:
    """Check the settings and work out the server's command line, environment and URL."""
    admin = _password(
        admin_password,
        "MLOPS_TRACKING_ADMIN_PASSWORD",
        f"it is the password of the server's admin user {admin_username!r}",
        MIN_PASSWORD_CHARS,
    )
    database = _password(
        db_password,
        "MLOPS_TRACKING_DB_PASSWORD",
        "it is the password of the database role the server logs in as",
    )
    uri = backend_uri(given_backend_uri, db_port)
    destination = artifacts_destination(artifacts, tracking_dir, project_dir)
    hosts = allowed_hosts(host, port, extra_allowed_hosts)
    command = [
        python, "-m", "mlflow", "server",
        "--backend-store-uri", uri,
        "--serve-artifacts",
        "--artifacts-destination", destination,
        "--host", host,
        "--port", str(port),
        "--workers", str(workers),
        "--allowed-hosts", hosts,
        "--app-name", "basic-auth",
    ]  # fmt: skip
    ini_path = tracking_dir / "basic_auth.ini"
    env = dict(environ)
    env.update(
        PGPASSWORD=database,
        MLFLOW_AUTH_CONFIG_PATH=str(ini_path),
        MLFLOW_AUTH_ADMIN_PASSWORD=admin,
        MLFLOW_FLASK_SERVER_SECRET_KEY=secret_key,
        MLFLOW_DISABLE_TELEMETRY="true",
    )
    # MLflow 3's server also starts a job system for its GenAI features (trace rollups,
    # online scoring): eight more processes that each load MLflow (measured: 75 s of
    # CPU between them while the server served three trainings) and that nothing in
    # this project uses. Off, unless the environment turns it on.
    env.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        env.pop(name, None)  # the server's own settings, not a client's
    shown = "localhost" if host in {"0.0.0.0", "::", ""} else host
    notes = []
    if host in {"0.0.0.0", "::"} and not extra_allowed_hosts:
        notes.append(
            "listening on every interface but answering only Host headers "
            f"{hosts}: set MLOPS_TRACKING_ALLOWED_HOSTS to the name clients use"
        )
    return ServerPlan(
        command=command,
        env=env,
        url=f"http://{shown}:{port}",
        backend_uri=uri,
        artifacts=destination,
        auth_ini=auth_ini(uri, admin_username),
        local_postgres=not given_backend_uri,
        notes=notes,
    )
