"""Follows the review topic inside the worker, so operators see the review queue.

The worker knows which events it held, but not which a reviewer has since
resolved: resolutions are written by ``guard review`` to the same compacted
topic as tombstones. This follower reads that topic ``read_committed`` for
the worker's whole life and keeps one number per held position: when it was
held. Two gauges come of it (:class:`~guard.ops.metrics.GuardMetrics`): how
many events wait, and since when the oldest waits; the alerts that page on
a growing or stale review queue read those.

It holds positions and times only, never an event: the held events' bytes
are decoded nowhere in the worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError

from guard.codec.errors import CodecError
from guard.codec.wire import WriterSchema
from guard.kafka.connection import KafkaConnection
from guard.review.held import HeldDecoder, open_review_topic, position_of_key
from guard.schemaregistry.wireformat import WireFormat

log = logging.getLogger(__name__)

Publish = Callable[[int, float], None]
"""Receives (held events, unix time of the oldest held or 0) after each change."""


class HeldEventTracker:
    """Keeps ``position → held at`` for every event still held."""

    def __init__(
        self,
        *,
        connection: KafkaConnection,
        topic: str,
        publish: Publish,
        client_id: str = "guard-review",
        wire: WireFormat | None = None,
    ) -> None:
        self._connection = connection
        self._topic = topic
        self._publish = publish
        self._client_id = client_id
        self._held_at: dict[str, float] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._held = HeldDecoder(wire)

    @property
    def held_count(self) -> int:
        return len(self._held_at)

    @property
    def oldest_held_at(self) -> float | None:
        return min(self._held_at.values(), default=None)

    async def start(self) -> None:
        self._consumer, _ = await open_review_topic(
            self._connection, self._topic, client_id=self._client_id
        )
        self._publish_counts()
        self._task = asyncio.create_task(self._follow(), name="review-tracker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    def apply(
        self,
        key: bytes | None,
        value: bytes | None,
        writers: Mapping[int, WriterSchema] | None = None,
    ) -> None:
        """One review-topic record: a held event, or the tombstone of a resolved one."""
        position = position_of_key(key)
        if value is None:
            self._held_at.pop(position, None)
            return
        try:
            held = self._held.decode(value, writers or {})
        except CodecError:
            # Counted as held now rather than lost: an unreadable record must
            # not make the queue look shorter than it is.
            log.warning("review record at %s does not decode; counted as held now", position)
            self._held_at.setdefault(position, time.time())
            return
        self._held_at[position] = held["held_at"].timestamp()

    async def _follow(self) -> None:
        consumer = self._consumer
        if consumer is None:
            return
        while True:
            try:
                batches = await consumer.getmany(timeout_ms=1000, max_records=1000)
            except KafkaError as exc:
                log.warning("review topic fetch failed (%s); retrying", type(exc).__name__)
                await asyncio.sleep(1.0)
                continue
            # Wire format: held until the schema registry answers (a side loop: nothing waits).
            writers = await self._held.writers_for(
                r.value for records in batches.values() for r in records
            )
            for records in batches.values():
                for record in records:
                    self.apply(record.key, record.value, writers)
            if batches:
                self._publish_counts()

    def _publish_counts(self) -> None:
        self._publish(self.held_count, self.oldest_held_at or 0.0)
