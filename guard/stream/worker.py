"""The custody stream: Faust consumes, the guard decides, one transaction commits.

Faust owns what it is good at: the worker process, the consumer group and
partition assignment, and batching the stream (``noack_take``). The guard
keeps what must not be left to Faust's defaults:

* **Offsets.** The custody topic is declared with ``acks=False``, so Faust
  never commits custody offsets itself (an exception in an agent would
  otherwise acknowledge the event). Offsets are committed only inside the
  output transaction (:mod:`guard.stream.output`), after the batch's
  decisions. After each rebalance Faust seeks to those committed offsets.
* **Freshness.** Before a batch is decided, the registry's end offsets are
  read (after the batch was received) and the batch waits until the reader
  has applied them. A protection produced before a custody event therefore
  always wins. While waiting nothing is decided and nothing is committed.
* **Rebalances.** A batch fetched under an older consumer generation is
  dropped before commit: Faust has re-seeked to the committed offsets and
  will deliver it again. The commit and the revocation share a lock, so a
  revocation never lands between that check and the commit.
* **Fatal errors** (the output transaction fails) stop the process at once
  with a non-zero exit: nothing of the batch is committed, so a restarted
  worker decides it again. Fail closed rather than carry on half-known.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import faust
from aiokafka import TopicPartition
from faust.types import EventT

from guard.config.settings import GuardConfig
from guard.ops.metrics import NO_BASIS, GuardMetrics
from guard.policy.model import Decision
from guard.registry.reader import RegistryReader
from guard.stream.decider import BatchContext, InputMessage, MessageDecider, Outcome
from guard.stream.errors import OutputFailed
from guard.stream.output import OutRecord, TransactionalOutput

log = logging.getLogger(__name__)

EXIT_FAIL_CLOSED = 70


class GuardWorker:
    """Everything the agent needs between receiving a batch and committing it."""

    def __init__(
        self,
        *,
        app: faust.App,
        reader: RegistryReader,
        output: TransactionalOutput,
        decider: MessageDecider,
        metrics: GuardMetrics,
        is_ready: Callable[[], bool],
    ) -> None:
        self._app = app
        self.reader = reader
        self._output = output
        self._decider = decider
        self._metrics = metrics
        self._is_ready = is_ready
        self._commit_lock = asyncio.Lock()
        self._started = asyncio.Event()
        self._is_between_assignments = False
        self.held_since: float | None = None
        """Monotonic time the batch now held by the freshness gate arrived, if any."""
        self.held_events = 0
        self.next_offsets: dict[TopicPartition, int] = {}
        """Per custody partition, the next offset to decide (as last committed)."""

    @property
    def has_started(self) -> bool:
        return self._started.is_set()

    async def start(self) -> None:
        await self._output.start()
        await self.reader.start()
        self._started.set()

    async def stop(self) -> None:
        await self.reader.stop()
        await self._output.stop()

    async def on_partitions_revoked(self, *_: Any, **__: Any) -> None:
        """Let an in-flight commit finish before partitions move; see the module doc.

        From here until the next assignment no batch may commit: the
        generation id only changes on assignment, so without this flag a
        batch finishing in between would pass the generation check.
        """
        async with self._commit_lock:
            self._is_between_assignments = True
            self.next_offsets.clear()

    async def on_partitions_assigned(self, *_: Any, **__: Any) -> None:
        async with self._commit_lock:
            self._is_between_assignments = False

    async def process_batch(self, events: Sequence[EventT[bytes]]) -> None:
        """Decide and commit one batch, or leave it wholly uncommitted.

        Any failure here that is not a per-event REJECT stops the process:
        letting the exception reach Faust would move the stream past the
        batch without a decision.
        """
        try:
            await self._process(events)
        except Exception as exc:
            log.critical(
                "unexpected %s while processing a batch; stopping so the batch is decided "
                "again after restart",
                type(exc).__name__,
                exc_info=True,
            )
            _exit_now()

    async def _process(self, events: Sequence[EventT[bytes]]) -> None:
        await self._started.wait()
        received_at = time.monotonic()
        self.held_since, self.held_events = received_at, len(events)
        try:
            await self.reader.wait_until_fresh()
        finally:
            self.held_since, self.held_events = None, 0
        batch = BatchContext.now(self.reader.applied)
        records: list[OutRecord] = []
        offsets: dict[TopicPartition, int] = {}
        generations = set()
        outcomes = []
        for event in events:
            message = event.message
            generations.add(message.generation_id)
            outcome = self._decider.decide(
                InputMessage(message.topic, message.partition, message.offset, message.value),
                batch,
            )
            outcomes.append(outcome)
            records.extend(outcome.records)
            tp = TopicPartition(message.topic, message.partition)
            offsets[tp] = max(offsets.get(tp, 0), message.offset + 1)
            if log.isEnabledFor(logging.DEBUG):
                log.debug(
                    "event %s at %s decided %s reason=%s match=%s bases=%s keys=%s",
                    (outcome.event_ref or "-")[:16],
                    f"{message.partition}/{message.offset}",
                    outcome.decision.value,
                    outcome.reason.value,
                    outcome.match_strength.value,
                    ",".join(outcome.bases) or "-",
                    ",".join(k.hex()[:12] for k in outcome.blinded_keys) or "-",
                )
        async with self._commit_lock:
            current = self._app.consumer_generation_id
            if self._is_between_assignments or generations != {current}:
                log.info(
                    "dropping a batch of %d events fetched before a rebalance; "
                    "they will be delivered again from the committed offsets",
                    len(events),
                )
                return
            try:
                await self._output.commit(records, offsets)
            except OutputFailed as exc:
                log.critical("%s; stopping the worker so the batch is decided again", exc)
                _exit_now()
            self.next_offsets.update(offsets)
        self._record(outcomes, received_at)

    def _record(self, outcomes: Sequence[Outcome], received_at: float) -> None:
        metrics = self._metrics
        is_ready = self._is_ready()
        for outcome in outcomes:
            for basis in outcome.bases or (NO_BASIS,):
                metrics.decisions.labels(outcome.decision.value, outcome.reason, basis).inc()
            if outcome.decision is Decision.REJECT:
                metrics.deadletters.labels(outcome.reason).inc()
            elif outcome.decision in (Decision.PUBLISH, Decision.REDACT) and not is_ready:
                metrics.published_while_not_ready.inc()
        metrics.decision_latency.observe(time.monotonic() - received_at)


def _exit_now() -> None:
    """Stop the process at once: nothing of the current batch is committed."""
    logging.shutdown()
    os._exit(EXIT_FAIL_CLOSED)


def build_faust_app(config: GuardConfig) -> faust.App:
    """A Faust app that consumes custody events as raw bytes and never commits by itself."""
    brokers = [f"kafka://{b.strip()}" for b in config.brokers.split(",")]
    return faust.App(
        config.app_id,
        broker=brokers,
        datadir=config.data_dir,
        autodiscover=False,
        web_enabled=False,
        store="memory://",
        key_serializer="raw",
        value_serializer="raw",
        consumer_auto_offset_reset="earliest",
        stream_wait_empty=False,
        topic_replication_factor=1,
        producer_acks=-1,
    )


def attach_agent(app: faust.App, config: GuardConfig, worker: GuardWorker) -> None:
    """Declare the custody topic (acks off: offsets are the transaction's) and the agent."""
    custody = app.topic(
        config.custody_topic,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        acks=False,
    )

    async def decide(stream: faust.StreamT[bytes]) -> None:
        # noack_take yields events, not values, and never acknowledges them.
        batches = stream.noack_take(  # type: ignore[attr-defined]
            config.batch_max, within=config.batch_within
        )
        async for batch in batches:
            await worker.process_batch(batch)

    app.agent(custody, name="guard-decide", concurrency=1)(decide)
    app.on_partitions_revoked.connect(worker.on_partitions_revoked)
    app.on_partitions_assigned.connect(worker.on_partitions_assigned)
