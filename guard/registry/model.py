"""The registry's records: who is protected, on what basis, by which blinded keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from guard.identity.blind import Blinder


class ProtectionBasis(StrEnum):
    """Why § 1367 protects the person. Policy may treat bases differently."""

    VAWA_SELF_PETITION = "VAWA_SELF_PETITION"
    T_VISA = "T_VISA"
    U_VISA = "U_VISA"
    BATTERED_SPOUSE_OR_CHILD = "BATTERED_SPOUSE_OR_CHILD"
    OTHER_1367 = "OTHER_1367"


class ProtectionStatus(StrEnum):
    """ACTIVE protects; REVOKED (like a tombstone) lifts the protection."""

    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"


BlindedKey = bytes
"""HMAC-SHA256 (32 bytes) of one normalized identifier key."""

RECORD_REFERENCE_PREFIX = "record:"


def record_reference(blinder: Blinder, operator_record_id: str) -> str:
    """The keyed reference that stands for an operator's record id everywhere outside the CLI.

    Operators choose record ids, and some type an A-number or a name into
    one. The id therefore never leaves the operator's command: the registry
    topic's key, the record itself, the audit trail and every log line carry
    this HMAC (hex) instead, made under the registry blinding key with its
    own prefix so it can never equal an identifier's digest. ``guard registry
    revoke`` and ``guard registry ref`` turn an operator's id into it.
    """
    return blinder.blind(RECORD_REFERENCE_PREFIX + operator_record_id).hex()


@dataclass(frozen=True, slots=True)
class ProtectionRecord:
    """One registry entry, as carried on the registry topic (keyed by ``record_ref``)."""

    record_ref: str
    """Keyed reference of the operator's record id (:func:`record_reference`); the Kafka key."""
    basis: ProtectionBasis
    status: ProtectionStatus
    created_at: datetime
    updated_at: datetime
    blinding_key_id: str
    """Which blinding key produced the keys."""
    blinded_keys: frozenset[BlindedKey]
    """Digests of the person's strong keys: canonical identifiers, names with a date of birth."""
    weak_keys: frozenset[BlindedKey] = frozenset()
    """Digests of the weak keys: a match on these alone holds an event for review."""

    @property
    def is_active(self) -> bool:
        return self.status is ProtectionStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class Match:
    """An active registry record that shares at least one blinded key with an event."""

    record_ref: str
    basis: ProtectionBasis
    is_strong: bool = True
    """True when a strong key of the event met a strong key of the record."""
