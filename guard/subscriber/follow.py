"""``guard subscribe``: follows the public and retractions topics into a SubscriberStore."""

from __future__ import annotations

import time
from pathlib import Path

from aiokafka import ConsumerRecord, TopicPartition

from guard.codec.schemas import SchemaName
from guard.config.settings import GuardConfig
from guard.kafka.clients import new_consumer
from guard.kafka.connection import kafka_connection
from guard.schemaregistry.wireformat import WireFormat, batch_decoder
from guard.subscriber.store import Change, SubscriberStore
from guard.topic_metadata import partitions_of


async def subscribe(config: GuardConfig, db: Path, *, idle_exit: float | None) -> int:
    """Keep ``db`` up to date until interrupted (or ``idle_exit`` seconds with nothing new).

    Reads ``read_committed``: a notice of an aborted transaction is never stored.
    """
    store = SubscriberStore(db)
    wire = WireFormat.from_config(config, hold=True)
    connection = kafka_connection(config)
    consumer = new_consumer(
        connection,
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    applied = 0
    try:
        partitions = [
            TopicPartition(topic, n)
            for topic in (config.public_topic, config.retractions_topic)
            for n in sorted(await partitions_of(connection, topic))
        ]
        consumer.assign(partitions)
        stored = store.next_offsets()
        for tp in partitions:
            if (tp.topic, tp.partition) in stored:
                consumer.seek(tp, stored[(tp.topic, tp.partition)])
            else:
                await consumer.seek_to_beginning(tp)
        last_seen = time.monotonic()
        while idle_exit is None or time.monotonic() - last_seen < idle_exit:
            batches = await consumer.getmany(timeout_ms=200)
            records = [record for batch in batches.values() for record in batch]
            if records:
                applied += store.apply(await _changes(config, records, wire))
                last_seen = time.monotonic()
    finally:
        await consumer.stop()
        store.close()
        if wire is not None:
            await wire.client.close()
    return applied


async def _changes(
    config: GuardConfig, records: list[ConsumerRecord[bytes, bytes]], wire: WireFormat | None
) -> list[Change]:
    """Read as written: schemaless Avro, or the wire format when a registry is configured."""
    values = [record.value for record in records]
    notices = await batch_decoder(SchemaName.PUBLIC_NOTICE, wire, values)
    retractions = await batch_decoder(SchemaName.RETRACTION, wire, values)
    changes = []
    for record in records:
        subject_ref = (record.key or b"").decode("ascii", "replace")
        where = (record.topic, record.partition, record.offset)
        if record.topic == config.retractions_topic:
            if record.value is not None:
                retraction = retractions(record.value)
                changes.append(Change(*where, "retraction", subject_ref,
                                      notice_id=retraction["notice_id"]))  # fmt: skip
        elif record.value is None:
            changes.append(Change(*where, "tombstone", subject_ref))
        else:
            notice = notices(record.value)
            changes.append(Change(*where, "notice", subject_ref, notice=notice))
    return changes
