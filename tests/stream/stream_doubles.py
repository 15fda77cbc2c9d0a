"""In-memory stand-ins for Kafka's transactional side, for unit tests of the worker and output.

Modelled on what the broker guarantees, not on aiokafka's internals:

* a transactional id has an epoch; starting a producer under that id bumps
  it and aborts whatever the previous holder left open;
* a transaction's records and group offsets become visible together at
  commit, and a producer whose epoch is no longer current is refused
  (``ProducerFenced``), like a zombie after a new owner started.

``InMemoryKafka.visible`` is what a ``read_committed`` reader would see.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import TopicPartition
from aiokafka.errors import KafkaConnectionError, OutOfOrderSequenceNumber, ProducerFenced

from guard.decision.verdict import Reason
from guard.policy.model import Decision
from guard.stream.decider import BatchContext, InputMessage, Outcome
from guard.stream.output import InputPartition, OutRecord, TransactionalOutput


@dataclass(frozen=True)
class Written:
    topic: str
    partition: int
    key: bytes | None
    value: bytes | None
    """None: a tombstone."""
    headers: tuple[tuple[str, bytes], ...]


@dataclass
class InMemoryKafka:
    partitions: int = 3
    epochs: dict[str, int] = field(default_factory=dict)
    visible: list[Written] = field(default_factory=list)
    committed: dict[tuple[str, TopicPartition], int] = field(default_factory=dict)
    starts: list[str] = field(default_factory=list)
    failing_commits: int = 0
    """How many commits fail next with a (non-fencing) connection error."""
    failing_batches: int = 0
    """How many producer batches the broker refuses next, for good."""

    def producer(self, transactional_id: str) -> InMemoryProducer:
        return InMemoryProducer(self, transactional_id)

    def records(self, topic: str) -> list[Written]:
        return [w for w in self.visible if w.topic == topic]


class InMemoryBatch:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.items: list[tuple[bytes | None, bytes | None, tuple[tuple[str, bytes], ...]]] = []

    def append(
        self, *, timestamp: float | None, key: bytes | None, value: bytes | None, headers: Any
    ) -> object | None:
        if len(self.items) >= self.capacity:
            return None
        self.items.append((key, value, tuple(headers)))
        return object()


class InMemoryProducer:
    batch_capacity = 4

    def __init__(self, kafka: InMemoryKafka, transactional_id: str) -> None:
        self.kafka = kafka
        self.transactional_id = transactional_id
        self.epoch = -1
        self.pending: list[Written] = []
        self.pending_offsets: dict[tuple[str, TopicPartition], int] = {}
        self.is_stopped = False
        self.hold_commit: asyncio.Event | None = None
        """When set, commit_transaction waits for it (a slow or frozen worker)."""

    async def start(self) -> None:
        self.epoch = self.kafka.epochs.get(self.transactional_id, -1) + 1
        self.kafka.epochs[self.transactional_id] = self.epoch
        self.kafka.starts.append(self.transactional_id)

    async def stop(self) -> None:
        self.is_stopped = True

    async def begin_transaction(self) -> None:
        self.pending, self.pending_offsets = [], {}

    async def partitions_for(self, topic: str) -> set[int]:
        return set(range(self.kafka.partitions))

    def create_batch(self) -> InMemoryBatch:
        return InMemoryBatch(self.batch_capacity)

    async def send_batch(
        self, batch: InMemoryBatch, topic: str, *, partition: int
    ) -> asyncio.Future[None]:
        """Like aiokafka: a refused batch fails its own future, not the transaction."""
        delivery: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.kafka.failing_batches:
            self.kafka.failing_batches -= 1
            delivery.set_exception(OutOfOrderSequenceNumber())
        else:
            self.pending += [Written(topic, partition, k, v, h) for k, v, h in batch.items]
            delivery.set_result(None)
        return delivery

    async def send_offsets_to_transaction(
        self, offsets: Mapping[TopicPartition, int], group_id: str
    ) -> None:
        self.pending_offsets.update({(group_id, tp): o for tp, o in offsets.items()})

    async def commit_transaction(self) -> None:
        if self.hold_commit is not None:
            await self.hold_commit.wait()
        if self.kafka.epochs[self.transactional_id] != self.epoch:
            raise ProducerFenced()
        if self.kafka.failing_commits:
            self.kafka.failing_commits -= 1
            raise KafkaConnectionError()
        self.kafka.visible += self.pending
        self.kafka.committed.update(self.pending_offsets)
        self.pending, self.pending_offsets = [], {}

    async def abort_transaction(self) -> None:
        self.pending, self.pending_offsets = [], {}


@dataclass
class GroupConsumer:
    """The group consumer as the worker sees it: committed offsets of what it is assigned."""

    kafka: InMemoryKafka
    group: str
    assigned: set[TopicPartition] = field(default_factory=set)
    log_start: int = 0
    seeks: list[dict[Any, int]] = field(default_factory=list)

    async def seek_to_committed(self) -> dict[TopicPartition, int | None]:
        return {tp: self.kafka.committed.get((self.group, tp)) for tp in self.assigned}

    async def earliest_offsets(self, *partitions: TopicPartition) -> dict[TopicPartition, int]:
        return dict.fromkeys(partitions, self.log_start)

    async def seek_wait(self, partitions: Mapping[Any, int]) -> None:
        self.seeks.append(dict(partitions))


@dataclass(frozen=True)
class Record:
    offset: int
    value: bytes | None


class PositionDecider:
    """Decides every event PUBLISH except values starting with b"p" (DROP); writes audit records.

    Each outcome carries a notice (PUBLISH) and an audit record keyed by the
    input position, which is what the tests count.
    """

    def __init__(self) -> None:
        self.decided: list[str] = []

    def decide(self, message: InputMessage, batch: BatchContext) -> Outcome:
        self.decided.append(message.position)
        audit = OutRecord("audit", message.position.encode(), b"audit")
        if message.value is not None and message.value.startswith(b"p"):
            return Outcome(Decision.DROP, Reason.PROTECTED, ("U_VISA",), (audit,))
        notice = OutRecord("public", message.value, b"notice")
        return Outcome(Decision.PUBLISH, Reason.NO_MATCH, (), (notice, audit))


@dataclass
class FreshRegistry:
    """A registry reader that is fresh unless told to hold."""

    applied: dict[int, int] = field(default_factory=lambda: {0: 10})
    is_fresh: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.is_fresh.set()

    async def wait_until_fresh(self) -> dict[int, int]:
        await self.is_fresh.wait()
        return dict(self.applied)


def fetch(topic: str, partition: int, offsets: Sequence[int], prefix: bytes = b"e") -> Any:
    """A fetched record map for one partition."""
    return {TopicPartition(topic, partition): [Record(o, prefix + b"%d" % o) for o in offsets]}


def in_memory_producer(output: TransactionalOutput, source: InputPartition) -> InMemoryProducer:
    """The double behind ``output``'s producer for ``source`` (a test reaches into it to
    hold a commit or see that it stopped)."""
    producer = output._producers[source]
    if not isinstance(producer, InMemoryProducer):
        raise TypeError(f"{source} is not served by an InMemoryProducer")
    return producer
