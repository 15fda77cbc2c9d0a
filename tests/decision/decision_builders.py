"""Builders shared by the decision tests: key material, events, registrations, engines."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from guard.decision.engine import DecisionEngine
from guard.identity.blind import Blinder
from guard.identity.keys import registry_keys
from guard.identity.model import Identity
from guard.policy.model import Policy, default_policy
from guard.registry.index import RegistryIndex
from guard.registry.model import ProtectionBasis, ProtectionRecord, ProtectionStatus

REGISTRY_BLINDER = Blinder(bytes(range(32)), "test-k1")
SUBJECT_REF_BLINDER = Blinder(bytes(range(100, 132)), "subject-ref")
OCCURRED_AT = datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)
CHANGED_AT = datetime(2026, 3, 4, 5, 6, 0, tzinfo=UTC)


def custody_event(
    *,
    event_id: str = "evt-1",
    a_number: str | None = None,
    fbi_number: str | None = None,
    fins_number: str | None = None,
    given_name: str = "Ana",
    middle_name: str | None = None,
    family_name: str = "Ruiz",
    aliases: tuple[tuple[str, str], ...] = (),
    date_of_birth: date | None = None,
    country_of_birth: str | None = None,
    case_notes: str | None = None,
    status: str = "IN_CUSTODY",
) -> dict[str, Any]:
    """A dict shaped like fastavro's decoding of ``CustodyStatusChanged``."""
    return {
        "event_id": event_id,
        "occurred_at": OCCURRED_AT,
        "source_system": "EARM-TEST",
        "subject": {
            "a_number": a_number,
            "fbi_number": fbi_number,
            "fins_number": fins_number,
            "given_name": given_name,
            "middle_name": middle_name,
            "family_name": family_name,
            "aliases": [{"given_name": g, "family_name": f} for g, f in aliases],
            "date_of_birth": date_of_birth,
            "country_of_birth": country_of_birth,
        },
        "custody": {
            "status": status,
            "facility_code": "FAC01",
            "facility_name": "Test Processing Center",
            "facility_city": "Springfield",
            "facility_state": "IL",
            "status_changed_at": CHANGED_AT,
        },
        "case_notes": case_notes,
    }


def protection_record(
    record_ref: str,
    identity: Identity,
    *,
    basis: ProtectionBasis = ProtectionBasis.U_VISA,
    status: ProtectionStatus = ProtectionStatus.ACTIVE,
    blinder: Blinder = REGISTRY_BLINDER,
) -> ProtectionRecord:
    """What ``guard registry import`` would write for this identity (``record_ref`` as given)."""
    keys = registry_keys(identity)
    return ProtectionRecord(
        record_ref=record_ref,
        basis=basis,
        status=status,
        created_at=OCCURRED_AT,
        updated_at=OCCURRED_AT,
        blinding_key_id=blinder.key_id,
        blinded_keys=blinder.blind_all(keys.strong),
        weak_keys=blinder.blind_all(keys.weak),
    )


def engine_for(index: RegistryIndex, policy: Policy | None = None) -> DecisionEngine:
    return DecisionEngine(
        REGISTRY_BLINDER, SUBJECT_REF_BLINDER, index, policy or default_policy()
    )
