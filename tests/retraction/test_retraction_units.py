"""The publication index and the retraction service in process, with in-memory doubles."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import NoReturn

from guard.codec.avro import codec_for
from guard.codec.schemas import SchemaName
from guard.decision.engine import DecisionEngine
from guard.decision.verdict import Reason
from guard.identity.blind import Blinder
from guard.policy.model import Decision, Policy, default_policy
from guard.registry.index import RegistryIndex
from guard.registry.model import ProtectionBasis, ProtectionRecord, ProtectionStatus
from guard.retraction.index import PublicationIndex, Published
from guard.retraction.model import Publication, decode_publication, encode_publication
from guard.retraction.service import Apply, RetractionService
from guard.stream.decider import MessageDecider, Outcome, OutputTopics
from guard.stream.output import InputPartition, OutRecord

NOW = datetime(2026, 12, 1, tzinfo=UTC)
TOPICS = OutputTopics("public", "audit", "deadletter", "review", "publications", "retractions")
P0 = InputPartition("custody", 0)
BLINDER = Blinder(secrets.token_bytes(32), "k1")


def key(label: str) -> bytes:
    return BLINDER.blind(label)


def publication(
    n: int, *labels: str, weak: Sequence[str] = (), is_redacted: bool = False,
    is_reviewed: bool = False,
) -> Publication:  # fmt: skip
    return Publication(
        notice_id=f"{n:064x}", subject_ref=f"{n % 3:064x}", is_redacted=is_redacted,
        input_topic="custody", input_partition=0, input_offset=n,
        blinded_keys=tuple(key(label) for label in labels), published_at=NOW,
        weak_keys=tuple(key(label) for label in weak), is_reviewed=is_reviewed,
    )  # fmt: skip


def protection(ref: str, *labels: str, weak: Sequence[str] = (),
               basis: ProtectionBasis = ProtectionBasis.U_VISA,
               status: ProtectionStatus = ProtectionStatus.ACTIVE) -> ProtectionRecord:  # fmt: skip
    return ProtectionRecord(ref, basis, status, NOW, NOW, "k1",
                            frozenset(key(label) for label in labels),
                            frozenset(key(label) for label in weak))  # fmt: skip


def notice_ids(found: list[tuple[Published, bool]]) -> list[tuple[int, bool]]:
    return [(int(published.notice_id, 16), is_strong) for published, is_strong in found]


def test_publications_round_trip_and_the_index_finds_live_ones_by_key() -> None:
    first = publication(1, "a:1", "name:x", weak=["ph:x"])
    assert decode_publication(encode_publication(first)) == first
    index = PublicationIndex()
    index.add(first)
    index.add(first)  # a second copy changes nothing
    index.add(publication(2, "a:2"))
    assert len(index) == 2
    assert notice_ids(index.matching([key("name:x"), key("a:9")])) == [(1, True)]
    index.remove(first.notice_id)
    assert index.matching([key("a:1")]) == [] and len(index) == 1
    index.add(first)  # published again after its withdrawal: held again
    assert len(index.matching([key("a:1")])) == 1


def test_a_match_is_strong_only_between_strong_keys_on_both_sides() -> None:
    index = PublicationIndex()
    index.add(publication(1, "a:1", weak=["ph:x"]))
    index.add(publication(2, "name:y", weak=["ph:y"]))
    assert notice_ids(index.matching([key("a:1")])) == [(1, True)]
    assert notice_ids(index.matching([key("ph:x")])) == [(1, False)]  # its weak probe
    assert notice_ids(index.matching([], [key("name:y")])) == [(2, False)]  # a weak key
    assert notice_ids(index.matching([key("a:1")], [key("ph:x")])) == [(1, True)]  # once
    assert index.matching([key("a:9")], [key("ph:z")]) == []


class WorkerStopped(Exception):
    """What the doubles' fatal stop raises instead of ending the process."""


class Harness:
    def __init__(self, loaded: Sequence[Publication | str] = (), policy: Policy | None = None):
        self.registry = RegistryIndex()
        self.loaded = list(loaded)
        self.commits: list[list[OutRecord]] = []
        self.owns = True
        policy = policy or default_policy()
        engine = DecisionEngine(BLINDER, Blinder(secrets.token_bytes(32), "ref"), self.registry,
                                policy)  # fmt: skip
        self.service = RetractionService(
            registry=self.registry, reader=self, decider=MessageDecider(engine, TOPICS),
            policy=policy, topics=TOPICS, load=self.load, commit_side=self.commit_side,
            on_fatal=self.stop_worker,
        )  # fmt: skip
        self.failure: Exception | None = None
        self.stopped = 0
        self.followed: asyncio.Queue[Publication | str] = asyncio.Queue()
        self.applied = {0: 5}

    async def wait_until_fresh(self) -> dict[int, int]:
        return self.applied

    async def load(
        self, source: InputPartition, apply: Apply, caught_up: Callable[[], None]
    ) -> None:
        """The loaded records, then whatever ``follow`` adds later (as the loader follows
        the partition: a reviewer's release)."""
        if self.failure is not None:
            raise self.failure
        for offset, item in enumerate(self.loaded):
            feed(apply, item, offset)
        caught_up()
        while True:
            feed(apply, await self.followed.get(), -1)

    def stop_worker(self) -> NoReturn:
        self.stopped += 1
        raise WorkerStopped

    async def commit_side(self, source: InputPartition, records: Sequence[OutRecord]) -> bool:
        if self.failure is not None:
            raise self.failure
        if not self.owns:
            return False
        self.commits.append(list(records))
        return True

    async def settle(self) -> None:
        for _ in range(20):
            await asyncio.sleep(0)


def feed(apply: Apply, item: Publication | str, offset: int) -> None:
    if isinstance(item, str):
        apply(item, None, offset)
    else:
        apply(item.notice_id, encode_publication(item), offset)


def topics_of(records: Sequence[OutRecord]) -> list[tuple[str, bool]]:
    return sorted((r.topic, r.value is None) for r in records)


async def test_a_protection_applied_later_withdraws_the_notices_it_meets() -> None:
    h = Harness([publication(1, "a:1"), publication(4, "a:1"), publication(2, "a:2")])
    h.service.start()
    h.service.assigned([P0], generation_id=1)
    await h.settle()
    assert h.commits == []  # nothing protected yet
    h.registry.apply("rec", protection("rec", "a:1"))
    await h.settle()
    (records,) = h.commits
    # Two notices of one subject (1 and 4 share subject_ref 1): one public tombstone.
    assert topics_of(records) == [
        ("audit", False), ("audit", False), ("public", True), ("publications", True),
        ("publications", True), ("retractions", False), ("retractions", False),
    ]  # fmt: skip
    audits = [codec_for(SchemaName.GUARD_DECISION).decode(r.value) for r in records
              if r.topic == "audit" and r.value]  # fmt: skip
    assert {(a["stage"], a["decision"], a["reason"], a["input_offset"]) for a in audits} == {
        ("RETRACTED", "DROP", "retracted", 1), ("RETRACTED", "DROP", "retracted", 4)}
    assert all(a["matched_record_refs"] == ["rec"] for a in audits)
    h.registry.apply("rec", protection("rec", "a:1"))  # applied again: nothing more to do
    await h.settle()
    assert len(h.commits) == 1
    await h.service.stop()


async def test_an_assignment_sweeps_what_is_already_protected_and_skips_withdrawn() -> None:
    withdrawn = publication(3, "a:1")
    h = Harness([publication(1, "a:1"), withdrawn, withdrawn.notice_id, publication(2, "a:2")])
    h.registry.apply("rec", protection("rec", "a:1"))
    h.service.start()
    h.service.assigned([P0], generation_id=1)
    await h.settle()
    (records,) = h.commits
    assert [r.key for r in records if r.topic == "publications"] == [f"{1:064x}".encode()]


async def test_a_notice_committed_after_the_protection_is_withdrawn_at_once() -> None:
    h = Harness()
    h.service.start()
    h.service.assigned([P0], generation_id=1)
    await h.settle()
    h.registry.apply("rec", protection("rec", "a:7"))
    await h.settle()
    late = Outcome(Decision.PUBLISH, Reason.NO_MATCH, (), (), publication=publication(7, "a:7"))
    h.service.committed(P0, [late])
    await h.settle()
    assert len(h.commits) == 1


async def test_a_redacted_notice_stands_unless_the_basis_forbids_it() -> None:
    redact_u = Policy("v", {ProtectionBasis.U_VISA: Decision.REDACT})
    h = Harness([publication(1, "a:1", is_redacted=True)], policy=redact_u)
    h.service.start()
    h.service.assigned([P0], generation_id=1)
    await h.settle()
    h.registry.apply("u", protection("u", "a:1", basis=ProtectionBasis.U_VISA))
    await h.settle()
    assert h.commits == []
    h.registry.apply("t", protection("t", "a:1", basis=ProtectionBasis.T_VISA))
    await h.settle()
    assert len(h.commits) == 1


async def test_nothing_is_withdrawn_without_the_partition_and_the_next_owner_sweeps() -> None:
    h = Harness([publication(1, "a:1")])
    h.owns = False
    h.service.start()
    h.service.assigned([P0], generation_id=1)
    h.registry.apply("rec", protection("rec", "a:1"))
    await h.settle()
    assert h.commits == []
    h.owns = True
    h.service.assigned([P0], generation_id=2)  # kept from generation 1: retried
    await h.settle()
    assert len(h.commits) == 1
    h.service.assigned([], generation_id=3)
    assert h.service.counts.indexed == 0


async def test_a_weak_meeting_withdraws_a_full_notice_and_the_audit_says_weak() -> None:
    """A sound-alike protection: the event would be held if decided now, so its notice
    does not stay public."""
    h = Harness([publication(1, "name:jon smith", weak=["ph:jnsm0"]), publication(2, "a:2")])
    h.service.start()
    h.service.assigned([P0], generation_id=1)
    await h.settle()
    h.registry.apply("rec", protection("rec", "name:john smith", weak=["ph:jnsm0"]))
    await h.settle()
    (records,) = h.commits
    audits = [codec_for(SchemaName.GUARD_DECISION).decode(r.value) for r in records
              if r.topic == "audit" and r.value]  # fmt: skip
    assert [(a["input_offset"], a["match_strength"]) for a in audits] == [(1, "WEAK")]
    await h.service.stop()


async def test_a_withdrawal_that_fails_stops_the_worker_for_the_next_owner() -> None:
    h = Harness([publication(1, "a:1")])
    h.service.start()
    h.service.assigned([P0], generation_id=1)
    await h.settle()
    assert h.stopped == 0
    h.failure = RuntimeError("broker refused the transaction")
    h.registry.apply("rec", protection("rec", "a:1"))
    await h.settle()
    assert h.stopped == 1 and h.commits == []


async def test_a_publications_load_that_fails_stops_the_worker() -> None:
    h = Harness()
    h.failure = ConnectionError("broker gone")
    h.service.assigned([P0], generation_id=1)
    await h.settle()
    assert h.stopped == 1


async def test_a_reviewed_notice_is_withdrawn_by_a_strong_match_only() -> None:
    released = publication(1, "name:jon smith", weak=["ph:jnsm0"], is_reviewed=True)
    h = Harness([released])
    h.service.start()
    h.service.assigned([P0], generation_id=1)
    await h.settle()
    h.registry.apply("weak", protection("weak", "name:john smith", weak=["ph:jnsm0"]))
    await h.settle()
    assert h.commits == []  # the reviewer judged this evidence
    h.registry.apply("strong", protection("strong", "name:jon smith"))
    await h.settle()
    assert len(h.commits) == 1
    await h.service.stop()


async def test_a_notice_someone_else_publishes_later_is_followed_and_checked() -> None:
    """A reviewer's release lands on the partition after the load: the owner indexes it
    and withdraws it at once if a protection (strong, here) already meets it."""
    h = Harness()
    h.service.start()
    h.service.assigned([P0], generation_id=1)
    await h.settle()
    h.registry.apply("rec", protection("rec", "a:5"))
    await h.settle()
    h.followed.put_nowait(publication(5, "a:5", is_reviewed=True))
    h.followed.put_nowait(publication(6, "a:6"))
    await h.settle()
    (records,) = h.commits
    assert [r.key for r in records if r.topic == "publications"] == [f"{5:064x}".encode()]
    assert h.service.counts.indexed == 1
    await h.service.stop()
