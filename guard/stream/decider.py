"""One custody message in, its records out: decode → decide → encode.

This is the seam between the pure decision core and Kafka. It owns the
per-event failure rule: whatever goes wrong with one event (bytes that do not
decode, an identifier that does not normalize, a notice that does not encode)
becomes a REJECT for that event, with its raw bytes in the dead-letter topic
and a reason in the headers. Failures of the output itself are not handled
here: they stop the worker (see :mod:`guard.stream.worker`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from guard.codec.errors import DecodeError, EncodeError
from guard.decision.engine import DecisionEngine, Verdict
from guard.policy.model import Decision
from guard.stream.output import OutRecord


class Codec(Protocol):
    def encode(self, record: Mapping[str, Any]) -> bytes: ...

    def decode(self, data: bytes) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class InputMessage:
    """The parts of a custody message the guard reads. Its headers are ignored on purpose."""

    topic: str
    partition: int
    offset: int
    value: bytes | None

    @property
    def position(self) -> str:
        """``topic/partition/offset``: the key of its audit record and dead letter."""
        return f"{self.topic}/{self.partition}/{self.offset}"


@dataclass(frozen=True, slots=True)
class BatchContext:
    """What every decision of one batch shares, worked out once per batch, not per event."""

    registry_offsets: Mapping[str, int]
    """Registry partition (as text, the audit schema's map key) → next offset to apply."""
    decided_at: datetime

    @classmethod
    def now(cls, applied: Mapping[int, int]) -> BatchContext:
        """The context of a batch decided now against the reader's ``applied`` offsets."""
        offsets = {str(partition): offset for partition, offset in sorted(applied.items())}
        return cls(offsets, datetime.now(UTC))


@dataclass(frozen=True, slots=True)
class OutputTopics:
    public: str
    audit: str
    deadletter: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What was decided for one message, and the records that carry it."""

    decision: Decision
    reason: str
    bases: tuple[str, ...]
    records: tuple[OutRecord, ...]
    event_id: str | None = None
    """The upstream event id, when the event could be read (for logs and audit)."""
    blinded_keys: tuple[bytes, ...] = ()
    """The event's keys under the registry blinding: safe to log, useless to an outsider."""


class MessageDecider:
    """Turns one input message into exactly one decision and its output records."""

    def __init__(
        self,
        *,
        engine: DecisionEngine,
        custody_codec: Codec,
        notice_codec: Codec,
        decision_codec: Codec,
        topics: OutputTopics,
        policy_version: str,
    ) -> None:
        self._engine = engine
        self._custody = custody_codec
        self._notice = notice_codec
        self._audit = decision_codec
        self._topics = topics
        self._policy_version = policy_version

    def decide(self, message: InputMessage, batch: BatchContext) -> Outcome:
        raw = message.value
        if raw is None:
            return self._reject(message, "empty_value", None, batch)
        try:
            event = self._custody.decode(raw)
        except DecodeError:
            return self._reject(message, "undecodable", None, batch)
        verdict = self._engine.decide(event)
        event_id = verdict.event_id
        if verdict.decision is Decision.REJECT:
            return self._reject(message, verdict.reason, event_id, batch, verdict)
        records: list[OutRecord] = []
        if verdict.notice is not None:
            try:
                records.append(
                    OutRecord(
                        self._topics.public, verdict.notice_key, self._notice.encode(verdict.notice)
                    )
                )
            except EncodeError:
                return self._reject(
                    message, "notice_unencodable", event_id, batch, verdict
                )
        records.append(
            self._audit_record(
                message, verdict.decision, verdict.reason, event_id, batch, verdict
            )
        )
        return Outcome(verdict.decision, verdict.reason, verdict.bases, tuple(records), event_id)

    def _reject(
        self,
        message: InputMessage,
        reason: str,
        event_id: str | None,
        batch: BatchContext,
        verdict: Verdict | None = None,
    ) -> Outcome:
        headers = [
            ("guard.reason", reason.encode("ascii")),
            ("guard.input.topic", message.topic.encode("utf-8")),
            ("guard.input.partition", str(message.partition).encode("ascii")),
            ("guard.input.offset", str(message.offset).encode("ascii")),
            ("guard.policy.version", self._policy_version.encode("utf-8")),
        ]
        # Schema paths and exception type names only: never a value.
        if verdict is not None and verdict.invalid_field is not None:
            headers.append(
                ("guard.invalid.field", verdict.invalid_field.encode("ascii", "replace"))
            )
        if verdict is not None and verdict.error_type is not None:
            headers.append(("guard.error.type", verdict.error_type.encode("ascii", "replace")))
        dead_letter = OutRecord(
            self._topics.deadletter,
            message.position.encode("ascii"),
            message.value or b"",
            headers=tuple(headers),
        )
        audit = self._audit_record(
            message, Decision.REJECT, reason, event_id, batch, verdict
        )
        bases = verdict.bases if verdict is not None else ()
        keys = verdict.blinded_keys if verdict is not None else ()
        return Outcome(Decision.REJECT, reason, bases, (dead_letter, audit), event_id, keys)

    def _audit_record(
        self,
        message: InputMessage,
        decision: Decision,
        reason: str,
        event_id: str | None,
        batch: BatchContext,
        verdict: Verdict | None,
    ) -> OutRecord:
        audit = {
            "input_topic": message.topic,
            "input_partition": message.partition,
            "input_offset": message.offset,
            "event_id": event_id,
            "decision": decision.value,
            "reason": reason,
            "bases": list(verdict.bases) if verdict is not None else [],
            "matched_record_ids": list(verdict.matched_record_ids) if verdict else [],
            "blinded_keys": list(verdict.blinded_keys) if verdict is not None else [],
            "policy_version": self._policy_version,
            "registry_offsets": batch.registry_offsets,
            "decided_at": batch.decided_at,
        }
        return OutRecord(
            self._topics.audit, message.position.encode("ascii"), self._audit.encode(audit)
        )
