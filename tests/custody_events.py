"""The one builder of custody events for every test: the shape of ``CustodyStatusChanged``
lives here, so a schema change is made once.

:func:`custody_event` returns the event as fastavro decodes it (``datetime`` and
``date`` values), which is what the decision core reads and the codecs write;
:func:`as_json_form` turns it into what ``guard produce`` reads.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

TEST_FACILITY: Mapping[str, str] = {
    "facility_code": "FAC01",
    "facility_name": "Test Processing Center",
    "facility_city": "Springfield",
    "facility_state": "IL",
}
KROME: Mapping[str, str] = {
    "facility_code": "KRO",
    "facility_name": "Krome North Service Processing Center",
    "facility_city": "Miami",
    "facility_state": "FL",
}
OCCURRED_AT = datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)
CHANGED_AT = datetime(2026, 3, 4, 5, 6, 0, tzinfo=UTC)


def custody_event(
    *,
    event_id: str = "evt-1",
    a_number: str | None = None,
    fbi_number: str | None = None,
    fins_number: str | None = None,
    given_name: str | None = "Ana",
    middle_name: str | None = None,
    family_name: str | None = "Ruiz",
    aliases: tuple[tuple[str, str], ...] = (),
    date_of_birth: date | None = None,
    country_of_birth: str | None = None,
    case_notes: str | None = None,
    status: str = "IN_CUSTODY",
    source_system: str = "EARM-TEST",
    occurred_at: datetime = OCCURRED_AT,
    status_changed_at: datetime = CHANGED_AT,
    facility: Mapping[str, str] = TEST_FACILITY,
) -> dict[str, Any]:
    """A ``CustodyStatusChanged`` event as fastavro decodes it; every field present."""
    return {
        "event_id": event_id,
        "occurred_at": occurred_at,
        "source_system": source_system,
        "subject": {
            "a_number": a_number,
            "fbi_number": fbi_number,
            "fins_number": fins_number,
            "given_name": given_name,
            "middle_name": middle_name,
            "family_name": family_name,
            "aliases": [{"given_name": g, "family_name": f} for g, f in aliases],
            "date_of_birth": date_of_birth,
            "country_of_birth": country_of_birth,
        },
        "custody": {"status": status, **facility, "status_changed_at": status_changed_at},
        "case_notes": case_notes,
    }


def as_json_form(event: Mapping[str, Any]) -> dict[str, Any]:
    """``event`` as a JSON line of ``guard produce`` carries it: instants as RFC 3339
    UTC strings, dates as ISO dates; absent optional fields left out."""

    def convert(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, Mapping):
            return {k: convert(v) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            return [convert(v) for v in value]
        return value

    converted: dict[str, Any] = convert(copy.deepcopy(dict(event)))
    return converted
