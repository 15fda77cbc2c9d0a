"""``guard tail NAME``: print a topic as JSON lines, decoded by what the topic carries.

Reads ``read_committed``, like every consumer of the guard's outputs should:
records of an aborted transaction (a worker killed mid-batch) are never shown.
Dead letters are printed as position, reason headers and size only, held
events without their copy of the event: both hold the raw custody event,
which may be about a protected person (``guard review list
--show-identifiers`` is the one command that shows a held event's subject).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TextIO

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from guard.cli.errors import CliError
from guard.codec.avro import codec_for
from guard.codec.errors import CodecError
from guard.codec.jsonlines import to_json_line
from guard.codec.schemas import SchemaName
from guard.codec.wire import WriterSchema, schema_id_of
from guard.config.settings import GuardConfig
from guard.kafka.clients import new_consumer
from guard.kafka.connection import KafkaConnection, kafka_connection
from guard.schemaregistry.wireformat import WireFormat
from guard.topic_metadata import partitions_of

Writers = Mapping[int, WriterSchema]
Render = Callable[[ConsumerRecord[bytes, bytes], Writers], dict[str, Any]]


def _avro(schema: SchemaName, wire: WireFormat | None) -> Render:
    """Schemaless, or (with a registry) by the writer schema each value names."""

    def render(record: ConsumerRecord[bytes, bytes], writers: Writers) -> dict[str, Any]:
        if record.value is None:
            return {"tombstone": True}
        try:
            if wire is None or schema is SchemaName.PROTECTION_RECORD:
                return {"value": codec_for(schema).decode(record.value)}
            decoded = wire.decoder(schema).decode(record.value, writers)
        except CodecError as exc:
            return {"undecodable": str(exc)}
        return {"schema_id": schema_id_of(record.value), "value": decoded}

    return render


def _dead_letter(record: ConsumerRecord[bytes, bytes], _: Writers) -> dict[str, Any]:
    headers = {k: v.decode("utf-8", "replace") for k, v in record.headers}
    return {"headers": headers, "value_bytes": len(record.value or b"")}


def _held_event(wire: WireFormat | None) -> Render:
    """A held event without its ``event`` bytes: they are the raw custody event."""
    render_avro = _avro(SchemaName.HELD_EVENT, wire)

    def render(record: ConsumerRecord[bytes, bytes], writers: Writers) -> dict[str, Any]:
        rendered = render_avro(record, writers)
        value = rendered.get("value")
        if isinstance(value, dict):
            value.pop("event", None)
        return rendered

    return render


def _raw(record: ConsumerRecord[bytes, bytes], _: Writers) -> dict[str, Any]:
    return {"value_bytes": len(record.value or b"")}


def _key_text(key: bytes | None) -> str | bytes | None:
    """Keys the guard writes are ASCII (positions, subject refs, record refs): show them as text."""
    if key is not None and key.isascii() and key.decode("ascii").isprintable():
        return key.decode("ascii")
    return key


def resolve(
    config: GuardConfig, name: str, wire: WireFormat | None = None
) -> tuple[str, Render]:
    """Map a short name (or a literal topic) to the topic and its renderer."""
    named: dict[str, tuple[str, Render]] = {
        "custody": (config.custody_topic, _avro(SchemaName.CUSTODY_EVENT, wire)),
        "registry": (config.registry_topic, _avro(SchemaName.PROTECTION_RECORD, wire)),
        "public": (config.public_topic, _avro(SchemaName.PUBLIC_NOTICE, wire)),
        "audit": (config.audit_topic, _avro(SchemaName.GUARD_DECISION, wire)),
        "deadletter": (config.deadletter_topic, _dead_letter),
        "review": (config.review_topic, _held_event(wire)),
        # The guard's own state, like the registry: schemaless Avro always.
        "publications": (config.publications_topic, _avro(SchemaName.PUBLICATION, None)),
        "retractions": (config.retractions_topic, _avro(SchemaName.RETRACTION, wire)),
    }
    if name in named:
        return named[name]
    by_topic = {topic: render for topic, render in named.values()}
    return name, by_topic.get(name, _raw)


@asynccontextmanager
async def committed_reader(
    connection: KafkaConnection, topic: str
) -> AsyncIterator[tuple[AIOKafkaConsumer, list[TopicPartition]]]:
    """A group-less ``read_committed`` consumer on every partition of ``topic``, from the start.

    Yields the consumer and its partitions (none if the topic does not exist).
    """
    consumer = new_consumer(
        connection,
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in sorted(await partitions_of(connection, topic))]
        consumer.assign(tps)
        yield consumer, tps
    finally:
        await consumer.stop()


async def tail(
    config: GuardConfig,
    name: str,
    *,
    from_beginning: bool,
    idle_exit: float | None,
    out: TextIO,
) -> int:
    """Print records until interrupted, or until ``idle_exit`` seconds pass with none."""
    wire = WireFormat.from_config(config)
    try:
        return await _tail(config, name, wire, from_beginning, idle_exit, out)
    finally:
        if wire is not None:
            await wire.client.close()


async def _tail(
    config: GuardConfig,
    name: str,
    wire: WireFormat | None,
    from_beginning: bool,
    idle_exit: float | None,
    out: TextIO,
) -> int:
    topic, render = resolve(config, name, wire)
    printed = 0
    async with committed_reader(kafka_connection(config), topic) as (consumer, tps):
        if not tps:
            raise CliError(f"topic {topic!r} does not exist on {config.brokers}")
        if not from_beginning:
            await consumer.seek_to_end(*tps)
        last_seen = time.monotonic()
        while idle_exit is None or time.monotonic() - last_seen < idle_exit:
            batches = await consumer.getmany(timeout_ms=200)
            writers: Writers = {}
            if wire is not None:
                writers = await wire.writers_for(
                    r.value for records in batches.values() for r in records
                )
            for records in batches.values():
                for record in records:
                    line = {
                        "topic": record.topic,
                        "partition": record.partition,
                        "offset": record.offset,
                        "key": _key_text(record.key),
                        **render(record, writers),
                    }
                    out.write(to_json_line(line) + "\n")
                    printed += 1
                    last_seen = time.monotonic()
            out.flush()
            await asyncio.sleep(0)
    return printed


async def read_records(
    connection: KafkaConnection, topic: str, *, at_least: int, timeout: float, drain: bool = True
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every committed record of ``topic`` from the beginning, once ``at_least`` are there.

    Returns what it has when ``timeout`` passes, so a caller can say what was
    missing. With ``drain`` it then keeps reading until the topic is quiet for
    half a second, so a caller checking for duplicates sees them too.
    """
    records: list[ConsumerRecord[bytes, bytes]] = []
    async with committed_reader(connection, topic) as (consumer, _):
        deadline = time.monotonic() + timeout
        while len(records) < at_least and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
        # Whatever else is already committed, so a caller can spot duplicates.
        while drain and (batches := await consumer.getmany(timeout_ms=500)):
            for batch in batches.values():
                records.extend(batch)
    return records
