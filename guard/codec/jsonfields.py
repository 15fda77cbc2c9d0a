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
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from guard.codec.errors import JsonInputError
from guard.fieldtypes import (
    MISSING,
    Problem,
    WrongType,
    as_list,
    as_record,
    as_utf8_str,
    field_value,
    is_absent,
)

_DATE_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def path_of(prefix: str, key: str) -> str:
    """``subject`` + ``given_name`` -> ``subject.given_name``."""
    return f"{prefix}.{key}" if prefix else key


_WORDING = {
    Problem.MISSING: "is required",
    Problem.NOT_STRING: "must be a string",
    Problem.NOT_UNICODE: "is not valid Unicode",
    Problem.NOT_LIST: "must be a list",
    Problem.NOT_RECORD: "must be a JSON object",
}
"""The shared problems, as the operator who wrote the file reads them."""

_T = TypeVar("_T")


def _checked(read: Callable[[object], _T], value: object, path: str) -> _T:
    try:
        return read(value)
    except WrongType as exc:
        problem = exc.problem
    raise JsonInputError(None, path or None, _WORDING[problem])  # outside the except: no context


def require_object(value: object, path: str) -> Mapping[str, Any]:
    return _checked(as_record, value, path)


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


def required_str(obj: Mapping[str, Any], key: str, prefix: str, *, is_blank_ok: bool) -> str:
    path = path_of(prefix, key)
    value = field_value(obj, key)
    if is_absent(value):
        raise JsonInputError(None, path, _WORDING[Problem.MISSING])
    text = _checked(as_utf8_str, value, path)
    if not is_blank_ok and not text.strip():
        raise JsonInputError(None, path, "must not be blank")
    return text


def optional_str(obj: Mapping[str, Any], key: str, prefix: str, *, is_blank_ok: bool) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    path = path_of(prefix, key)
    text = _checked(as_utf8_str, value, path)
    if not is_blank_ok and not text.strip():
        raise JsonInputError(None, path, "must not be blank (omit it or use null)")
    return text


def str_list(obj: Mapping[str, Any], key: str, prefix: str) -> tuple[str, ...]:
    """A list of non-blank strings, empty when absent."""
    path = path_of(prefix, key)
    value = field_value(obj, key)
    if value is MISSING:
        return ()
    items: list[str] = []
    for index, item in enumerate(_checked(as_list, value, path)):
        item_path = f"{path}[{index}]"
        text = _checked(as_utf8_str, item, item_path)
        if not text.strip():
            raise JsonInputError(None, item_path, "must not be blank")
        items.append(text)
    return tuple(items)


def object_list(
    obj: Mapping[str, Any], key: str, prefix: str
) -> list[tuple[str, Mapping[str, Any]]]:
    """``(path, object)`` for each element of a list of objects, empty when absent."""
    path = path_of(prefix, key)
    value = field_value(obj, key)
    if value is MISSING:
        return []
    return [
        (f"{path}[{index}]", require_object(item, f"{path}[{index}]"))
        for index, item in enumerate(_checked(as_list, value, path))
    ]


def enum_name(obj: Mapping[str, Any], key: str, prefix: str, symbols: Collection[str]) -> str:
    path = path_of(prefix, key)
    value = field_value(obj, key)
    if is_absent(value):
        raise JsonInputError(None, path, _WORDING[Problem.MISSING])
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
    value = field_value(obj, key)
    if is_absent(value):
        raise JsonInputError(None, path, _WORDING[Problem.MISSING])
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
