"""fastavro and the official ``avro`` package agree byte for byte on every schema.

Upstream producers and downstream consumers may use other Avro implementations;
the official package stands in for them here.
"""

from __future__ import annotations

import io
import json
from typing import Any

import avro.errors
import avro.io
import avro.schema
import pytest
from codec_samples import (
    custody_event,
    guard_decision,
    held_event,
    protection_record,
    public_notice,
)
from codec_strategies import (
    custody_events,
    guard_decisions,
    held_events,
    protection_records,
    public_notices,
    publications,
    retractions,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from guard.codec.avro import codec_for
from guard.codec.errors import DecodeError
from guard.codec.schemas import SchemaName, load_schema
from guard.registry.records import protection_record_to_avro

STRATEGIES: dict[SchemaName, st.SearchStrategy[dict[str, Any]]] = {
    SchemaName.CUSTODY_EVENT: custody_events,
    SchemaName.PROTECTION_RECORD: protection_records,
    SchemaName.PUBLIC_NOTICE: public_notices,
    SchemaName.GUARD_DECISION: guard_decisions,
    SchemaName.HELD_EVENT: held_events,
    SchemaName.PUBLICATION: publications,
    SchemaName.RETRACTION: retractions,
}


def official_schema(name: SchemaName) -> avro.schema.Schema:
    return avro.schema.parse(json.dumps(load_schema(name).raw))


def official_encode(name: SchemaName, record: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    avro.io.DatumWriter(official_schema(name)).write(record, avro.io.BinaryEncoder(buffer))
    return buffer.getvalue()


def official_decode(name: SchemaName, data: bytes) -> Any:
    schema = official_schema(name)
    buffer = io.BytesIO(data)
    decoded = avro.io.DatumReader(schema, schema).read(avro.io.BinaryDecoder(buffer))
    assert buffer.tell() == len(data)
    return decoded


def samples() -> list[tuple[SchemaName, dict[str, Any]]]:
    return [
        (SchemaName.CUSTODY_EVENT, custody_event()),
        (SchemaName.PROTECTION_RECORD, protection_record_to_avro(protection_record())),
        (SchemaName.PUBLIC_NOTICE, public_notice()),
        (SchemaName.GUARD_DECISION, guard_decision()),
        (SchemaName.HELD_EVENT, held_event()),
    ]


@pytest.mark.parametrize(("name", "record"), samples())
def test_sample_bytes_are_identical_and_cross_decode(
    name: SchemaName, record: dict[str, Any]
) -> None:
    ours = codec_for(name).encode(record)
    theirs = official_encode(name, record)
    assert ours == theirs
    assert official_decode(name, ours) == record
    assert codec_for(name).decode(theirs) == record


@pytest.mark.parametrize("name", list(SchemaName))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_generated_records_are_byte_identical(name: SchemaName, data: st.DataObject) -> None:
    record = data.draw(STRATEGIES[name])
    ours = codec_for(name).encode(record)
    assert official_encode(name, record) == ours
    assert official_decode(name, ours) == record
    assert codec_for(name).decode(ours) == record


def test_both_refuse_a_negative_enum_index() -> None:
    """The official reader refuses what fastavro alone would read as REVOKED."""
    record = protection_record_to_avro(protection_record()) | {"record_ref": "r1"}
    data = codec_for(SchemaName.PROTECTION_RECORD).encode(record)
    forged = data[:4] + b"\x01" + data[5:]  # status index -1
    with pytest.raises(avro.errors.AvroException):
        official_decode(SchemaName.PROTECTION_RECORD, forged)
    with pytest.raises(DecodeError):
        codec_for(SchemaName.PROTECTION_RECORD).decode(forged)
