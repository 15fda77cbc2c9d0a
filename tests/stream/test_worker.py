"""GuardWorker in memory: ownership, fencing, the gate and rebalances, with no broker."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any, NoReturn

import pytest
from aiokafka import TopicPartition
from stream_doubles import (
    FreshRegistry,
    GroupConsumer,
    InMemoryKafka,
    PositionDecider,
    fetch,
    in_memory_producer,
)

from guard.ops.metrics import GuardMetrics
from guard.stream.output import InputPartition, TransactionalOutput
from guard.stream.worker import GuardWorker

CUSTODY = "custody"
GROUP = "guard"


class Fatal(Exception):
    """Raised where the real worker would exit 70."""


def fatal() -> NoReturn:
    raise Fatal


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make_worker(
    kafka: InMemoryKafka,
    *,
    registry: FreshRegistry | None = None,
    clock: Clock | None = None,
) -> tuple[GuardWorker, GroupConsumer, PositionDecider]:
    consumer = GroupConsumer(kafka, GROUP)
    decider = PositionDecider()
    worker = GuardWorker(
        custody_topic=CUSTODY,
        reader=registry or FreshRegistry(),
        output=TransactionalOutput(
            app_id="app", group_id=GROUP, transaction_timeout_ms=5000, new_producer=kafka.producer
        ),
        decider=decider,
        metrics=GuardMetrics(),
        consumer=lambda: consumer,
        is_ready=lambda: True,
        clock=clock or Clock(),
        on_fatal=fatal,
    )
    worker.mark_started()
    return worker, consumer, decider


async def assign(
    worker: GuardWorker, consumer: GroupConsumer, partitions: list[int], generation: int
) -> None:
    consumer.assigned = {TopicPartition(CUSTODY, p) for p in partitions}
    await worker.on_partitions_assigned(consumer.assigned, generation)


def audit_positions(kafka: InMemoryKafka) -> Counter[bytes]:
    return Counter(w.key for w in kafka.records("audit") if w.key is not None)


async def test_each_partition_commits_its_decisions_and_offset_together() -> None:
    kafka = InMemoryKafka()
    worker, consumer, _ = make_worker(kafka)
    await assign(worker, consumer, [0, 1], generation=1)

    await worker.process_batch({**fetch(CUSTODY, 0, range(6)), **fetch(CUSTODY, 1, [0, 1])}, 1)

    assert audit_positions(kafka) == Counter(
        [f"custody/0/{n}".encode() for n in range(6)] + [b"custody/1/0", b"custody/1/1"]
    )
    assert kafka.committed == {
        (GROUP, TopicPartition(CUSTODY, 0)): 6,
        (GROUP, TopicPartition(CUSTODY, 1)): 2,
    }
    assert set(kafka.starts) == {"app-custody-0", "app-custody-1"}


async def test_a_batch_waits_for_its_generations_assignment_before_deciding() -> None:
    kafka = InMemoryKafka()
    worker, consumer, decider = make_worker(kafka)

    pending = asyncio.create_task(worker.process_batch(fetch(CUSTODY, 0, [0, 1]), 1))
    await asyncio.sleep(0.01)
    assert decider.decided == []  # not fenced yet, so not decided
    await assign(worker, consumer, [0], generation=1)
    await pending

    assert decider.decided == ["custody/0/0", "custody/0/1"]


async def test_a_batch_of_an_older_generation_is_dropped() -> None:
    kafka = InMemoryKafka()
    worker, consumer, decider = make_worker(kafka)
    await assign(worker, consumer, [0], generation=2)

    await worker.process_batch(fetch(CUSTODY, 0, [0, 1]), 1)

    assert decider.decided == [] and kafka.visible == []


async def test_records_before_the_committed_offset_are_not_decided_again() -> None:
    kafka = InMemoryKafka()
    kafka.committed[(GROUP, TopicPartition(CUSTODY, 0))] = 4
    worker, consumer, decider = make_worker(kafka)
    await assign(worker, consumer, [0], generation=1)

    await worker.process_batch(fetch(CUSTODY, 0, range(2, 7)), 1)

    assert decider.decided == ["custody/0/4", "custody/0/5", "custody/0/6"]
    assert kafka.committed[(GROUP, TopicPartition(CUSTODY, 0))] == 7


async def test_records_after_a_gap_are_read_again_before_the_gap_is_believed() -> None:
    kafka = InMemoryKafka()
    worker, consumer, decider = make_worker(kafka)
    await assign(worker, consumer, [0], generation=1)

    # Offsets 0-19 never came: a fetch buffered before a rebalance, say.
    await worker.process_batch(fetch(CUSTODY, 0, range(20, 25)), 1)
    assert decider.decided == []
    assert consumer.seeks[1:] == [{TopicPartition(CUSTODY, 0): 0}]  # after the log-start seek

    await worker.process_batch(fetch(CUSTODY, 0, range(0, 3)), 1)  # read again from 0
    assert decider.decided == ["custody/0/0", "custody/0/1", "custody/0/2"]


async def test_a_gap_seen_again_after_rewinding_is_real_and_passed() -> None:
    kafka = InMemoryKafka()
    kafka.committed[(GROUP, TopicPartition(CUSTODY, 0))] = 10
    worker, consumer, decider = make_worker(kafka)
    await assign(worker, consumer, [0], generation=1)

    await worker.process_batch(fetch(CUSTODY, 0, [12, 13]), 1)  # 10 and 11: txn markers
    await worker.process_batch(fetch(CUSTODY, 0, [12, 13]), 1)  # still missing: believed

    assert decider.decided == ["custody/0/12", "custody/0/13"]
    assert kafka.committed[(GROUP, TopicPartition(CUSTODY, 0))] == 14


async def test_a_partition_never_committed_starts_at_its_log_start() -> None:
    kafka = InMemoryKafka()
    worker, consumer, decider = make_worker(kafka)
    consumer.log_start = 5
    await assign(worker, consumer, [0], generation=1)

    assert worker.state.next_offsets == {InputPartition(CUSTODY, 0): 5}
    assert consumer.seeks == [{TopicPartition(CUSTODY, 0): 5}]
    await worker.process_batch(fetch(CUSTODY, 0, range(5, 7)), 1)
    assert decider.decided == ["custody/0/5", "custody/0/6"]


async def test_partitions_not_assigned_to_this_worker_are_never_decided() -> None:
    kafka = InMemoryKafka()
    worker, consumer, decider = make_worker(kafka)
    await assign(worker, consumer, [0], generation=1)

    await worker.process_batch({**fetch(CUSTODY, 0, [0]), **fetch(CUSTODY, 2, [0])}, 1)

    assert decider.decided == ["custody/0/0"]


async def test_a_frozen_worker_cannot_commit_a_partition_its_successor_took() -> None:
    kafka = InMemoryKafka()
    frozen, frozen_consumer, _ = make_worker(kafka)
    await assign(frozen, frozen_consumer, [0], generation=1)
    await frozen.process_batch(fetch(CUSTODY, 0, range(3)), 1)
    # The frozen worker is mid-commit of the next batch when it stops running.
    producer = in_memory_producer(frozen._output, next(iter(frozen._output.owned)))
    producer.hold_commit = asyncio.Event()
    stuck = asyncio.create_task(frozen.process_batch(fetch(CUSTODY, 0, range(3, 8)), 1))
    await asyncio.sleep(0.01)

    # The group moves on without it: the successor fences and reads offset 3.
    successor, successor_consumer, _ = make_worker(kafka)
    await assign(successor, successor_consumer, [0], generation=2)
    await successor.process_batch(fetch(CUSTODY, 0, range(3, 8)), 2)
    producer.hold_commit.set()  # the frozen worker wakes up and tries to commit
    await stuck

    positions = audit_positions(kafka)
    assert sorted(positions) == [f"custody/0/{n}".encode() for n in range(8)]
    assert max(positions.values()) == 1
    assert not frozen._output.owned
    assert frozen.state.next_offsets == {}


async def test_nothing_is_decided_or_committed_while_the_registry_gate_holds() -> None:
    kafka = InMemoryKafka()
    registry = FreshRegistry()
    registry.is_fresh.clear()
    clock = Clock()
    worker, consumer, decider = make_worker(kafka, registry=registry, clock=clock)
    await assign(worker, consumer, [0], generation=1)

    held = asyncio.create_task(worker.process_batch(fetch(CUSTODY, 0, range(5)), 1))
    await asyncio.sleep(0.01)
    assert (worker.state.held_events, worker.state.held_since) == (5, 100.0)
    assert decider.decided == [] and kafka.visible == []

    registry.is_fresh.set()
    await held
    assert len(decider.decided) == 5 and worker.state.held_events == 0


async def test_nothing_is_decided_or_committed_while_writer_schemas_are_awaited() -> None:
    """Wire format: the batch waits for its writer schemas (the registry's answer), then
    is decided with them (issue 11)."""
    kafka = InMemoryKafka()
    answered = asyncio.Event()
    asked: list[list[bytes | None]] = []

    async def writer_schemas(values: Any) -> dict[int, Any]:
        asked.append(list(values))
        await answered.wait()
        return {}

    worker, consumer, decider = make_worker(kafka)
    worker._writer_schemas = writer_schemas
    await assign(worker, consumer, [0], generation=1)
    held = asyncio.create_task(worker.process_batch(fetch(CUSTODY, 0, range(4)), 1))
    await asyncio.sleep(0.01)
    assert len(asked) == 1 and len(asked[0]) == 4
    assert decider.decided == [] and kafka.visible == []

    answered.set()
    await held
    assert len(decider.decided) == 4 and len(audit_positions(kafka)) == 4


async def test_a_revocation_waits_for_the_commit_in_flight() -> None:
    kafka = InMemoryKafka()
    worker, consumer, _ = make_worker(kafka)
    await assign(worker, consumer, [0], generation=1)
    producer = in_memory_producer(worker._output, next(iter(worker._output.owned)))
    producer.hold_commit = asyncio.Event()
    committing = asyncio.create_task(worker.process_batch(fetch(CUSTODY, 0, range(2)), 1))
    await asyncio.sleep(0.01)

    revoking = asyncio.create_task(worker.on_partitions_revoked(consumer.assigned))
    await asyncio.sleep(0.01)
    assert not revoking.done()
    producer.hold_commit.set()
    await asyncio.gather(committing, revoking)

    assert len(audit_positions(kafka)) == 2  # committed before the partition was given up
    assert producer.is_stopped


async def test_a_failed_transaction_stops_the_worker() -> None:
    kafka = InMemoryKafka(failing_commits=1)
    worker, consumer, _ = make_worker(kafka)
    await assign(worker, consumer, [0], generation=1)

    with pytest.raises(Fatal):
        await worker.process_batch(fetch(CUSTODY, 0, [0]), 1)
    assert kafka.visible == [] and kafka.committed == {}


async def test_metrics_count_only_committed_decisions() -> None:
    kafka = InMemoryKafka()
    worker, consumer, _ = make_worker(kafka)
    await assign(worker, consumer, [0], generation=1)

    await worker.process_batch(fetch(CUSTODY, 0, range(3), prefix=b"p"), 1)
    await worker.process_batch(fetch(CUSTODY, 0, range(3, 5)), 0)  # stale: dropped

    counted = worker._metrics.decisions.labels("DROP", "protected", "U_VISA")._value.get()
    assert counted == 3
    assert worker._metrics.decisions.labels("PUBLISH", "no_match", "none")._value.get() == 0
