"""Every schema's records survive encode -> decode unchanged."""

from __future__ import annotations

from typing import Any

import pytest
from codec_samples import custody_event, guard_decision, public_notice
from codec_strategies import custody_events, guard_decisions, protection_records, public_notices
from hypothesis import given, settings

from guard.codec.avro import AvroCodec, codec_for
from guard.codec.schemas import SchemaName

CUSTODY = codec_for(SchemaName.CUSTODY_EVENT)


@settings(max_examples=300)
@given(custody_events)
def test_custody_event_round_trip(event: dict[str, Any]) -> None:
    assert CUSTODY.decode(CUSTODY.encode(event)) == event


@given(protection_records)
def test_protection_record_round_trip(record: dict[str, Any]) -> None:
    codec = codec_for(SchemaName.PROTECTION_RECORD)
    assert codec.decode(codec.encode(record)) == record


@given(public_notices)
def test_public_notice_round_trip(notice: dict[str, Any]) -> None:
    codec = codec_for(SchemaName.PUBLIC_NOTICE)
    assert codec.decode(codec.encode(notice)) == notice


@given(guard_decisions)
def test_guard_decision_round_trip(decision: dict[str, Any]) -> None:
    codec = codec_for(SchemaName.GUARD_DECISION)
    assert codec.decode(codec.encode(decision)) == decision


def test_decoded_timestamps_are_utc_aware_and_dates_are_dates() -> None:
    decoded = CUSTODY.decode(CUSTODY.encode(custody_event()))
    assert decoded["occurred_at"].utcoffset() is not None
    assert decoded["occurred_at"].utcoffset().total_seconds() == 0
    assert type(decoded["subject"]["date_of_birth"]).__name__ == "date"


def test_fields_with_schema_defaults_may_be_omitted() -> None:
    event = custody_event()
    for name in ("a_number", "fbi_number", "fins_number", "middle_name", "aliases"):
        del event["subject"][name]
    del event["case_notes"]
    decoded = CUSTODY.decode(CUSTODY.encode(event))
    assert decoded["subject"]["a_number"] is None
    assert decoded["subject"]["aliases"] == []
    assert decoded["case_notes"] is None


def test_non_utc_zone_is_converted_not_shifted() -> None:
    from datetime import datetime, timedelta, timezone

    event = custody_event()
    eastern = timezone(timedelta(hours=-5))
    event["occurred_at"] = datetime(2024, 5, 6, 2, 8, 9, 123000, tzinfo=eastern)
    decoded = CUSTODY.decode(CUSTODY.encode(event))
    assert decoded["occurred_at"] == event["occurred_at"]
    assert decoded["occurred_at"].hour == 7


@pytest.mark.parametrize(
    ("name", "record"),
    [
        (SchemaName.CUSTODY_EVENT, custody_event()),
        (SchemaName.PUBLIC_NOTICE, public_notice()),
        (SchemaName.GUARD_DECISION, guard_decision()),
    ],
)
def test_codec_for_shares_one_instance(name: SchemaName, record: dict[str, Any]) -> None:
    codec = codec_for(name)
    assert codec is codec_for(name)
    assert isinstance(codec, AvroCodec)
    assert AvroCodec(name).encode(record) == codec.encode(record)


def test_bytearray_and_memoryview_inputs_decode() -> None:
    data = CUSTODY.encode(custody_event())
    assert CUSTODY.decode(bytearray(data)) == CUSTODY.decode(data)  # type: ignore[arg-type]
    assert CUSTODY.decode(memoryview(data)) == CUSTODY.decode(data)  # type: ignore[arg-type]
