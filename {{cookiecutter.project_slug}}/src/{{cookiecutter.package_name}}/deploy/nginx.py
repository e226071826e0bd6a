"""A private nginx on 127.0.0.1: production and test routes, switched by graceful reload.

`render_config` is pure: ports and weights in, nginx.conf out. `Nginx` runs the
real binary with its own prefix, config, pid and logs (no root, no system
config): start, reload (old workers finish their requests, new ones take new
connections, so a switch drops nothing), wait until the old workers are gone,
and quit.

A switch is atomic: the new configuration is written as a candidate file and
checked with `nginx -t -c <candidate>`; only a configuration nginx accepts
replaces the live one, so a rejected candidate leaves nginx serving exactly as
before. A dead nginx (its master killed) is started again; workers it
orphaned, which keep the ports, are found by the files they hold open under
this prefix and stopped first.

Retries: a request is passed to the other colour only when nginx could not
connect (`error`, `timeout`: the request never reached a service, so even a
POST is safe to resend) or for 502/503 answers to idempotent methods; nginx
never resends a POST that a service may have received.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from ..errors import DeployError

WORKER_PROCESSES = 1
TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


class NginxError(DeployError):
    """nginx is missing, rejected its configuration or would not start."""


def _block(head: str, body: list[str]) -> list[str]:
    """`head { body }`, indented (no f-string braces: this file is also a template)."""
    return [head + " {", *("    " + line for line in body), "}"]


def _upstream(name: str, servers: Mapping[int, int]) -> list[str]:
    lines = [f"server 127.0.0.1:{port} weight={share};" for port, share in servers.items()]
    return _block(f"upstream {name}", [*lines, "keepalive 16;"])


def _server(port: int, upstream: str | None) -> list[str]:
    target = f"proxy_pass http://{upstream};" if upstream else "return 503;"
    location = _block("location /", [target, "add_header X-Colour $colour always;"])
    return _block("server", [f"listen 127.0.0.1:{port};", *location])


HTTP_SETTINGS = """\
log_format release '$time_iso8601 $status $request_method $uri '
                   '$upstream_addr $upstream_status $request_time';
# No client keep-alive: on reload, old workers close idle keep-alive connections at
# once, and a client sending on one at that instant gets a reset that it never
# retries for a POST. One request per connection makes every switch lossless.
keepalive_timeout 0;
# Bodies and answers stay in memory: no temp files, which workers running as
# another user (nginx started by root) could not write in a private folder.
client_max_body_size 4m;
client_body_buffer_size 4m;
proxy_max_temp_file_size 0;
proxy_http_version 1.1;
proxy_set_header Connection "";
proxy_set_header Host $host;
proxy_connect_timeout 2s;
proxy_read_timeout 60s;
proxy_next_upstream error timeout http_502 http_503;
proxy_next_upstream_tries 3;
proxy_next_upstream_timeout 10s;"""


def render_config(
    prefix: Path,
    *,
    production_port: int,
    test_port: int,
    production: Mapping[int, int],
    test: int | None,
    colours: Mapping[int, str],
) -> str:
    """nginx.conf: `production` maps service port -> weight (empty: 503); `test` is one port."""
    mapping = ['default "-";'] + [f'"127.0.0.1:{port}" {name};' for port, name in colours.items()]
    http = [
        *HTTP_SETTINGS.splitlines(),
        f"access_log {prefix}/logs/access.log release buffer=32k flush=1s;",
        *(f"{kind}_temp_path {prefix}/temp/{kind};" for kind in TEMP_DIRS),
        *_block("map $upstream_addr $colour", mapping),
        *(_upstream("production", production) if production else []),
        *(_upstream("test", {test: 1}) if test is not None else []),
        *_server(production_port, "production" if production else None),
        *_server(test_port, "test" if test is not None else None),
    ]
    lines = [
        "# Written by `deploy --platform local` on every switch: edits are overwritten.",
        f"worker_processes {WORKER_PROCESSES};",
        "worker_shutdown_timeout 60s;",
        f"pid {prefix}/nginx.pid;",
        f"error_log {prefix}/logs/error.log warn;",
        *_block("events", ["worker_connections 1024;"]),
        *_block("http", http),
    ]
    return "\n".join(lines) + "\n"


def find_binary(name: str) -> str:
    """Path of the nginx binary (Debian keeps it in /usr/sbin, often not on PATH)."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin:/sbin")
    if found is None:
        raise NginxError(
            f"nginx not found ({name!r}): install it (Debian/Ubuntu: apt-get install nginx; "
            "macOS: brew install nginx) or set local.nginx in config/deploy.yaml"
        )
    return found


def _children(pid: int) -> list[tuple[int, str]]:
    """(pid, title) of the processes whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
        if fields.get("PPid", "").strip() == str(pid) and fields.get("State", "")[:1] != "Z":
            found.append((int(entry.name), title))
    return found


class Nginx:
    """One nginx master with its own prefix; every path lives under `prefix`."""

    def __init__(self, prefix: Path, binary: str) -> None:
        """Nothing starts until `apply`; the binary is looked up when first run.

        Asking whether nginx runs (`master_pid`, `deploy status`) reads the pid
        file only, so it works on a machine without nginx.
        """
        self.prefix = prefix.resolve()
        self._binary_name = binary
        self._binary: str | None = None
        self.conf = self.prefix / "nginx.conf"
        self.pid_file = self.prefix / "nginx.pid"

    @property
    def binary(self) -> str:
        """The nginx program's path (NginxError, naming how to install it, if absent)."""
        if self._binary is None:
            self._binary = find_binary(self._binary_name)
        return self._binary

    def _run(self, *args: str, conf: Path | None = None) -> subprocess.CompletedProcess[str]:
        command = [self.binary, "-p", f"{self.prefix}/", "-c", str(conf or self.conf)]
        command += ["-e", str(self.prefix / "logs" / "error.log"), *args]
        return subprocess.run(command, capture_output=True, text=True, check=False, timeout=30)

    def check(self, text: str) -> Path:
        """Write `text` as a candidate file and have nginx test it; returns the candidate.

        Raises:
            NginxError: nginx rejects it (the candidate is removed, the live file untouched).
        """
        for sub in ("logs", "temp"):
            (self.prefix / sub).mkdir(parents=True, exist_ok=True)
        candidate = self.conf.with_name("nginx.conf.candidate")
        candidate.write_text(text, encoding="utf-8")
        result = self._run("-t", "-q", conf=candidate)
        if result.returncode != 0:
            candidate.unlink(missing_ok=True)
            raise NginxError(
                f"nginx rejected the new configuration, the live one is unchanged: "
                f"{result.stderr.strip()}"
            )
        return candidate

    def orphans(self) -> list[int]:
        """Workers of a killed master that still hold this prefix's files (and its ports)."""
        logs = f"{self.prefix}/logs/"
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                title = (entry / "cmdline").read_bytes()
                if not title.startswith(b"nginx: worker") and not title.startswith(b"nginx: cache"):
                    continue
                targets = [os.readlink(fd) for fd in (entry / "fd").iterdir()]
            except OSError:
                continue
            if any(target.startswith(logs) for target in targets):
                found.append(int(entry.name))
        return found

    def master_pid(self) -> int | None:
        """The running master's pid, or None."""
        try:
            pid = int(self.pid_file.read_text().strip())
            title = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except (OSError, ValueError):
            return None
        return pid if title.startswith("nginx: master") else None

    def workers(self) -> list[tuple[int, str]]:
        """The master's worker processes and their titles."""
        pid = self.master_pid()
        return _children(pid) if pid else []

    def apply(self, text: str) -> float:
        """Install `text` as the configuration: start nginx, or reload it; seconds taken.

        Raises:
            NginxError: the candidate is rejected (nothing changed), or nginx would not
                start or reload.
        """
        started = time.perf_counter()
        candidate = self.check(text)
        os.replace(candidate, self.conf)
        before = {pid for pid, _ in self.workers()}
        if self.master_pid() is None:
            self._start()
        else:
            result = self._run("-s", "reload")
            if result.returncode != 0:
                raise NginxError(f"nginx reload failed: {result.stderr.strip()}")
        # The switch is done when no worker of an older configuration accepts connections:
        # those left only finish their in-flight requests ("is shutting down").
        self._wait(lambda: self._switched(before))
        return time.perf_counter() - started

    def _start(self) -> None:
        """Start a master, after stopping workers a killed one left holding the ports."""
        for pid in self.orphans():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._wait(lambda: not self.orphans(), 5.0)
        result = self._run()
        if result.returncode != 0 or not self._wait(lambda: self.master_pid() is not None):
            raise NginxError(f"nginx did not start: {result.stderr.strip()}")

    def _switched(self, before: set[int]) -> bool:
        workers = self.workers()
        fresh = [pid for pid, _ in workers if pid not in before]
        stale = [title for pid, title in workers if pid in before]
        return bool(fresh) and all("shutting down" in title for title in stale)

    def wait_settled(self, timeout: float = 60.0) -> bool:
        """Wait until workers of older configurations have finished their requests and exited."""
        return self._wait(lambda: len(self.workers()) <= WORKER_PROCESSES, timeout)

    def stop(self, timeout: float = 30.0) -> None:
        """Graceful quit (in-flight requests finish), SIGKILL if it hangs."""
        pid = self.master_pid()
        if pid is None:
            return
        self._run("-s", "quit")
        if not self._wait(lambda: self.master_pid() is None, timeout):
            for worker, _ in self.workers():
                os.kill(worker, signal.SIGKILL)
            os.kill(pid, signal.SIGKILL)
            self._wait(lambda: self.master_pid() is None, 5.0)
        self.pid_file.unlink(missing_ok=True)

    @staticmethod
    def _wait(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(0.02)
        return False
