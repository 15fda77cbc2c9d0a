"""The registry record's codec: Avro dict and bytes ↔ ProtectionRecord, strictly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from guard.codec.avro import codec_for
from guard.codec.errors import DecodeError
from guard.codec.schemas import SchemaName
from guard.registry.model import ProtectionBasis, ProtectionRecord, ProtectionStatus
from guard.registry.records import (
    decode_protection_record,
    encode_protection_record,
    protection_record_from_avro,
    protection_record_to_avro,
)

REGISTRY = codec_for(SchemaName.PROTECTION_RECORD)
NOW = datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)
_DELETE = object()


def protection_record() -> ProtectionRecord:
    return ProtectionRecord(
        record_ref="5e" * 32,
        basis=ProtectionBasis.U_VISA,
        status=ProtectionStatus.ACTIVE,
        created_at=NOW,
        updated_at=NOW,
        blinding_key_id="blind-2024-01",
        blinded_keys=frozenset({bytes([i]) * 32 for i in range(3)}),
        weak_keys=frozenset({bytes([i]) * 32 for i in range(3, 5)}),
    )


def test_protection_record_round_trips_through_avro() -> None:
    record = protection_record()
    decoded = REGISTRY.decode(REGISTRY.encode(protection_record_to_avro(record)))
    assert protection_record_from_avro(decoded) == record


def test_protection_record_encoding_is_deterministic() -> None:
    as_dict = protection_record_to_avro(protection_record())
    assert as_dict["blinded_keys"] == sorted(as_dict["blinded_keys"])
    assert as_dict["basis"] == "U_VISA"
    assert as_dict["status"] == "ACTIVE"


def test_from_avro_makes_timestamps_utc() -> None:
    decoded = protection_record_to_avro(protection_record())
    plus_two = timezone(timedelta(hours=2))
    decoded["created_at"] = datetime(2024, 5, 6, 9, 8, 9, 123000, tzinfo=plus_two)
    record = protection_record_from_avro(decoded)
    assert record.created_at == NOW
    assert record.created_at.tzinfo is UTC


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("basis", "GARCIA", "basis: unknown symbol"),
        ("status", "EXPIRED", "status: unknown symbol"),
        ("created_at", datetime(2024, 5, 6), "created_at: must be a time-zone-aware"),
        ("updated_at", "2024-05-06", "updated_at: must be a time-zone-aware"),
        ("blinded_keys", [b"short"], "blinded_keys"),
        ("blinded_keys", "A-012-345-678", "blinded_keys"),
        ("weak_keys", [b"short"], "weak_keys"),
        ("record_ref", None, "record_ref"),
        ("record_ref", _DELETE, r"missing field\(s\): record_ref"),
        ("weak_keys", _DELETE, r"missing field\(s\): weak_keys"),
    ],
)
def test_from_avro_refuses_malformed_records(field: str, value: Any, problem: str) -> None:
    decoded = protection_record_to_avro(protection_record())
    if value is _DELETE:
        del decoded[field]
    else:
        decoded[field] = value
    with pytest.raises(DecodeError, match=problem):
        protection_record_from_avro(decoded)



def test_bytes_round_trip_and_encoding_is_stable() -> None:
    record = protection_record()
    data = encode_protection_record(record)
    assert decode_protection_record(data) == record
    assert encode_protection_record(decode_protection_record(data)) == data
