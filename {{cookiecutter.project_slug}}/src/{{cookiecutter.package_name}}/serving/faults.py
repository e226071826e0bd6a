"""Deliberate failures for rehearsing releases: a broken model must be rolled back.

Blue/green tests need releases that crash, never become ready, fail requests or
answer slowly. `MLOPS_FAULT` turns one on; it is empty (off) unless a test or a
rehearsal sets it, and `/version` reports it so it cannot hide.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import FaultConfigError


@dataclass(frozen=True)
class Fault:
    """What the service should get wrong."""

    crash: bool = False
    never_ready: bool = False
    error: bool = False
    delay_ms: float = 0.0

    @property
    def active(self) -> bool:
        """True when any fault is on."""
        return self.crash or self.never_ready or self.error or self.delay_ms > 0


def parse_fault(text: str) -> Fault:
    """'' | crash | never-ready | error | slow:<milliseconds>."""
    value = text.strip().lower()
    if value in {"", "none"}:
        return Fault()
    if value == "crash":
        return Fault(crash=True)
    if value == "never-ready":
        return Fault(never_ready=True)
    if value == "error":
        return Fault(error=True)
    if value.startswith("slow:"):
        try:
            delay = float(value.removeprefix("slow:"))
        except ValueError as err:
            raise FaultConfigError(f"MLOPS_FAULT={text!r}: slow needs milliseconds") from err
        return Fault(delay_ms=delay)
    raise FaultConfigError(
        f"MLOPS_FAULT={text!r}; allowed: crash, never-ready, error, slow:<ms>, or empty"
    )
