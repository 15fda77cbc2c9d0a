"""The engine on worked examples: each verdict, each reason, each rejection."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from decision_builders import (
    REGISTRY_BLINDER,
    SUBJECT_REF_BLINDER,
    custody_event,
    engine_for,
    protection_record,
)

from guard.decision.engine import DecisionEngine, Reason, Verdict
from guard.decision.verdict import MatchStrength
from guard.identity.blind import Blinder
from guard.identity.errors import KeyMaterialError
from guard.identity.model import Identity, PersonName
from guard.policy.model import Decision, Policy, default_policy
from guard.registry.index import RegistryIndex
from guard.registry.model import Match, ProtectionBasis, ProtectionStatus

DOB = date(1980, 2, 3)
JOSE = Identity(
    a_numbers=("A-012-345-678", "98765432"),
    fbi_numbers=("123456AB1",),
    fins_numbers=("9-8-7",),
    names=(PersonName("José", "GARCÍA LÓPEZ"), PersonName("Pepe", "Ruiz")),
    date_of_birth=DOB,
)
REDACT_U_VISA = Policy("2026-11-01", {ProtectionBasis.U_VISA: Decision.REDACT})


def index_with(*entries: tuple[str, Identity, ProtectionBasis]) -> RegistryIndex:
    index = RegistryIndex()
    for record_id, identity, basis in entries:
        index.apply(record_id, protection_record(record_id, identity, basis=basis))
    return index


def decide(event: dict[str, Any], policy: Policy | None = None) -> Verdict:
    index = index_with(("rec-jose", JOSE, ProtectionBasis.U_VISA))
    return engine_for(index, policy).decide(event)


@pytest.mark.parametrize(
    "event",
    [
        custody_event(a_number="012345678"),
        custody_event(a_number="a12345678"),
        custody_event(a_number="A 12 345 678"),
        custody_event(a_number="A-098-765-432"),
        custody_event(fbi_number="123456-ab-1"),
        custody_event(fins_number="987"),
        custody_event(given_name="Jose", family_name="Garcia", date_of_birth=DOB),
        custody_event(given_name="JOSE", family_name="lopez", date_of_birth=DOB),
        custody_event(given_name="Garcia", family_name="Jose", date_of_birth=DOB),
        custody_event(given_name="José", middle_name="Luis Ángel", family_name="García-López",
                      date_of_birth=DOB),
        custody_event(given_name="Pepe", family_name="RUIZ", date_of_birth=DOB),
        custody_event(aliases=(("Pepé", "Ruíz"),), date_of_birth=DOB),
    ],
    ids=["canonical", "lower-a", "spaces", "second-a-number", "fbi", "fins", "fewer-names",
         "other-family-token", "swapped", "extra-middle", "alias-as-primary", "alias-listed"],
)
def test_protected_person_is_dropped(event: dict[str, Any]) -> None:
    verdict = decide(event)
    assert verdict.decision is Decision.DROP
    assert verdict.reason is Reason.PROTECTED
    assert verdict.matches == (Match("rec-jose", ProtectionBasis.U_VISA),)
    assert verdict.match_strength is MatchStrength.STRONG
    assert verdict.notice is None and verdict.notice_key is None
    assert verdict.policy_version == "default-drop-all"
    assert verdict.event_id == "evt-1"


def test_name_with_another_date_of_birth_is_published() -> None:
    event = custody_event(given_name="José", family_name="García López",
                          date_of_birth=date(1983, 7, 19))
    assert decide(event).decision is Decision.PUBLISH


@pytest.mark.parametrize(
    "event",
    [
        custody_event(given_name="José", family_name="García", date_of_birth=date(1980, 2, 4)),
        custody_event(given_name="José", family_name="García", date_of_birth=date(1980, 3, 2)),
        custody_event(given_name="Jose", family_name="Garsia", date_of_birth=DOB),
        custody_event(given_name="José", family_name="García López"),
        custody_event(given_name="FNU", family_name="García", date_of_birth=DOB,
                      a_number="A-555-666-777"),
    ],
    ids=["one-day-off", "day-month-swapped", "sound-alike", "no-date", "given-unknown"],
)
def test_weak_evidence_only_is_held(event: dict[str, Any]) -> None:
    if event["subject"]["date_of_birth"] is None:
        event["subject"]["a_number"] = "A-555-666-777"  # checkable by its number
    verdict = decide(event)
    assert verdict.decision is Decision.HOLD
    assert verdict.reason is Reason.WEAK_MATCH
    assert verdict.match_strength is MatchStrength.WEAK
    assert verdict.matched_record_refs == ("rec-jose",)
    assert verdict.notice is None


def test_a_policy_may_drop_weak_matches_instead_of_holding_them() -> None:
    policy = Policy("no-reviewers", {}, weak_match=Decision.DROP)
    verdict = decide(custody_event(given_name="Jose", family_name="Garsia", date_of_birth=DOB),
                     policy)  # fmt: skip
    assert (verdict.decision, verdict.reason) == (Decision.DROP, Reason.WEAK_MATCH)


def test_unprotected_person_is_published_with_a_notice() -> None:
    verdict = decide(custody_event(a_number="A-222-333-444", given_name="Ana", family_name="Ruiz"))
    assert verdict.decision is Decision.PUBLISH
    assert verdict.reason is Reason.NO_MATCH
    assert verdict.matches == ()
    assert verdict.match_strength is MatchStrength.NONE
    assert verdict.notice is not None
    assert verdict.notice["a_number"] == "222333444"
    assert verdict.notice["given_name"] == "Ana"
    assert verdict.notice_key == verdict.notice["subject_ref"].encode("ascii")
    assert verdict.notice["subject_ref"] == SUBJECT_REF_BLINDER.blind("a:222333444").hex()
    assert verdict.notice["notice_id"] == SUBJECT_REF_BLINDER.blind("notice:evt-1").hex()


def test_blinded_keys_are_the_sorted_registry_blindings() -> None:
    event = custody_event(a_number="222333444", fbi_number="X1", given_name="Ana",
                          family_name="Ruiz", date_of_birth=DOB)
    verdict = decide(event)
    expected = sorted(
        REGISTRY_BLINDER.blind(key)
        for key in ("a:222333444", "fbi:X1", "name:ana ruiz|1980-02-03")
    )
    assert list(verdict.strong_keys) == expected
    assert list(verdict.weak_keys) == sorted(verdict.weak_keys)
    assert REGISTRY_BLINDER.blind("ru:ana ruiz") in verdict.weak_keys
    assert not set(verdict.strong_keys) & set(verdict.weak_keys)


def test_redact_policy_gives_a_redacted_notice() -> None:
    verdict = decide(custody_event(a_number="012345678"), REDACT_U_VISA)
    assert verdict.decision is Decision.REDACT
    assert verdict.reason is Reason.PROTECTED_REDACT_ALLOWED
    assert verdict.notice is not None
    assert verdict.notice["redacted"] is True
    assert verdict.notice["a_number"] is None
    assert verdict.notice["given_name"] is None
    assert verdict.notice_key == verdict.notice["subject_ref"].encode("ascii")
    assert verdict.policy_version == "2026-11-01"


def test_drop_basis_beats_redact_basis_across_records() -> None:
    index = index_with(
        ("rec-jose", JOSE, ProtectionBasis.U_VISA),
        ("rec-dup", Identity(a_numbers=("12345678",)), ProtectionBasis.T_VISA),
    )
    verdict = engine_for(index, REDACT_U_VISA).decide(custody_event(a_number="012345678"))
    assert verdict.decision is Decision.DROP
    assert verdict.bases == ("T_VISA", "U_VISA")
    assert verdict.matched_record_refs == ("rec-dup", "rec-jose")


def test_revoked_protection_publishes_again() -> None:
    index = index_with(("rec-jose", JOSE, ProtectionBasis.U_VISA))
    engine = engine_for(index)
    event = custody_event(a_number="012345678")
    assert engine.decide(event).decision is Decision.DROP
    index.apply("rec-jose", protection_record("rec-jose", JOSE, status=ProtectionStatus.REVOKED))
    assert engine.decide(event).decision is Decision.PUBLISH


@pytest.mark.parametrize("a_number", ["123456", "A-012-345-678-9", "1234567890"])
def test_invalid_a_number_is_rejected_but_still_checked(a_number: str) -> None:
    event = custody_event(a_number=a_number, given_name="Jose", family_name="Garcia",
                          date_of_birth=DOB)
    verdict = decide(event)
    assert verdict.decision is Decision.REJECT
    assert verdict.reason is Reason.INVALID_A_NUMBER
    assert verdict.invalid_field == "a_number"
    assert verdict.matched_record_refs == ("rec-jose",)  # the audit still sees who it was
    assert verdict.notice is None


def test_event_without_any_checkable_identifier_is_rejected() -> None:
    verdict = decide(custody_event(a_number="A-", given_name="Ana", family_name="Ruiz"))
    assert verdict.decision is Decision.REJECT
    assert verdict.reason is Reason.NO_CHECKABLE_IDENTIFIER
    assert verdict.strong_keys == ()


def _without(event: dict[str, Any], *path: str) -> dict[str, Any]:
    target = event
    for name in path[:-1]:
        target = target[name]
    del target[path[-1]]
    return event


def _with(event: dict[str, Any], value: Any, *path: str) -> dict[str, Any]:
    target = event
    for name in path[:-1]:
        target = target[name]
    target[path[-1]] = value
    return event


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (_without(custody_event(a_number="1234567"), "event_id"), "event_id"),
        (_with(custody_event(a_number="1234567"), "", "event_id"), "event_id"),
        (_with(custody_event(a_number="1234567"), 17, "event_id"), "event_id"),
        (_without(custody_event(a_number="1234567"), "subject"), "subject"),
        (_with(custody_event(a_number="1234567"), 1234567, "subject", "a_number"),
         "subject.a_number"),
        (_without(custody_event(a_number="1234567"), "custody"), "custody"),
        (_with(custody_event(a_number="1234567"), "ON_VACATION", "custody", "status"),
         "custody.status"),
        (_with(custody_event(a_number="1234567"), 3, "custody", "facility_city"),
         "custody.facility_city"),
        (_with(custody_event(a_number="1234567"), datetime(2026, 1, 1), "occurred_at"),
         "occurred_at"),
        (_with(custody_event(a_number="1234567"), 1767225600000, "custody", "status_changed_at"),
         "custody.status_changed_at"),
    ],
)
def test_malformed_event_is_rejected_naming_the_field(event: dict[str, Any], field: str) -> None:
    verdict = decide(event)
    assert verdict.decision is Decision.REJECT
    assert verdict.reason is Reason.INVALID_EVENT
    assert verdict.invalid_field == field


@pytest.mark.parametrize("event", [None, [], "event", 42, b"\x00"])
def test_non_record_event_is_rejected(event: Any) -> None:
    verdict = decide(event)
    assert verdict.decision is Decision.REJECT
    assert verdict.reason is Reason.INVALID_EVENT
    assert verdict.event_id is None


def test_malformed_custody_of_a_protected_person_keeps_the_match() -> None:
    event = _with(custody_event(a_number="012345678"), "BAD", "custody", "status")
    verdict = decide(event)
    assert verdict.reason is Reason.INVALID_EVENT
    assert verdict.matched_record_refs == ("rec-jose",)


class _BrokenIndex(RegistryIndex):
    def match_graded(
        self, strong_probes: Iterable[bytes], weak_probes: Iterable[bytes]
    ) -> tuple[Match, ...]:
        raise LookupError("broken for a test")


def test_unexpected_failure_becomes_internal_error(caplog: pytest.LogCaptureFixture) -> None:
    engine = engine_for(_BrokenIndex())
    with caplog.at_level(logging.ERROR):
        verdict = engine.decide(custody_event(a_number="012345678"))
    assert verdict.decision is Decision.REJECT
    assert verdict.reason is Reason.INTERNAL_ERROR
    assert verdict.error_type == "LookupError"
    assert "broken for a test" not in repr(verdict)
    assert "LookupError" in caplog.text
    assert "broken for a test" not in caplog.text


def test_engine_refuses_one_secret_for_both_jobs() -> None:
    same = Blinder(bytes(range(32)), "other-id")
    with pytest.raises(KeyMaterialError):
        DecisionEngine(REGISTRY_BLINDER, same, RegistryIndex(), default_policy())


def test_verdict_vocabulary_is_fixed() -> None:
    assert {reason.value for reason in Reason} == {
        "no_match", "protected", "protected_redact_allowed", "weak_match", "invalid_a_number",
        "invalid_identifier", "invalid_event", "no_checkable_identifier", "identity_too_large",
        "internal_error", "undecodable", "empty_value", "notice_unencodable", "review_released",
        "review_confirmed", "review_now_protected", "retracted", "unknown_schema",
        "incompatible_schema",
    }


def test_decision_time_fields_pass_through() -> None:
    verdict = decide(custody_event(a_number="222333444"))
    assert verdict.notice is not None
    assert verdict.notice["occurred_at"] == datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)
