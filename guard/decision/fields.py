"""Typed reads of a decoded event dict, raising InvalidEvent on anything unexpected.

fastavro hands over plain dicts; a producer bug, a schema drift or a
hand-built dict can still put any value anywhere. Every field the decision
reads goes through one of these, so a wrong type becomes a clean REJECT
instead of an exception deep inside normalization.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, TypeVar

from guard.decision.errors import InvalidEvent
from guard.fieldtypes import Problem, WrongType, as_list, as_record, as_str, field_value, is_absent

_T = TypeVar("_T")


def _checked(read: Callable[[object], _T], value: object, field: str) -> _T:
    try:
        return read(value)
    except WrongType as exc:
        problem = exc.problem
    raise InvalidEvent(field, problem.value)  # outside the except: no __context__ to print


def require_mapping(value: object, field: str) -> Mapping[str, Any]:
    return _checked(as_record, value, field)


def require_str(record: Mapping[str, Any], name: str, field: str) -> str:
    value = field_value(record, name)
    if is_absent(value):
        raise InvalidEvent(field, Problem.MISSING.value)
    return _checked(as_str, value, field)


def optional_str(record: Mapping[str, Any], name: str, field: str) -> str | None:
    value = field_value(record, name)
    return None if is_absent(value) else _checked(as_str, value, field)


def optional_date(record: Mapping[str, Any], name: str, field: str) -> date | None:
    """A calendar date. A datetime is refused: its ISO form would never equal a date's."""
    value = field_value(record, name)
    if is_absent(value):
        return None
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidEvent(field, "not a date")
    return value


def require_instant(record: Mapping[str, Any], name: str, field: str) -> datetime:
    """A timezone-aware datetime, as fastavro decodes timestamp-millis."""
    value = field_value(record, name)
    if is_absent(value):
        raise InvalidEvent(field, Problem.MISSING.value)
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidEvent(field, "not a timezone-aware datetime")
    return value


def optional_records(record: Mapping[str, Any], name: str, field: str) -> list[Mapping[str, Any]]:
    """An array of records; missing or null reads as empty (the schema default)."""
    value = field_value(record, name)
    if is_absent(value):
        return []
    items = _checked(as_list, value, field)
    return [require_mapping(item, f"{field}[{position}]") for position, item in enumerate(items)]
