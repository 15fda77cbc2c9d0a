"""One custody event in, one :class:`Verdict` out: normalize → blind → match → decide → project.

Pure: no I/O. The engine is the one place where any failure while deciding
becomes a verdict (REJECT), so a caller always gets exactly one decision per
event and an event that could not be checked is never published.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from guard.decision.errors import InvalidEvent
from guard.decision.event import read_custody_facts, read_event_id, read_subject
from guard.decision.fields import require_mapping
from guard.decision.projection import notice_key, project_notice
from guard.decision.subject import subject_identity
from guard.decision.verdict import Reason, Verdict
from guard.identity.blind import Blinder
from guard.identity.errors import KeyMaterialError
from guard.identity.keys import collect_identity_keys
from guard.policy.model import Decision, Policy
from guard.registry.index import RegistryIndex
from guard.registry.model import Match

__all__ = ["DecisionEngine", "Reason", "Verdict"]

log = logging.getLogger(__name__)

_INVALID_IDENTIFIER_REASONS = {"a_number": Reason.INVALID_A_NUMBER}


class DecisionEngine:
    """Decides on custody events against a live registry index and a policy."""

    def __init__(
        self,
        blinder: Blinder,
        subject_ref_blinder: Blinder,
        index: RegistryIndex,
        policy: Policy,
    ) -> None:
        if blinder.shares_secret_with(subject_ref_blinder):
            raise KeyMaterialError(
                "subject reference key",
                "must differ from the registry blinding key, or public references "
                "would equal registry digests",
            )
        self._blinder = blinder
        self._subject_ref_blinder = subject_ref_blinder
        self._index = index
        self._policy = policy

    @property
    def policy(self) -> Policy:
        return self._policy

    def decide(self, event: Mapping[str, Any]) -> Verdict:
        """The verdict for one decoded ``CustodyStatusChanged`` dict. Never raises.

        This is the single boundary that catches every exception: anything
        unexpected becomes REJECT ``internal_error``, keeping only the
        exception's type name, because its message may quote event data.
        """
        try:
            return self._decide(event)
        except Exception as error:
            error_type = type(error).__name__
            log.error("deciding on an event failed with %s; the event is rejected", error_type)
            return Verdict(
                Decision.REJECT,
                Reason.INTERNAL_ERROR,
                self._policy.version,
                error_type=error_type,
            )

    def _decide(self, event: object) -> Verdict:
        version = self._policy.version
        try:
            record = require_mapping(event, "event")
            event_id = read_event_id(record)
            identity = subject_identity(read_subject(record))
        except InvalidEvent as problem:
            return Verdict(
                Decision.REJECT, Reason.INVALID_EVENT, version, invalid_field=problem.field
            )
        keys, problems = collect_identity_keys(identity)
        blinded = tuple(sorted(self._blinder.blind_all(keys)))
        matches = self._index.match(blinded)

        def reject(reason: Reason, field: str | None) -> Verdict:
            return _rejection(reason, version, event_id, matches, blinded, field)

        if problems:
            first = problems[0]
            return reject(
                _INVALID_IDENTIFIER_REASONS.get(first.field, Reason.INVALID_IDENTIFIER), first.field
            )
        try:
            facts = read_custody_facts(record)
        except InvalidEvent as problem:
            return reject(Reason.INVALID_EVENT, problem.field)
        if not keys:
            # Nothing to look up: a name without a date of birth is no key.
            # Publishing would publish someone we could not check.
            return reject(Reason.NO_CHECKABLE_IDENTIFIER, None)

        decision = self._policy.decide(matches)
        if decision is Decision.DROP:
            return Verdict(decision, Reason.PROTECTED, version, matches, blinded, event_id=event_id)
        notice = project_notice(
            event_id=event_id,
            identity=identity,
            facts=facts,
            subject_ref_blinder=self._subject_ref_blinder,
            is_redacted=decision is Decision.REDACT,
        )
        if decision is Decision.PUBLISH:
            reason = Reason.NO_MATCH
        else:
            reason = Reason.PROTECTED_REDACT_ALLOWED
        return Verdict(
            decision,
            reason,
            version,
            matches,
            blinded,
            notice=notice,
            notice_key=notice_key(notice),
            event_id=event_id,
        )


def _rejection(
    reason: Reason,
    version: str,
    event_id: str,
    matches: tuple[Match, ...],
    blinded: tuple[bytes, ...],
    field: str | None,
) -> Verdict:
    return Verdict(
        Decision.REJECT,
        reason,
        version,
        matches,
        blinded,
        event_id=event_id,
        invalid_field=field,
    )
