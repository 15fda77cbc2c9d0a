"""Sample records and the plaintext that must never show up in an error.

The planted values are what a § 1367 leak would look like: an A-number, a family
name, a date of birth and case notes. Every failure-path test plants them in the
input and then searches the resulting exception for them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from custody_events import KROME
from custody_events import custody_event as build_custody_event

from guard.registry.model import ProtectionBasis, ProtectionRecord, ProtectionStatus

PLANTED_A_NUMBER = "A-012-345-678"
PLANTED_FAMILY_NAME = "GARCIA"
PLANTED_DOB = date(1985, 3, 14)
PLANTED_NOTES = "Survivor moved to shelter on Elm Street"
PLANTED_TEXTS = (
    PLANTED_A_NUMBER,
    "012345678",
    PLANTED_FAMILY_NAME,
    PLANTED_DOB.isoformat(),
    "1985",
    PLANTED_NOTES,
    "shelter",
)

NOW = datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)


def custody_event() -> dict[str, Any]:
    """A realistic event about a (planted) protected person; every field filled."""
    return build_custody_event(
        event_id="evt-6f1c2a9e-1d2b-4c1e-9b7a-3f0e2d1c4b5a",
        occurred_at=NOW,
        source_system="EARM",
        a_number=PLANTED_A_NUMBER,
        fbi_number="123456AB7",
        fins_number="1234567",
        given_name="MARIA",
        middle_name="ELENA",
        family_name=PLANTED_FAMILY_NAME,
        aliases=(("MARIA", f"{PLANTED_FAMILY_NAME} LOPEZ"), ("MARY", "LOPEZ")),
        date_of_birth=PLANTED_DOB,
        country_of_birth="MEXICO",
        facility=KROME,
        status_changed_at=NOW,
        case_notes=PLANTED_NOTES,
    )


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


def public_notice() -> dict[str, Any]:
    return {
        "notice_id": "evt-1",
        "subject_ref": "ab" * 32,
        "redacted": False,
        "a_number": "012345678",
        "given_name": "JOHN",
        "family_name": "DOE",
        "custody_status": "RELEASED",
        "facility_code": None,
        "facility_name": None,
        "facility_city": None,
        "facility_state": None,
        "status_changed_at": NOW,
        "occurred_at": NOW,
    }


def guard_decision() -> dict[str, Any]:
    return {
        "input_topic": "custody.status.v1",
        "input_partition": 3,
        "input_offset": 2**40,
        "event_ref": "e1" * 32,
        "stage": "DECIDED",
        "decision": "DROP",
        "reason": "protected",
        "match_strength": "STRONG",
        "bases": ["U_VISA"],
        "matched_record_refs": ["5e" * 32],
        "blinded_keys": [b"\x07" * 32],
        "weak_keys": [b"\x08" * 32],
        "policy_version": "2024.1",
        "registry_offsets": {"0": 17, "1": 0},
        "decided_at": NOW,
        "actor": None,
    }


def held_event() -> dict[str, Any]:
    return {
        "input_topic": "custody.status.v1",
        "input_partition": 1,
        "input_offset": 99,
        "event_ref": "e1" * 32,
        "held_at": NOW,
        "reason": "weak_match",
        "match_strength": "WEAK",
        "bases": ["T_VISA"],
        "matched_record_refs": ["5e" * 32],
        "policy_version": "2024.1",
        "registry_offsets": {"0": 17},
        "event": b"raw custody bytes",
        "event_size": 17,
    }


def assert_no_plaintext(exc: BaseException) -> None:
    """Fail if any planted value appears in the error or anything chained to it.

    A chained ``__context__`` is printed in tracebacks, so the codec must not
    leave fastavro's own (value-quoting) exception attached either.
    """
    chain: BaseException | None = exc
    while chain is not None:
        for text in (str(chain), repr(chain), repr(chain.args)):
            for planted in PLANTED_TEXTS:
                assert planted.lower() not in text.lower(), (type(chain).__name__, planted)
        chain = chain.__cause__ or chain.__context__
    assert exc.__cause__ is None
    assert exc.__context__ is None
