"""The wire format's decoder: framing, resolution decided per writer schema, strictness kept."""

from __future__ import annotations

import copy
import json
from io import BytesIO
from typing import Any

import pytest
from codec_samples import PLANTED_TEXTS, custody_event
from fastavro import parse_schema, schemaless_writer

from guard.codec.errors import DecodeError
from guard.codec.schemas import SchemaName, load_schema
from guard.codec.wire import (
    IncompatibleSchema,
    UnknownSchema,
    WireDecoder,
    WriterSchema,
    frame,
    schema_id_of,
)


def _custody() -> dict[str, Any]:
    return copy.deepcopy(dict(load_schema(SchemaName.CUSTODY_EVENT).raw))


def _field(record: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(f for f in record["fields"] if f["name"] == name)
    return found


def _subject(schema: dict[str, Any]) -> dict[str, Any]:
    subject: dict[str, Any] = _field(schema, "subject")["type"]
    return subject


def _v2() -> dict[str, Any]:
    """Fields reordered, an optional field added, a custody status added."""
    schema = _custody()
    schema["fields"].reverse()
    _subject(schema)["fields"].insert(0, {"name": "tribe", "type": ["null", "string"]})
    _field(_field(schema, "custody")["type"], "status")["type"]["symbols"].append("PAROLED")
    return schema


def _writer(schema_id: int, schema: dict[str, Any]) -> WriterSchema:
    return WriterSchema.from_registry(schema_id, None, json.dumps(schema))


def _encode(schema: dict[str, Any], record: dict[str, Any]) -> bytes:
    buffer = BytesIO()
    schemaless_writer(buffer, parse_schema(schema, named_schemas={}), record)
    return buffer.getvalue()


def _v2_event() -> dict[str, Any]:
    event = custody_event()
    event["subject"]["tribe"] = "none"
    event["custody"]["status"] = "PAROLED"
    return event


def test_framing_round_trip_and_what_is_not_a_frame() -> None:
    assert schema_id_of(frame(7, b"body")) == 7
    assert frame(258, b"") == b"\x00\x00\x00\x01\x02"
    for not_a_frame in (
        None,
        b"",
        b"\x00\x00\x00\x01",
        b"\x01\x00\x00\x00\x01x",
        b"\x00\xff\xff\xff\xff",
    ):
        assert schema_id_of(not_a_frame) is None


def test_the_guards_own_schema_decodes_like_schemaless_avro() -> None:
    decoder = WireDecoder(SchemaName.CUSTODY_EVENT, max_writers=8)
    event = custody_event()
    data = frame(3, _encode(_custody(), event))
    assert decoder.decode(data, {3: _writer(3, _custody())}) == event


def test_an_evolved_upstream_schema_is_resolved_into_the_guards() -> None:
    decoder = WireDecoder(SchemaName.CUSTODY_EVENT, max_writers=8)
    data = frame(9, _encode(_v2(), _v2_event()))
    decoded = decoder.decode(data, {9: _writer(9, _v2())})
    expected = custody_event()
    expected["custody"]["status"] = "UNKNOWN"  # the reader's enum default
    assert decoded == expected


def test_strictness_holds_under_the_writers_schema() -> None:
    decoder = WireDecoder(SchemaName.CUSTODY_EVENT, max_writers=8)
    writers = {9: _writer(9, _v2())}
    body = _encode(_v2(), _v2_event())
    with pytest.raises(DecodeError, match="trailing bytes"):
        decoder.decode(frame(9, body + b"\x00"), writers)
    # The writer's first field (reversed) is case_notes: a union index of -1 (zig-zag 1).
    assert body[0] == 2
    with pytest.raises(DecodeError):
        decoder.decode(frame(9, b"\x01" + body[1:]), writers)
    with pytest.raises(DecodeError, match="wire format"):
        decoder.decode(body, writers)


def test_an_out_of_range_int_in_a_field_the_guard_skips_is_refused() -> None:
    schema = _custody()
    schema["fields"].append({"name": "sequence", "type": "int", "default": 0})
    event = custody_event()
    event["sequence"] = 2**40  # fastavro writes and reads it as a varint
    decoder = WireDecoder(SchemaName.CUSTODY_EVENT, max_writers=8)
    with pytest.raises(DecodeError, match="out of range"):
        decoder.decode(frame(4, _encode(schema, event)), {4: _writer(4, schema)})


def test_unknown_and_incompatible_schemas_are_told_apart() -> None:
    decoder = WireDecoder(SchemaName.CUSTODY_EVENT, max_writers=8)
    data = frame(5, _encode(_custody(), custody_event()))
    with pytest.raises(UnknownSchema):
        decoder.decode(data, {})
    changed = _custody()
    _field(_subject(changed), "family_name")["type"] = "long"
    with pytest.raises(IncompatibleSchema, match=r"subject\.family_name"):
        decoder.decode(data, {5: _writer(5, changed)})
    with pytest.raises(IncompatibleSchema, match="not an Avro schema"):
        decoder.decode(data, {5: WriterSchema.from_registry(5, "PROTOBUF", "syntax = 'proto3';")})


def test_a_writer_without_an_identifier_field_is_incompatible_although_avro_would_default_it() -> (
    None
):
    renamed = _custody()
    _field(_subject(renamed), "a_number")["name"] = "alien_number"
    decoder = WireDecoder(SchemaName.CUSTODY_EVENT, max_writers=8)
    event = custody_event()
    event["subject"]["alien_number"] = event["subject"].pop("a_number")
    with pytest.raises(IncompatibleSchema, match=r"subject\.a_number"):
        decoder.decode(frame(6, _encode(renamed, event)), {6: _writer(6, renamed)})


def test_failures_never_quote_the_event() -> None:
    decoder = WireDecoder(SchemaName.CUSTODY_EVENT, max_writers=8)
    body = _encode(_v2(), _v2_event())
    failures: list[Exception] = []
    for data, writers in (
        (frame(9, body[:-3]), {9: _writer(9, _v2())}),
        (frame(9, body + b"!"), {9: _writer(9, _v2())}),
        (
            frame(9, body),
            {
                9: _writer(
                    9,
                    {
                        "type": "record",
                        "name": "CustodyStatusChanged",
                        "fields": [{"name": "event_id", "type": "long"}],
                    },
                )
            },
        ),
    ):
        with pytest.raises((DecodeError, IncompatibleSchema)) as caught:
            decoder.decode(data, writers)
        failures.append(caught.value)
    for failure in failures:
        assert failure.__context__ is None and failure.__cause__ is None
        for planted in PLANTED_TEXTS:
            assert planted not in str(failure)


def test_the_decoders_verdicts_are_bounded() -> None:
    decoder = WireDecoder(SchemaName.CUSTODY_EVENT, max_writers=3)
    body = _encode(_v2(), _v2_event())
    for schema_id in range(50):
        decoder.decode(frame(schema_id, body), {schema_id: _writer(schema_id, _v2())})
    assert len(decoder._resolved) == 3
