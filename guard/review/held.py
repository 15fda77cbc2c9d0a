"""What the review topic holds, read back: one :class:`HeldEvent` per held position.

The review topic is compacted and keyed by input position; the worker
writes a held event there in the same transaction as its audit record, and a
resolution writes a tombstone. Reading it ``read_committed`` to its end and
keeping the last record per key therefore gives exactly the events still
waiting for a reviewer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from guard.codec.avro import codec_for
from guard.codec.schemas import SchemaName
from guard.codec.wire import WriterSchema
from guard.config.settings import GuardConfig
from guard.kafka.clients import new_consumer
from guard.kafka.connection import KafkaConnection, kafka_connection
from guard.review.errors import ReviewError
from guard.schemaregistry.wireformat import WireFormat
from guard.topic_metadata import partitions_of


@dataclass(frozen=True, slots=True)
class HeldEvent:
    """One event waiting for a reviewer. ``event`` is the raw custody event: restricted."""

    position: str
    input_topic: str
    input_partition: int
    input_offset: int
    event_ref: str | None
    held_at: datetime
    reason: str
    match_strength: str
    bases: tuple[str, ...]
    matched_record_refs: tuple[str, ...]
    policy_version: str
    event: bytes | None
    event_size: int

    @classmethod
    def from_avro(cls, position: str, decoded: Mapping[str, Any]) -> HeldEvent:
        return cls(
            position=position,
            input_topic=decoded["input_topic"],
            input_partition=decoded["input_partition"],
            input_offset=decoded["input_offset"],
            event_ref=decoded["event_ref"],
            held_at=decoded["held_at"],
            reason=decoded["reason"],
            match_strength=decoded["match_strength"],
            bases=tuple(decoded["bases"]),
            matched_record_refs=tuple(decoded["matched_record_refs"]),
            policy_version=decoded["policy_version"],
            event=decoded["event"],
            event_size=decoded["event_size"],
        )

    def __repr__(self) -> str:
        # The event bytes hold the subject's identifiers: never shown.
        return f"HeldEvent({self.position}, reason={self.reason}, {self.event_size} bytes)"


class HeldDecoder:
    """Reads review-topic values: schemaless, or the wire format when a registry is set."""

    def __init__(self, wire: WireFormat | None) -> None:
        self._wire = wire

    async def writers_for(self, values: Iterable[bytes | None]) -> Mapping[int, WriterSchema]:
        """The writer schemas the values name (waits for the registry); none when schemaless."""
        if self._wire is None:
            return {}
        return await self._wire.writers_for(values)

    def decode(self, value: bytes, writers: Mapping[int, WriterSchema]) -> dict[str, Any]:
        """Raises a CodecError (DecodeError, UnknownSchema, IncompatibleSchema)."""
        if self._wire is None:
            return codec_for(SchemaName.HELD_EVENT).decode(value)
        return self._wire.decoder(SchemaName.HELD_EVENT).decode(value, writers)


async def open_review_topic(
    connection: KafkaConnection, topic: str, client_id: str = "guard-review"
) -> tuple[AIOKafkaConsumer, list[TopicPartition]]:
    """A started, group-less ``read_committed`` consumer on every partition of the review
    topic, at its beginning. The caller stops it.

    Raises:
        ReviewError: the topic does not exist.
    """
    numbers = await partitions_of(connection, topic)
    if not numbers:
        raise ReviewError(f"GUARD_REVIEW_TOPIC ({topic}): topic does not exist")
    consumer = new_consumer(
        connection,
        client_id=client_id,
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    partitions = [TopicPartition(topic, n) for n in sorted(numbers)]
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    return consumer, partitions


def position_of_key(key: bytes | None) -> str:
    """The input position a review-topic key names (``topic/partition/offset``)."""
    return (key or b"").decode("ascii", "replace")


async def load_held(config: GuardConfig, wire: WireFormat | None = None) -> dict[str, HeldEvent]:
    """Every event held now, by position, read ``read_committed`` to the topic's end.

    ``wire``: the caller's wire format, if it has one; otherwise one is made
    from the configuration (and closed) when a schema registry is set.

    Raises:
        ReviewError: the review topic does not exist.
    """
    if wire is None and config.schema_registry_url is not None:
        own = WireFormat.from_config(config)
        try:
            return await load_held(config, own)
        finally:
            if own is not None:
                await own.client.close()
    decoder = HeldDecoder(wire)
    held: dict[str, HeldEvent] = {}
    consumer, partitions = await open_review_topic(kafka_connection(config), config.review_topic)
    try:
        ends = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if ends[tp] > 0}
        while remaining:
            batches = await consumer.getmany(timeout_ms=500)
            writers = await decoder.writers_for(
                r.value for records in batches.values() for r in records
            )
            for records in batches.values():
                for record in records:
                    position = position_of_key(record.key)
                    if record.value is None:
                        held.pop(position, None)
                    else:
                        decoded = decoder.decode(record.value, writers)
                        held[position] = HeldEvent.from_avro(position, decoded)
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    return held
