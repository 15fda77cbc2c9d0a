"""The Confluent wire format: a magic byte 0, a 4-byte big-endian schema id, the Avro body.

The body is encoded with the *writer's* schema, which a reader fetches from
the schema registry by id and resolves into its own (Avro schema
resolution). This module holds the registry-free half: framing, the writer
schema as fetched, and the strict decoding of a body into one of the
guard's reader schemas.

Strictness is kept under the writer's schema. The body is first read with
the writer schema alone and must fill the bytes exactly, re-encode to the
very same bytes and hold only in-range integers (the checks
:mod:`guard.codec.avro` explains); only then is it read again, resolved into
the reader schema. A writer schema whose parsing canonical form equals the
reader's needs no resolution, and that common case costs what schemaless
decoding costs.

Whether a writer schema can be read at all is decided once per schema
(:mod:`guard.codec.compatibility`), never event by event. For the custody
event the guard adds a rule Avro does not have: the writer must carry every
field the guard matches identities on. Avro would fill a field the writer
lacks with its default (null), and an upstream that renamed ``a_number``
would then feed events the guard checks on names alone; that is refused
(``incompatible_schema``) instead of silently protecting less.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from fastavro import parse_schema, schemaless_reader, schemaless_writer
from fastavro.schema import to_parsing_canonical_form
from fastavro.types import Schema
from fastavro.validation import validate

from guard.codec.avro import AvroCodec, codec_for
from guard.codec.compatibility import check_compatibility
from guard.codec.errors import CodecError, DecodeError
from guard.codec.schemas import SchemaName, load_schema

MAGIC_BYTE = 0
HEADER_SIZE = 5
_HEADER = struct.Struct(">bI")
REFERENCES = "AVRO_WITH_REFERENCES"
"""The schema type the registry client reports for an Avro schema with references."""
MAX_SCHEMA_ID = 2**31 - 1
"""Confluent's ids are Java ints; a frame whose id has the top bit set is not one."""

IDENTITY_FIELDS: Mapping[SchemaName, frozenset[str]] = {
    SchemaName.CUSTODY_EVENT: frozenset(
        {
            "subject.a_number",
            "subject.fbi_number",
            "subject.fins_number",
            "subject.middle_name",
            "subject.aliases",
            "subject.date_of_birth",
        }
    ),
}
"""Reader fields with a default that a writer schema must still carry (see the module doc).
Fields without a default are required by Avro resolution anyway."""


class UnknownSchema(CodecError):
    """The registry does not know the schema id a message names."""

    def __init__(self, schema_id: int) -> None:
        super().__init__(schema_id)
        self.schema_id = schema_id

    def __str__(self) -> str:
        return f"schema id {self.schema_id} is not registered"


class IncompatibleSchema(CodecError):
    """The writer schema cannot be read into the guard's schema; ``problem`` says why."""

    def __init__(self, schema_name: str, schema_id: int, problem: str) -> None:
        super().__init__(schema_name, schema_id, problem)
        self.schema_name = schema_name
        self.schema_id = schema_id
        self.problem = problem

    def __str__(self) -> str:
        return (
            f"writer schema {self.schema_id} cannot be read as {self.schema_name}: {self.problem}"
        )


def frame(schema_id: int, body: bytes) -> bytes:
    """``body`` in the wire format under ``schema_id``."""
    return _HEADER.pack(MAGIC_BYTE, schema_id) + body


def schema_id_of(data: bytes | None) -> int | None:
    """The schema id a wire-format value names, or None when it is not one."""
    if data is None or len(data) < HEADER_SIZE or data[0] != MAGIC_BYTE:
        return None
    schema_id: int = _HEADER.unpack_from(data)[1]
    return schema_id if schema_id <= MAX_SCHEMA_ID else None


@dataclass(frozen=True, slots=True)
class WriterSchema:
    """One registered schema, parsed; ``problem`` is set when it is not usable Avro."""

    schema_id: int
    raw: Any
    parsed: Schema | None
    canonical: str | None
    problem: str | None = None

    @classmethod
    def from_registry(cls, schema_id: int, schema_type: str | None, text: str) -> WriterSchema:
        """Parse what the registry returned; never raises (an unusable schema is a verdict)."""
        if schema_type == REFERENCES:
            return cls(schema_id, None, None, None, "uses schema references (not resolved)")
        if schema_type not in (None, "", "AVRO"):
            return cls(schema_id, None, None, None, "not an Avro schema")
        try:
            raw = json.loads(text)
            parsed = parse_schema(raw, named_schemas={})
            canonical = to_parsing_canonical_form(parsed)
        except Exception as exc:
            # fastavro's messages quote the schema: only the type name is kept.
            problem = f"the registered schema does not parse ({type(exc).__name__})"
            return cls(schema_id, None, None, None, problem)
        return cls(schema_id, raw, parsed, canonical)


class WireDecoder:
    """Decodes wire-format values into one of the guard's schemas, given their writer schema.

    Holds one verdict per writer schema id it has met (a :class:`_Resolved`),
    bounded like the registry cache that feeds it.
    """

    def __init__(self, name: SchemaName, max_writers: int) -> None:
        self.name = name
        self._codec: AvroCodec = codec_for(name)
        loaded = load_schema(name)
        self._reader_raw = loaded.raw
        self._reader_parsed = loaded.parsed
        self._reader_canonical = to_parsing_canonical_form(loaded.parsed)
        self._required = IDENTITY_FIELDS.get(name, frozenset())
        self._max_writers = max_writers
        self._resolved: dict[int, _Resolved] = {}

    def decode(self, data: bytes, writers: Mapping[int, WriterSchema]) -> dict[str, Any]:
        """One record, strictly decoded under its writer schema and resolved into the reader's.

        Raises:
            DecodeError: not the wire format, or a body that is not one canonical record.
            UnknownSchema: the id is not among ``writers`` (the registry did not know it).
            IncompatibleSchema: the writer schema cannot be read into the guard's.
        """
        schema_id = schema_id_of(data)
        if schema_id is None:
            raise DecodeError(self.name.value, "not in the schema registry wire format")
        writer = writers.get(schema_id)
        if writer is None:
            raise UnknownSchema(schema_id)
        resolved = self._resolve(writer)
        if resolved.problem is not None:
            raise IncompatibleSchema(self.name.value, schema_id, resolved.problem)
        body = data[HEADER_SIZE:]
        if resolved.is_identical:
            return self._codec.decode(body)
        return self._decode_resolved(body, resolved)

    def _resolve(self, writer: WriterSchema) -> _Resolved:
        found = self._resolved.get(writer.schema_id)
        if found is not None and found.writer is writer:
            return found
        resolved = self._judge(writer)
        if len(self._resolved) >= self._max_writers:
            self._resolved.pop(next(iter(self._resolved)))
        self._resolved[writer.schema_id] = resolved
        return resolved

    def _judge(self, writer: WriterSchema) -> _Resolved:
        if writer.problem is not None or writer.parsed is None:
            return _Resolved(writer, problem=writer.problem or "unusable schema")
        if writer.canonical == self._reader_canonical:
            return _Resolved(writer, is_identical=True)
        verdict = check_compatibility(self._reader_raw, writer.raw)
        if not verdict.is_compatible:
            return _Resolved(writer, problem="; ".join(verdict.problems[:3]))
        lacking = sorted(self._required & verdict.defaulted)
        if lacking:
            return _Resolved(
                writer, problem=f"lacks fields the guard matches on: {', '.join(lacking)}"
            )
        return _Resolved(writer)

    def _decode_resolved(self, body: bytes, resolved: _Resolved) -> dict[str, Any]:
        writer = resolved.writer.parsed
        if writer is None:  # _judge gave it a problem: never reached
            raise IncompatibleSchema(self.name.value, resolved.writer.schema_id, "unusable")
        name = self.name.value
        problem: str | None = None
        record: object = None
        try:
            buffer = BytesIO(body)
            as_written = schemaless_reader(buffer, writer, None)
            if buffer.tell() != len(body):
                problem = "trailing bytes after the record"
            elif not _is_canonical(as_written, writer, body):
                problem = "non-canonical encoding (bad index, boolean, integer or block layout)"
            elif not validate(as_written, writer, raise_errors=False):
                problem = "a value out of range for the writer's schema"
            else:
                record = schemaless_reader(BytesIO(body), writer, self._reader_parsed)
        except Exception as exc:
            # Messages quote data: never passed on (raised outside this block).
            problem = f"malformed or truncated data ({type(exc).__name__})"
        if problem is not None:
            raise DecodeError(name, problem)
        if not isinstance(record, dict):
            raise DecodeError(name, "top level is not a record")
        return record


@dataclass(frozen=True, slots=True)
class _Resolved:
    writer: WriterSchema
    is_identical: bool = False
    problem: str | None = None


def _is_canonical(record: Any, schema: Schema, data: bytes) -> bool:
    buffer = BytesIO()
    try:
        schemaless_writer(buffer, schema, record, disable_tuple_notation=True)
    except Exception:
        return False
    return buffer.getvalue() == data
