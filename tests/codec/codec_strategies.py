"""Hypothesis strategies for records of every schema."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from hypothesis import strategies as st

from guard.decision.event import CUSTODY_STATUSES

# Avro timestamp-millis keeps milliseconds: generate exactly what can round-trip.
timestamps = st.datetimes(timezones=st.just(UTC)).map(
    lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000)
)
texts = st.text(max_size=40)
optional_texts = st.none() | texts


def _record(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(fields)


aliases = _record(given_name=texts, family_name=texts)

custody_events = _record(
    event_id=texts,
    occurred_at=timestamps,
    source_system=texts,
    subject=_record(
        a_number=optional_texts,
        fbi_number=optional_texts,
        fins_number=optional_texts,
        given_name=texts,
        middle_name=optional_texts,
        family_name=texts,
        aliases=st.lists(aliases, max_size=4),
        date_of_birth=st.none() | st.dates(),
        country_of_birth=optional_texts,
    ),
    custody=_record(
        status=st.sampled_from(CUSTODY_STATUSES),
        facility_code=optional_texts,
        facility_name=optional_texts,
        facility_city=optional_texts,
        facility_state=optional_texts,
        status_changed_at=timestamps,
    ),
    case_notes=optional_texts,
)

blinded_keys = st.binary(min_size=32, max_size=32)

protection_records = _record(
    record_ref=texts,
    basis=st.sampled_from(
        ["VAWA_SELF_PETITION", "T_VISA", "U_VISA", "BATTERED_SPOUSE_OR_CHILD", "OTHER_1367"]
    ),
    status=st.sampled_from(["ACTIVE", "REVOKED"]),
    created_at=timestamps,
    updated_at=timestamps,
    blinding_key_id=texts,
    blinded_keys=st.lists(blinded_keys, max_size=5),
    weak_keys=st.lists(blinded_keys, max_size=5),
)

public_notices = _record(
    notice_id=texts,
    subject_ref=texts,
    redacted=st.booleans(),
    a_number=optional_texts,
    given_name=optional_texts,
    family_name=optional_texts,
    custody_status=st.sampled_from(CUSTODY_STATUSES),
    facility_code=optional_texts,
    facility_name=optional_texts,
    facility_city=optional_texts,
    facility_state=optional_texts,
    status_changed_at=timestamps,
    occurred_at=timestamps,
)

longs = st.integers(min_value=-(2**63), max_value=2**63 - 1)

guard_decisions = _record(
    input_topic=texts,
    input_partition=st.integers(min_value=-(2**31), max_value=2**31 - 1),
    input_offset=longs,
    event_ref=optional_texts,
    stage=st.sampled_from(["DECIDED", "REVIEWED", "RETRACTED"]),
    decision=st.sampled_from(["PUBLISH", "DROP", "REDACT", "REJECT", "HOLD"]),
    reason=texts,
    match_strength=st.sampled_from(["NONE", "WEAK", "STRONG"]),
    bases=st.lists(texts, max_size=3),
    matched_record_refs=st.lists(texts, max_size=3),
    blinded_keys=st.lists(blinded_keys, max_size=3),
    weak_keys=st.lists(blinded_keys, max_size=3),
    policy_version=texts,
    registry_offsets=st.dictionaries(texts, longs, max_size=4),
    decided_at=timestamps,
    actor=optional_texts,
)

held_events = _record(
    input_topic=texts,
    input_partition=st.integers(min_value=-(2**31), max_value=2**31 - 1),
    input_offset=longs,
    event_ref=optional_texts,
    held_at=timestamps,
    reason=texts,
    match_strength=st.sampled_from(["NONE", "WEAK", "STRONG"]),
    bases=st.lists(texts, max_size=3),
    matched_record_refs=st.lists(texts, max_size=3),
    policy_version=texts,
    registry_offsets=st.dictionaries(texts, longs, max_size=4),
    event=st.none() | st.binary(max_size=64),
    event_size=st.integers(min_value=0, max_value=2**31 - 1),
)


publications = _record(
    notice_id=texts,
    subject_ref=texts,
    redacted=st.booleans(),
    reviewed=st.booleans(),
    input_topic=texts,
    input_partition=st.integers(min_value=-(2**31), max_value=2**31 - 1),
    input_offset=longs,
    blinded_keys=st.lists(blinded_keys, max_size=3),
    weak_keys=st.lists(blinded_keys, max_size=3),
    published_at=timestamps,
)

retractions = _record(notice_id=texts, subject_ref=texts, retracted_at=timestamps)
