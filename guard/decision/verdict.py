"""The outcome of deciding on one event, and its fixed vocabulary of reasons."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from guard.policy.model import Decision
from guard.registry.model import Match


class Reason(StrEnum):
    """Why a decision was taken. Goes to the audit trail: never free text from the event."""

    NO_MATCH = "no_match"
    """PUBLISH: no active registry record shares a key with the subject."""
    PROTECTED = "protected"
    """DROP: the subject matches a protected person."""
    PROTECTED_REDACT_ALLOWED = "protected_redact_allowed"
    """REDACT: every matched basis is one the policy allows to publish redacted."""
    INVALID_A_NUMBER = "invalid_a_number"
    """REJECT: the A-number has digits, but not 7 to 9 of them."""
    INVALID_IDENTIFIER = "invalid_identifier"
    """REJECT: another identifier does not normalize."""
    INVALID_EVENT = "invalid_event"
    """REJECT: a field is missing or of the wrong type."""
    NO_CHECKABLE_IDENTIFIER = "no_checkable_identifier"
    """REJECT: no A-number, FBI or FINS number, and no name with a date of birth."""
    INTERNAL_ERROR = "internal_error"
    """REJECT: deciding failed unexpectedly; ``error_type`` names the exception type."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """One decision with everything the audit record and the public notice need.

    ``notice`` (for PUBLISH and REDACT) holds a name and an A-number, so
    ``repr`` leaves it out, as it leaves out the event id.
    """

    decision: Decision
    reason: Reason
    policy_version: str
    matches: tuple[Match, ...] = ()
    """Active registry records the subject matched, ordered by record id."""
    blinded_keys: tuple[bytes, ...] = ()
    """The subject's keys under the registry blinding, sorted."""
    notice: dict[str, Any] | None = None
    """The ``PublicCustodyNotice`` dict; only for PUBLISH and REDACT."""
    notice_key: bytes | None = None
    event_id: str | None = None
    """None when the event has no readable id."""
    invalid_field: str | None = None
    """For INVALID_* reasons: the schema path of the offending field."""
    error_type: str | None = None
    """For INTERNAL_ERROR: the exception's type name (its message may hold data)."""

    @property
    def bases(self) -> tuple[str, ...]:
        """Distinct protection bases of the matches, sorted."""
        return tuple(sorted({match.basis.value for match in self.matches}))

    @property
    def matched_record_ids(self) -> tuple[str, ...]:
        return tuple(match.record_id for match in self.matches)

    @property
    def is_protected(self) -> bool:
        """True when the subject matched at least one active registry record."""
        return bool(self.matches)

    def __repr__(self) -> str:
        details = [
            f"decision={self.decision.value}",
            f"reason={self.reason.value}",
            f"policy_version={self.policy_version!r}",
            f"matched_record_ids={list(self.matched_record_ids)!r}",
            f"blinded_keys={len(self.blinded_keys)}",
            f"has_notice={self.notice is not None}",
        ]
        if self.invalid_field is not None:
            details.append(f"invalid_field={self.invalid_field!r}")
        if self.error_type is not None:
            details.append(f"error_type={self.error_type!r}")
        return f"Verdict({', '.join(details)})"

    __str__ = __repr__
