"""Bytes and records the codec must refuse, and what it refuses them with.

Several cases are ones fastavro itself accepts; those tests first show that,
so that they fail if the codec's own checks are ever removed.
"""

from __future__ import annotations

import io
import os
from datetime import datetime
from typing import Any

import pytest
from codec_samples import (
    NOW,
    custody_event,
    guard_decision,
    protection_record,
    public_notice,
)
from fastavro import schemaless_reader
from hypothesis import given, settings
from hypothesis import strategies as st

from guard.codec.avro import codec_for
from guard.codec.errors import DecodeError, EncodeError
from guard.codec.schemas import SchemaName, load_schema
from guard.registry.records import protection_record_to_avro

CUSTODY = codec_for(SchemaName.CUSTODY_EVENT)
REGISTRY = codec_for(SchemaName.PROTECTION_RECORD)
NOTICE = codec_for(SchemaName.PUBLIC_NOTICE)
DECISION = codec_for(SchemaName.GUARD_DECISION)


def zigzag(value: int) -> bytes:
    """Avro's variable-length zig-zag encoding of a long."""
    number = (value << 1) ^ (value >> 63)
    out = bytearray()
    while number > 0x7F:
        out.append((number & 0x7F) | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)


def registry_bytes() -> bytes:
    """A registry record whose first bytes are known: 04 'r1' <basis> <status> ..."""
    record = protection_record_to_avro(protection_record())
    record["record_ref"] = "r1"
    record["status"] = "ACTIVE"
    data = REGISTRY.encode(record)
    assert data[:5] == b"\x04r1" + zigzag(2) + zigzag(0)  # U_VISA is symbol 2
    return data


def notice_bytes() -> bytes:
    """A notice whose first bytes are known: 02 'n' 02 'r' <redacted> <a_number union> ..."""
    notice = public_notice() | {"notice_id": "n", "subject_ref": "r", "a_number": None}
    data = NOTICE.encode(notice)
    assert data[:6] == b"\x02n\x02r\x00\x00"
    return data


def fastavro_alone(codec_name: SchemaName, data: bytes) -> dict[str, Any]:
    result = schemaless_reader(io.BytesIO(data), load_schema(codec_name).parsed, None)
    assert isinstance(result, dict)
    return result


# --- decoding -----------------------------------------------------------------


def test_every_truncation_of_an_event_is_refused() -> None:
    data = CUSTODY.encode(custody_event())
    for length in range(len(data)):
        with pytest.raises(DecodeError) as caught:
            CUSTODY.decode(data[:length])
        assert caught.value.schema_name == SchemaName.CUSTODY_EVENT.value


@pytest.mark.parametrize("garbage", [b"\x00", b"\x02x", os.urandom(16)])
def test_trailing_bytes_are_refused(garbage: bytes) -> None:
    data = CUSTODY.encode(custody_event())
    with pytest.raises(DecodeError, match="trailing bytes"):
        CUSTODY.decode(data + garbage)


def test_negative_enum_index_is_refused_though_fastavro_reads_it_as_revoked() -> None:
    data = registry_bytes()
    minus_one = data[:4] + zigzag(-1) + data[5:]
    assert fastavro_alone(SchemaName.PROTECTION_RECORD, minus_one)["status"] == "REVOKED"
    with pytest.raises(DecodeError, match="non-canonical"):
        REGISTRY.decode(minus_one)


@pytest.mark.parametrize("index", [2, 3, 63, -3, -100])
def test_status_index_outside_the_symbols_is_refused(index: int) -> None:
    data = registry_bytes()
    with pytest.raises(DecodeError):
        REGISTRY.decode(data[:4] + zigzag(index) + data[5:])


@pytest.mark.parametrize("index", [5, 6, -1, -5])
def test_basis_index_outside_the_symbols_is_refused(index: int) -> None:
    data = registry_bytes()
    assert REGISTRY.decode(data[:3] + zigzag(4) + data[4:])["basis"] == "OTHER_1367"
    with pytest.raises(DecodeError):
        REGISTRY.decode(data[:3] + zigzag(index) + data[4:])


def test_custody_status_index_outside_the_symbols_is_refused() -> None:
    event = custody_event()
    event["custody"] = event["custody"] | {"facility_code": None, "facility_name": None}
    event["custody"] |= {"facility_city": None, "facility_state": None}
    data = CUSTODY.encode(event)
    status_byte = zigzag(0)  # IN_CUSTODY
    tail = status_byte + b"\x00" * 4 + zigzag(int(NOW.timestamp() * 1000))
    position = data.rindex(tail)
    unknown = data[:position] + zigzag(6) + data[position + 1 :]
    assert CUSTODY.decode(unknown)["custody"]["status"] == "UNKNOWN"  # the right byte
    for index in (7, -1):
        with pytest.raises(DecodeError):
            CUSTODY.decode(data[:position] + zigzag(index) + data[position + 1 :])


def test_negative_union_index_is_refused_though_fastavro_picks_the_last_branch() -> None:
    data = notice_bytes()
    forged = data[:5] + zigzag(-1) + b"\x02X" + data[6:]
    assert fastavro_alone(SchemaName.PUBLIC_NOTICE, forged)["a_number"] == "X"
    with pytest.raises(DecodeError, match="non-canonical"):
        NOTICE.decode(forged)


def test_union_index_past_the_branches_is_refused() -> None:
    data = notice_bytes()
    with pytest.raises(DecodeError):
        NOTICE.decode(data[:5] + zigzag(2) + data[6:])


def test_boolean_other_than_0_or_1_is_refused() -> None:
    data = notice_bytes()
    forged = data[:4] + b"\x02" + data[5:]
    assert fastavro_alone(SchemaName.PUBLIC_NOTICE, forged)["redacted"] is True
    with pytest.raises(DecodeError, match="non-canonical"):
        NOTICE.decode(forged)


def test_over_long_varint_is_refused() -> None:
    data = notice_bytes()
    forged = b"\x82\x00" + data[1:]  # length 1 written in two bytes
    assert fastavro_alone(SchemaName.PUBLIC_NOTICE, forged)["notice_id"] == "n"
    with pytest.raises(DecodeError, match="non-canonical"):
        NOTICE.decode(forged)


def test_int_field_holding_a_long_is_refused() -> None:
    decision = guard_decision() | {"input_topic": "t", "input_partition": 0}
    data = DECISION.encode(decision)
    assert data[:3] == b"\x02t\x00"
    forged = data[:2] + zigzag(2**40) + data[3:]
    assert fastavro_alone(SchemaName.GUARD_DECISION, forged)["input_partition"] == 2**40
    with pytest.raises(DecodeError, match="input_partition: out of range"):
        DECISION.decode(forged)


def test_duplicate_map_keys_are_refused() -> None:
    decision = guard_decision() | {"registry_offsets": {"0": 1, "1": 2}}
    data = DECISION.encode(decision)
    entry_one, entry_two = b"\x020" + zigzag(1), b"\x021" + zigzag(2)
    assert entry_one + entry_two in data
    forged = data.replace(entry_one + entry_two, entry_one + b"\x020" + zigzag(2))
    with pytest.raises(DecodeError, match="non-canonical"):
        DECISION.decode(forged)


def test_non_utf8_string_is_refused() -> None:
    data = registry_bytes()
    with pytest.raises(DecodeError, match="UnicodeDecodeError"):
        REGISTRY.decode(b"\x04\xff\xfe" + data[3:])


def test_array_split_into_blocks_is_refused_though_valid_avro() -> None:
    """A known limit of the canonical-encoding check, pinned so it is not forgotten."""
    record = protection_record_to_avro(protection_record())
    record["blinded_keys"] = record["weak_keys"] = []
    empty = REGISTRY.encode(record)  # ends with the two empty arrays: 00 00
    first, second = b"\x01" * 32, b"\x02" * 32
    two_blocks = empty[:-2] + zigzag(1) + first + zigzag(1) + second + b"\x00\x00"
    assert fastavro_alone(SchemaName.PROTECTION_RECORD, two_blocks)["blinded_keys"] == [
        first,
        second,
    ]
    with pytest.raises(DecodeError, match="non-canonical"):
        REGISTRY.decode(two_blocks)


@pytest.mark.parametrize("not_bytes", [None, "text", 17])
def test_non_bytes_input_is_refused(not_bytes: Any) -> None:
    with pytest.raises(DecodeError, match="not bytes"):
        CUSTODY.decode(not_bytes)


@pytest.mark.parametrize("name", list(SchemaName))
@settings(max_examples=200)
@given(data=st.binary(max_size=300))
def test_random_bytes_decode_or_raise_decode_error_only(name: SchemaName, data: bytes) -> None:
    codec = codec_for(name)
    try:
        decoded = codec.decode(data)
    except DecodeError:
        return
    assert codec.encode(decoded) == data


@settings(max_examples=500)
@given(st.data())
def test_mutated_events_decode_exactly_or_raise_decode_error(draw: st.DataObject) -> None:
    original = bytearray(CUSTODY.encode(custody_event()))
    for _ in range(draw.draw(st.integers(1, 4))):
        position = draw.draw(st.integers(0, len(original) - 1))
        action = draw.draw(st.sampled_from(["set", "insert", "delete"]))
        if action == "set":
            original[position] = draw.draw(st.integers(0, 255))
        elif action == "insert":
            original.insert(position, draw.draw(st.integers(0, 255)))
        elif len(original) > 1:
            del original[position]
    data = bytes(original)
    try:
        decoded = CUSTODY.decode(data)
    except DecodeError:
        return
    assert CUSTODY.encode(decoded) == data


# --- encoding -----------------------------------------------------------------


def _event_with(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    event = custody_event()
    target = event
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return event


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        (("subject", "given_name"), 17, "subject.given_name: wrong type"),
        (("subject", "a_number"), 12345678, "a_number: wrong type"),
        (("custody", "status"), "GARCIA", "does not fit"),
        (("subject", "date_of_birth"), "GARCIA", "does not fit"),
        (("subject", "aliases"), ["GARCIA"], "keys the schema does not declare"),
        (("subject", "GARCIA"), "x", "keys the schema does not declare"),
        (("subject", "family_name"), "GARCIA\ud800", "does not fit"),
        (("occurred_at",), "2024-05-06", "occurred_at: wrong type"),
        (("occurred_at",), datetime(2024, 5, 6), "occurred_at: timestamp has no time zone"),
        (
            ("custody", "status_changed_at"),
            datetime(2024, 5, 6),
            "custody.status_changed_at: timestamp has no time zone",
        ),
    ],
)
def test_ill_formed_event_is_an_encode_error(
    path: tuple[str, ...], value: Any, problem: str
) -> None:
    with pytest.raises(EncodeError, match=problem) as caught:
        CUSTODY.encode(_event_with(path, value))
    assert caught.value.schema_name == SchemaName.CUSTODY_EVENT.value


def test_missing_required_field_is_named() -> None:
    event = custody_event()
    del event["subject"]["family_name"]
    with pytest.raises(EncodeError, match="family_name: missing field"):
        CUSTODY.encode(event)


def test_not_a_mapping_is_an_encode_error() -> None:
    with pytest.raises(EncodeError):
        CUSTODY.encode("GARCIA")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("input_partition", 2**31, "input_partition: out of range for an Avro int"),
        ("input_partition", -(2**31) - 1, "out of range"),
        ("input_partition", True, "input_partition: must be an integer"),
        ("input_partition", 1.5, "must be an integer"),
        ("input_offset", 2**63, "input_offset: out of range for an Avro long"),
        ("registry_offsets", {"0": 2**63}, r"registry_offsets\[\]: out of range"),
        ("registry_offsets", {"0": False}, r"registry_offsets\[\]: must be an integer"),
        ("decided_at", datetime(2024, 1, 1), "decided_at: timestamp has no time zone"),
        ("blinded_keys", [b"A-012-345-678"], "does not fit"),
        ("decision", "GARCIA", "does not fit"),
    ],
)
def test_ill_formed_decision_is_an_encode_error(field: str, value: Any, problem: str) -> None:
    with pytest.raises(EncodeError, match=problem):
        DECISION.encode(guard_decision() | {field: value})


def test_integer_bounds_themselves_encode() -> None:
    decision = guard_decision() | {"input_partition": 2**31 - 1, "input_offset": -(2**63)}
    assert DECISION.decode(DECISION.encode(decision)) == decision
