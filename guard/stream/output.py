"""Writes a batch's decisions and its input offsets in one Kafka transaction.

This is how "no lost, no duplicated decision" holds: the notices, audit
records and dead letters of a batch, and the custody offsets that say the
batch is done, become visible together or not at all. A worker killed
mid-batch leaves an open transaction; its successor, using the same
transactional id, fences it and the broker aborts it, so readers with
``isolation_level=read_committed`` never see the half-written batch, and the
batch is decided again from the last committed offsets.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from guard.stream.errors import OutputFailed


@dataclass(frozen=True, slots=True)
class OutRecord:
    """One record to write. Headers are the guard's own; input headers are never copied."""

    topic: str
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


class TransactionalOutput:
    """A transactional producer bound to the consumer group that owns custody offsets."""

    def __init__(
        self,
        *,
        bootstrap: str,
        transactional_id: str,
        group_id: str,
        transaction_timeout_ms: int,
    ) -> None:
        self._group_id = group_id
        self._timeout_seconds = transaction_timeout_ms / 1000
        self._settings = {
            "bootstrap_servers": bootstrap,
            "client_id": transactional_id,
            "transactional_id": transactional_id,
            "transaction_timeout_ms": transaction_timeout_ms,
        }
        self._client: AIOKafkaProducer | None = None

    async def start(self) -> None:
        """Connect and fence any earlier producer with the same transactional id."""
        # aiokafka binds a client to the running loop, so it is made here, not in __init__.
        self._client = AIOKafkaProducer(
            **self._settings, enable_idempotence=True, acks="all", linger_ms=5
        )
        await self._client.start()

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.stop()
            self._client = None

    @property
    def _producer(self) -> AIOKafkaProducer:
        if self._client is None:
            raise OutputFailed("output producer is not started")
        return self._client

    async def commit(
        self, records: Sequence[OutRecord], offsets: Mapping[TopicPartition, int]
    ) -> None:
        """Send ``records`` and commit ``offsets`` (next offset to read) atomically.

        Bounded by the transaction timeout: a producer can retry some errors
        for ever (an output topic deleted under it, say), and a worker stuck
        in a commit decides nothing while looking alive. ``asyncio.wait`` is
        used rather than ``wait_for`` because the caller exits the process on
        failure, and must not first wait for an abort that may hang as well.
        """
        attempt = asyncio.ensure_future(self._send_and_commit(records, offsets))
        done, _ = await asyncio.wait({attempt}, timeout=self._timeout_seconds)
        if not done:
            attempt.cancel()
            raise OutputFailed(f"transaction not committed within {self._timeout_seconds:.0f} s")
        attempt.result()

    async def _send_and_commit(
        self, records: Sequence[OutRecord], offsets: Mapping[TopicPartition, int]
    ) -> None:
        try:
            async with self._producer.transaction():
                for record in records:
                    await self._producer.send(
                        record.topic,
                        value=record.value,
                        key=record.key,
                        headers=list(record.headers),
                    )
                await self._producer.send_offsets_to_transaction(dict(offsets), self._group_id)
        except (KafkaError, OutputFailed) as exc:
            raise OutputFailed(f"transaction failed: {type(exc).__name__}") from exc
