"""HealthMonitor with a stand-in reader and consumer and a hand-moved clock."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiokafka import TopicPartition
from prometheus_client import generate_latest

from guard.ops.metrics import GuardMetrics
from guard.registry.errors import RegistryError, RegistryReaderFailed
from guard.registry.index import RegistryIndex
from guard.stream.monitor import HealthMonitor
from guard.stream.output import InputPartition
from guard.stream.worker import WorkerState


@dataclass
class ReaderView:
    is_restored: bool = True
    halted: RegistryError | None = None
    last_caught_up_at: float | None = 100.0
    index: RegistryIndex = field(default_factory=RegistryIndex)
    key_ids: tuple[str, str | None] = ("k1.00000000", None)


ONE_KEY = {"state": "none", "current_key": "k1.00000000", "current_key_records": 0,
           "previous_key": None, "previous_key_records": 0}  # fmt: skip


@dataclass
class ConsumerView:
    highwaters: dict[TopicPartition, int]

    def assignment(self) -> set[Any]:
        return set(self.highwaters)

    def highwater(self, tp: Any) -> int | None:
        return self.highwaters.get(tp)


class Clock:
    now = 105.0

    def __call__(self) -> float:
        return self.now


def monitor(reader: ReaderView, state: WorkerState, clock: Clock) -> tuple[HealthMonitor, Any]:
    metrics = GuardMetrics()
    consumer = ConsumerView({TopicPartition("custody", 0): 50, TopicPartition("other", 0): 9})
    health = HealthMonitor(
        state=state,
        reader=reader,  # type: ignore[arg-type]
        metrics=metrics,
        consumer=lambda: consumer,
        custody_topic="custody",
        stale_after=15.0,
        clock=clock,
    )
    return health, metrics


def test_ready_then_stale_as_the_clock_moves() -> None:
    clock = Clock()
    health, _ = monitor(ReaderView(), WorkerState(has_started=True), clock)
    ready = json.loads(health.readiness().as_json())
    assert ready == {"ready": True, "reason": "ok", "blinding_keys": ONE_KEY}
    clock.now = 116.0
    stale = json.loads(health.readiness().as_json())
    assert stale == {"ready": False, "reason": "registry_stale", "blinding_keys": ONE_KEY}


def test_a_failed_reader_reads_halted_with_its_cause_not_stale() -> None:
    reader = ReaderView(halted=RegistryReaderFailed("KeyError"), last_caught_up_at=None)
    health, _ = monitor(reader, WorkerState(has_started=True), Clock())
    assert json.loads(health.readiness().as_json()) == {
        "ready": False,
        "reason": "registry_halted",
        "cause": "registry reader failed: KeyError",
        "blinding_keys": ONE_KEY,
    }


def test_refresh_sets_the_gate_and_custody_lag_gauges() -> None:
    clock = Clock()
    state = WorkerState(has_started=True, held_since=101.0, held_events=7)
    state.next_offsets[InputPartition("custody", 0)] = 20
    health, metrics = monitor(ReaderView(), state, clock)

    health.refresh()

    body = generate_latest(metrics.registry).decode()
    assert "guard_freshness_gate_waiting_events 7.0" in body
    assert "guard_freshness_gate_oldest_wait_seconds 4.0" in body
    assert 'guard_custody_consumer_lag_records{partition="0"} 30.0' in body
    assert "guard_registry_ready 1.0" in body
