"""Every aiokafka client of the project is made here, from a :class:`KafkaConnection`.

Callers give the options of their job (group, isolation level, transactional
id...); the connection gives where and how to connect. A caller that tries to
set a connection option itself is refused, so no client can end up with a
different broker list or less security than the configuration says.
``tests/kafka/test_one_place.py`` checks that no other module constructs a
Kafka client.
"""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.client import AIOKafkaClient

from guard.kafka.connection import SECURITY_OPTIONS, KafkaConnection


def _options(connection: KafkaConnection, options: dict[str, Any]) -> dict[str, Any]:
    overridden = SECURITY_OPTIONS.intersection(options)
    if overridden:
        raise TypeError(f"connection options come from the KafkaConnection: {sorted(overridden)}")
    return {**connection.client_options(), **options}


def new_consumer(connection: KafkaConnection, **options: Any) -> AIOKafkaConsumer:
    """An unstarted consumer (no topics subscribed: callers assign or subscribe)."""
    return AIOKafkaConsumer(**_options(connection, options))


def new_producer(connection: KafkaConnection, **options: Any) -> AIOKafkaProducer:
    """An unstarted producer."""
    return AIOKafkaProducer(**_options(connection, options))


def new_admin(connection: KafkaConnection, **options: Any) -> AIOKafkaAdminClient:
    """An unstarted admin client."""
    return AIOKafkaAdminClient(**_options(connection, options))


def new_client(connection: KafkaConnection, **options: Any) -> AIOKafkaClient:
    """A bare protocol client, for requests aiokafka's admin client does not offer (ACLs)."""
    return AIOKafkaClient(**_options(connection, options))
