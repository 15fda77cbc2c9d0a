"""Reads one partition of the publications topic, for a worker that now owns it.

Reads from the beginning, ``read_committed`` (a notice of an aborted
transaction was never public), says when it has reached the end it found on
starting, and then keeps following: a reviewer's release publishes notices
on this partition too, and the owner must be able to withdraw them. It only
moves bytes; what they mean is the :class:`RetractionService`'s business.
"""

from __future__ import annotations

from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, TopicPartition

from guard.config.settings import GuardConfig
from guard.kafka.clients import new_consumer
from guard.kafka.connection import KafkaConnection
from guard.retraction.service import Apply, LoadPublications
from guard.stream.output import InputPartition

_FETCH_RECORDS = 10_000
_IDLE_POLL_MS = 500


def publications_loader(config: GuardConfig, connection: KafkaConnection) -> LoadPublications:
    """Loads (and then follows) partition ``p`` of the publications topic for custody
    partition ``p``."""

    async def load(source: InputPartition, apply: Apply, caught_up: Callable[[], None]) -> None:
        consumer = new_consumer(
            connection,
            client_id=f"{config.app_id}-{config.worker_id}-publications",
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_committed",
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            tp = TopicPartition(config.publications_topic, source.partition)
            await _follow(consumer, tp, apply, caught_up)
        finally:
            await consumer.stop()

    return load


async def _follow(
    consumer: AIOKafkaConsumer, tp: TopicPartition, apply: Apply, caught_up: Callable[[], None]
) -> None:
    consumer.assign([tp])
    await consumer.seek_to_beginning(tp)
    end = (await consumer.end_offsets([tp]))[tp]
    is_caught_up = False
    while True:
        if not is_caught_up and await consumer.position(tp) >= end:
            is_caught_up = True
            caught_up()
        fetched = await consumer.getmany(tp, timeout_ms=_IDLE_POLL_MS, max_records=_FETCH_RECORDS)
        for record in fetched.get(tp, []):
            apply((record.key or b"").decode("ascii", "replace"), record.value, record.offset)
