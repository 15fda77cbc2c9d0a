"""The registry's records: who is protected, on what basis, by which blinded keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


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


@dataclass(frozen=True, slots=True)
class ProtectionRecord:
    """One registry entry, as carried on the registry topic (keyed by record_id)."""

    record_id: str
    """Opaque id; the Kafka key. Not an identifier of the person."""
    basis: ProtectionBasis
    status: ProtectionStatus
    created_at: datetime
    updated_at: datetime
    blinding_key_id: str
    """Which blinding key produced ``blinded_keys``."""
    blinded_keys: frozenset[BlindedKey]
    """Digests of every normalized identifier key of the person."""

    @property
    def is_active(self) -> bool:
        return self.status is ProtectionStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class Match:
    """An active registry record that shares at least one blinded key with an event."""

    record_id: str
    basis: ProtectionBasis
