"""The custody stream: Faust hands over fetched batches, the guard decides, each partition commits.

Faust owns the worker process, the consumer group and partition assignment;
:mod:`guard.stream.transport` hands every fetch to :meth:`GuardWorker.process_batch`.
The guard keeps what must not be left to Faust's defaults:

* **Offsets.** Faust never commits custody offsets (the topic has acks off and
  nothing is ever acknowledged). Each input partition's offset is committed
  in the transaction that writes that partition's decisions
  (:mod:`guard.stream.output`).
* **Ownership.** On assignment the worker first starts a producer under each
  partition's own transactional id, which fences whoever held the partition
  before (even a frozen process that never saw the rebalance), and only then
  reads the committed offsets. It decides a partition's records only from
  that offset on, so nothing before it is decided twice, and nothing is
  decided for a partition it does not own.
* **Freshness.** Before a batch is decided, the registry's end offsets are
  read (after the batch was received) and the batch waits until the reader
  has applied them. A protection produced before a custody event therefore
  always wins. While waiting nothing is decided and nothing is committed.
* **Rebalances.** A batch fetched under an older consumer generation is
  dropped before commit; the new assignment seeks back to the committed
  offsets, so it is delivered again. Commit and rebalance share a lock, so a
  rebalance never lands between that check and the commit.
* **Fatal errors** stop the process at once with exit 70: nothing of the
  failed transaction is visible, so the batch is decided again by whoever
  owns the partition next. Fail closed rather than carry on half-known.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn, Protocol

from aiokafka import TopicPartition

from guard.codec.wire import WriterSchema
from guard.ops.metrics import NO_BASIS, GuardMetrics
from guard.policy.model import Decision
from guard.stream.decider import BatchContext, InputMessage, Outcome
from guard.stream.errors import OutputFailed, PartitionFenced
from guard.stream.output import InputPartition, OutRecord, TransactionalOutput

log = logging.getLogger(__name__)

EXIT_FAIL_CLOSED = 70


def exit_fail_closed() -> NoReturn:
    """Stop the process at once: nothing of the current transaction is committed."""
    logging.shutdown()
    os._exit(EXIT_FAIL_CLOSED)


class Decider(Protocol):
    def decide(self, message: InputMessage, batch: BatchContext) -> Outcome: ...


class FreshRegistry(Protocol):
    """The registry reader as the gate sees it."""

    applied: dict[int, int]

    async def wait_until_fresh(self) -> dict[int, int]: ...


class CommittedOffsets(Protocol):
    """The group consumer as the worker sees it (Faust's consumer has these methods)."""

    async def seek_to_committed(self) -> Mapping[Any, int | None]:
        """Seek every assigned partition to its committed offset; those offsets (or None)."""

    async def earliest_offsets(self, *partitions: Any) -> Mapping[Any, int]:
        """The first offset still in each partition's log."""

    async def seek_wait(self, partitions: Mapping[Any, int]) -> None:
        """Move the consumer to these offsets and wait until it is there."""


WriterSchemas = Callable[[Iterable[bytes | None]], Awaitable[Mapping[int, WriterSchema]]]
"""Wire format only: the writer schemas a batch's values name, waited for while the schema
registry does not answer (``WireFormat.writers_for``)."""


class FetchedRecord(Protocol):
    @property
    def offset(self) -> int: ...

    @property
    def value(self) -> bytes | None: ...


class PartitionObserver(Protocol):
    """Told what the worker owns and commits (the retraction service is one)."""

    def assigned(self, sources: Iterable[InputPartition], generation_id: int) -> None: ...

    def revoked(self, sources: Iterable[InputPartition]) -> None: ...

    def committed(self, source: InputPartition, outcomes: Sequence[Outcome]) -> None: ...


@dataclass
class WorkerState:
    """What the worker shows the health monitor (written by the worker only)."""

    has_started: bool = False
    held_since: float | None = None
    """Clock time the batch now held by the freshness gate arrived, if any."""
    held_events: int = 0
    next_offsets: dict[InputPartition, int] = field(default_factory=dict)
    """Per owned custody partition, the next offset to decide (as last committed)."""


class GuardWorker:
    """Everything between a fetched batch and its committed decisions."""

    def __init__(
        self,
        *,
        custody_topic: str,
        reader: FreshRegistry,
        output: TransactionalOutput,
        decider: Decider,
        metrics: GuardMetrics,
        consumer: Callable[[], CommittedOffsets],
        is_ready: Callable[[], bool],
        state: WorkerState | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_fatal: Callable[[], NoReturn] = exit_fail_closed,
        writer_schemas: WriterSchemas | None = None,
    ) -> None:
        self._writer_schemas = writer_schemas
        self._custody_topic = custody_topic
        self._reader = reader
        self._output = output
        self._decider = decider
        self._metrics = metrics
        self._consumer = consumer
        self._is_ready = is_ready
        self.state = state or WorkerState()
        self._clock = clock
        self._on_fatal = on_fatal
        self._observer: PartitionObserver | None = None
        self._commit_lock = asyncio.Lock()
        self._started = asyncio.Event()
        self._generation: int | None = None
        """The consumer generation whose assignment is in force; None between assignments."""
        self._assignment_changed = asyncio.Condition()
        self._gaps: dict[InputPartition, tuple[int, int]] = {}
        """Per partition, a gap (next offset, first offset after it) waiting to be confirmed."""

    def observe(self, observer: PartitionObserver) -> None:
        """Tell ``observer`` about assignments and commits from now on (set before start)."""
        self._observer = observer

    def mark_started(self) -> None:
        self.state.has_started = True
        self._started.set()

    async def stop(self) -> None:
        await self._output.stop()

    # -- rebalances -------------------------------------------------------------

    async def on_partitions_revoked(self, revoked: Iterable[Any]) -> None:
        """Let an in-flight commit finish, then give the partitions up.

        From here until the next assignment nothing commits: the generation
        id changes only on assignment, so without this a batch finishing in
        between would pass the generation check.
        """
        async with self._commit_lock, self._assignment_changed:
            self._generation = None
            lost = self._custody(revoked)
            for source in lost:
                self.state.next_offsets.pop(source, None)
            await self._output.release(lost)
            if self._observer is not None:
                self._observer.revoked(lost)

    async def on_partitions_assigned(self, assigned: Iterable[Any], generation_id: int) -> None:
        """Fence the partitions' previous owners, then read where they left off.

        Batches fetched under this generation wait (in :meth:`_admit`) until
        this is done, so none is decided before the fence and the offset read.
        """
        async with self._commit_lock, self._assignment_changed:
            sources = self._custody(assigned)
            gone = self._output.owned - set(sources)
            await self._output.release(gone)
            if self._observer is not None:
                self._observer.revoked(gone)
            try:
                await self._output.acquire(sources)
            except OutputFailed as exc:
                log.critical("%s; stopping the worker", exc)
                self._on_fatal()
            self.state.next_offsets.clear()
            self._gaps.clear()
            if sources:
                await self._read_next_offsets(sources)
            self._generation = generation_id
            self._assignment_changed.notify_all()
            if self._observer is not None:
                self._observer.assigned(sources, generation_id)
            log.info(
                "assigned custody partitions %s (generation %d), next offsets %s",
                sorted(s.partition for s in sources),
                generation_id,
                {s.partition: o for s, o in sorted(self.state.next_offsets.items(), key=_by_part)},
            )

    async def _read_next_offsets(self, sources: list[InputPartition]) -> None:
        """Each owned partition's next offset: the committed one, else the log's first.

        Knowing it exactly is what lets :meth:`_admit` refuse records that do
        not follow on from it (a fetch buffered before a rebalance, say).
        """
        consumer = self._consumer()
        committed = await consumer.seek_to_committed()
        for tp, offset in committed.items():
            source = InputPartition(tp.topic, tp.partition)
            if source in sources and offset is not None and offset >= 0:
                self.state.next_offsets[source] = offset
        fresh = [
            TopicPartition(s.topic, s.partition)
            for s in sources
            if s not in self.state.next_offsets
        ]
        if fresh:
            earliest = await consumer.earliest_offsets(*fresh)
            for tp, offset in earliest.items():
                self.state.next_offsets[InputPartition(tp.topic, tp.partition)] = offset
            await consumer.seek_wait(earliest)

    def _custody(self, partitions: Iterable[Any]) -> list[InputPartition]:
        custody = self._custody_topic
        found = {InputPartition(tp.topic, tp.partition) for tp in partitions if tp.topic == custody}
        return sorted(found, key=lambda s: s.partition)

    # -- batches ----------------------------------------------------------------

    async def process_batch(
        self, records: Mapping[Any, Sequence[FetchedRecord]], generation_id: int
    ) -> None:
        """Decide and commit one fetch, or leave (a partition of) it wholly uncommitted.

        Any failure here that is not a per-event REJECT or a lost partition
        stops the process: carrying on could move past events never decided.
        """
        try:
            await self._process(records, generation_id)
        except Exception as exc:
            log.critical(
                "unexpected %s while processing a batch; stopping so the batch is decided "
                "again by the partition's next owner",
                type(exc).__name__,
                exc_info=True,
            )
            self._on_fatal()

    async def _process(
        self, records: Mapping[Any, Sequence[FetchedRecord]], generation_id: int
    ) -> None:
        await self._started.wait()
        admitted = await self._admit(records, generation_id)
        if not admitted:
            return
        count = sum(len(r) for r in admitted.values())
        received_at = self._clock()
        writers: Mapping[int, WriterSchema] = {}
        if self._writer_schemas is not None:
            # Holds (no decision, no commit) while the schema registry does not answer.
            writers = await self._writer_schemas(r.value for p in admitted.values() for r in p)
        self.state.held_since, self.state.held_events = received_at, count
        try:
            await self._reader.wait_until_fresh()
        finally:
            self.state.held_since, self.state.held_events = None, 0
        fresh_at = self._clock()
        context = BatchContext.now(self._reader.applied, writers)
        decided = {source: self._decide(source, part, context) for source, part in admitted.items()}
        decided_at = self._clock()
        async with self._commit_lock:
            if self._generation != generation_id:
                log.info(
                    "dropping a batch of %d events fetched before a rebalance; they will be "
                    "delivered again from the committed offsets",
                    count,
                )
                return
            committed = await self._commit(decided)
        self._record(committed, received_at)
        log.debug(
            "batch of %d events over %d partitions: gate %.1f ms, decide %.1f ms, commit %.1f ms",
            count,
            len(decided),
            (fresh_at - received_at) * 1000,
            (decided_at - fresh_at) * 1000,
            (self._clock() - decided_at) * 1000,
        )

    async def _admit(
        self, records: Mapping[Any, Sequence[FetchedRecord]], generation_id: int
    ) -> dict[InputPartition, Sequence[FetchedRecord]]:
        """The records this worker may decide: owned partitions, from the committed offset on.

        A batch of a generation whose assignment has not been handled yet
        waits for it; one of an older generation is dropped (the newer
        assignment has moved the consumer back to the committed offsets).
        """
        async with self._assignment_changed:
            await self._assignment_changed.wait_for(
                lambda: self._generation is not None and self._generation >= generation_id
            )
        if self._generation != generation_id:
            log.info("dropping a batch fetched before a rebalance")
            return {}
        admitted: dict[InputPartition, Sequence[FetchedRecord]] = {}
        rewind: dict[Any, int] = {}
        for tp, batch in records.items():
            source = InputPartition(tp.topic, tp.partition)
            next_offset = self.state.next_offsets.get(source)
            if next_offset is None or not self._output.owns(source):
                continue
            if batch[0].offset < next_offset:
                # Fetched from before the committed offset (a seek raced a
                # commit): those events are decided already.
                batch = [record for record in batch if record.offset >= next_offset]
            if not batch:
                continue
            if batch[0].offset > next_offset and not self._is_real_gap(source, batch[0].offset):
                rewind[tp] = next_offset
                continue
            self._gaps.pop(source, None)
            admitted[source] = batch
        if rewind:
            log.warning(
                "records after a gap on custody partitions %s; reading them again from the "
                "next offset to decide",
                sorted(tp.partition for tp in rewind),
            )
            try:
                await self._consumer().seek_wait(rewind)
            except Exception as exc:
                # A rebalance may have taken the partition meanwhile; either
                # way nothing after the gap was decided, and the gap is
                # checked again on the next fetch.
                log.info("rewinding after a gap failed (%s)", type(exc).__name__)
        return admitted

    def _is_real_gap(self, source: InputPartition, first: int) -> bool:
        """True once a gap before ``first`` was seen again after rewinding to the next offset.

        Offsets can be missing for good (transaction markers, compaction,
        retention). Records arriving after a gap can also be stale, fetched
        before a rebalance moved the consumer. Only a gap that is still there
        after reading again from the expected offset is believed; deciding
        past a false one would commit an offset over events never decided.
        """
        seen = (self.state.next_offsets[source], first)
        if self._gaps.get(source) == seen:
            return True
        self._gaps[source] = seen
        return False

    def _decide(
        self, source: InputPartition, batch: Sequence[FetchedRecord], context: BatchContext
    ) -> tuple[list[Outcome], list[OutRecord], int]:
        decide = self._decider.decide
        is_debug = log.isEnabledFor(logging.DEBUG)
        outcomes: list[Outcome] = []
        out: list[OutRecord] = []
        for record in batch:
            message = InputMessage(source.topic, source.partition, record.offset, record.value)
            outcome = decide(message, context)
            outcomes.append(outcome)
            out.extend(outcome.records)
            if is_debug:
                _log_decision(message, outcome)
        return outcomes, out, batch[-1].offset + 1

    async def _commit(
        self, decided: Mapping[InputPartition, tuple[list[Outcome], list[OutRecord], int]]
    ) -> list[Outcome]:
        """One transaction per partition, concurrently; the outcomes that were committed."""
        sources = list(decided)
        results = await asyncio.gather(
            *(self._output.commit(s, decided[s][1], decided[s][2]) for s in sources),
            return_exceptions=True,
        )
        committed: list[Outcome] = []
        for source, result in zip(sources, results, strict=True):
            if result is None:
                self.state.next_offsets[source] = decided[source][2]
                committed.extend(decided[source][0])
                if self._observer is not None:
                    self._observer.committed(source, decided[source][0])
            elif isinstance(result, PartitionFenced):
                log.warning("%s; its batch is left to the new owner", result)
                self.state.next_offsets.pop(source, None)
            elif isinstance(result, OutputFailed):
                log.critical("%s; stopping the worker so the batch is decided again", result)
                self._on_fatal()
            else:
                raise result
        return committed

    async def commit_side(self, source: InputPartition, records: Sequence[OutRecord]) -> bool:
        """Commit ``records`` on ``source``'s producer without moving its offset.

        For writes that follow from earlier decisions (withdrawing notices):
        they are fenced like the partition's decisions, and never land
        between a rebalance and the next assignment. False when the worker
        does not own the partition now (nothing was written).
        """
        async with self._commit_lock:
            next_offset = self.state.next_offsets.get(source)
            if self._generation is None or next_offset is None or not self._output.owns(source):
                return False
            try:
                await self._output.commit(source, records, next_offset)
            except PartitionFenced as exc:
                log.warning("%s; its pending work is left to the new owner", exc)
                self.state.next_offsets.pop(source, None)
                return False
            except OutputFailed as exc:
                log.critical("%s; stopping the worker", exc)
                self._on_fatal()
        return True

    def _record(self, outcomes: Sequence[Outcome], received_at: float) -> None:
        """Count committed decisions: one label look-up per distinct label set, not per event."""
        metrics = self._metrics
        decisions: Counter[tuple[str, str, str]] = Counter()
        rejects: Counter[str] = Counter()
        published = 0
        for outcome in outcomes:
            for basis in outcome.bases or (NO_BASIS,):
                decisions[outcome.decision.value, outcome.reason.value, basis] += 1
            if outcome.decision is Decision.REJECT:
                rejects[outcome.reason.value] += 1
            published += outcome.decision in (Decision.PUBLISH, Decision.REDACT)
        for (decision, reason, basis), count in decisions.items():
            metrics.decisions.labels(decision, reason, basis).inc(count)
        for reason, count in rejects.items():
            metrics.deadletters.labels(reason).inc(count)
        if published and not self._is_ready():
            metrics.published_while_not_ready.inc(published)
        if outcomes:
            metrics.decision_latency.observe(self._clock() - received_at)


def _by_part(item: tuple[InputPartition, int]) -> int:
    return item[0].partition


def _log_decision(message: InputMessage, outcome: Outcome) -> None:
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
