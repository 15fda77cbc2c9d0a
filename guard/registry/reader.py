"""Materialises the registry topic into a :class:`RegistryIndex`, and says how far it got.

Why not faust's GlobalTable: fed by an outside producer it can stop applying
updates after start-up, it skips a record that fails to apply, and its
"recovered" flag is never cleared (see docs/DESIGN.md). This reader is small
enough to reason about instead:

* every partition assigned, read from the beginning, ``read_committed`` (an
  aborted tombstone must never lift a protection);
* offsets applied are tracked per partition, so the freshness gate can ask
  "have you applied everything up to these end offsets?";
* a record that cannot be decoded halts the reader on that offset. It is
  never skipped, unless an operator names its exact position in
  ``GUARD_REGISTRY_ACCEPTED_UNDECODABLE`` after replacing it;
* the follow loop is supervised: if it fails for any other reason (a bug in
  the decoder or the index, say), the reader halts with that cause
  (:class:`RegistryReaderFailed`) instead of stopping silently and leaving
  the gate to wait on a reader that no longer reads. A failure that is not a
  :class:`~guard.codec.errors.DecodeError` is never blamed on the record.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError, KafkaTimeoutError

from guard.codec.errors import DecodeError
from guard.config.settings import GuardConfig
from guard.kafka.connection import KafkaConnection
from guard.registry.clients import KafkaRegistryClients, RegistryClients
from guard.registry.errors import (
    RegistryError,
    RegistryHalted,
    RegistryPartitionsChanged,
    RegistryReaderFailed,
    RegistryUnavailable,
)
from guard.registry.index import CURRENT_KEY, PREVIOUS_KEY, RegistryIndex
from guard.registry.model import ProtectionRecord
from guard.registry.records import decode_protection_record
from guard.topic_metadata import topic_partitions

log = logging.getLogger(__name__)

PARTITION_CHECK_EVERY = 10
"""Every how many probes the registry's partition count is checked again."""

PROBE_TIMEOUT_SECONDS = 5.0
"""How long an end-offset question may take before it counts as unanswered."""

DecodeRecord = Callable[[bytes], ProtectionRecord]
"""Turns a registry value into a record; raises DecodeError on anything undecodable.

Any other exception is a bug in the decoder, not a bad record: it halts the
reader as :class:`RegistryReaderFailed`."""


@dataclass(frozen=True, slots=True)
class RestoreProgress:
    """How far the initial restore has come, for start-up progress lines."""

    done: int
    """Offsets applied since the beginning of each partition (records and markers)."""
    total: int
    """Offsets between the beginning and the end offsets captured at start-up."""
    elapsed_seconds: float

    @property
    def rate(self) -> float:
        """Offsets applied per second so far."""
        return self.done / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left at the current rate; None before there is a rate."""
        return (self.total - self.done) / self.rate if self.rate > 0 else None


class RegistryReader:
    """Follows the registry topic for the life of the worker.

    ``applied`` maps partition → next offset not yet applied. Only this task
    writes the index, so a lookup never sees a half-applied record.
    """

    def __init__(
        self,
        *,
        clients: RegistryClients,
        topic: str,
        index: RegistryIndex,
        decode: DecodeRecord,
        blinding_key_id: str,
        previous_key_id: str | None = None,
        accepted_undecodable: frozenset[tuple[int, int]] = frozenset(),
        on_applied: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``on_applied`` gets the seconds from a record's Kafka timestamp to its
        application, for records applied after the restore."""
        self._clients = clients
        self._topic = topic
        self.index = index
        self._decode = decode
        self._key_roles = {blinding_key_id: CURRENT_KEY}
        if previous_key_id is not None:
            self._key_roles[previous_key_id] = PREVIOUS_KEY
        self.key_ids = (blinding_key_id, previous_key_id)
        """The current key id and, during a rotation, the previous one (else None)."""
        self._accepted_undecodable = accepted_undecodable
        self._on_applied = on_applied
        self._clock = clock
        self._consumer: Any = None
        self._probe: Any = None
        self._admin: Any = None
        self._partitions: tuple[TopicPartition, ...] = ()
        self._task: asyncio.Task[None] | None = None
        self._progress = asyncio.Condition()
        self.applied: dict[int, int] = {}
        self.start_offsets: dict[int, int] = {}
        self.restore_targets: dict[int, int] = {}
        self.halted: RegistryError | None = None
        self._probes = 0
        self.applied_records = 0
        self._started_at = clock()
        self.restored_at: float | None = None
        self.last_caught_up_at: float | None = None
        """Monotonic time at which applied offsets last equalled a fresh end-offset read."""

    # -- life cycle ---------------------------------------------------------

    async def start(self) -> None:
        """Assign every partition from the beginning and start following."""
        self._consumer = self._clients.follower()
        self._probe = self._clients.probe()
        self._admin = self._clients.admin()
        await self._consumer.start()
        await self._probe.start()
        await self._admin.start()
        partitions = await self._partitions_of_topic()
        self._partitions = tuple(TopicPartition(self._topic, p) for p in partitions)
        self._consumer.assign(list(self._partitions))
        await self._consumer.seek_to_beginning(*self._partitions)
        for tp in self._partitions:
            self.applied[tp.partition] = await self._consumer.position(tp)
        self.start_offsets = dict(self.applied)
        self.restore_targets = await self.end_offsets()
        self._started_at = self._clock()
        self._task = asyncio.create_task(self._supervise(), name="registry-reader")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for client in (self._consumer, self._probe):
            if client is not None:
                await client.stop()
        if self._admin is not None:
            await self._admin.close()
        self._consumer = self._probe = self._admin = None

    async def _partitions_of_topic(self) -> list[int]:
        if self._admin is None:
            raise RegistryUnavailable("registry reader is not started")
        partitions = await topic_partitions(self._admin, self._topic)
        if partitions:
            return sorted(partitions)
        raise RegistryUnavailable(
            f"registry topic {self._topic!r} does not exist or has no partitions"
        )

    # -- questions the gate and the ops endpoints ask -------------------------

    @property
    def is_restored(self) -> bool:
        """Applied everything that was in the topic when the worker started."""
        return self.restored_at is not None

    @property
    def is_halted(self) -> bool:
        return self.halted is not None

    def has_reached(self, targets: Mapping[int, int]) -> bool:
        """True when every partition's applied offset is at or past its target.

        A halted reader has reached nothing, whatever its offsets say.
        """
        if self.halted is not None:
            return False
        return all(self.applied.get(p, 0) >= off for p, off in targets.items())

    def progress(self) -> RestoreProgress:
        beginning = sum(self.start_offsets.values())
        return RestoreProgress(
            done=min(sum(self.applied.values()), sum(self.restore_targets.values())) - beginning,
            total=sum(self.restore_targets.values()) - beginning,
            elapsed_seconds=self._clock() - self._started_at,
        )

    def lag(self, targets: Mapping[int, int]) -> dict[int, int]:
        """Per partition: how many offsets ``targets`` is ahead of what was applied."""
        return {p: max(0, end - self.applied.get(p, 0)) for p, end in targets.items()}

    async def probe(self) -> dict[int, int] | None:
        """Read end offsets once; note a catch-up if they are applied. None if unreachable."""
        try:
            targets = await self.end_offsets()
            self._probes += 1
            if self._probes % PARTITION_CHECK_EVERY == 0:
                await self._check_partitions()
        except (KafkaError, RegistryUnavailable) as exc:
            log.warning("registry end offsets unavailable (%s)", type(exc).__name__)
            return None
        if self.is_restored and not self.is_halted and self.has_reached(targets):
            self.last_caught_up_at = self._clock()
        return targets

    async def end_offsets(self) -> dict[int, int]:
        """The registry's end offsets (high watermarks) right now.

        Read ``read_uncommitted`` on purpose: the last stable offset stops at
        the first record of an open transaction, and a protection committed
        after it by another writer would lie beyond that target. The high
        watermark includes it; the ``read_committed`` reader cannot pass the
        open transaction until it ends, so the gate waits (fails closed)
        rather than decide without that protection. A separate client asks,
        so the question never waits behind a fetch; a broker that does not
        answer within ``PROBE_TIMEOUT_SECONDS`` raises ``KafkaTimeoutError``.
        """
        if self._probe is None:
            raise RegistryUnavailable("registry reader is not started")
        try:
            ends = await asyncio.wait_for(
                self._probe.end_offsets(list(self._partitions)), PROBE_TIMEOUT_SECONDS
            )
        except TimeoutError:
            raise KafkaTimeoutError("registry end offsets not answered in time") from None
        return {tp.partition: off for tp, off in ends.items()}

    async def _check_partitions(self) -> None:
        if self._admin is None or self.halted is not None:
            return
        now = await topic_partitions(self._admin, self._topic)
        if now and len(now) != len(self._partitions):
            self.halted = RegistryPartitionsChanged(len(self._partitions), len(now))
            log.error("%s", self.halted)
            await self._notify()

    async def wait_until_reached(self, targets: Mapping[int, int]) -> None:
        """Block until :meth:`has_reached` ``targets``. Never gives up on its own.

        A halted reader never reaches anything: waiting events then wait,
        which is the point.
        """
        async with self._progress:
            await self._progress.wait_for(lambda: self.has_reached(targets))

    async def wait_until_fresh(self) -> dict[int, int]:
        """Read the end offsets now and wait until they are applied; return them.

        If the end offsets cannot be read (broker unreachable), keep trying:
        the caller's events wait, they are never decided on stale knowledge
        and never dropped from the stream by an exception.
        """
        backoff = 0.1
        while True:
            try:
                targets = await self.end_offsets()
                break
            except KafkaError as exc:
                log.warning(
                    "registry end offsets unavailable (%s); events wait", type(exc).__name__
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
        await self.wait_until_reached(targets)
        self.last_caught_up_at = self._clock()
        return targets

    # -- the follow loop ------------------------------------------------------

    async def _supervise(self) -> None:
        """Run the follow loop; whatever ends it other than ``stop()`` halts the reader."""
        try:
            await self._follow()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.halted = RegistryReaderFailed(type(exc).__name__)
            log.error("%s", self.halted, exc_info=True)
        else:
            if self.halted is None:
                self.halted = RegistryReaderFailed("follow loop returned")
                log.error("%s", self.halted)
        await self._notify()

    async def _follow(self) -> None:
        consumer = self._consumer
        if consumer is None:
            raise RegistryUnavailable("registry reader is not started")
        while True:
            try:
                batches = await consumer.getmany(timeout_ms=200, max_records=5000)
            except KafkaError as exc:
                log.warning("registry fetch failed (%s); retrying", type(exc).__name__)
                await asyncio.sleep(0.5)
                continue
            for tp, records in batches.items():
                for record in records:
                    if not self._apply(tp.partition, record.offset, record.key, record.value):
                        return  # halted: stay on this offset until restarted
                    if self._on_applied is not None and self.is_restored:
                        self._on_applied(max(0.0, time.time() - record.timestamp / 1000))
            # Positions move past transaction markers and aborted records too;
            # reading them here lets "applied" reach the end offsets.
            for tp in self._partitions:
                position = await consumer.position(tp)
                self.applied[tp.partition] = max(self.applied[tp.partition], position)
            if not self.is_restored and self.has_reached(self.restore_targets):
                self.restored_at = self._clock()
                self.last_caught_up_at = self.restored_at
                log.info(
                    "registry restored: %d active records from %d registry records",
                    self.index.active_count,
                    self.applied_records,
                )
            await self._notify()

    async def _notify(self) -> None:
        async with self._progress:
            self._progress.notify_all()

    def _apply(self, partition: int, offset: int, key: bytes | None, value: bytes | None) -> bool:
        """Apply one registry record; False (and halt) when it cannot be applied."""
        try:
            record_ref, record = self._parse(key, value)
        except _Unapplicable as exc:
            if (partition, offset) not in self._accepted_undecodable:
                self.halted = RegistryHalted(partition, offset, exc.problem)
                log.error("%s", self.halted)
                return False
            log.warning(
                "registry record at partition %d offset %d passed over by operator override",
                partition,
                offset,
            )
        else:
            role = CURRENT_KEY if record is None else self._key_roles[record.blinding_key_id]
            self.index.apply(record_ref, record, key_role=role)
        self.applied[partition] = offset + 1
        self.applied_records += 1
        return True

    def _parse(self, key: bytes | None, value: bytes | None) -> tuple[str, ProtectionRecord | None]:
        """Key and record (None for a tombstone), or :class:`_Unapplicable` saying why not."""
        if key is None:
            raise _Unapplicable("no key")
        try:
            record_ref = key.decode("ascii")
        except UnicodeDecodeError:
            raise _Unapplicable("key is not ASCII") from None
        if value is None:
            return record_ref, None
        try:
            record = self._decode(value)
        except DecodeError as exc:
            raise _Unapplicable(f"undecodable: {type(exc).__name__}") from None
        if record.record_ref != record_ref:
            raise _Unapplicable("record_ref does not match the message key")
        if record.blinding_key_id not in self._key_roles:
            raise _Unapplicable(
                "blinded under a key id that is neither GUARD_BLINDING_KEY_ID nor "
                "GUARD_BLINDING_KEY_PREVIOUS_ID"
            )
        return record_ref, record


class _Unapplicable(Exception):
    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def reader_for(
    config: GuardConfig,
    connection: KafkaConnection,
    blinding_key_id: str,
    index: RegistryIndex,
    *,
    client_id: str,
    on_applied: Callable[[float], None] | None = None,
    previous_key_id: str | None = None,
) -> RegistryReader:
    """A reader of the configured registry topic into ``index``: the worker's, or a
    review command's (which restores the registry to re-decide held events)."""
    return RegistryReader(
        clients=KafkaRegistryClients(connection, client_id),
        topic=config.registry_topic,
        index=index,
        decode=decode_protection_record,
        blinding_key_id=blinding_key_id,
        previous_key_id=previous_key_id,
        accepted_undecodable=config.registry_accepted_undecodable,
        on_applied=on_applied,
    )
