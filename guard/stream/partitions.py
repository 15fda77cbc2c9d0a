"""Finding a topic's partitions with a consumer that does not subscribe."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer


async def partitions_of(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    """The topic's partitions, fetched from the broker now; empty if it does not exist.

    A consumer that assigns partitions itself (the registry reader, ``guard
    tail``) has no metadata for a topic it has not subscribed to, and
    ``AIOKafkaConsumer.topics()`` returns names only. aiokafka has no public
    call for this, so the client's metadata fetch is used directly.
    """
    cluster = await consumer._client.fetch_all_metadata()
    return set(cluster.partitions_for_topic(topic) or ())
