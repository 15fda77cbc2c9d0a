"""Writes each input partition's decisions and its offset in one Kafka transaction.

Why one transactional producer *per input partition*, with the id
``APP_ID-<topic>-<partition>``: aiokafka's ``send_offsets_to_transaction``
sends TxnOffsetCommit v0, which carries no consumer generation, so the broker
cannot tell a partition's current owner from a worker that lost it while
frozen. A transactional id bound to the partition can: whoever is assigned
the partition starts a producer under that id, the broker bumps its epoch,
aborts the previous owner's open transaction and rejects everything the
previous owner's producer sends from then on, however long it was paused.
This is Kafka Streams' answer before KIP-447.

Per-partition transactions are enough for "exactly one decision per input
position": every record a decision writes (notice, audit record, dead letter)
is derived from one input record, so a batch spanning partitions needs no
atomicity *across* partitions. If partition 0's transaction commits and
partition 1's does not, partition 1's events are decided again from its
committed offset, and partition 0's are not.

Records are appended to per-partition batches (``create_batch`` /
``send_batch``), partitioned by key with Kafka's default murmur2 partitioner,
so each key lands where a per-record ``send`` would have put it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aiokafka import TopicPartition
from aiokafka.errors import InvalidProducerEpoch, KafkaError, ProducerFenced

from guard.stream.errors import OutputFailed, PartitionFenced

log = logging.getLogger(__name__)

_FENCING_ERRORS: tuple[type[BaseException], ...] = (ProducerFenced, InvalidProducerEpoch)


@dataclass(frozen=True, slots=True)
class OutRecord:
    """One record to write. Headers are the guard's own; input headers are never copied."""

    topic: str
    key: bytes | None
    value: bytes | None
    """None is a tombstone (a retraction deletes a subject's notices from the public topic)."""
    headers: tuple[tuple[str, bytes], ...] = ()
    partition: int | None = None
    """Where the record must go; None: by key, as Kafka's default partitioner would."""


@dataclass(frozen=True, slots=True)
class InputPartition:
    """A custody partition: the unit of ownership, fencing and commit."""

    topic: str
    partition: int


class BatchBuilder(Protocol):
    def append(
        self, *, timestamp: float | None, key: bytes | None, value: bytes | None, headers: Any
    ) -> object | None: ...


class TransactionalProducer(Protocol):
    """The part of ``AIOKafkaProducer`` the output uses (tests give an in-memory one)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def begin_transaction(self) -> None: ...

    async def commit_transaction(self) -> None: ...

    async def abort_transaction(self) -> None: ...

    async def send_offsets_to_transaction(self, offsets: Any, group_id: str) -> None: ...

    async def partitions_for(self, topic: str) -> set[int]: ...

    def create_batch(self) -> BatchBuilder: ...

    async def send_batch(self, batch: Any, topic: str, *, partition: int) -> Any: ...


ProducerFactory = Callable[[str], TransactionalProducer]
"""Builds an unstarted producer for a transactional id."""


def kafka_partition(key: bytes | None, partitions: int) -> int:
    """The partition Kafka's default partitioner gives ``key`` (murmur2, as the Java client)."""
    if key is None:
        return random.randrange(partitions)
    return (murmur2(key) & 0x7FFFFFFF) % partitions


_M = 0x5BD1E995
_MASK = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 (``Utils.murmur2``), equal to aiokafka's but with whole-word reads.

    aiokafka's version assembles each 4-byte word from single bytes in
    Python; here ``struct`` reads them all at once, which halves its cost on
    the guard's output path (a test compares the two on random keys).
    """
    length = len(data)
    h = 0x9747B28C ^ length
    words = length // 4
    for k in struct.unpack_from(f"<{words}I", data):
        k = (k * _M) & _MASK
        k = ((k ^ (k >> 24)) * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    tail = length & 3
    if tail:
        base = words * 4
        if tail == 3:
            h ^= data[base + 2] << 16
        if tail >= 2:
            h ^= data[base + 1] << 8
        h = ((h ^ data[base]) * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    return h ^ (h >> 15)


class TransactionalOutput:
    """One fencing transactional producer per owned input partition."""

    def __init__(
        self,
        *,
        app_id: str,
        group_id: str,
        transaction_timeout_ms: int,
        new_producer: ProducerFactory,
    ) -> None:
        self._app_id = app_id
        self._group_id = group_id
        self._timeout_seconds = transaction_timeout_ms / 1000
        self._new_producer = new_producer
        self._producers: dict[InputPartition, TransactionalProducer] = {}

    def transactional_id(self, source: InputPartition) -> str:
        return f"{self._app_id}-{source.topic}-{source.partition}"

    def owns(self, source: InputPartition) -> bool:
        return source in self._producers

    @property
    def owned(self) -> frozenset[InputPartition]:
        return frozenset(self._producers)

    async def acquire(self, sources: Iterable[InputPartition]) -> None:
        """Start (and so fence any previous owner of) a producer for each partition.

        When this returns, no earlier holder of these partitions can commit
        anything for them: their open transactions are aborted.
        """
        wanted = [s for s in sources if s not in self._producers]
        producers = {s: self._new_producer(self.transactional_id(s)) for s in wanted}
        results = await asyncio.gather(
            *(p.start() for p in producers.values()), return_exceptions=True
        )
        failure: BaseException | None = None
        for (source, producer), result in zip(producers.items(), results, strict=True):
            if isinstance(result, BaseException):
                failure = failure or result
                await _stop_quietly(producer)
            else:
                self._producers[source] = producer
        if failure is not None:
            raise OutputFailed(
                f"could not start a transactional producer: {type(failure).__name__}"
            ) from failure

    async def release(self, sources: Iterable[InputPartition]) -> None:
        """Stop the producers of partitions this worker no longer owns."""
        producers = [self._producers.pop(s) for s in list(sources) if s in self._producers]
        await asyncio.gather(*(_stop_quietly(p) for p in producers))

    async def stop(self) -> None:
        await self.release(list(self._producers))

    async def commit(
        self, source: InputPartition, records: Sequence[OutRecord], next_offset: int
    ) -> None:
        """Write ``records`` and commit ``next_offset`` for ``source`` atomically.

        Raises :class:`PartitionFenced` when another worker now owns the
        partition (nothing of this transaction becomes visible, and the
        producer is dropped), :class:`OutputFailed` for anything else.
        Bounded by the transaction timeout: a producer can retry some errors
        for ever (an output topic deleted under it, say). ``asyncio.wait``
        rather than ``wait_for`` because the caller stops the process on
        failure and must not first wait for an abort that may hang too.
        """
        producer = self._producers.get(source)
        if producer is None:
            raise PartitionFenced(f"partition {source.partition} is not owned by this worker")
        attempt = asyncio.ensure_future(self._write(producer, source, records, next_offset))
        done, _ = await asyncio.wait({attempt}, timeout=self._timeout_seconds)
        if not done:
            attempt.cancel()
            raise OutputFailed(f"transaction not committed within {self._timeout_seconds:.0f} s")
        try:
            attempt.result()
        except _FENCING_ERRORS as exc:
            self._producers.pop(source, None)
            await _stop_quietly(producer)
            raise PartitionFenced(
                f"partition {source.partition} was taken over by another worker "
                f"({type(exc).__name__})"
            ) from exc
        except KafkaError as exc:
            raise OutputFailed(f"transaction failed: {type(exc).__name__}") from exc

    async def _write(
        self,
        producer: TransactionalProducer,
        source: InputPartition,
        records: Sequence[OutRecord],
        next_offset: int,
    ) -> None:
        await producer.begin_transaction()
        deliveries: list[Any] = []
        try:
            await self._send_batches(producer, records, deliveries)
            await producer.send_offsets_to_transaction(
                {TopicPartition(source.topic, source.partition): next_offset}, self._group_id
            )
            # aiokafka fails a batch the broker refused for good (say
            # OutOfOrderSequenceNumber after retries) without failing the
            # transaction, so a commit could carry the offset without the
            # records. Every batch must be acknowledged before the commit.
            await asyncio.gather(*deliveries)
        except Exception:
            await _abort_quietly(producer)
            raise
        finally:
            _collect(deliveries)
        await producer.commit_transaction()

    async def _send_batches(
        self, producer: TransactionalProducer, records: Sequence[OutRecord], deliveries: list[Any]
    ) -> None:
        counts: dict[str, int] = {}
        grouped: dict[tuple[str, int], list[OutRecord]] = {}
        for record in records:
            partition = record.partition
            if partition is None:
                count = counts.get(record.topic)
                if count is None:
                    count = counts[record.topic] = len(await producer.partitions_for(record.topic))
                partition = kafka_partition(record.key, count)
            grouped.setdefault((record.topic, partition), []).append(record)
        for (topic, partition), members in grouped.items():
            batch = producer.create_batch()
            for record in members:
                if not _append(batch, record):
                    deliveries.append(await producer.send_batch(batch, topic, partition=partition))
                    batch = producer.create_batch()
                    if not _append(batch, record):
                        raise OutputFailed("an output record is larger than a producer batch")
            deliveries.append(await producer.send_batch(batch, topic, partition=partition))


def _collect(deliveries: Sequence[Any]) -> None:
    """Retrieve each batch's delivery outcome once it is known.

    The transaction's commit reports a failed delivery; this only keeps
    asyncio from logging every failed batch future as never retrieved.
    """
    for delivery in deliveries:
        if isinstance(delivery, asyncio.Future):
            delivery.add_done_callback(_retrieve)


def _retrieve(delivery: asyncio.Future[Any]) -> None:
    if not delivery.cancelled():
        delivery.exception()


def _append(batch: BatchBuilder, record: OutRecord) -> bool:
    appended = batch.append(
        timestamp=None, key=record.key, value=record.value, headers=list(record.headers)
    )
    return appended is not None


async def _stop_quietly(producer: TransactionalProducer) -> None:
    try:
        await producer.stop()
    except Exception as exc:
        log.warning("stopping a transactional producer failed (%s)", type(exc).__name__)


async def _abort_quietly(producer: TransactionalProducer) -> None:
    """Abort after a failure; a fenced or broken producer may refuse, which changes nothing."""
    try:
        await producer.abort_transaction()
    except Exception as exc:
        log.debug("abort after a failed transaction failed too (%s)", type(exc).__name__)
