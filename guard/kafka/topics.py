"""Create the topics the guard needs (``guard topics create``, tests, the dev broker),
tolerating ones that exist.

The dev broker has topic auto-creation switched off so that a misspelt topic
fails instead of quietly becoming a new, unwatched feed; everything the guard
reads or writes is therefore created here first, with the partitioning and
cleanup policy it will have in production.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaTimeoutError, for_code
from aiokafka.structs import TopicPartition

from guard.kafka.clients import new_admin, new_consumer
from guard.kafka.connection import KafkaConnection
from guard.kafka.errors import TopicSetupError

_NO_ERROR = 0
_TOPIC_ALREADY_EXISTS = 36
_REQUEST_TIMEOUT_MS = 30_000
_LEADER_WAIT_SECONDS = 30.0
_LEADER_POLL_SECONDS = 0.1
_RETRY_BACKOFF_MS = 10
"""Leadership is taken up within milliseconds on a local broker; the 100 ms default idles."""


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One topic as it should exist: name, partition count, compaction, extra configs."""

    name: str
    partitions: int = 1
    compacted: bool = False
    """Keep only the latest record per key (registry and public-state topics)."""
    config: Mapping[str, str] = field(default_factory=dict)
    """Further topic configs, e.g. ``{"retention.ms": "-1"}``."""

    def __post_init__(self) -> None:
        if not self.name:
            raise TopicSetupError("topic name is empty")
        if self.partitions < 1:
            raise TopicSetupError(f"topic {self.name!r}: partitions must be at least 1")
        if self.compacted and "cleanup.policy" in self.config:
            raise TopicSetupError(
                f"topic {self.name!r}: give either compacted=True or a cleanup.policy, not both"
            )
        object.__setattr__(self, "config", MappingProxyType(dict(self.config)))

    def topic_configs(self) -> dict[str, str]:
        configs = dict(self.config)
        if self.compacted:
            configs["cleanup.policy"] = "compact"
        return configs


async def ensure_topics(connection: KafkaConnection, specs: Sequence[TopicSpec]) -> None:
    """Create every topic in ``specs`` that is missing and wait until each partition serves.

    Topics that already exist are left exactly as they are (their partition
    count and configs are not compared or altered). Returning only once every
    partition answers an offset lookup means the first produce after this does
    not race the broker still taking up leadership.
    """
    if not specs:
        return
    admin = new_admin(connection, request_timeout_ms=_REQUEST_TIMEOUT_MS)
    await admin.start()
    try:
        response = await admin.create_topics(
            [
                NewTopic(
                    spec.name,
                    num_partitions=spec.partitions,
                    replication_factor=1,
                    topic_configs=spec.topic_configs(),
                )
                for spec in specs
            ],
            timeout_ms=_REQUEST_TIMEOUT_MS,
        )
        for name, error_code, *_ in response.topic_errors:
            if error_code not in (_NO_ERROR, _TOPIC_ALREADY_EXISTS):
                raise TopicSetupError(
                    f"topic {name!r} could not be created: {for_code(error_code).__name__}"
                )
        partitions = await _wait_for_leaders(admin, [spec.name for spec in specs])
    finally:
        await admin.close()
    await _wait_until_serving(connection, partitions)


async def _wait_for_leaders(admin: AIOKafkaAdminClient, names: list[str]) -> list[TopicPartition]:
    """Poll metadata until every partition of ``names`` has a leader; return the partitions."""
    deadline = time.monotonic() + _LEADER_WAIT_SECONDS
    while True:
        described: list[dict[str, Any]] = await admin.describe_topics(names)
        ready = {topic["topic"]: topic for topic in described if _has_leaders(topic)}
        waiting = [name for name in names if name not in ready]
        if not waiting:
            return [
                TopicPartition(name, partition["partition"])
                for name in names
                for partition in ready[name]["partitions"]
            ]
        if time.monotonic() >= deadline:
            raise TopicSetupError(
                f"topics without a partition leader after {_LEADER_WAIT_SECONDS:.0f}s: "
                + ", ".join(sorted(waiting))
            )
        await asyncio.sleep(_LEADER_POLL_SECONDS)


async def _wait_until_serving(
    connection: KafkaConnection, partitions: list[TopicPartition]
) -> None:
    """Metadata can name a leader a moment before that leader accepts requests.

    An offset lookup goes to the partition leader itself and is retried by
    the client until the leader answers, which is the readiness producers need.
    """
    consumer = new_consumer(
        connection,
        enable_auto_commit=False,
        request_timeout_ms=_REQUEST_TIMEOUT_MS,
        retry_backoff_ms=_RETRY_BACKOFF_MS,
    )
    await consumer.start()
    try:
        await consumer.end_offsets(partitions)
    except KafkaTimeoutError as error:
        raise TopicSetupError(
            f"topic partitions not serving after {_REQUEST_TIMEOUT_MS // 1000}s"
        ) from error
    finally:
        await consumer.stop()


def _has_leaders(topic: Mapping[str, Any]) -> bool:
    partitions: list[Mapping[str, Any]] = topic["partitions"]
    return (
        topic["error_code"] == _NO_ERROR
        and bool(partitions)
        and all(
            partition["error_code"] == _NO_ERROR and partition["leader"] >= 0
            for partition in partitions
        )
    )
