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
from guard.decision.verdict import Reason, Verdict, reason_for_invalid
from guard.identity.blind import Blinder
from guard.identity.errors import IdentityTooLarge, KeyMaterialError
from guard.identity.keys import subject_keys
from guard.policy.model import Decision, Policy
from guard.registry.index import PREVIOUS_KEY, RegistryIndex

__all__ = ["DecisionEngine", "Reason", "Verdict"]

log = logging.getLogger(__name__)

_REASON_FOR = {
    Decision.PUBLISH: Reason.NO_MATCH,
    Decision.REDACT: Reason.PROTECTED_REDACT_ALLOWED,
}


class DecisionEngine:
    """Decides on custody events against a live registry index and a policy."""

    def __init__(
        self,
        blinder: Blinder,
        subject_ref_blinder: Blinder,
        index: RegistryIndex,
        policy: Policy,
        *,
        previous: Blinder | None = None,
    ) -> None:
        """``previous``: during a blinding-key rotation, the key being retired. Every
        event is then also matched under it, for as long as the index holds an
        active record blinded under it."""
        for registry_key in (blinder, previous):
            if registry_key is not None and registry_key.shares_secret_with(subject_ref_blinder):
                raise KeyMaterialError(
                    "subject reference key",
                    "must differ from the registry blinding keys, or public references "
                    "would equal registry digests",
                )
        self._blinder = blinder
        self._previous = previous
        self._subject_ref_blinder = subject_ref_blinder
        self._index = index
        self._policy = policy

    @property
    def policy(self) -> Policy:
        return self._policy

    @property
    def blinder(self) -> Blinder:
        """The registry blinding: also makes the keyed references of event ids."""
        return self._blinder

    def decide(self, event: Mapping[str, Any], *, is_released: bool = False) -> Verdict:
        """The verdict for one decoded ``CustodyStatusChanged`` dict. Never raises.

        This is the single boundary that catches every exception: anything
        unexpected becomes REJECT ``internal_error``, keeping only the
        exception's type name, because its message may quote event data.

        ``is_released``: a reviewer has confirmed that the event's weak matches
        are not the protected person, so only strong matches decide (the
        verdict still lists every match for the audit).
        """
        try:
            return self._decide(event, is_released)
        except Exception as error:
            error_type = type(error).__name__
            log.error("deciding on an event failed with %s; the event is rejected", error_type)
            return Verdict(
                Decision.REJECT,
                Reason.INTERNAL_ERROR,
                self._policy.version,
                error_type=error_type,
            )

    def _decide(self, event: object, is_released: bool) -> Verdict:
        version = self._policy.version
        try:
            record = require_mapping(event, "event")
            event_id = read_event_id(record)
        except InvalidEvent as problem:
            return Verdict(
                Decision.REJECT, Reason.INVALID_EVENT, version, invalid_field=problem.field
            )
        try:
            identity = subject_identity(read_subject(record))
            subject = subject_keys(identity)
        except InvalidEvent as problem:
            return Verdict(
                Decision.REJECT, Reason.INVALID_EVENT, version, event_id=event_id,
                invalid_field=problem.field,
            )  # fmt: skip
        except IdentityTooLarge as problem:
            return Verdict(
                Decision.REJECT, Reason.IDENTITY_TOO_LARGE, version, event_id=event_id,
                invalid_field=problem.what,
            )  # fmt: skip
        blinders = [self._blinder.blind]
        if self._previous is not None and self._index.active_count_for(PREVIOUS_KEY):
            blinders.append(self._previous.blind)
        strong = tuple(sorted({b(key) for b in blinders for key in subject.probes.strong}))
        weak = tuple(sorted({b(key) for b in blinders for key in subject.probes.weak}))
        matches = self._index.match_graded(strong, weak)

        def verdict(
            decision: Decision,
            reason: Reason,
            *,
            invalid_field: str | None = None,
            notice: dict[str, Any] | None = None,
        ) -> Verdict:
            return Verdict(
                decision,
                reason,
                version,
                matches,
                strong,
                weak,
                notice=notice,
                notice_key=notice_key(notice) if notice is not None else None,
                event_id=event_id,
                invalid_field=invalid_field,
            )

        if subject.problems:
            field = subject.problems[0].field
            return verdict(Decision.REJECT, reason_for_invalid(field), invalid_field=field)
        try:
            facts = read_custody_facts(record)
        except InvalidEvent as problem:
            return verdict(Decision.REJECT, Reason.INVALID_EVENT, invalid_field=problem.field)
        if not subject.is_checkable:
            # Nothing a protection could meet: publishing would publish
            # someone we could not check.
            return verdict(Decision.REJECT, Reason.NO_CHECKABLE_IDENTIFIER)

        deciding = tuple(m for m in matches if m.is_strong) if is_released else matches
        decision = self._policy.decide(deciding)
        if decision in (Decision.DROP, Decision.HOLD):
            has_strong = any(match.is_strong for match in matches)
            return verdict(decision, Reason.PROTECTED if has_strong else Reason.WEAK_MATCH)
        notice = project_notice(
            event_id=event_id,
            identity=identity,
            subject=subject,
            facts=facts,
            subject_ref_blinder=self._subject_ref_blinder,
            is_redacted=decision is Decision.REDACT,
        )
        return verdict(decision, _REASON_FOR[decision], notice=notice)
