"""The outcome of deciding on one event, and the one vocabulary of reasons."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from guard.policy.model import Decision
from guard.registry.model import Match


class Reason(StrEnum):
    """Why a decision was taken. Goes to the audit trail: never free text from the event.

    Every reason any part of the guard writes is here; nothing writes a bare string.
    """

    NO_MATCH = "no_match"
    """PUBLISH: no active registry record shares a key with the subject."""
    PROTECTED = "protected"
    """DROP: the subject matches a protected person on a strong key."""
    PROTECTED_REDACT_ALLOWED = "protected_redact_allowed"
    """REDACT: every matched basis is one the policy allows to publish redacted."""
    WEAK_MATCH = "weak_match"
    """HOLD (or DROP, if the policy says so): only weak keys met a protected person."""
    INVALID_A_NUMBER = "invalid_a_number"
    """REJECT: the A-number field holds something that cannot be read as one number."""
    INVALID_IDENTIFIER = "invalid_identifier"
    """REJECT: the FBI or FINS field holds a labelled number that cannot be read."""
    INVALID_EVENT = "invalid_event"
    """REJECT: a field is missing or of the wrong type."""
    NO_CHECKABLE_IDENTIFIER = "no_checkable_identifier"
    """REJECT: no readable number, and no name with a usable date of birth."""
    IDENTITY_TOO_LARGE = "identity_too_large"
    """REJECT: a field, name or key count is above its cap (guard.identity.limits)."""
    INTERNAL_ERROR = "internal_error"
    """REJECT: deciding failed unexpectedly; ``error_type`` names the exception type."""
    UNDECODABLE = "undecodable"
    """REJECT: the bytes are not one canonical CustodyStatusChanged record."""
    EMPTY_VALUE = "empty_value"
    """REJECT: the message has no value (a tombstone on the custody topic)."""
    NOTICE_UNENCODABLE = "notice_unencodable"
    """REJECT: the public notice built from the event does not fit its schema."""
    UNKNOWN_SCHEMA = "unknown_schema"
    """REJECT: the wire-format schema id is not registered in the schema registry."""
    INCOMPATIBLE_SCHEMA = "incompatible_schema"
    """REJECT: the event's writer schema cannot be read into CustodyStatusChanged (Avro
    resolution, or it lacks a field the guard matches identities on)."""
    REVIEW_RELEASED = "review_released"
    """PUBLISH after review: an operator confirmed the held subject is not the protected person."""
    REVIEW_CONFIRMED = "review_confirmed"
    """DROP after review: an operator confirmed the held subject is the protected person."""
    REVIEW_NOW_PROTECTED = "review_now_protected"
    """DROP after review: released, but the registry now matches the subject on a strong key."""
    RETRACTED = "retracted"
    """DROP after publication: a protection now matches the notice's subject on a strong key,
    so the notice was withdrawn (tombstone and retraction record)."""


_INVALID_IDENTIFIER_REASONS = {"a_number": Reason.INVALID_A_NUMBER}


def reason_for_invalid(field: str) -> Reason:
    """The reason for an unreadable identifier typed into ``field``."""
    return _INVALID_IDENTIFIER_REASONS.get(field, Reason.INVALID_IDENTIFIER)


class MatchStrength(StrEnum):
    """How strongly an event met the registry; in audit records and dead-letter headers."""

    NONE = "NONE"
    WEAK = "WEAK"
    STRONG = "STRONG"


@dataclass(frozen=True, slots=True)
class Verdict:
    """One decision with everything the audit record and the public notice need.

    ``notice`` (for PUBLISH and REDACT) holds a name and an A-number, and
    ``event_id`` is upstream text that may embed one, so ``repr`` leaves both out.
    """

    decision: Decision
    reason: Reason
    policy_version: str
    matches: tuple[Match, ...] = ()
    """Active registry records the subject met, ordered by record reference."""
    strong_keys: tuple[bytes, ...] = ()
    """The subject's strong probes under the registry blinding, sorted."""
    weak_keys: tuple[bytes, ...] = ()
    """The subject's weak probes under the registry blinding, sorted."""
    notice: dict[str, Any] | None = None
    """The ``PublicCustodyNotice`` dict; only for PUBLISH and REDACT."""
    notice_key: bytes | None = None
    event_id: str | None = None
    """Upstream id, for this process only: outputs carry its keyed reference instead."""
    invalid_field: str | None = None
    """For INVALID_* and IDENTITY_TOO_LARGE reasons: the offending field's schema path."""
    error_type: str | None = None
    """For INTERNAL_ERROR: the exception's type name (its message may hold data)."""

    @property
    def bases(self) -> tuple[str, ...]:
        """Distinct protection bases of the matches, sorted."""
        return tuple(sorted({match.basis.value for match in self.matches}))

    @property
    def matched_record_refs(self) -> tuple[str, ...]:
        return tuple(match.record_ref for match in self.matches)

    @property
    def is_protected(self) -> bool:
        """True when the subject met at least one active registry record, on any key."""
        return bool(self.matches)

    @property
    def match_strength(self) -> MatchStrength:
        if any(match.is_strong for match in self.matches):
            return MatchStrength.STRONG
        return MatchStrength.WEAK if self.matches else MatchStrength.NONE

    def __repr__(self) -> str:
        details = [
            f"decision={self.decision.value}",
            f"reason={self.reason.value}",
            f"policy_version={self.policy_version!r}",
            f"match_strength={self.match_strength.value}",
            f"matched_record_refs={list(self.matched_record_refs)!r}",
            f"keys={len(self.strong_keys)}+{len(self.weak_keys)}",
            f"has_notice={self.notice is not None}",
        ]
        if self.invalid_field is not None:
            details.append(f"invalid_field={self.invalid_field!r}")
        if self.error_type is not None:
            details.append(f"error_type={self.error_type!r}")
        return f"Verdict({', '.join(details)})"

    __str__ = __repr__
