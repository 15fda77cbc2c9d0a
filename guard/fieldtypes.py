"""What a field of an untrusted record must hold: the type checks both of its readers share.

Two kinds of record reach the guard from outside: decoded Avro events (read by
the decision core, ``guard/decision/fields.py``) and parsed JSON lines (read by
the CLI, ``guard/codec/jsonfields.py``). Both ask the same questions of a value
(is it there, is it a string, a list, a record), and they are asked here once.
Each reader then says the answer in its own words, because the audiences
differ: an audit record's field problem for the decision core, a message for
the operator who typed the file for the CLI. Neither ever quotes the value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

MISSING: Any = object()
"""What :func:`field_value` returns for a key the record does not have."""


class Problem(StrEnum):
    """What is wrong with a value (the decision core's wording, used as is in its errors)."""

    MISSING = "missing"
    NOT_STRING = "not a string"
    NOT_UNICODE = "not valid Unicode"
    NOT_LIST = "not a list"
    NOT_RECORD = "not a record"


class WrongType(Exception):
    """A value is not of the kind its field needs; the reader turns it into its own error."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def field_value(record: Mapping[str, Any], name: str) -> object:
    """The value under ``name``, or :data:`MISSING`."""
    return record.get(name, MISSING)


def is_absent(value: object) -> bool:
    """Missing and null read alike: the schemas' optional fields default to null."""
    return value is MISSING or value is None


def as_str(value: object) -> str:
    if not isinstance(value, str):
        raise WrongType(Problem.NOT_STRING)
    return value


def as_utf8_str(value: object) -> str:
    """A string that can be written as UTF-8: a lone surrogate from a JSON ``\\ud800``
    escape cannot, and Avro strings are UTF-8. (A decoded Avro string always can, so the
    decision core's hot path skips this check.)"""
    value = as_str(value)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        pass
    else:
        return value
    raise WrongType(Problem.NOT_UNICODE)  # raised outside the except: no __context__


def as_list(value: object) -> Sequence[object]:
    """A list (a string is a sequence too, and is refused)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise WrongType(Problem.NOT_LIST)
    return value


def as_record(value: object) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise WrongType(Problem.NOT_RECORD)
    return value
