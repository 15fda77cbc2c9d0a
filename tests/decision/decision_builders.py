"""Builders shared by the decision tests: key material, events, registrations, engines."""

from __future__ import annotations

# Re-exported: the decision tests import their events from here with the rest.
from custody_events import CHANGED_AT as CHANGED_AT
from custody_events import OCCURRED_AT as OCCURRED_AT
from custody_events import custody_event as custody_event

from guard.decision.engine import DecisionEngine
from guard.identity.blind import Blinder
from guard.identity.keys import registry_keys
from guard.identity.model import Identity
from guard.policy.model import Policy, default_policy
from guard.registry.index import RegistryIndex
from guard.registry.model import ProtectionBasis, ProtectionRecord, ProtectionStatus

REGISTRY_BLINDER = Blinder(bytes(range(32)), "test-k1")
SUBJECT_REF_BLINDER = Blinder(bytes(range(100, 132)), "subject-ref")


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
