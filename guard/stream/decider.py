"""One custody message in, its records out: decode → decide → encode.

This is the seam between the pure decision core and Kafka. It owns the
per-event failure rule: whatever goes wrong with one event (bytes that do not
decode, an identifier that does not normalize, a notice that does not encode)
becomes a REJECT for that event, with its raw bytes in the dead-letter topic
and a reason in the headers. Failures of the output itself are not handled
here: they stop the worker (see :mod:`guard.stream.worker`).

Every output record is bounded in size, whatever arrived: identities are
capped before they are decided (``guard.identity.limits``), and the raw
bytes copied into a dead letter or a held event are left out when they
would push the record past :data:`MAX_COPIED_VALUE_BYTES`. An output record
the broker refuses would fail the batch's transaction again after every
restart; a bounded record cannot.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from guard.codec.avro import AvroCodec, codec_for
from guard.codec.errors import DecodeError, EncodeError
from guard.codec.schemas import SchemaName
from guard.codec.wire import IncompatibleSchema, UnknownSchema, WriterSchema
from guard.config.settings import GuardConfig
from guard.decision.engine import DecisionEngine
from guard.decision.references import event_reference
from guard.decision.verdict import MatchStrength, Reason, Verdict
from guard.policy.model import Decision
from guard.retraction.model import Publication, encode_publication
from guard.schemaregistry.wireformat import WireFormat
from guard.stream.output import OutRecord

MAX_COPIED_VALUE_BYTES = 900_000
"""Largest input value copied into a dead letter or held event (the broker's
default record limit is 1 MiB; headers and the rest of the record need room)."""


@dataclass(frozen=True, slots=True)
class InputMessage:
    """The parts of a custody message the guard reads. Its headers are ignored on purpose."""

    topic: str
    partition: int
    offset: int
    value: bytes | None

    @property
    def position(self) -> str:
        """``topic/partition/offset``: the key of its audit record, dead letter and held event."""
        return f"{self.topic}/{self.partition}/{self.offset}"


@dataclass(frozen=True, slots=True)
class BatchContext:
    """What every decision of one batch shares, worked out once per batch, not per event."""

    registry_offsets: Mapping[str, int]
    """Registry partition (as text, the audit schema's map key) → next offset to apply."""
    decided_at: datetime
    writers: Mapping[int, WriterSchema] = field(default_factory=dict)
    """Wire format only: the writer schemas the batch's values name, fetched before deciding
    (an id missing here is one the schema registry does not know)."""

    @classmethod
    def now(
        cls, applied: Mapping[int, int], writers: Mapping[int, WriterSchema] | None = None
    ) -> BatchContext:
        """The context of a batch decided now against the reader's ``applied`` offsets."""
        offsets = {str(partition): offset for partition, offset in sorted(applied.items())}
        return cls(offsets, datetime.now(UTC), writers or {})


@dataclass(frozen=True, slots=True)
class OutputTopics:
    public: str
    audit: str
    deadletter: str
    review: str
    publications: str
    retractions: str

    @classmethod
    def of(cls, config: GuardConfig) -> OutputTopics:
        return cls(
            public=config.public_topic,
            audit=config.audit_topic,
            deadletter=config.deadletter_topic,
            review=config.review_topic,
            publications=config.publications_topic,
            retractions=config.retractions_topic,
        )


class AuditStage(StrEnum):
    """Which moment of an event's life an audit record tells (the schema's ``AuditStage``)."""

    DECIDED = "DECIDED"
    REVIEWED = "REVIEWED"
    RETRACTED = "RETRACTED"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What was decided for one message, and the records that carry it."""

    decision: Decision
    reason: Reason
    bases: tuple[str, ...]
    records: tuple[OutRecord, ...]
    event_ref: str | None = None
    """Keyed reference of the upstream event id (for logs), when it could be read."""
    match_strength: MatchStrength = MatchStrength.NONE
    blinded_keys: tuple[bytes, ...] = ()
    """The event's strong keys under the registry blinding: safe to log, useless to an outsider."""
    publication: Publication | None = None
    """For PUBLISH and REDACT: what the publications topic records of the notice."""


class MessageDecider:
    """Turns one input message into exactly one decision and its output records."""

    def __init__(
        self, engine: DecisionEngine, topics: OutputTopics, wire: WireFormat | None = None
    ) -> None:
        self._engine = engine
        self._topics = topics
        self._custody: AvroCodec = codec_for(SchemaName.CUSTODY_EVENT)
        self._wire = wire
        """With a schema registry: custody values are decoded, outputs framed, by it."""

    @property
    def engine(self) -> DecisionEngine:
        return self._engine

    def decide(self, message: InputMessage, batch: BatchContext) -> Outcome:
        raw = message.value
        if raw is None:
            return self._reject(message, Reason.EMPTY_VALUE, batch)
        try:
            event = self.decode_custody(raw, batch.writers)
        except DecodeError:
            return self._reject(message, Reason.UNDECODABLE, batch)
        except UnknownSchema as unknown:
            return self._reject(message, Reason.UNKNOWN_SCHEMA, batch, schema_id=unknown.schema_id)
        except IncompatibleSchema as refused:
            return self._reject(
                message, Reason.INCOMPATIBLE_SCHEMA, batch, schema_id=refused.schema_id
            )
        return self.decide_event(message, event, batch)

    def decode_custody(self, raw: bytes, writers: Mapping[int, WriterSchema]) -> dict[str, Any]:
        """The custody event in ``raw``: schemaless, or the wire format when a registry is set.

        Raises:
            DecodeError, UnknownSchema, IncompatibleSchema.
        """
        if self._wire is None:
            return self._custody.decode(raw)
        return self._wire.decoder(SchemaName.CUSTODY_EVENT).decode(raw, writers)

    def encode(self, name: SchemaName, record: Mapping[str, Any]) -> bytes:
        """An output value: schemaless Avro, or the wire format under its registered id."""
        if self._wire is None:
            return codec_for(name).encode(record)
        return self._wire.encode(name, record)

    def decide_event(
        self, message: InputMessage, event: Mapping[str, Any], batch: BatchContext
    ) -> Outcome:
        """Decide on an already decoded event (the review command re-decides held events)."""
        verdict = self._engine.decide(event)
        if verdict.decision is Decision.REJECT:
            return self._reject(message, verdict.reason, batch, verdict)
        records: list[OutRecord] = []
        publication: Publication | None = None
        if verdict.notice is not None:
            try:
                encoded = self.encode(SchemaName.PUBLIC_NOTICE, verdict.notice)
            except EncodeError:
                return self._reject(message, Reason.NOTICE_UNENCODABLE, batch, verdict)
            records.append(OutRecord(self._topics.public, verdict.notice_key, encoded))
            publication = publication_of(message, verdict, batch)
            records.append(self.publication_record(publication))
        if verdict.decision is Decision.HOLD:
            records.append(self._held_record(message, verdict, batch))
        records.append(self.audit_record(message, verdict.decision, verdict.reason, batch, verdict))
        outcome = self._outcome(verdict.decision, verdict.reason, records, verdict)
        return replace(outcome, publication=publication) if publication else outcome

    def _reject(
        self,
        message: InputMessage,
        reason: Reason,
        batch: BatchContext,
        verdict: Verdict | None = None,
        *,
        schema_id: int | None = None,
    ) -> Outcome:
        strength = verdict.match_strength if verdict is not None else MatchStrength.NONE
        headers = [
            ("guard.reason", reason.value.encode("ascii")),
            ("guard.match", strength.value.encode("ascii")),
            ("guard.input.topic", message.topic.encode("utf-8")),
            ("guard.input.partition", str(message.partition).encode("ascii")),
            ("guard.input.offset", str(message.offset).encode("ascii")),
            ("guard.policy.version", self._engine.policy.version.encode("utf-8")),
        ]
        # Schema paths and exception type names only: never a value.
        if verdict is not None and verdict.invalid_field is not None:
            headers.append(
                ("guard.invalid.field", verdict.invalid_field.encode("ascii", "replace"))
            )
        if verdict is not None and verdict.error_type is not None:
            headers.append(("guard.error.type", verdict.error_type.encode("ascii", "replace")))
        if schema_id is not None:
            headers.append(("guard.schema.id", str(schema_id).encode("ascii")))
        value = message.value or b""
        if len(value) > MAX_COPIED_VALUE_BYTES:
            headers.append(("guard.value.omitted", str(len(value)).encode("ascii")))
            value = b""
        dead_letter = OutRecord(
            self._topics.deadletter, message.position.encode("ascii"), value, tuple(headers)
        )
        audit = self.audit_record(message, Decision.REJECT, reason, batch, verdict)
        return self._outcome(Decision.REJECT, reason, [dead_letter, audit], verdict)

    def _outcome(
        self,
        decision: Decision,
        reason: Reason,
        records: list[OutRecord],
        verdict: Verdict | None,
    ) -> Outcome:
        if verdict is None:
            return Outcome(decision, reason, (), tuple(records))
        return Outcome(
            decision,
            reason,
            verdict.bases,
            tuple(records),
            self._event_ref(verdict),
            verdict.match_strength,
            verdict.strong_keys,
        )

    def _event_ref(self, verdict: Verdict | None) -> str | None:
        if verdict is None or verdict.event_id is None:
            return None
        return event_reference(self._engine.blinder, verdict.event_id)

    def audit_record(
        self,
        message: InputMessage,
        decision: Decision,
        reason: Reason,
        batch: BatchContext,
        verdict: Verdict | None,
        *,
        stage: AuditStage = AuditStage.DECIDED,
        actor: str | None = None,
    ) -> OutRecord:
        """The audit record of one decision, one review resolution or one retraction."""
        audit = {
            "input_topic": message.topic,
            "input_partition": message.partition,
            "input_offset": message.offset,
            "event_ref": self._event_ref(verdict),
            "stage": stage.value,
            "decision": decision.value,
            "reason": reason.value,
            "match_strength": (verdict.match_strength if verdict else MatchStrength.NONE).value,
            "bases": list(verdict.bases) if verdict is not None else [],
            "matched_record_refs": list(verdict.matched_record_refs) if verdict else [],
            "blinded_keys": list(verdict.strong_keys) if verdict is not None else [],
            "weak_keys": list(verdict.weak_keys) if verdict is not None else [],
            "policy_version": self._engine.policy.version,
            "registry_offsets": batch.registry_offsets,
            "decided_at": batch.decided_at,
            "actor": actor,
        }
        return OutRecord(
            self._topics.audit,
            message.position.encode("ascii"),
            self.encode(SchemaName.GUARD_DECISION, audit),
        )

    def publication_record(self, publication: Publication) -> OutRecord:
        """The publications record of a notice: on its custody event's partition number,
        whose owner is the worker that may withdraw it."""
        return OutRecord(
            self._topics.publications,
            publication.notice_id.encode("ascii"),
            encode_publication(publication),
            partition=publication.input_partition,
        )

    def _held_record(
        self, message: InputMessage, verdict: Verdict, batch: BatchContext
    ) -> OutRecord:
        raw = message.value or b""
        held = {
            "input_topic": message.topic,
            "input_partition": message.partition,
            "input_offset": message.offset,
            "event_ref": self._event_ref(verdict),
            "held_at": batch.decided_at,
            "reason": verdict.reason.value,
            "match_strength": verdict.match_strength.value,
            "bases": list(verdict.bases),
            "matched_record_refs": list(verdict.matched_record_refs),
            "policy_version": self._engine.policy.version,
            "registry_offsets": batch.registry_offsets,
            "event": raw if len(raw) <= MAX_COPIED_VALUE_BYTES else None,
            "event_size": len(raw),
        }
        return OutRecord(
            self._topics.review,
            message.position.encode("ascii"),
            self.encode(SchemaName.HELD_EVENT, held),
        )


def publication_of(
    message: InputMessage, verdict: Verdict, batch: BatchContext, *, is_reviewed: bool = False
) -> Publication:
    """What the publications topic remembers of the notice ``verdict`` publishes."""
    notice = verdict.notice or {}
    return Publication(
        notice_id=str(notice["notice_id"]),
        subject_ref=str(notice["subject_ref"]),
        is_redacted=bool(notice["redacted"]),
        input_topic=message.topic,
        input_partition=message.partition,
        input_offset=message.offset,
        blinded_keys=verdict.strong_keys,
        published_at=batch.decided_at,
        weak_keys=verdict.weak_keys,
        is_reviewed=is_reviewed,
    )
