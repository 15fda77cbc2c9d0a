"""Typed readers for fields of a parsed JSON object, for the CLI's input formats.

Each reader checks one field and raises :class:`JsonInputError` naming the field
path and the kind of problem. The value is never quoted: these objects hold
names, numbers and dates of birth. Standard-library parsers (``fromisoformat``)
put the rejected text in their messages, so their exceptions are turned into
a fixed problem text and raised outside the ``except`` block, leaving no
``__context__`` behind.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime
from typing import Any

from guard.codec.errors import JsonInputError

_MISSING = object()
_DATE_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def path_of(prefix: str, key: str) -> str:
    """``subject`` + ``given_name`` -> ``subject.given_name``."""
    return f"{prefix}.{key}" if prefix else key


def require_object(value: object, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise JsonInputError(None, path or None, "must be a JSON object")
    return value


def refuse_unknown_keys(obj: Mapping[str, Any], allowed: Collection[str], path: str) -> None:
    """Refuse keys outside ``allowed``: a misspelt ``a_numbr`` would otherwise be lost,
    and an event whose A-number is lost can no longer match the registry.

    The unknown key is not quoted (it may be a value typed in the wrong place);
    the allowed names are listed so the typo can be found.
    """
    unknown = sum(1 for key in obj if key not in allowed)
    if unknown:
        raise JsonInputError(
            None,
            path or None,
            f"{unknown} unknown field(s); allowed: {', '.join(sorted(allowed))}",
        )


def _checked_str(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise JsonInputError(None, path, "must be a string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate from a "\ud800" escape: not encodable as Avro UTF-8.
        pass
    else:
        return value
    raise JsonInputError(None, path, "is not valid Unicode")


def required_str(obj: Mapping[str, Any], key: str, prefix: str, *, is_blank_ok: bool) -> str:
    path = path_of(prefix, key)
    value = obj.get(key, _MISSING)
    if value is _MISSING or value is None:
        raise JsonInputError(None, path, "is required")
    text = _checked_str(value, path)
    if not is_blank_ok and not text.strip():
        raise JsonInputError(None, path, "must not be blank")
    return text


def optional_str(obj: Mapping[str, Any], key: str, prefix: str, *, is_blank_ok: bool) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    path = path_of(prefix, key)
    text = _checked_str(value, path)
    if not is_blank_ok and not text.strip():
        raise JsonInputError(None, path, "must not be blank (omit it or use null)")
    return text


def str_list(obj: Mapping[str, Any], key: str, prefix: str) -> tuple[str, ...]:
    """A list of non-blank strings, empty when absent."""
    path = path_of(prefix, key)
    value = obj.get(key, _MISSING)
    if value is _MISSING:
        return ()
    if not isinstance(value, list):
        raise JsonInputError(None, path, "must be a list")
    items: list[str] = []
    for index, item in enumerate(value):
        item_path = f"{path}[{index}]"
        text = _checked_str(item, item_path)
        if not text.strip():
            raise JsonInputError(None, item_path, "must not be blank")
        items.append(text)
    return tuple(items)


def object_list(
    obj: Mapping[str, Any], key: str, prefix: str
) -> list[tuple[str, Mapping[str, Any]]]:
    """``(path, object)`` for each element of a list of objects, empty when absent."""
    path = path_of(prefix, key)
    value = obj.get(key, _MISSING)
    if value is _MISSING:
        return []
    if not isinstance(value, list):
        raise JsonInputError(None, path, "must be a list")
    return [
        (f"{path}[{index}]", require_object(item, f"{path}[{index}]"))
        for index, item in enumerate(value)
    ]


def enum_name(obj: Mapping[str, Any], key: str, prefix: str, symbols: Collection[str]) -> str:
    path = path_of(prefix, key)
    value = obj.get(key, _MISSING)
    if value is _MISSING or value is None:
        raise JsonInputError(None, path, "is required")
    if not isinstance(value, str) or value not in symbols:
        raise JsonInputError(None, path, f"must be one of {', '.join(symbols)}")
    return value


def optional_date(obj: Mapping[str, Any], key: str, prefix: str) -> date | None:
    """A ``YYYY-MM-DD`` date. ``date.fromisoformat`` alone would also take
    ``19850314`` and week dates, which the input format does not promise."""
    value = obj.get(key)
    if value is None:
        return None
    path = path_of(prefix, key)
    if not isinstance(value, str) or not _DATE_PATTERN.fullmatch(value):
        raise JsonInputError(None, path, "must be a date as YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        pass
    raise JsonInputError(None, path, "is not a valid calendar date")


def required_timestamp(obj: Mapping[str, Any], key: str, prefix: str) -> datetime:
    """An ISO-8601 timestamp as a UTC datetime truncated to milliseconds.

    Naive means UTC (upstream systems log in UTC). Truncating here, where Avro's
    ``timestamp-millis`` would truncate anyway, makes the dict equal to what
    decoding its encoding returns.
    """
    path = path_of(prefix, key)
    value = obj.get(key, _MISSING)
    if value is _MISSING or value is None:
        raise JsonInputError(None, path, "is required")
    if not isinstance(value, str):
        raise JsonInputError(None, path, "must be an ISO-8601 timestamp string")
    try:
        parsed = datetime.fromisoformat(value)
        utc = parsed.replace(tzinfo=UTC) if parsed.utcoffset() is None else parsed.astimezone(UTC)
    except ValueError:
        problem = "is not an ISO-8601 timestamp"
    except OverflowError:
        problem = "is out of the representable range"
    else:
        return utc.replace(microsecond=utc.microsecond // 1000 * 1000)
    raise JsonInputError(None, path, problem)
