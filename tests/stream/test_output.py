"""TransactionalOutput in memory: per-partition fencing, batching by key, failures."""

from __future__ import annotations

import asyncio
import random

import pytest
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from stream_doubles import InMemoryKafka, InMemoryProducer, in_memory_producer

from guard.stream.errors import OutputFailed, PartitionFenced
from guard.stream.output import (
    InputPartition,
    OutRecord,
    TransactionalOutput,
    kafka_partition,
    murmur2,
)

P0 = InputPartition("custody", 0)
P1 = InputPartition("custody", 1)


def output(kafka: InMemoryKafka, timeout_ms: int = 5000) -> TransactionalOutput:
    return TransactionalOutput(
        app_id="app", group_id="grp", transaction_timeout_ms=timeout_ms, new_producer=kafka.producer
    )


def records(count: int) -> list[OutRecord]:
    header = (("h", b"1"),)
    return [OutRecord("public", b"subject-%d" % n, b"v%d" % n, header) for n in range(count)]


def test_keys_land_where_kafkas_default_partitioner_puts_them() -> None:
    rng = random.Random(7)
    for n in range(2000):
        key = rng.randbytes(n % 67)
        assert murmur2(key) == aiokafka_murmur2(key)
        assert kafka_partition(key, 3) == DefaultPartitioner()(key, [0, 1, 2], [0, 1, 2])


async def test_a_commit_writes_every_record_in_key_order_batches_with_the_offset() -> None:
    kafka = InMemoryKafka()
    out = output(kafka)
    await out.acquire([P0])
    sent = records(11)  # more than one in-memory batch (4 records) per partition

    await out.commit(P0, sent, next_offset=42)

    assert sorted(w.value or b"" for w in kafka.visible) == sorted(r.value or b"" for r in sent)
    for written in kafka.visible:
        assert written.partition == kafka_partition(written.key, 3)
        assert written.headers == (("h", b"1"),)
    assert list(kafka.committed.values()) == [42]
    assert kafka.starts == ["app-custody-0"]


async def test_acquiring_a_partition_fences_its_previous_holder() -> None:
    kafka = InMemoryKafka()
    old, new = output(kafka), output(kafka)
    await old.acquire([P0, P1])
    await new.acquire([P0])

    with pytest.raises(PartitionFenced):
        await old.commit(P0, records(2), next_offset=2)
    await old.commit(P1, records(1), next_offset=1)  # P1 is still the old holder's

    assert not old.owns(P0) and old.owns(P1)
    assert [w.value for w in kafka.visible] == [b"v0"]


async def test_a_partition_not_acquired_cannot_be_committed() -> None:
    with pytest.raises(PartitionFenced):
        await output(InMemoryKafka()).commit(P0, records(1), next_offset=1)


async def test_a_broker_error_is_an_output_failure_and_shows_nothing() -> None:
    kafka = InMemoryKafka(failing_commits=1)
    out = output(kafka)
    await out.acquire([P0])

    with pytest.raises(OutputFailed, match="KafkaConnectionError"):
        await out.commit(P0, records(3), next_offset=3)
    assert kafka.visible == [] and kafka.committed == {}


async def test_a_batch_the_broker_refused_fails_the_transaction_instead_of_committing() -> None:
    kafka = InMemoryKafka(failing_batches=1)
    out = output(kafka)
    await out.acquire([P0])

    with pytest.raises(OutputFailed, match="OutOfOrderSequenceNumber"):
        await out.commit(P0, records(11), next_offset=11)
    assert kafka.committed == {}


async def test_a_commit_that_never_finishes_fails_after_the_transaction_timeout() -> None:
    kafka = InMemoryKafka()
    out = output(kafka, timeout_ms=50)
    await out.acquire([P0])
    producer = in_memory_producer(out, P0)
    producer.hold_commit = asyncio.Event()  # never set

    with pytest.raises(OutputFailed, match="not committed within"):
        await out.commit(P0, records(1), next_offset=1)


async def test_release_stops_the_producers_of_partitions_given_up() -> None:
    kafka = InMemoryKafka()
    out = output(kafka)
    await out.acquire([P0, P1])
    producer = in_memory_producer(out, P0)

    await out.release([P0])

    assert out.owned == {P1}
    assert isinstance(producer, InMemoryProducer) and producer.is_stopped
