"""What an upstream custody system does: encode custody events and send them.

``guard produce`` and the canary both act as an upstream, so they share this:
the encoding (schemaless Avro, or the Confluent wire format under the custody
subject when a schema registry is configured) and an idempotent, acknowledged
send.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from guard.codec.avro import codec_for
from guard.codec.schemas import SchemaName
from guard.codec.wire import frame
from guard.config.settings import GuardConfig
from guard.kafka.clients import new_producer
from guard.kafka.connection import kafka_connection
from guard.schemaregistry.wireformat import registry_client, schema_text, value_subject

Encode = Callable[[Mapping[str, Any]], bytes]


async def custody_encoder(config: GuardConfig) -> Encode:
    """How an upstream encodes custody events: schemaless, or framed under the custody
    subject's id (registering the guard's custody schema there if it is not yet)."""
    codec = codec_for(SchemaName.CUSTODY_EVENT)
    if config.schema_registry_url is None:
        return codec.encode
    async with registry_client(config) as client:
        schema_id = await client.register(
            value_subject(config.custody_topic), schema_text(SchemaName.CUSTODY_EVENT)
        )

    def encode(event: Mapping[str, Any]) -> bytes:
        return frame(schema_id, codec.encode(event))

    return encode


async def send_custody(config: GuardConfig, payloads: list[bytes]) -> None:
    """Send already-encoded custody events, in order, acknowledged by the broker."""
    producer = new_producer(kafka_connection(config), acks="all", enable_idempotence=True)
    try:
        await producer.start()
        for payload in payloads:
            await producer.send(config.custody_topic, payload, key=uuid.uuid4().bytes)
        await producer.flush()
    finally:
        await producer.stop()
