"""Per-partition transactional ids fence a partition's previous owner, on the real broker.

The group tests cannot choose the instant a worker freezes; this one puts
the old owner exactly where a frozen worker would be, mid-transaction, and
shows the broker refuses it once the new owner has started.
"""

from __future__ import annotations

import contextlib
import gc
from typing import Any, cast

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError, ProducerFenced

from guard.cli.tail import read_records
from guard.config.settings import load_config
from guard.kafka.connection import KafkaConnection
from guard.stream.app import producer_factory
from guard.stream.errors import PartitionFenced
from guard.stream.output import InputPartition, OutRecord, TransactionalOutput


def outputs_for(bootstrap: str, topics: Any) -> TransactionalOutput:
    config = load_config(
        {
            "GUARD_BROKERS": bootstrap,
            "GUARD_APP_ID": f"fence-{topics.custody}",
            "GUARD_CUSTODY_TOPIC": topics.custody,
            "GUARD_REGISTRY_TOPIC": topics.registry,
            "GUARD_PUBLIC_TOPIC": topics.public,
            "GUARD_AUDIT_TOPIC": topics.audit,
            "GUARD_DEADLETTER_TOPIC": topics.deadletter,
        }
    )
    return TransactionalOutput(
        app_id=config.app_id,
        group_id=config.app_id,
        transaction_timeout_ms=config.transaction_timeout_ms,
        new_producer=producer_factory(config, KafkaConnection.plaintext(bootstrap)),
    )


async def test_the_next_owner_fences_a_transaction_left_open_by_the_last(
    kafka_bootstrap: str, topic_names: Any
) -> None:
    source, other = InputPartition(topic_names.custody, 0), InputPartition(topic_names.custody, 1)
    stale, current = outputs_for(kafka_bootstrap, topic_names), outputs_for(
        kafka_bootstrap, topic_names
    )
    await stale.acquire([source, other])
    producer = cast(AIOKafkaProducer, stale._producers[source])
    try:
        # The old owner opens a transaction and writes, then "freezes".
        await producer.begin_transaction()
        delivery = await producer.send(topic_names.audit, b"zombie", key=b"custody/0/0")

        await current.acquire([source, other])  # the partitions' next owner starts
        await current.commit(source, [OutRecord(topic_names.audit, b"custody/0/0", b"owner")], 1)

        # The old owner wakes and tries to finish: refused.
        with pytest.raises(ProducerFenced):
            await producer.commit_transaction()
        with contextlib.suppress(KafkaError):
            await delivery
        # Its next batch on the other partition is refused too, and it lets go.
        with pytest.raises(PartitionFenced):
            await stale.commit(other, [OutRecord(topic_names.audit, b"custody/1/0", b"x")], 9)
        assert not stale.owns(other)
    finally:
        await stale.stop()
        await current.stop()
        del producer
        # aiokafka leaves the fenced producer's internal futures unretrieved;
        # collect them now so asyncio logs that here, not during a later import.
        gc.collect()

    audit = await read_records(
        KafkaConnection.plaintext(kafka_bootstrap), topic_names.audit, at_least=1, timeout=10
    )
    assert [r.value for r in audit] == [b"owner"]
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(f"fence-{topic_names.custody}")
    finally:
        await admin.close()
    assert offsets[TopicPartition(topic_names.custody, 0)].offset == 1
    assert TopicPartition(topic_names.custody, 1) not in offsets
