"""The session broker behaves like the Kafka the guard relies on: delivery and transactions.

The guard's exactly-once promise (a dropped event is never half-published)
rests on transactional producers and read_committed consumers, so that is
checked against the real broker, including that an aborted write is really
written and then hidden, not merely never sent.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

if TYPE_CHECKING:  # annotations only, so the test still imports under --import-mode=importlib
    from conftest import TopicNames

_FETCH_TIMEOUT_MS = 10_000


async def read_all(bootstrap: str, topic: str, isolation_level: str) -> list[bytes]:
    """Every visible value from the start of ``topic``, reading until the end offsets."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"reader-{uuid.uuid4().hex[:12]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        isolation_level=isolation_level,
    )
    await consumer.start()
    try:
        values: list[bytes] = []
        partitions = await _assigned(consumer)
        end_offsets = await consumer.end_offsets(partitions)
        while not await _has_reached(consumer, end_offsets):
            batches = await consumer.getmany(timeout_ms=_FETCH_TIMEOUT_MS)
            if not batches:
                raise AssertionError(f"no records from {topic} before its end offsets")
            values.extend(
                record.value
                for records in batches.values()
                for record in records
                if record.value is not None
            )
        return values
    finally:
        await consumer.stop()


async def _has_reached(consumer: AIOKafkaConsumer, end_offsets: dict[TopicPartition, int]) -> bool:
    for partition, end in end_offsets.items():
        if await consumer.position(partition) < end:
            return False
    return True


async def _assigned(consumer: AIOKafkaConsumer) -> set[TopicPartition]:
    while not consumer.assignment():
        await consumer.getmany(timeout_ms=100)
    return set(consumer.assignment())


async def test_produced_message_is_consumed(kafka_bootstrap: str, topic_names: TopicNames) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic_names.audit, b"first", key=b"k")
    finally:
        await producer.stop()

    assert await read_all(kafka_bootstrap, topic_names.audit, "read_uncommitted") == [b"first"]


async def test_read_committed_sees_commits_and_not_aborts(
    kafka_bootstrap: str, topic_names: TopicNames
) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, transactional_id=f"tx-{uuid.uuid4().hex[:12]}"
    )
    await producer.start()
    try:
        async with producer.transaction():
            await producer.send_and_wait(topic_names.public, b"committed", key=b"a")
        await producer.begin_transaction()
        await producer.send_and_wait(topic_names.public, b"aborted", key=b"b")
        await producer.abort_transaction()
    finally:
        await producer.stop()

    uncommitted = await read_all(kafka_bootstrap, topic_names.public, "read_uncommitted")
    committed = await read_all(kafka_bootstrap, topic_names.public, "read_committed")

    # Sorted: the public topic has three partitions, so keys a and b need not keep order.
    assert sorted(uncommitted) == [b"aborted", b"committed"]  # the abort reached the log
    assert committed == [b"committed"]


def test_topic_names_are_distinct_and_marked_broker(
    topic_names: TopicNames, request: pytest.FixtureRequest
) -> None:
    names = topic_names.all()

    assert len(set(names)) == 8
    assert [name.split("-")[0] for name in names] == [
        "custody",
        "registry",
        "public",
        "audit",
        "deadletter",
        "review",
        "publications",
        "retractions",
    ]
    assert request.node.get_closest_marker("broker") is not None


async def test_custody_topic_has_three_partitions(
    kafka_bootstrap: str, topic_names: TopicNames
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        partitions = await producer.partitions_for(topic_names.custody)
    finally:
        await producer.stop()

    assert partitions == {0, 1, 2}


def test_unit_tests_are_not_marked_broker(request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("broker") is None
