"""The public notice: an allowlist projection of a custody event.

Fields are copied by name into a new dict, never filtered out of a copy of
the event, so a field added upstream (or ``case_notes``, the date of birth,
aliases, FBI/FINS numbers, country of birth, source system) can never reach
the public topic by default. The upstream ``event_id`` is not copied either:
upstream systems build ids from whatever they have, an A-number included,
so the notice carries an opaque id derived from it.
"""

from __future__ import annotations

from typing import Any

from guard.decision.event import CustodyFacts
from guard.identity.blind import Blinder
from guard.identity.keys import SubjectKeys
from guard.identity.model import Identity

EVENT_REFERENCE_PREFIX = "event:"
REDACTED_REFERENCE_PREFIX = "redacted:"
NOTICE_ID_PREFIX = "notice:"


def subject_reference(subject: SubjectKeys, event_id: str, subject_ref_blinder: Blinder) -> str:
    """Hex HMAC of the subject's strongest key, so one person's notices share a reference.

    Falls back to the event id (one reference per event) when the subject
    has no key at all. Made under its own key, so it never equals a registry
    digest.
    """
    key = subject.reference_key or EVENT_REFERENCE_PREFIX + event_id
    return subject_ref_blinder.blind(key).hex()


def redacted_reference(event_id: str, subject_ref_blinder: Blinder) -> str:
    """A reference unique to one event: redacted notices cannot be joined to each other
    or to the person's unredacted notices."""
    return subject_ref_blinder.blind(REDACTED_REFERENCE_PREFIX + event_id).hex()


def notice_id(event_id: str, subject_ref_blinder: Blinder) -> str:
    """The notice's id: stable per upstream event (subscribers de-duplicate on it), opaque."""
    return subject_ref_blinder.blind(NOTICE_ID_PREFIX + event_id).hex()


def project_notice(
    *,
    event_id: str,
    identity: Identity,
    subject: SubjectKeys,
    facts: CustodyFacts,
    subject_ref_blinder: Blinder,
    is_redacted: bool,
) -> dict[str, Any]:
    """The ``PublicCustodyNotice`` dict for a PUBLISH (or, redacted, a REDACT) verdict."""
    if is_redacted:
        subject_ref = redacted_reference(event_id, subject_ref_blinder)
        a_number = given_name = family_name = None
    else:
        subject_ref = subject_reference(subject, event_id, subject_ref_blinder)
        a_number = subject.a_number
        primary = identity.names[0] if identity.names else None
        given_name = primary.given_name if primary else None
        family_name = primary.family_name if primary else None
    return {
        "notice_id": notice_id(event_id, subject_ref_blinder),
        "subject_ref": subject_ref,
        "redacted": is_redacted,
        "a_number": a_number,
        "given_name": given_name,
        "family_name": family_name,
        "custody_status": facts.custody_status,
        "facility_code": facts.facility_code,
        "facility_name": facts.facility_name,
        "facility_city": facts.facility_city,
        "facility_state": facts.facility_state,
        "status_changed_at": facts.status_changed_at,
        "occurred_at": facts.occurred_at,
    }


def notice_key(notice: dict[str, Any]) -> bytes:
    """The public topic's message key: the subject reference, as ASCII."""
    return str(notice["subject_ref"]).encode("ascii")
