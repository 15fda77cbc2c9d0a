"""``guard canary``: sends events about synthetic protected people and checks they never publish.

Every ``interval`` seconds the canary sends one custody event about one of
its people (round robin; a fresh random event id, a realistic custody
status). It then expects, from the guard's own outputs:

* an audit record for that event (found by its keyed ``event_ref``) that
  says DROP or HOLD, within ``bound`` seconds. Later than that counts once
  as *late* (the guard is stuck, halted, or the canary's protection is
  missing in a way that holds rather than publishes);
* no public notice about any canary person, ever: a notice whose id is that
  of a canary event, or whose subject reference is a canary person's, is
  counted as *published*, which pages (a possible disclosure: the registry
  entry was removed, or protection failed).

The people are protected once, at start-up (``install``), the way an
operator imports anyone: if an operator later removes or breaks a canary's
registry entry, the canary must notice, not repair it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from guard.canary.people import CanaryPerson, canary_people
from guard.codec.avro import codec_for
from guard.codec.errors import CodecError
from guard.codec.jsonlines import custody_event_from_json, registry_entry_from_json
from guard.codec.schemas import SchemaName
from guard.config.keys import registry_blinder, subject_ref_blinder
from guard.config.settings import GuardConfig
from guard.decision.projection import notice_id, subject_reference
from guard.decision.references import event_reference
from guard.identity.keys import subject_keys
from guard.identity.model import Identity, PersonName
from guard.kafka.clients import new_consumer
from guard.kafka.connection import kafka_connection
from guard.policy.model import Decision
from guard.registry.writer import blind_entry, write_registry
from guard.schemaregistry.wireformat import WireFormat, batch_decoder
from guard.topic_metadata import partitions_of
from guard.upstream import custody_encoder, send_custody

log = logging.getLogger(__name__)

_MAX_PENDING = 10_000
_MAX_REMEMBERED_NOTICES = 100_000
_NOT_PUBLISHED = frozenset({Decision.DROP.value, Decision.HOLD.value})


@dataclass(frozen=True, slots=True)
class CanarySettings:
    interval: float = 30.0
    """Seconds between canary events."""
    bound: float = 60.0
    """Seconds within which each canary event must be decided."""
    people: int = 2
    """How many synthetic people take turns (each one registry entry)."""


@dataclass
class _Sent:
    person: CanaryPerson
    notice_id: str
    sent_at: float
    is_late: bool = False


@dataclass
class CanaryCounts:
    """What the canary has seen (also exported as ``guard_canary_*`` metrics)."""

    sent: int = 0
    decided: dict[str, int] = field(default_factory=dict)
    late: int = 0
    published: int = 0
    last_decided_at: float | None = None


CanaryReport = Callable[[str, float | None], None]
"""Told of each outcome: ``sent``, a decision name, ``late`` or ``published``, and for a
decision the seconds it took."""


class Canary:
    """See the module docstring."""

    def __init__(
        self,
        config: GuardConfig,
        settings: CanarySettings,
        *,
        report: CanaryReport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._settings = settings
        self._report = report
        self._clock = clock
        self._blinder = registry_blinder(config)
        self._notice_blinder = subject_ref_blinder(config)
        self.people = canary_people(self._blinder, settings.people)
        self._subject_refs = {self._subject_ref(person) for person in self.people}
        self._pending: dict[str, _Sent] = {}
        """event_ref → what was sent, until its audit record arrives."""
        self._notice_ids: dict[str, None] = {}
        """Notice ids of recent canary events (insertion-ordered, oldest forgotten first).
        Redacted notices carry no subject reference: only their id says "canary"."""
        self._notices_due: set[str] = set()
        self._notices_seen: set[str] = set()
        """Notices of canary events decided PUBLISH or REDACT, not yet read back: a
        bounded run waits for them, so that its ``published`` count is complete."""
        self.counts = CanaryCounts()
        self._wire = WireFormat.from_config(config, hold=True)
        self._encode: Callable[[Mapping[str, Any]], bytes] = codec_for(
            SchemaName.CUSTODY_EVENT
        ).encode

    async def install(self) -> None:
        """Protect the canary people (one registry import, like any operator's)."""
        entries = [registry_entry_from_json(p.registry_entry()) for p in self.people]
        await write_registry(self._config, [blind_entry(self._blinder, e) for e in entries])
        log.info("canary: %d synthetic protected people in the registry", len(self.people))

    async def run(self, *, rounds: int | None = None) -> CanaryCounts:
        """Send, watch and count until cancelled (or for ``rounds`` events, for tests)."""
        self._encode = await custody_encoder(self._config)
        audit = await self._follower(self._config.audit_topic)
        public = await self._follower(self._config.public_topic)
        watchers = [
            asyncio.create_task(self._watch(audit, SchemaName.GUARD_DECISION, self._on_audit)),
            asyncio.create_task(self._watch(public, SchemaName.PUBLIC_NOTICE, self._on_notice)),
        ]
        try:
            sent = 0
            while rounds is None or sent < rounds:
                await self._send(self.people[sent % len(self.people)])
                sent += 1
                await self._wait_interval()
            deadline = self._clock() + self._settings.bound
            while (self._pending or self._notices_due) and self._clock() < deadline:
                await asyncio.sleep(0.2)
                self._mark_late()
            self._mark_late(force=True)
            return self.counts
        finally:
            for watcher in watchers:
                watcher.cancel()
            await asyncio.gather(*watchers, return_exceptions=True)
            await audit.stop()
            await public.stop()
            if self._wire is not None:
                await self._wire.client.close()

    async def _wait_interval(self) -> None:
        deadline = self._clock() + self._settings.interval
        while self._clock() < deadline:
            await asyncio.sleep(min(0.5, self._settings.interval))
            self._mark_late()

    async def _send(self, person: CanaryPerson) -> None:
        event_id = str(uuid.uuid4())
        event = person.custody_event(event_id, datetime.now(UTC))
        payload = self._encode(custody_event_from_json(event))
        self._forget_oldest_late()
        notice = notice_id(event_id, self._notice_blinder)
        self._pending[event_reference(self._blinder, event_id)] = _Sent(
            person, notice, self._clock()
        )
        self._notice_ids[notice] = None
        while len(self._notice_ids) > _MAX_REMEMBERED_NOTICES:
            del self._notice_ids[next(iter(self._notice_ids))]
        await send_custody(self._config, [payload])
        self.counts.sent += 1
        self._tell("sent", None)

    def _mark_late(self, *, force: bool = False) -> None:
        now = self._clock()
        for sent in self._pending.values():
            if not sent.is_late and (force or now - sent.sent_at > self._settings.bound):
                sent.is_late = True
                self.counts.late += 1
                log.error(
                    "canary: an event about canary %d was not decided within %.0f s",
                    sent.person.number,
                    self._settings.bound,
                )
                self._tell("late", None)

    def _forget_oldest_late(self) -> None:
        """Bound memory through a long outage: late events beyond the cap are only counted."""
        while len(self._pending) >= _MAX_PENDING:
            oldest = next(iter(self._pending))
            if not self._pending[oldest].is_late:
                break
            del self._pending[oldest]

    async def _follower(self, topic: str) -> AIOKafkaConsumer:
        """A ``read_committed`` consumer on every partition of ``topic``, from its end now."""
        connection = kafka_connection(self._config)
        consumer = new_consumer(
            connection,
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_committed",
        )
        await consumer.start()
        numbers = sorted(await partitions_of(connection, topic))
        partitions = [TopicPartition(topic, n) for n in numbers]
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        for tp in partitions:
            await consumer.position(tp)  # resolve "end" now, before the first event is sent
        return consumer

    async def _watch(
        self,
        consumer: AIOKafkaConsumer,
        schema: SchemaName,
        handle: Callable[[dict[str, Any], int, int], None],
    ) -> None:
        """Feed every decodable record to ``handle`` with its partition and offset (a
        tombstone or a record that does not decode is not the canary's to judge). Reads
        what the workers write: schemaless Avro, or the wire format with a registry."""
        while True:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                decode = await batch_decoder(schema, self._wire, (r.value for r in records))
                for record in records:
                    if record.value is None:
                        continue
                    try:
                        value = decode(record.value)
                    except CodecError:
                        continue
                    handle(value, record.partition, record.offset)

    def _on_audit(self, audit: dict[str, Any], partition: int, offset: int) -> None:
        if audit["stage"] != "DECIDED":
            return
        sent = self._pending.pop(audit["event_ref"] or "", None)
        if sent is not None:
            self._decided(sent, audit["decision"])

    def _decided(self, sent: _Sent, decision: str) -> None:
        seconds = self._clock() - sent.sent_at
        self.counts.decided[decision] = self.counts.decided.get(decision, 0) + 1
        self.counts.last_decided_at = time.time()
        if decision not in _NOT_PUBLISHED:
            if sent.notice_id not in self._notices_seen:
                self._notices_due.add(sent.notice_id)
            log.critical(
                "canary: an event about canary %d was decided %s", sent.person.number, decision
            )
        self._tell(decision, seconds)

    def _on_notice(self, notice: dict[str, Any], partition: int, offset: int) -> None:
        is_canary_id = notice["notice_id"] in self._notice_ids
        if not (is_canary_id or notice["subject_ref"] in self._subject_refs):
            return
        self._notices_due.discard(notice["notice_id"])
        self._notices_seen.add(notice["notice_id"])
        self.counts.published += 1
        log.critical(
            "canary: a notice about a canary person reached the public topic "
            "(partition %d offset %d): treat as a possible disclosure",
            partition,
            offset,
        )
        self._tell("published", None)

    def _subject_ref(self, person: CanaryPerson) -> str:
        identity = Identity(
            a_numbers=(person.a_number,),
            names=(PersonName(person.given_name, person.family_name),),
            date_of_birth=person.date_of_birth,
        )
        return subject_reference(subject_keys(identity), "", self._notice_blinder)

    def _tell(self, what: str, seconds: float | None) -> None:
        if self._report is not None:
            self._report(what, seconds)
