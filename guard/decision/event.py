"""The parts of a custody event that are not about who: id, times, custody, facility."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from guard.decision.errors import InvalidEvent
from guard.decision.fields import optional_str, require_instant, require_mapping, require_str

CUSTODY_STATUSES = frozenset(
    {"IN_CUSTODY", "TRANSFERRED", "RELEASED", "REMOVED", "ESCAPED", "DECEASED", "UNKNOWN"}
)
"""Symbols shared by the input ``CustodyStatus`` and the public ``PublicCustodyStatus``."""


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
        facility_code=optional_str(custody, "facility_code", "custody.facility_code"),
        facility_name=optional_str(custody, "facility_name", "custody.facility_name"),
        facility_city=optional_str(custody, "facility_city", "custody.facility_city"),
        facility_state=optional_str(custody, "facility_state", "custody.facility_state"),
        status_changed_at=require_instant(
            custody, "status_changed_at", "custody.status_changed_at"
        ),
    )
