"""A topic's partitions, asked of the cluster through aiokafka's public admin API.

Kept out of both ``guard.stream`` and ``guard.registry`` so that neither has to
import the other for it.
"""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import TopicAuthorizationFailedError

from guard.kafka.clients import new_admin
from guard.kafka.connection import KafkaConnection

_DENIED = TopicAuthorizationFailedError.errno


async def topic_partitions(admin: AIOKafkaAdminClient, topic: str) -> set[int]:
    """The topic's partitions, fetched from the broker now; empty if it does not exist.

    Raises:
        TopicAuthorizationFailedError: this principal may not even describe it.
    """
    described = await admin.describe_topics([topic])
    if any(e.get("topic") == topic and e.get("error_code") == _DENIED for e in described):
        raise TopicAuthorizationFailedError(f"not allowed to describe topic {topic}")
    return {
        int(partition["partition"])
        for entry in described
        if entry.get("topic") == topic and not entry.get("error_code")
        for partition in entry.get("partitions", ())
    }


async def partitions_of(connection: KafkaConnection, topic: str) -> set[int]:
    """Like :func:`topic_partitions`, with an admin client of its own for one question."""
    admin = new_admin(connection)
    await admin.start()
    try:
        return await topic_partitions(admin, topic)
    finally:
        await admin.close()
