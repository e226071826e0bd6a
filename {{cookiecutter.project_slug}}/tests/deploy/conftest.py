"""Blue/green test helpers: a client load that records every answer, versioned model folders."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from {{ cookiecutter.package_name }}.serving.payloads import sample_rows

from ..conftest import SAMPLE, build_model_dir, contract

ROWS = sample_rows(SAMPLE, contract(), 50, seed=3)


@dataclass
class Answer:
    at: float
    status: int
    colour: str
    version: str | None


@dataclass
class ClientLoad:
    """Threads sending predictions to production over keep-alive connections, like real clients."""

    port: int
    threads: int = 4
    pause: float = 0.005
    answers: list[Answer] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _client(self, index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        i = index
        while not self._stop.is_set():
            i += 1
            batch = i % 2 == 0
            path = "/predict/batch" if batch else "/predict"
            row = ROWS[i % len(ROWS)]
            body = json.dumps({"rows": [row]} if batch else row)
            started = time.monotonic()
            try:
                connection.request("POST", path, body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as err:
                self.failures.append(f"{path}: {type(err).__name__}: {err}")
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                continue
            version = (
                json.loads(payload).get("model_version")
                if batch and response.status == 200
                else None
            )
            self.answers.append(
                Answer(started, response.status, response.getheader("X-Colour", "-"), version)
            )
            if response.status != 200:
                self.failures.append(f"{path}: HTTP {response.status}: {payload[:200]!r}")
            time.sleep(self.pause)
        connection.close()

    @contextmanager
    def running(self) -> Iterator[ClientLoad]:
        workers = [
            threading.Thread(target=self._client, args=(n,), daemon=True)
            for n in range(self.threads)
        ]
        for worker in workers:
            worker.start()
        try:
            yield self
        finally:
            self._stop.set()
            for worker in workers:
                worker.join(timeout=60)

    def versions(self) -> list[tuple[float, str]]:
        return [(a.at, a.version) for a in self.answers if a.version is not None]


def model_version_dir(root: Path, version: str) -> Path:
    """A real small model whose metadata says `version` (what /version reports)."""
    return build_model_dir(
        root / f"model-{version}", rows=1500 + 100 * int(version), version=version
    )
