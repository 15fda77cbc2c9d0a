"""MessageDecider in process: one input message, exactly one decision and its records."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import timedelta
from typing import Any

from guard.codec.avro import codec_for
from guard.codec.jsonlines import custody_event_from_json, registry_entry_from_json
from guard.codec.schemas import SchemaName
from guard.decision.engine import DecisionEngine
from guard.decision.references import event_reference
from guard.decision.verdict import MatchStrength, Reason
from guard.identity.blind import Blinder
from guard.policy.model import Decision, default_policy
from guard.registry.index import RegistryIndex
from guard.registry.writer import blind_entry
from guard.retraction.model import decode_publication
from guard.stream.decider import (
    MAX_COPIED_VALUE_BYTES,
    BatchContext,
    InputMessage,
    MessageDecider,
    OutputTopics,
)

TOPICS = OutputTopics("public", "audit", "deadletter", "review", "publications", "retractions")
BATCH = BatchContext.now({0: 42})
PLANTED = (b"246813579", b"Zenobia", b"Quillfeather", b"1981", b"CASE-NOTE", b"A246813579")
BLINDER = Blinder(secrets.token_bytes(32), "k1")


def _event(event_id: str, **subject: Any) -> bytes:
    event = {
        "event_id": event_id,
        "occurred_at": "2026-11-20T08:00:00Z",
        "source_system": "TEST",
        "subject": {"given_name": "Zenobia", "family_name": "Quillfeather",
                    "date_of_birth": "1981-04-05", **subject},
        "custody": {"status": "IN_CUSTODY", "facility_name": "Krome",
                    "status_changed_at": "2026-11-20T07:55:00Z"},
        "case_notes": "CASE-NOTE internal",
    }  # fmt: skip
    return codec_for(SchemaName.CUSTODY_EVENT).encode(custody_event_from_json(event))


def _decider(*, protect: bool) -> MessageDecider:
    index = RegistryIndex()
    if protect:
        entry = registry_entry_from_json({
            "record_id": "rec-A246813579", "basis": "T_VISA", "a_numbers": ["A-246-813-579"],
            "names": [{"given_name": "Zenobia", "family_name": "Quillfeather"}],
            "date_of_birth": "1981-04-05",
        })  # fmt: skip
        record = blind_entry(BLINDER, entry)
        index.apply(record.record_ref, record)
    engine = DecisionEngine(BLINDER, Blinder(secrets.token_bytes(32), "ref"), index,
                            default_policy())  # fmt: skip
    return MessageDecider(engine, TOPICS)


def _audit(outcome: Any) -> dict[str, Any]:
    (record,) = [r for r in outcome.records if r.topic == "audit"]
    assert record.key == b"custody/0/7"
    return codec_for(SchemaName.GUARD_DECISION).decode(record.value)


def _decide(value: bytes | None, *, protect: bool = False) -> Any:
    return _decider(protect=protect).decide(InputMessage("custody", 0, 7, value), BATCH)


def test_unprotected_event_gives_a_notice_and_an_audit_record() -> None:
    outcome = _decide(_event("e1", a_number="A-111-222-333", given_name="Ana"))
    assert outcome.decision is Decision.PUBLISH
    assert sorted(r.topic for r in outcome.records) == ["audit", "public", "publications"]
    audit = _audit(outcome)
    assert (audit["decision"], audit["reason"]) == ("PUBLISH", "no_match")
    assert audit["stage"] == "DECIDED"
    assert audit["event_ref"] == event_reference(BLINDER, "e1") == outcome.event_ref
    assert audit["registry_offsets"] == {"0": 42}
    # timestamp-millis: the batch's time, to the millisecond.
    assert abs(audit["decided_at"] - BATCH.decided_at) < timedelta(milliseconds=1)
    # The outcome keeps the event's strong keys for the debug line.
    assert outcome.blinded_keys and outcome.blinded_keys == tuple(audit["blinded_keys"])


def test_a_notice_is_remembered_on_its_events_partition_for_a_later_withdrawal() -> None:
    outcome = _decide(_event("e1", a_number="A-111-222-333", given_name="Ana"))
    (notice,) = [r for r in outcome.records if r.topic == "public"]
    (record,) = [r for r in outcome.records if r.topic == "publications"]
    publication = decode_publication(record.value or b"")
    assert record.partition == 0 and record.key == publication.notice_id.encode()
    remembered = outcome.publication
    assert remembered is not None
    # timestamp-millis on the wire: equal to the millisecond.
    assert replace(publication, published_at=remembered.published_at) == remembered
    assert publication.position == "custody/0/7" and not publication.is_redacted
    assert notice.key == publication.subject_ref.encode()
    assert set(publication.blinded_keys) == set(outcome.blinded_keys)
    assert publication.weak_keys  # sound-alike and undated probes, for weak withdrawals
    for planted in (b"111222333", b"Ana"):
        assert planted not in (record.value or b"")


def test_protected_event_gives_only_an_audit_record_without_plaintext() -> None:
    outcome = _decide(_event("e2-A246813579", a_number="a246813579"), protect=True)
    assert outcome.decision is Decision.DROP
    assert outcome.match_strength is MatchStrength.STRONG
    (record,) = outcome.records
    assert record.topic == "audit"
    audit = _audit(outcome)
    assert audit["bases"] == ["T_VISA"] and audit["match_strength"] == "STRONG"
    assert len(audit["matched_record_refs"][0]) == 64  # a keyed reference, not "rec-..."
    for planted in PLANTED:
        assert planted not in record.value and planted not in (record.key or b"")


def test_a_weak_match_is_held_in_the_review_topic_and_audited() -> None:
    raw = _event("e4", a_number="A-999-888-776", given_name="Zenobya", date_of_birth="1981-04-06")
    outcome = _decide(raw, protect=True)
    assert (outcome.decision, outcome.reason) == (Decision.HOLD, Reason.WEAK_MATCH)
    assert sorted(r.topic for r in outcome.records) == ["audit", "review"]
    (held_record,) = [r for r in outcome.records if r.topic == "review"]
    assert held_record.key == b"custody/0/7"
    held = codec_for(SchemaName.HELD_EVENT).decode(held_record.value)
    assert held["event"] == raw and held["event_size"] == len(raw)
    assert (held["reason"], held["match_strength"], held["bases"]) == (
        "weak_match", "WEAK", ["T_VISA"])  # fmt: skip
    assert _audit(outcome)["decision"] == "HOLD"


def test_undecodable_bytes_go_to_the_dead_letter_with_reason_headers() -> None:
    outcome = _decide(b"\x02junk")
    assert (outcome.decision, outcome.reason) == (Decision.REJECT, Reason.UNDECODABLE)
    (letter,) = [r for r in outcome.records if r.topic == "deadletter"]
    assert letter.value == b"\x02junk"
    assert letter.key == b"custody/0/7"
    headers = dict(letter.headers)
    assert headers["guard.reason"] == b"undecodable"
    assert headers["guard.match"] == b"NONE"
    assert headers["guard.input.offset"] == b"7"
    assert _audit(outcome)["event_ref"] is None


def test_a_rejected_event_about_a_protected_person_says_so_in_the_dead_letter() -> None:
    outcome = _decide(_event("e5", a_number="A-2468", given_name="Zenobia"), protect=True)
    assert (outcome.decision, outcome.reason) == (Decision.REJECT, Reason.INVALID_A_NUMBER)
    (letter,) = [r for r in outcome.records if r.topic == "deadletter"]
    assert dict(letter.headers)["guard.match"] == b"STRONG"


def test_invalid_a_number_names_the_field_never_the_value() -> None:
    outcome = _decide(_event("e3", a_number="A-2468"))
    assert (outcome.decision, outcome.reason) == (Decision.REJECT, Reason.INVALID_A_NUMBER)
    (letter,) = [r for r in outcome.records if r.topic == "deadletter"]
    for name, value in letter.headers:
        assert b"2468" not in value, name


def test_a_huge_value_is_not_copied_into_the_dead_letter() -> None:
    huge = b"\x00" * (MAX_COPIED_VALUE_BYTES + 1)
    outcome = _decide(huge)
    (letter,) = [r for r in outcome.records if r.topic == "deadletter"]
    assert letter.value == b""
    assert dict(letter.headers)["guard.value.omitted"] == str(len(huge)).encode()
    assert all(len(record.value) < MAX_COPIED_VALUE_BYTES for record in outcome.records)


def test_an_empty_value_is_rejected() -> None:
    outcome = _decide(None)
    assert (outcome.decision, outcome.reason) == (Decision.REJECT, Reason.EMPTY_VALUE)
