"""Readiness: may this worker be trusted to publish right now?

Ready means the registry was restored since start-up, the reader is not
halted, and its applied offsets reached freshly read end offsets within the
last ``stale_after`` seconds. Publishing does not depend on this answer (each
batch checks freshness itself, and waits); readiness tells operators and
orchestrators that the worker is holding rather than publishing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class NotReadyReason(StrEnum):
    """Short machine-readable reasons returned by ``/readyz``."""

    STARTING = "starting"
    REGISTRY_RESTORING = "registry_restoring"
    REGISTRY_HALTED = "registry_halted"
    REGISTRY_STALE = "registry_stale"
    SCHEMA_REGISTRY_UNAVAILABLE = "schema_registry_unavailable"
    """A batch is held because the schema registry does not answer (wire format only)."""


@dataclass(frozen=True, slots=True)
class Rotation:
    """Where a blinding-key rotation stands, as the worker's registry shows it.

    Key ids are a label and a check value of the secret (``k2.3f9a02c1``):
    they are written into every registry record and reveal nothing of the key.
    """

    current_key: str
    previous_key: str | None
    current_records: int
    previous_records: int

    @property
    def state(self) -> str:
        """``none`` (one key), ``in_progress`` (records under the previous key are still
        active: every event is matched under both), ``previous_retired`` (none are)."""
        if self.previous_key is None:
            return "none"
        return "in_progress" if self.previous_records else "previous_retired"

    def as_dict(self) -> dict[str, object]:
        return {
            "state": self.state,
            "current_key": self.current_key,
            "current_key_records": self.current_records,
            "previous_key": self.previous_key,
            "previous_key_records": self.previous_records,
        }


@dataclass(frozen=True, slots=True)
class Readiness:
    is_ready: bool
    reason: Literal["ok"] | NotReadyReason
    cause: str | None = None
    """For ``registry_halted``: what halted the reader (offsets and type names only)."""
    rotation: Rotation | None = None
    """The blinding keys in use; readiness does not depend on it."""

    def as_json(self) -> str:
        body: dict[str, object] = {"ready": self.is_ready, "reason": str(self.reason)}
        if self.cause is not None:
            body["cause"] = self.cause
        if self.rotation is not None:
            body["blinding_keys"] = self.rotation.as_dict()
        return json.dumps(body)

    def with_rotation(self, rotation: Rotation) -> Readiness:
        return Readiness(self.is_ready, self.reason, self.cause, rotation)


READY = Readiness(True, "ok")


def assess_readiness(
    *,
    has_started: bool,
    is_restored: bool,
    is_halted: bool,
    last_caught_up_at: float | None,
    halt_cause: str | None = None,
    now: float,
    stale_after: float,
    schema_registry_unavailable: bool = False,
) -> Readiness:
    """The readiness verdict from the registry reader's state (times are monotonic)."""
    if not has_started:
        return Readiness(False, NotReadyReason.STARTING)
    if is_halted:
        return Readiness(False, NotReadyReason.REGISTRY_HALTED, halt_cause)
    if not is_restored:
        return Readiness(False, NotReadyReason.REGISTRY_RESTORING)
    if schema_registry_unavailable:
        return Readiness(False, NotReadyReason.SCHEMA_REGISTRY_UNAVAILABLE)
    if last_caught_up_at is None or now - last_caught_up_at > stale_after:
        return Readiness(False, NotReadyReason.REGISTRY_STALE)
    return READY
