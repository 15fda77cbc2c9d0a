"""No planted identifier shows up in any repr, str, exception message or log line."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date
from typing import Any

import pytest
from decision_builders import custody_event, engine_for, protection_record

from guard.decision.engine import Verdict
from guard.decision.errors import InvalidEvent
from guard.decision.subject import subject_identity
from guard.identity.blind import load_secret
from guard.identity.errors import IdentityTooLarge, InvalidIdentifier, KeyMaterialError
from guard.identity.keys import registry_keys
from guard.identity.model import Identity, PersonName
from guard.identity.numbers import canonical_a_number
from guard.policy.model import Decision, Policy
from guard.registry.index import RegistryIndex
from guard.registry.model import Match, ProtectionBasis

A_NUMBER = "A-987-654-321"
GIVEN, MIDDLE, FAMILY = "Zebulon", "Quillon", "Xanthopoulos"
ALIAS = ("Vespasia", "Ormerod")
FBI, FINS = "FBI7Q4XZ9", "FINS3K8W2"
DOB = date(1977, 7, 17)
COUNTRY = "Ruritania"
NOTES = "SECRET-NOTE shelter at Elm Street"
EVENT_ID = "EARM-A987654321-Xanthopoulos"
"""Upstream ids can embed identifiers: the id itself must never leave either."""

PLANTED = (
    "987654321", "987-654-321", A_NUMBER, GIVEN, MIDDLE, FAMILY, *ALIAS, FBI, FINS,
    "1977-07-17", "1977, 7, 17", COUNTRY, NOTES, "SECRET-NOTE", "shelter", EVENT_ID,
)

PERSON = Identity(
    a_numbers=(A_NUMBER,), fbi_numbers=(FBI,), fins_numbers=(FINS,),
    names=(PersonName(GIVEN, FAMILY, MIDDLE), PersonName(*ALIAS)), date_of_birth=DOB,
)


def planted_event(**changes: Any) -> dict[str, Any]:
    event = custody_event(
        event_id=EVENT_ID, a_number=A_NUMBER, fbi_number=FBI, fins_number=FINS, given_name=GIVEN,
        middle_name=MIDDLE, family_name=FAMILY, aliases=(ALIAS,), date_of_birth=DOB,
        country_of_birth=COUNTRY, case_notes=NOTES,
    )
    event["subject"].update(changes)
    return event


def assert_clean(*texts: str) -> None:
    for text in texts:
        folded = text.casefold()
        for planted in PLANTED:
            assert planted.casefold() not in folded, f"planted identifier leaked into {text!r}"


def assert_verdict_clean(verdict: Verdict) -> None:
    assert_clean(repr(verdict), str(verdict), f"{verdict}", repr(verdict.matches))


def registry(*, registered: bool) -> RegistryIndex:
    index = RegistryIndex()
    if registered:
        index.apply("rec-1", protection_record("rec-1", PERSON))
    return index


class _LeakyIndex(RegistryIndex):
    """Fails with a message quoting an identifier, as careless code might."""

    def match_graded(
        self, strong_probes: Iterable[bytes], weak_probes: Iterable[bytes]
    ) -> tuple[Match, ...]:
        raise ValueError(f"no match for {A_NUMBER} {GIVEN} {FAMILY} born {DOB}")


REDACT_ALL = Policy("redact-all", {basis: Decision.REDACT for basis in ProtectionBasis})


@pytest.mark.parametrize(
    ("index", "policy", "event", "decision"),
    [
        (registry(registered=True), None, planted_event(), Decision.DROP),
        (registry(registered=True), None,
         planted_event(a_number=None, fbi_number=None, fins_number=None, date_of_birth=None,
                       aliases=[]), Decision.REJECT),
        (registry(registered=True), None,
         planted_event(a_number="A-111-222-333", fbi_number=None, fins_number=None,
                       given_name="Zebulun", date_of_birth=date(1977, 7, 18)), Decision.HOLD),
        (registry(registered=True), None, planted_event(given_name=GIVEN * 40), Decision.REJECT),
        (registry(registered=True), REDACT_ALL, planted_event(), Decision.REDACT),
        (registry(registered=False), None, planted_event(), Decision.PUBLISH),
        (registry(registered=True), None, planted_event(a_number="A-987-654-3210"),
         Decision.REJECT),
        (registry(registered=True), None, planted_event(a_number=987654321), Decision.REJECT),
        (registry(registered=True), None, planted_event(given_name=GIVEN.encode()),
         Decision.REJECT),
        (registry(registered=True), None, planted_event(date_of_birth="1977-07-17"),
         Decision.REJECT),
        (registry(registered=True), None, planted_event(aliases=[ALIAS]), Decision.REJECT),
        (_LeakyIndex(), None, planted_event(), Decision.REJECT),
    ],
    ids=["drop", "undated-name-only", "hold", "too-large", "redact", "publish",
         "invalid-a-number", "a-number-int", "name-bytes",
         "dob-string", "alias-tuple", "internal-error"],
)
def test_verdicts_and_logs_hold_no_plaintext(
    caplog: pytest.LogCaptureFixture,
    index: RegistryIndex,
    policy: Policy | None,
    event: dict[str, Any],
    decision: Decision,
) -> None:
    with caplog.at_level(logging.DEBUG):
        verdict = engine_for(index, policy).decide(event)
    assert verdict.decision is decision
    assert_verdict_clean(verdict)
    assert_clean(caplog.text, *(repr(record.args) for record in caplog.records))


def test_redacted_notice_holds_no_plaintext() -> None:
    verdict = engine_for(registry(registered=True), REDACT_ALL).decide(planted_event())
    assert verdict.notice is not None
    assert_clean(repr(verdict.notice), repr(verdict.notice_key))


def test_dropped_verdict_has_no_notice() -> None:
    verdict = engine_for(registry(registered=True)).decide(planted_event())
    assert verdict.notice is None and verdict.notice_key is None


def _raised(call: Any, *args: Any, **kwargs: Any) -> BaseException:
    with pytest.raises(Exception) as raised:
        call(*args, **kwargs)
    return raised.value


@pytest.mark.parametrize(
    "error",
    [
        _raised(canonical_a_number, "A-987-654-3210"),
        _raised(registry_keys, Identity(a_numbers=("987654321987654321",))),
        _raised(registry_keys, Identity(names=(PersonName(GIVEN * 40, FAMILY),))),
        _raised(canonical_a_number, "1.23457E+08"),
        _raised(subject_identity, planted_event(a_number=987654321)["subject"]),
        _raised(subject_identity, planted_event(family_name=None, given_name=GIVEN)["subject"]),
        _raised(subject_identity, planted_event(date_of_birth=str(DOB))["subject"]),
        _raised(load_secret, "987654321" * 2, None, what="GUARD_BLINDING_KEY"),
        _raised(load_secret, f"{GIVEN}{FAMILY}!", None, what="GUARD_BLINDING_KEY"),
    ],
)
def test_exceptions_hold_no_plaintext(error: BaseException) -> None:
    assert isinstance(error, InvalidIdentifier | InvalidEvent | KeyMaterialError | IdentityTooLarge)
    assert_clean(repr(error), str(error), repr(error.args), repr(error.__cause__))


def test_identity_reprs_hold_no_plaintext() -> None:
    assert_clean(repr(PERSON), str(PERSON), repr(PERSON.names), repr(subject_identity(
        planted_event()["subject"])))


def test_notices_carry_an_opaque_id_not_the_upstream_one() -> None:
    verdict = engine_for(registry(registered=False)).decide(planted_event())
    assert verdict.notice is not None
    assert verdict.notice["notice_id"] != EVENT_ID
    assert_clean(repr(verdict.notice["notice_id"]), repr(verdict.notice["subject_ref"]))
