"""The parts of a custody event that are not about who: id, times, custody, facility."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from guard.decision.errors import InvalidEvent
from guard.decision.fields import optional_str, require_instant, require_mapping, require_str

CUSTODY_STATUSES = (
    "IN_CUSTODY", "TRANSFERRED", "RELEASED", "REMOVED", "ESCAPED", "DECEASED", "UNKNOWN",
)
"""Symbols shared by the input ``CustodyStatus`` and the public ``PublicCustodyStatus``.

The one list in the code; ``tests/codec/test_schemas.py`` ties it to both schemas."""

MAX_FACILITY_CHARS = 256
"""A facility field longer than this is refused: it is copied into the public notice,
whose size must stay bounded."""


@dataclass(frozen=True, slots=True)
class CustodyFacts:
    """What a public notice may carry besides the subject's name and A-number."""

    occurred_at: datetime
    custody_status: str
    facility_code: str | None
    facility_name: str | None
    facility_city: str | None
    facility_state: str | None
    status_changed_at: datetime


def read_event_id(event: Mapping[str, Any]) -> str:
    """The upstream id; needed for every verdict's notice and audit record."""
    event_id = require_str(event, "event_id", "event_id")
    if not event_id:
        raise InvalidEvent("event_id", "empty")
    return event_id


def read_subject(event: Mapping[str, Any]) -> Mapping[str, Any]:
    return require_mapping(event.get("subject"), "subject")


def read_custody_facts(event: Mapping[str, Any]) -> CustodyFacts:
    """Raises InvalidEvent when a field the notice needs is missing or mistyped."""
    custody = require_mapping(event.get("custody"), "custody")
    status = require_str(custody, "status", "custody.status")
    if status not in CUSTODY_STATUSES:
        raise InvalidEvent("custody.status", "not a known custody status")
    return CustodyFacts(
        occurred_at=require_instant(event, "occurred_at", "occurred_at"),
        custody_status=status,
        facility_code=_facility(custody, "facility_code"),
        facility_name=_facility(custody, "facility_name"),
        facility_city=_facility(custody, "facility_city"),
        facility_state=_facility(custody, "facility_state"),
        status_changed_at=require_instant(
            custody, "status_changed_at", "custody.status_changed_at"
        ),
    )


def _facility(custody: Mapping[str, Any], name: str) -> str | None:
    value = optional_str(custody, name, f"custody.{name}")
    if value is not None and len(value) > MAX_FACILITY_CHARS:
        raise InvalidEvent(f"custody.{name}", f"longer than {MAX_FACILITY_CHARS} characters")
    return value
