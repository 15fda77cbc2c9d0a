"""Schemaless Avro binary for the guard's topics, with fastavro.

Schemaless because every topic carries exactly one schema, fixed by this
repository: no container header, no registry id, writer schema = reader schema.

Decoding is strict beyond what fastavro checks, because the guard fails closed on
anything it cannot read unambiguously. fastavro 1.13 accepts bytes that the Avro
specification (and the official ``avro`` package) reject: a negative enum or
union index is used as a Python index from the end (a corrupted registry status
``-1`` reads as ``REVOKED``, which would lift a protection), a boolean byte other
than 0/1 reads as ``True``, and over-long varints and leftover bytes pass
unnoticed, as does a repeated map key (the last one silently wins). Rather than
re-implement a validating parser, :meth:`AvroCodec.decode` re-encodes what it read
and demands the very same bytes back. Every value has one canonical encoding, so
any of those defects shows up as a difference. The price is one encode per decode
(decoding takes about twice as long), and the one legal variation it refuses is an
array or map split into several blocks, which neither fastavro, Java's default
``BinaryEncoder`` nor the Python ``avro`` package writes.

fastavro also writes (and reads) any Python int into an Avro ``int``, takes
``True`` and ``1.5`` for integers, and converts a naive datetime as *local* time.
The codec checks those fields itself, at paths found in the schema up front.

fastavro's exception messages quote the data (``'GARCIA' is not in list``), so
they are never passed on: the errors carry the schema, a field name when one can
be taken from the schema's own vocabulary, and the exception's type name. The
codec raises them *outside* the ``except`` block so that the original exception
is not attached as ``__context__`` either.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator, Mapping
from datetime import datetime
from io import BytesIO
from typing import Any

from fastavro import schemaless_reader, schemaless_writer
from fastavro.read import SchemaResolutionError

from guard.codec.errors import DecodeError, EncodeError
from guard.codec.schemas import (
    EVERY_ITEM,
    CheckedField,
    FieldPath,
    LoadedSchema,
    SchemaName,
    ValueKind,
    load_schema,
)

_FASTAVRO_FAILURES: tuple[type[BaseException], ...] = (
    ValueError,  # includes UnicodeDecodeError / UnicodeEncodeError
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    EOFError,
    OverflowError,
    struct.error,
    SchemaResolutionError,
)
"""What fastavro raises on bad data or bad records (found by fuzzing, see tests)."""

# fastavro phrasings worth translating. A captured word is used only if it is one
# of the schema's own field names, so no value can slip through; the rest of the
# message is replaced by fixed text.
_FIELD_PROBLEMS = (
    (re.compile(r"^Field (\w+) is specified in the schema but missing"), "missing field"),
    (re.compile(r"^no value and no default for (\w+)$"), "missing field"),
)
# fastavro appends " on field <name>" once per enclosing record, innermost first.
_ON_FIELD = re.compile(r" on field (\w+)")
_UNKNOWN_FIELDS = re.compile(r"^record contains more fields than the schema specifies")


class AvroCodec:
    """Encoder and decoder for one schema. Holds no buffer: safe to share across threads."""

    __slots__ = ("_checked_fields", "_checked_integers", "_field_names", "_parsed", "name")

    def __init__(self, name: SchemaName) -> None:
        loaded: LoadedSchema = load_schema(name)
        self.name = name
        self._parsed = loaded.parsed
        self._checked_fields = loaded.checked_fields
        # fastavro reads any varint into an "int" field: a 40-bit partition would pass.
        self._checked_integers = tuple(
            checked for checked in loaded.checked_fields if checked.kind is not ValueKind.TIMESTAMP
        )
        self._field_names = frozenset(_field_names(loaded.raw))

    def __repr__(self) -> str:
        return f"AvroCodec({self.name.value})"

    def encode(self, record: Mapping[str, Any]) -> bytes:
        """Serialize ``record``; every field without a schema default must be present.

        Unknown keys are refused rather than dropped: a misspelt key would otherwise
        vanish silently, and the guard matches on exactly these fields.
        """
        for checked in self._checked_fields:
            problem = _value_problem(record, checked)
            if problem is not None:
                raise EncodeError(self.name.value, f"{_dotted(checked.path)}: {problem}")
        buffer = BytesIO()
        try:
            schemaless_writer(
                buffer,
                self._parsed,
                record,
                # (strict=True would override allow_default and refuse omitted defaults.)
                strict_allow_default=True,
                disable_tuple_notation=True,
            )
        except _FASTAVRO_FAILURES as exc:
            problem = self._describe(exc)
        else:
            return buffer.getvalue()
        raise EncodeError(self.name.value, problem)

    def decode(self, data: bytes) -> dict[str, Any]:
        """Read exactly one record that fills ``data`` entirely and is canonically encoded.

        Timestamps come back as UTC-aware datetimes, dates as dates, enums as
        their symbol names, fixed values as bytes.
        """
        if isinstance(data, (bytearray, memoryview)):
            data = bytes(data)
        if not isinstance(data, bytes):
            # e.g. a tombstone's None, which the caller must handle before decoding.
            raise DecodeError(self.name.value, "input is not bytes")
        buffer = BytesIO(data)
        try:
            record = schemaless_reader(buffer, self._parsed, None)
        except _FASTAVRO_FAILURES as exc:
            problem: str | None = f"malformed or truncated data ({type(exc).__name__})"
        else:
            problem = self._problem_with_decoded(record, data, buffer.tell())
            if problem is None and isinstance(record, dict):
                return record
        raise DecodeError(self.name.value, problem or "top level is not a record")

    def _problem_with_decoded(self, record: object, data: bytes, consumed: int) -> str | None:
        """What fastavro let through but the guard must not accept, if anything."""
        if consumed != len(data):
            return "trailing bytes after the record"
        if not isinstance(record, dict):
            return "top level is not a record"
        if not self._is_canonical_encoding_of(record, data):
            return "non-canonical encoding (bad index, boolean, integer or block layout)"
        for checked in self._checked_integers:
            problem = _value_problem(record, checked)
            if problem is not None:
                return f"{_dotted(checked.path)}: {problem}"
        return None

    def _is_canonical_encoding_of(self, record: dict[str, Any], data: bytes) -> bool:
        buffer = BytesIO()
        try:
            schemaless_writer(buffer, self._parsed, record, disable_tuple_notation=True)
        except _FASTAVRO_FAILURES:
            return False
        return buffer.getvalue() == data

    def _describe(self, exc: BaseException) -> str:
        kind = type(exc).__name__
        message = str(exc) if isinstance(exc, (ValueError, TypeError)) else ""
        if _UNKNOWN_FIELDS.search(message):
            return f"a record has keys the schema does not declare ({kind})"
        for pattern, problem in _FIELD_PROBLEMS:
            found = pattern.search(message)
            if found and found.group(1) in self._field_names:
                return f"{found.group(1)}: {problem} ({kind})"
        path = list(reversed(_ON_FIELD.findall(message)))
        if path and all(name in self._field_names for name in path):
            return f"{'.'.join(path)}: wrong type or value ({kind})"
        return f"record does not fit the schema ({kind})"


_INT_RANGES = {
    ValueKind.INT: (-(2**31), 2**31 - 1),
    ValueKind.LONG: (-(2**63), 2**63 - 1),
}


def _value_problem(record: Mapping[str, Any], checked: CheckedField) -> str | None:
    """What is wrong with the values at one checked path, if anything.

    Only values fastavro would write *wrongly* are judged here; an absent or
    ill-typed value is left for fastavro to refuse.
    """
    for value in _values_at(record, checked.path):
        if checked.kind is ValueKind.TIMESTAMP:
            if isinstance(value, datetime) and value.utcoffset() is None:
                return "timestamp has no time zone"
        elif value is not None:
            low, high = _INT_RANGES[checked.kind]
            if isinstance(value, bool) or not isinstance(value, int):
                return f"must be an integer ({checked.kind.value})"
            if not low <= value <= high:
                return f"out of range for an Avro {checked.kind.value}"
    return None


def _values_at(root: object, path: FieldPath) -> Iterator[object]:
    if not path:
        yield root
        return
    head, rest = path[0], path[1:]
    if head == EVERY_ITEM:
        if isinstance(root, Mapping):
            for item in root.values():
                yield from _values_at(item, rest)
        elif isinstance(root, (list, tuple)):
            for item in root:
                yield from _values_at(item, rest)
    elif isinstance(root, Mapping):
        yield from _values_at(root.get(head), rest)


def _dotted(path: FieldPath) -> str:
    return ".".join(path).replace(f".{EVERY_ITEM}", "[]")


def _field_names(schema: Any) -> set[str]:
    """Every field name declared anywhere in the schema (the only words errors may quote)."""
    names: set[str] = set()
    if isinstance(schema, list):
        for branch in schema:
            names |= _field_names(branch)
    elif isinstance(schema, dict):
        for field in schema.get("fields", []):
            names.add(field["name"])
            names |= _field_names(field["type"])
        for key in ("type", "items", "values"):
            if isinstance(schema.get(key), (dict, list)):
                names |= _field_names(schema[key])
    return names


_CODECS: dict[SchemaName, AvroCodec] = {}


def codec_for(name: SchemaName) -> AvroCodec:
    """The shared codec of one schema (created on first use, then reused)."""
    codec = _CODECS.get(name)
    if codec is None:
        codec = _CODECS.setdefault(name, AvroCodec(name))
    return codec
