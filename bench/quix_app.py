"""The Quix Streams baseline: the guard's own decision per event, in a Quix Streams app.

``python -m bench.quix_app SINK`` with the deployment's ``GUARD_*`` environment.
It restores the registry with the guard's own reader (no freshness gate
afterwards: the registry does not change during the run), then runs a Quix
Streams application over the custody topic that, for every event, calls
``MessageDecider.decide`` (strict decode, keys, match, decide, notice and
audit encode) and produces every output record to ``SINK`` (one topic: the
same records and bytes, without the guard's headers), exactly-once, so that
offsets and outputs are committed together as the guard commits them.

Quix Streams is the ``bench`` extra, never a dependency of the guard.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from quixstreams import Application, message_context
from quixstreams.kafka.configuration import ConnectionConfig
from quixstreams.models.serializers import SerializationContext, Serializer

from guard.config.keys import registry_keys
from guard.config.settings import GuardConfig, load_config
from guard.kafka.connection import kafka_connection
from guard.ops.metrics import GuardMetrics
from guard.policy.model import load_policy
from guard.registry.index import RegistryIndex
from guard.stream.decider import BatchContext, InputMessage, MessageDecider
from guard.stream.output import OutRecord
from guard.stream.runner import build_decider, build_reader

COMMIT_INTERVAL_SECONDS = 0.5


class RecordValue(Serializer):
    """Writes an OutRecord's value bytes as they are. Deciding a custody event never
    makes a tombstone (only withdrawals and review resolutions do), so one here is a bug."""

    def __call__(self, value: OutRecord, ctx: SerializationContext) -> bytes:
        if value.value is None:
            raise ValueError(f"a tombstone for {value.topic} reached the decision sink")
        return value.value


async def restored(config: GuardConfig) -> tuple[MessageDecider, BatchContext]:
    """The guard's decider over a fully restored registry, and the batch context to use."""
    keys = registry_keys(config)
    index = RegistryIndex()
    reader = build_reader(config, kafka_connection(config), keys, index, GuardMetrics())
    await reader.start()
    try:
        await reader.wait_until_fresh()
    finally:
        await reader.stop()
    decider = build_decider(config, keys, index, load_policy(config.policy_file))
    return decider, BatchContext.now(reader.applied)


def main(argv: list[str]) -> int:
    (sink_name,) = argv
    config = load_config()
    decider, context = asyncio.run(restored(config))
    connection = kafka_connection(config)
    app = Application(
        broker_address=ConnectionConfig.from_librdkafka_dict(
            {"bootstrap.servers": connection.bootstrap, **connection.librdkafka_options()}
        ),
        consumer_group=config.app_id,
        auto_offset_reset="earliest",
        commit_interval=COMMIT_INTERVAL_SECONDS,
        processing_guarantee="exactly-once",
        auto_create_topics=False,
        use_changelog_topics=False,
        loglevel="WARNING",
    )
    source = app.topic(config.custody_topic, value_deserializer="bytes")
    sink = app.topic(sink_name, value_serializer=RecordValue(), key_serializer="bytes")

    def decide(value: bytes | None) -> tuple[OutRecord, ...]:
        where = message_context()
        message = InputMessage(where.topic, where.partition, where.offset, value)
        return decider.decide(message, context).records

    def record_key(record: Any) -> bytes | None:
        key: bytes | None = record.key
        return key

    frame = app.dataframe(source).apply(decide, expand=True)
    frame.to_topic(sink, key=record_key)
    app.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
