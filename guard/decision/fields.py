"""Typed reads of a decoded event dict, raising InvalidEvent on anything unexpected.

fastavro hands over plain dicts; a producer bug, a schema drift or a
hand-built dict can still put any value anywhere. Every field the decision
reads goes through one of these, so a wrong type becomes a clean REJECT
instead of an exception deep inside normalization.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from guard.decision.errors import InvalidEvent

_MISSING = object()


def require_mapping(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidEvent(field, "not a record")
    return value


def _get(record: Mapping[str, Any], name: str) -> object:
    return record.get(name, _MISSING)


def require_str(record: Mapping[str, Any], name: str, field: str) -> str:
    value = _get(record, name)
    if value is _MISSING or value is None:
        raise InvalidEvent(field, "missing")
    if not isinstance(value, str):
        raise InvalidEvent(field, "not a string")
    return value


def optional_str(record: Mapping[str, Any], name: str, field: str) -> str | None:
    value = _get(record, name)
    if value is _MISSING or value is None:
        return None
    if not isinstance(value, str):
        raise InvalidEvent(field, "not a string")
    return value


def optional_date(record: Mapping[str, Any], name: str, field: str) -> date | None:
    """A calendar date. A datetime is refused: its ISO form would never equal a date's."""
    value = _get(record, name)
    if value is _MISSING or value is None:
        return None
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidEvent(field, "not a date")
    return value


def require_instant(record: Mapping[str, Any], name: str, field: str) -> datetime:
    """A timezone-aware datetime, as fastavro decodes timestamp-millis."""
    value = _get(record, name)
    if value is _MISSING or value is None:
        raise InvalidEvent(field, "missing")
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidEvent(field, "not a timezone-aware datetime")
    return value


def optional_records(record: Mapping[str, Any], name: str, field: str) -> list[Mapping[str, Any]]:
    """An array of records; missing or null reads as empty (the schema default)."""
    value = _get(record, name)
    if value is _MISSING or value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise InvalidEvent(field, "not a list")
    return [require_mapping(item, f"{field}[{position}]") for position, item in enumerate(value)]
