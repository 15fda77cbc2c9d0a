"""Resolving held events: release (publish after review) or confirm (drop), exactly once.

A resolution is one Kafka transaction holding, for each position: the
public notice (release only), one audit record with stage REVIEWED, and a
tombstone for the held event. Either all of a command's resolutions become
visible or none does.

Exactly once, across crashes and concurrent operators: the transactional id
is fixed per application (``APP_ID-review``). Starting the producer fences
any earlier review command and aborts whatever it left open; only *then* is
the review topic read, ``read_committed``. A position resolved by a command
that committed is therefore seen as resolved (its tombstone is there), and
a command that did not commit left nothing behind. A second command started
while the first is still running fences it, so the first cannot commit.

A release re-decides the event against the registry as it is *now*: the
registry is restored and read up to its current end (the same freshness
rule as the worker), then the event is decided with its weak matches set
aside, because the operator has confirmed them. If a protection now meets
the event on a strong key, it is not published: it is finalised as DROP
(``review_now_protected``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aiokafka import TopicPartition

from guard.codec.errors import CodecError
from guard.codec.schemas import SchemaName
from guard.codec.wire import WriterSchema
from guard.config.keys import registry_keys, subject_ref_blinder
from guard.config.settings import GuardConfig
from guard.decision.engine import DecisionEngine
from guard.decision.verdict import MatchStrength, Reason, Verdict
from guard.kafka.clients import new_consumer, new_producer
from guard.kafka.connection import kafka_connection
from guard.policy.model import Decision, load_policy
from guard.registry.index import RegistryIndex
from guard.registry.reader import RegistryReader, reader_for
from guard.review.errors import EventUnavailable, NotHeld, ReviewError
from guard.review.held import HeldEvent, load_held
from guard.schemaregistry.wireformat import WireFormat
from guard.stream.decider import (
    AuditStage,
    BatchContext,
    InputMessage,
    MessageDecider,
    OutputTopics,
    publication_of,
)
from guard.stream.output import OutRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Resolution:
    """What one review command did with one position."""

    position: str
    decision: Decision
    reason: Reason
    problem: str | None = None
    """Why nothing was done for this position, when nothing was."""

    @property
    def is_done(self) -> bool:
        return self.problem is None


async def release(config: GuardConfig, positions: Sequence[str], actor: str) -> list[Resolution]:
    """Publish each held event that still has no strong match; drop those that now do."""
    return await _resolve(config, positions, actor, is_release=True)


async def confirm(config: GuardConfig, positions: Sequence[str], actor: str) -> list[Resolution]:
    """Finalise each held event as DROP: the reviewer confirmed it is the protected person."""
    return await _resolve(config, positions, actor, is_release=False)


def review_transactional_id(config: GuardConfig) -> str:
    return f"{config.app_id}-review"


async def _resolve(
    config: GuardConfig, positions: Sequence[str], actor: str, *, is_release: bool
) -> list[Resolution]:
    if not actor.strip():
        raise ReviewError("--operator: give the name of the person resolving the events")
    producer = new_producer(
        kafka_connection(config),
        transactional_id=review_transactional_id(config),
        enable_idempotence=True,
        acks="all",
    )
    wire = WireFormat.from_config(config)
    try:
        if wire is not None:
            await wire.register_outputs()  # the notice and audit ids this command writes under
        await producer.start()  # fences any earlier review command first
        held = await load_held(config, wire)
        decider, reader = await _fresh_decider(config, wire)
        try:
            events = {p: await _held_bytes(config, held.get(p)) for p in dict.fromkeys(positions)}
            writers = await wire.writers_for(events.values()) if wire is not None else {}
            batch = BatchContext.now(reader.applied, writers)
            records: list[OutRecord] = []
            resolutions: list[Resolution] = []
            for position, raw in events.items():
                resolution, produced = _resolve_one(
                    config, decider, held.get(position), raw, position, batch, actor, is_release
                )
                resolutions.append(resolution)
                records.extend(produced)
        finally:
            await reader.stop()
        if records:
            async with producer.transaction():
                for record in records:
                    await producer.send(
                        record.topic, record.value, key=record.key, partition=record.partition
                    )
        return resolutions
    finally:
        await producer.stop()
        if wire is not None:
            await wire.client.close()


async def _held_bytes(config: GuardConfig, held: HeldEvent | None) -> bytes | None:
    """The held event's bytes: its copy, else the custody topic's record, if still there."""
    if held is None:
        return None
    return held.event if held.event is not None else await _custody_event(config, held)


def _resolve_one(
    config: GuardConfig,
    decider: MessageDecider,
    held: HeldEvent | None,
    raw: bytes | None,
    position: str,
    batch: BatchContext,
    actor: str,
    is_release: bool,
) -> tuple[Resolution, list[OutRecord]]:
    if held is None:
        return Resolution(position, Decision.HOLD, Reason.WEAK_MATCH, str(NotHeld(position))), []
    if raw is None:
        problem = str(EventUnavailable(position))
        if is_release:
            return Resolution(position, Decision.HOLD, Reason.WEAK_MATCH, problem), []
        verdict: Verdict | None = None
    else:
        verdict = _redecide(decider, raw, batch.writers, is_release)
        if verdict is None or verdict.decision is Decision.REJECT:
            problem = f"{position}: the held event can no longer be decided; confirm it to close it"
            if is_release:
                return Resolution(position, Decision.HOLD, Reason.WEAK_MATCH, problem), []
    message = InputMessage(held.input_topic, held.input_partition, held.input_offset, raw)
    decision, reason = _outcome(verdict, is_release)
    records: list[OutRecord] = []
    if decision is Decision.PUBLISH and verdict is not None and verdict.notice is not None:
        encoded = decider.encode(SchemaName.PUBLIC_NOTICE, verdict.notice)
        records.append(OutRecord(config.public_topic, verdict.notice_key, encoded))
        # Remembered like any notice, so that a protection can withdraw it later; marked
        # reviewed, so that only a strong match does.
        released = publication_of(message, verdict, batch, is_reviewed=True)
        records.append(decider.publication_record(released))
    audit = decider.audit_record(
        message, decision, reason, batch, verdict, stage=AuditStage.REVIEWED, actor=actor
    )
    records.append(audit)
    records.append(OutRecord(config.review_topic, position.encode("ascii"), None))
    return Resolution(position, decision, reason), records


def _redecide(
    decider: MessageDecider, raw: bytes, writers: Mapping[int, WriterSchema], is_release: bool
) -> Verdict | None:
    try:
        event = decider.decode_custody(raw, writers)
    except CodecError:
        return None
    return decider.engine.decide(event, is_released=is_release)


def _outcome(verdict: Verdict | None, is_release: bool) -> tuple[Decision, Reason]:
    """A confirmation drops. A release publishes only a notice with no strong match:
    anything else (a strong match now, a REDACT, a REJECT) is dropped, never published."""
    if not is_release:
        return Decision.DROP, Reason.REVIEW_CONFIRMED
    is_publishable = (
        verdict is not None
        and verdict.decision is Decision.PUBLISH
        and verdict.match_strength is not MatchStrength.STRONG
        and verdict.notice is not None
    )
    if is_publishable:
        return Decision.PUBLISH, Reason.REVIEW_RELEASED
    return Decision.DROP, Reason.REVIEW_NOW_PROTECTED


async def _fresh_decider(
    config: GuardConfig, wire: WireFormat | None
) -> tuple[MessageDecider, RegistryReader]:
    """A decider over the registry as it is now: restored and read to its current end."""
    keys = registry_keys(config)
    index = RegistryIndex()
    reader = reader_for(
        config,
        kafka_connection(config),
        keys.current.key_id,
        index,
        client_id=f"{config.app_id}-review",
        previous_key_id=keys.previous_key_id,
    )
    await reader.start()
    try:
        await reader.wait_until_fresh()
    except BaseException:
        await reader.stop()
        raise
    if reader.is_halted:
        await reader.stop()
        raise ReviewError("the registry reader halted; resolve the registry first (guard status)")
    engine = DecisionEngine(keys.current, subject_ref_blinder(config), index,
                            load_policy(config.policy_file), previous=keys.previous)  # fmt: skip
    return MessageDecider(engine, OutputTopics.of(config), wire), reader


async def _custody_event(config: GuardConfig, held: HeldEvent) -> bytes | None:
    """The custody event at the held position, when the custody topic still has it."""
    consumer = new_consumer(
        kafka_connection(config),
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    await consumer.start()
    try:
        tp = TopicPartition(held.input_topic, held.input_partition)
        consumer.assign([tp])
        beginning = (await consumer.beginning_offsets([tp]))[tp]
        if held.input_offset < beginning:
            return None
        consumer.seek(tp, held.input_offset)
        batches = await consumer.getmany(tp, timeout_ms=5000, max_records=1)
        for record in batches.get(tp, []):
            if record.offset == held.input_offset:
                value: bytes | None = record.value
                return value
        return None
    finally:
        await consumer.stop()
