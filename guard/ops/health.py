"""Readiness: may this worker be trusted to publish right now?

Ready means the registry was restored since start-up, the reader is not
halted, and its applied offsets reached freshly read end offsets within the
last ``stale_after`` seconds. Publishing does not depend on this answer (each
batch checks freshness itself, and waits); readiness tells operators and
orchestrators that the worker is holding rather than publishing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class NotReadyReason(StrEnum):
    """Short machine-readable reasons returned by ``/readyz``."""

    STARTING = "starting"
    REGISTRY_RESTORING = "registry_restoring"
    REGISTRY_HALTED = "registry_halted"
    REGISTRY_STALE = "registry_stale"


@dataclass(frozen=True, slots=True)
class Readiness:
    is_ready: bool
    reason: str
    """``ok`` or a :class:`NotReadyReason` value."""

    def as_json(self) -> str:
        ready = "true" if self.is_ready else "false"
        return f'{{"ready": {ready}, "reason": "{self.reason}"}}'


READY = Readiness(True, "ok")


def assess_readiness(
    *,
    has_started: bool,
    is_restored: bool,
    is_halted: bool,
    last_caught_up_at: float | None,
    now: float,
    stale_after: float,
) -> Readiness:
    """The readiness verdict from the registry reader's state (times are monotonic)."""
    if not has_started:
        return Readiness(False, NotReadyReason.STARTING)
    if is_halted:
        return Readiness(False, NotReadyReason.REGISTRY_HALTED)
    if not is_restored:
        return Readiness(False, NotReadyReason.REGISTRY_RESTORING)
    if last_caught_up_at is None or now - last_caught_up_at > stale_after:
        return Readiness(False, NotReadyReason.REGISTRY_STALE)
    return READY
