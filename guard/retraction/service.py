"""Withdraws published notices whose subject has become protected, exactly once.

The service lives in each worker and looks after the custody partitions the
worker owns. For each of them it holds a :class:`PublicationIndex` of the
live notices published from that partition (loaded from the publications
topic when the partition is assigned, kept up to date as batches commit),
and it withdraws a notice as soon as a protection meets it:

* **when a protection is applied** (the registry index calls
  :meth:`RetractionService.on_protected`): its strong keys are looked up in
  every loaded partition's index;
* **when a partition is assigned** (after a restart, a crash, a rebalance):
  once its publications are loaded and the registry is fresh, every active
  protection is looked up (a *sweep*). Whatever a dead or frozen worker did
  not finish withdrawing is withdrawn by the next owner. The partition is
  then followed, so a notice published by someone else (a reviewer's
  release) is indexed and checked as it arrives;
* **when a batch commits**: its new notices are checked against the
  registry as it is then, because a protection applied while the batch was
  being decided (after its freshness gate) would otherwise miss them.

A withdrawal is one transaction on the partition's own producer (so it is
fenced like any other write of that partition): for each notice a
``Retraction`` record (retractions topic), an audit record (stage
RETRACTED, keyed by the notice's custody position) and a tombstone for its
publication record; for each subject reference a tombstone on the public
topic. If the transaction does not commit, nothing of it is visible and the
notices stay pending; a partition lost meanwhile is swept by its next owner.

A full notice (name and A-number) is withdrawn whenever a protection meets
it, strongly or weakly: an event that would be held for review if decided
now must not stay public (fail closed; the audit record says WEAK, and a
wrongly withdrawn notice comes back only if upstream sends the event
again). A redacted notice is withdrawn only when a matched protection's
basis forbids even a redacted notice (DROP in the policy). A notice a
reviewer released (weak evidence judged not to be the protected person) is
withdrawn only by a strong match: the same weak evidence must not undo the
review.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, NoReturn, Protocol

from guard.codec.errors import DecodeError
from guard.codec.schemas import SchemaName
from guard.decision.verdict import Reason, Verdict
from guard.policy.model import Decision, Policy
from guard.registry.index import RegistryIndex
from guard.registry.model import Match
from guard.retraction.index import PublicationIndex, Published
from guard.retraction.model import Publication, decode_publication, is_reference
from guard.stream.decider import (
    AuditStage,
    BatchContext,
    InputMessage,
    MessageDecider,
    Outcome,
    OutputTopics,
)
from guard.stream.output import InputPartition, OutRecord
from guard.stream.worker import exit_fail_closed

log = logging.getLogger(__name__)

CommitSide = Callable[[InputPartition, Sequence[OutRecord]], Awaitable[bool]]
"""Commits records on a partition's producer without moving its offset; False when the
worker no longer owns the partition (nothing was written)."""

Apply = Callable[[str, bytes | None, int], None]
"""Takes one publications record: its key (the notice id), its value (None for a
tombstone) and its offset (for a log line, never the content)."""
LoadPublications = Callable[
    [InputPartition, Apply, Callable[[], None]], Coroutine[Any, Any, None]
]
"""Feeds every record of one publications partition, in order, to ``apply``, calls the
third argument once it has reached the end it found on starting, and then goes on
following the partition until cancelled (a reviewer's release publishes there too).
Streamed: a million records never sit in a list."""


class FreshRegistry(Protocol):
    applied: dict[int, int]

    async def wait_until_fresh(self) -> dict[int, int]: ...


@dataclass
class _Partition:
    index: PublicationIndex | None = None
    """None while the partition's publications are loading."""
    early: list[Publication] = field(default_factory=list)
    """Notices committed while loading: added once the load is done."""
    pending: dict[str, tuple[Published, list[Match]]] = field(default_factory=dict)
    """Notice id → the notice to withdraw and the protections that met it."""
    loader: asyncio.Task[None] | None = None
    generation: int = -1
    """The consumer generation of the assignment it belongs to."""


@dataclass
class RetractionCounts:
    """What the service has done, for the metrics."""

    withdrawn: int = 0
    indexed: int = 0
    pending: int = 0


class RetractionService:
    """See the module docstring."""

    def __init__(
        self,
        *,
        registry: RegistryIndex,
        reader: FreshRegistry,
        decider: MessageDecider,
        policy: Policy,
        topics: OutputTopics,
        load: LoadPublications,
        commit_side: CommitSide,
        on_change: Callable[[RetractionCounts], None] | None = None,
        on_fatal: Callable[[], NoReturn] = exit_fail_closed,
    ) -> None:
        self._registry = registry
        self._reader = reader
        self._decider = decider
        self._policy = policy
        self._topics = topics
        self._load = load
        self._commit_side = commit_side
        self._on_change = on_change
        self._on_fatal = on_fatal
        self._partitions: dict[InputPartition, _Partition] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.counts = RetractionCounts()
        registry.add_listener(self.on_protected)

    # -- life cycle ---------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="retractions")
        self._task.add_done_callback(self._stop_worker_on_failure)

    async def stop(self) -> None:
        tasks = [p.loader for p in self._partitions.values() if p.loader is not None]
        if self._task is not None:
            tasks.append(self._task)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._task = None

    # -- what the worker tells it ---------------------------------------------------

    def assigned(self, sources: Iterable[InputPartition], generation_id: int) -> None:
        """The worker owns ``sources`` in this generation: keep what it held in the one just
        before (nobody else can have owned those in between), load and sweep the rest."""
        owned = set(sources)
        self._forget([source for source in self._partitions if source not in owned])
        for source in owned:
            state = self._partitions.get(source)
            if state is not None and state.generation == generation_id - 1:
                state.generation = generation_id
                continue
            self._forget([source])
            state = self._partitions[source] = _Partition(generation=generation_id)
            state.loader = asyncio.create_task(
                self._load_and_sweep(source, state), name=f"publications-{source.partition}"
            )
            state.loader.add_done_callback(self._stop_worker_on_failure)
        self._wake.set()
        self._publish_counts()

    def revoked(self, sources: Iterable[InputPartition]) -> None:
        """Nothing is withdrawn until the next assignment says who owns what (a withdrawal
        needs the partition's producer, and the worker gives it up on revocation)."""

    def _forget(self, sources: Iterable[InputPartition]) -> None:
        for source in sources:
            state = self._partitions.pop(source, None)
            if state is not None and state.loader is not None:
                state.loader.cancel()

    def committed(self, source: InputPartition, outcomes: Sequence[Outcome]) -> None:
        """A batch of ``source`` committed: hold its new notices, and withdraw at once any
        that a protection applied meanwhile already meets."""
        state = self._partitions.get(source)
        if state is None:
            return
        publications = [o.publication for o in outcomes if o.publication is not None]
        if state.index is None:
            state.early.extend(publications)
            return
        for publication in publications:
            state.index.add(publication)
            self._check(state, publication)
        self._publish_counts()

    def on_protected(self, match: Match, strong: list[bytes], weak: list[bytes]) -> None:
        """A protection was applied: queue every loaded notice it meets (never raises work
        into the registry reader: only look-ups and a wake-up)."""
        for state in self._partitions.values():
            if state.index is not None:
                self._queue_matching(state, state.index, match, strong, weak)

    def _queue_matching(
        self,
        state: _Partition,
        index: PublicationIndex,
        match: Match,
        strong: list[bytes],
        weak: list[bytes],
    ) -> None:
        for published, is_strong in index.matching(strong, weak):
            self._queue(state, published, [replace(match, is_strong=is_strong)])

    def _stop_worker_on_failure(self, task: asyncio.Task[None]) -> None:
        """A load or a withdrawal that failed leaves notices public that should not be:
        stop the worker (fail closed), so that the partitions' next owner sweeps them."""
        if task.cancelled() or task.exception() is None:
            return
        error = task.exception()
        log.critical(
            "%s failed (%s); stopping the worker so that another one sweeps its partitions",
            task.get_name(),
            type(error).__name__,
        )
        self._on_fatal()

    # -- the work ---------------------------------------------------------------

    async def _load_and_sweep(self, source: InputPartition, state: _Partition) -> None:
        index = PublicationIndex()
        caught_up = asyncio.Event()

        def apply(notice_id: str, value: bytes | None, offset: int) -> None:
            publication = self._readable(source, notice_id, value, offset, index)
            if publication is None:
                return
            index.add(publication)
            if state.index is not None:
                self._check(state, publication)  # published by someone else meanwhile

        follower = asyncio.create_task(self._load(source, apply, caught_up.set))
        try:
            waiting = asyncio.create_task(caught_up.wait())
            await asyncio.wait((follower, waiting), return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
            if follower.done():
                follower.result()  # raises what stopped the load
                raise RuntimeError("the publications loader ended before it caught up")
            for publication in state.early:
                index.add(publication)
            state.early.clear()
            state.index = index
            # The registry as it is now, at least: everything applied before the load
            # finished is swept here; whatever is applied later calls on_protected.
            await self._reader.wait_until_fresh()
            for match, strong, weak in self._registry.active_records():
                self._queue_matching(state, index, match, strong, weak)
            log.info(
                "custody partition %d: %d published notices indexed, %d to withdraw",
                source.partition,
                len(index),
                len(state.pending),
            )
            self._publish_counts()
            await follower
        finally:
            follower.cancel()

    def _readable(
        self,
        source: InputPartition,
        notice_id: str,
        value: bytes | None,
        offset: int,
        index: PublicationIndex,
    ) -> Publication | None:
        """The publication a record adds, if any: a tombstone removes, a notice already
        held (this worker's own, indexed when it committed) is not decoded again."""
        if not is_reference(notice_id):
            log.error(
                "publications record at partition %d offset %d has no notice id as its key; "
                "ignored",
                source.partition,
                offset,
            )
            return None
        if value is None:
            index.remove(notice_id)
            return None
        if index.holds(notice_id):
            return None
        try:
            return decode_publication(value)
        except DecodeError:
            # A notice whose publication cannot be read cannot be withdrawn; say so (its
            # offset, never its content) rather than stop withdrawing the others.
            log.error(
                "publication record at partition %d offset %d does not decode; the notice "
                "it stands for cannot be withdrawn automatically",
                source.partition,
                offset,
            )
            return None

    def _check(self, state: _Partition, publication: Publication) -> None:
        """Withdraw at once a new notice that a protection already meets."""
        matches = self._registry.match_graded(publication.blinded_keys, publication.weak_keys)
        if matches:
            self._queue(state, _published(publication), list(matches))

    def _queue(self, state: _Partition, published: Published, matches: list[Match]) -> None:
        if published.is_redacted and not any(
            self._policy.action_for(m.basis) is Decision.DROP for m in matches
        ):
            return  # a redacted notice may stand under this protection's basis
        if published.is_reviewed and not any(m.is_strong for m in matches):
            return  # a reviewer judged weak evidence like this not to be the person
        already = state.pending.get(published.notice_id)
        state.pending[published.notice_id] = (published, matches + (already[1] if already else []))
        self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            for source, state in list(self._partitions.items()):
                if state.pending:
                    await self._withdraw(source, state)
            self._publish_counts()

    async def _withdraw(self, source: InputPartition, state: _Partition) -> None:
        pending = dict(state.pending)
        records = self._records(source, pending.values())
        if not await self._commit_side(source, records):
            return  # no longer ours: the next owner sweeps the partition
        for notice_id in pending:
            state.pending.pop(notice_id, None)
            if state.index is not None:
                state.index.remove(notice_id)
        self.counts.withdrawn += len(pending)
        log.info(
            "withdrew %d published notices of custody partition %d (%d subject references)",
            len(pending),
            source.partition,
            len({published.subject_ref for published, _ in pending.values()}),
        )

    def _records(
        self, source: InputPartition, pending: Iterable[tuple[Published, list[Match]]]
    ) -> list[OutRecord]:
        now = datetime.now(UTC)
        context = BatchContext.now(self._reader.applied)
        topics = self._topics
        records: list[OutRecord] = []
        subjects: dict[str, None] = {}
        for published, matches in pending:
            subjects.setdefault(published.subject_ref, None)
            retraction = {
                "notice_id": published.notice_id,
                "subject_ref": published.subject_ref,
                "retracted_at": now,
            }
            records.append(
                OutRecord(
                    topics.retractions,
                    published.subject_ref.encode("ascii"),
                    self._decider.encode(SchemaName.RETRACTION, retraction),
                )
            )
            message = InputMessage(source.topic, source.partition, published.input_offset, None)
            verdict = Verdict(
                Decision.DROP, Reason.RETRACTED, self._policy.version, _distinct(matches)
            )
            audit = self._decider.audit_record(
                message, Decision.DROP, Reason.RETRACTED, context, verdict,
                stage=AuditStage.RETRACTED,
            )  # fmt: skip
            records.append(audit)
            records.append(
                OutRecord(
                    topics.publications,
                    published.notice_id.encode("ascii"),
                    None,
                    partition=source.partition,
                )
            )
        for subject_ref in subjects:
            records.append(OutRecord(topics.public, subject_ref.encode("ascii"), None))
        return records

    def _publish_counts(self) -> None:
        self.counts.indexed = sum(len(p.index) for p in self._partitions.values() if p.index)
        self.counts.pending = sum(len(p.pending) for p in self._partitions.values())
        if self._on_change is not None:
            self._on_change(self.counts)


def _published(publication: Publication) -> Published:
    return Published(
        notice_id=publication.notice_id,
        subject_ref=publication.subject_ref,
        input_offset=publication.input_offset,
        is_redacted=publication.is_redacted,
        is_reviewed=publication.is_reviewed,
    )


def _distinct(matches: Iterable[Match]) -> tuple[Match, ...]:
    by_ref = {match.record_ref: match for match in matches}
    return tuple(by_ref[ref] for ref in sorted(by_ref))
