"""ASGI guards in front of the routes: requests in flight, body checks, the version header.

Middlewares rather than route code, so they also protect routes added later.
Order (outermost first, see `app.create_app`): metrics, in-flight cap, version
header, body guard, routing.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from .metrics import ASGIApp, Message, Receive, Scope, Send

RETRY_AFTER_SECONDS = 1


async def _reply(
    send: Send, status: int, detail: str, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send(
        {"type": "http.response.start", "status": status, "headers": headers + (extra or [])}
    )
    await send({"type": "http.response.body", "body": body})


class InFlightLimit:
    """503 with Retry-After beyond `limit` requests at once: a burst is shed, never queued.

    A prediction holds memory (its body, parsed rows, the answer) until it is
    answered; capping how many are served at once caps that memory, so a burst
    costs its excess a fast 503 instead of costing the process an out-of-memory
    kill. Only the prediction routes (`paths`) are capped: probes always pass (an
    orchestrator must not kill a busy but healthy process), and the other routes
    are cheap GETs.
    """

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        paths: frozenset[str],
        on_change: Callable[[int], None] | None = None,
    ) -> None:
        """Wrap `app`; `on_change` receives the new count (for a gauge)."""
        self.app = app
        self.limit = limit
        self.paths = paths
        self.on_change = on_change
        self.current = 0  # one event loop per process: no lock needed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Admit the request or shed it."""
        if scope["type"] != "http" or scope.get("path") not in self.paths:
            await self.app(scope, receive, send)
            return
        if self.current >= self.limit:
            retry = [(b"retry-after", str(RETRY_AFTER_SECONDS).encode())]
            await _reply(send, 503, f"busy: {self.limit} requests in flight, retry", retry)
            return
        self.current += 1
        if self.on_change:
            self.on_change(self.current)
        try:
            await self.app(scope, receive, send)
        finally:
            self.current -= 1
            if self.on_change:
                self.on_change(self.current)


class VersionHeader:
    """`X-Model-Version` on every answer: which model served it (a release checks it)."""

    def __init__(self, app: ASGIApp, version: Callable[[], str | None]) -> None:
        """Wrap `app`; `version` returns the loaded model's version (None while loading)."""
        self.app = app
        self.version = version

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the header to the response start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                version = self.version()
                if version is not None:
                    headers = list(message.get("headers", []))
                    headers.append((b"x-model-version", version.encode()))
                    message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_header)


class BodyGuard:
    """On the routes that take a body: 415 unless it is JSON, 413 when larger than `max_bytes`.

    Only POSTs to `paths` are checked, so a method a route does not declare
    (`PUT /version`) reaches routing and gets its 405, and GETs cost nothing.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, paths: frozenset[str]) -> None:
        """Wrap `app`."""
        self.app = app
        self.max_bytes = max_bytes
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the body of POSTs to the body routes; buffer it so it can be counted."""
        if (
            scope["type"] != "http"
            or scope.get("method") != "POST"
            or scope.get("path") not in self.paths
        ):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if content_type != b"application/json":
            shown = content_type.decode(errors="replace") or "none"
            await _reply(send, 415, f"content type must be application/json, got {shown}")
            return
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _reply(send, 413, f"request body over {self.max_bytes} bytes")
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)  # client went away; let the app see it
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _reply(send, 413, f"request body over {self.max_bytes} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)
