"""MessageDecider in process: one input message, exactly one decision and its records."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from guard.codec.avro import codec_for
from guard.codec.jsonlines import custody_event_from_json, registry_entry_from_json
from guard.codec.schemas import SchemaName
from guard.decision.engine import DecisionEngine
from guard.identity.blind import Blinder
from guard.identity.keys import identity_keys
from guard.policy.model import Decision, default_policy
from guard.registry.index import RegistryIndex
from guard.registry.model import ProtectionRecord, ProtectionStatus
from guard.stream.decider import BatchContext, InputMessage, MessageDecider, OutputTopics

TOPICS = OutputTopics("public", "audit", "deadletter")
BATCH = BatchContext.now({0: 42})
PLANTED = (b"246813579", b"Zenobia", b"Quillfeather", b"1981", b"CASE-NOTE")


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
    }
    return codec_for(SchemaName.CUSTODY_EVENT).encode(custody_event_from_json(event))


def _decider(*, protect: bool) -> MessageDecider:
    blinder = Blinder(secrets.token_bytes(32), "k1")
    index = RegistryIndex()
    if protect:
        entry = registry_entry_from_json({"record_id": "rec-1", "basis": "T_VISA",
                                          "a_numbers": ["A-246-813-579"]})
        index.apply("rec-1", ProtectionRecord(
            "rec-1", entry.basis, ProtectionStatus.ACTIVE, BATCH.decided_at, BATCH.decided_at,
            "k1", blinder.blind_all(identity_keys(entry.identity))))
    engine = DecisionEngine(blinder, Blinder(secrets.token_bytes(32), "ref"), index,
                            default_policy())
    return MessageDecider(
        engine=engine,
        custody_codec=codec_for(SchemaName.CUSTODY_EVENT),
        notice_codec=codec_for(SchemaName.PUBLIC_NOTICE),
        decision_codec=codec_for(SchemaName.GUARD_DECISION),
        topics=TOPICS,
        policy_version=default_policy().version,
    )


def _audit(outcome: Any) -> dict[str, Any]:
    (record,) = [r for r in outcome.records if r.topic == "audit"]
    assert record.key == b"custody/0/7"
    return codec_for(SchemaName.GUARD_DECISION).decode(record.value)


def test_unprotected_event_gives_a_notice_and_an_audit_record() -> None:
    outcome = _decider(protect=False).decide(
        InputMessage("custody", 0, 7, _event("e1", a_number="A-111-222-333")), BATCH)
    assert outcome.decision is Decision.PUBLISH
    assert sorted(r.topic for r in outcome.records) == ["audit", "public"]
    audit = _audit(outcome)
    assert (audit["decision"], audit["reason"], audit["event_id"]) == ("PUBLISH", "no_match", "e1")
    assert audit["registry_offsets"] == {"0": 42}
    # timestamp-millis: the batch's time, to the millisecond.
    assert abs(audit["decided_at"] - BATCH.decided_at) < timedelta(milliseconds=1)


def test_protected_event_gives_only_an_audit_record_without_plaintext() -> None:
    outcome = _decider(protect=True).decide(
        InputMessage("custody", 0, 7, _event("e2", a_number="a246813579")), BATCH)
    assert outcome.decision is Decision.DROP
    (record,) = outcome.records
    assert record.topic == "audit"
    audit = _audit(outcome)
    assert audit["bases"] == ["T_VISA"] and audit["matched_record_ids"] == ["rec-1"]
    for planted in PLANTED:
        assert planted not in record.value and planted not in (record.key or b"")


def test_undecodable_bytes_go_to_the_dead_letter_with_reason_headers() -> None:
    outcome = _decider(protect=False).decide(InputMessage("custody", 0, 7, b"\x02junk"), BATCH)
    assert (outcome.decision, outcome.reason) == (Decision.REJECT, "undecodable")
    (letter,) = [r for r in outcome.records if r.topic == "deadletter"]
    assert letter.value == b"\x02junk"
    assert letter.key == b"custody/0/7"
    headers = dict(letter.headers)
    assert headers["guard.reason"] == b"undecodable"
    assert headers["guard.input.offset"] == b"7"
    assert _audit(outcome)["event_id"] is None


def test_invalid_a_number_names_the_field_never_the_value() -> None:
    outcome = _decider(protect=False).decide(
        InputMessage("custody", 0, 7, _event("e3", a_number="A-2468")), BATCH)
    assert (outcome.decision, outcome.reason) == (Decision.REJECT, "invalid_a_number")
    (letter,) = [r for r in outcome.records if r.topic == "deadletter"]
    for name, value in letter.headers:
        assert b"2468" not in value, name
