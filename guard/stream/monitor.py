"""Watches the worker from the side: readiness, gauges, restore progress.

Runs on the worker's loop once a second. It reads the registry's end offsets
independently of the custody stream, so readiness turns 503 when the
registry goes stale even while no custody event arrives, and back to 200
once the reader has caught up again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from faust.exceptions import ConsumerNotStarted

from guard.ops.health import Readiness, Rotation, assess_readiness
from guard.ops.metrics import GuardMetrics
from guard.registry.index import CURRENT_KEY, PREVIOUS_KEY
from guard.registry.reader import RegistryReader
from guard.schemaregistry.cache import SchemaCache
from guard.stream.output import InputPartition
from guard.stream.worker import WorkerState

log = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 5.0


class CustodyConsumer(Protocol):
    """The group consumer as the monitor sees it."""

    def assignment(self) -> set[Any]: ...

    def highwater(self, tp: Any) -> int | None: ...


class HealthMonitor:
    """Probes the registry, answers readiness, refreshes gauges before each scrape."""

    def __init__(
        self,
        *,
        state: WorkerState,
        reader: RegistryReader,
        metrics: GuardMetrics,
        consumer: Callable[[], CustodyConsumer],
        custody_topic: str,
        stale_after: float,
        clock: Callable[[], float] = time.monotonic,
        schema_cache: SchemaCache | None = None,
    ) -> None:
        self._schema_cache = schema_cache
        self._state = state
        self._consumer = consumer
        self._clock = clock
        self._reader = reader
        self._metrics = metrics
        self._custody_topic = custody_topic
        self._stale_after = stale_after
        self._interval = min(1.0, stale_after / 3)
        self._task: asyncio.Task[None] | None = None
        self._last_progress_log = 0.0

    def readiness(self) -> Readiness:
        halted = self._reader.halted
        verdict = assess_readiness(
            has_started=self._state.has_started,
            is_restored=self._reader.is_restored,
            is_halted=halted is not None,
            halt_cause=halted.cause if halted is not None else None,
            last_caught_up_at=self._reader.last_caught_up_at,
            now=self._clock(),
            stale_after=self._stale_after,
            schema_registry_unavailable=self._schema_waiting_since() is not None,
        )
        return verdict.with_rotation(self.rotation())

    def rotation(self) -> Rotation:
        """The blinding keys the reader accepts and how many active records each holds."""
        current, previous = self._reader.key_ids
        index = self._reader.index
        return Rotation(
            current_key=current,
            previous_key=previous,
            current_records=index.active_count_for(CURRENT_KEY),
            previous_records=index.active_count_for(PREVIOUS_KEY),
        )

    def _schema_waiting_since(self) -> float | None:
        cache = self._schema_cache
        return None if cache is None else cache.unavailable_since

    def is_ready(self) -> bool:
        return self.readiness().is_ready

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="guard-health-monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self._tick()
            except Exception as exc:
                # A dead monitor would freeze readiness at its last answer.
                log.error("health monitor tick failed (%s)", type(exc).__name__, exc_info=True)
            await asyncio.sleep(self._interval)

    async def _tick(self) -> None:
        if self._state.has_started:
            targets = await self._reader.probe()
            if targets is not None:
                for partition, lag in self._reader.lag(targets).items():
                    self._metrics.registry_lag.labels(str(partition)).set(lag)
            self._log_restore_progress()
        self.refresh()

    def _log_restore_progress(self) -> None:
        if self._reader.is_restored or self._reader.halted is not None:
            return
        now = self._clock()
        if now - self._last_progress_log < PROGRESS_EVERY_SECONDS:
            return
        self._last_progress_log = now
        progress = self._reader.progress()
        if progress.total == 0:
            return
        eta = progress.eta_seconds
        log.info(
            "registry restore: %d / %d offsets applied (%.0f/s, ETA %s)",
            progress.done,
            progress.total,
            progress.rate,
            f"{eta:.0f} s" if eta is not None else "unknown",
        )

    def refresh(self) -> None:
        """Bring every gauge up to date; called each second and before each scrape."""
        m = self._metrics
        reader = self._reader
        now = self._clock()
        m.registry_ready.set(1 if self.is_ready() else 0)
        m.registry_restored.set(1 if reader.is_restored else 0)
        m.registry_halted.set(0 if reader.halted is None else 1)
        m.registry_active_records.set(reader.index.active_count)
        m.registry_active_records_by_key.labels("current").set(
            reader.index.active_count_for(CURRENT_KEY)
        )
        if reader.key_ids[1] is not None:
            m.registry_active_records_by_key.labels("previous").set(
                reader.index.active_count_for(PREVIOUS_KEY)
            )
        if reader.last_caught_up_at is not None:
            age = now - reader.last_caught_up_at
            m.registry_caught_up_age.set(age)
            m.registry_last_caught_up.set(time.time() - age)
        held_since = self._state.held_since
        m.gate_waiting_events.set(self._state.held_events)
        m.gate_oldest_wait.set(0 if held_since is None else now - held_since)
        self._refresh_custody_lag()
        if self._schema_cache is not None:
            waiting_since = self._schema_waiting_since()
            m.schema_registry_waiting.set(0 if waiting_since is None else now - waiting_since)
            m.schema_cache_entries.set(len(self._schema_cache))

    def _refresh_custody_lag(self) -> None:
        try:
            consumer = self._consumer()
            assignment = consumer.assignment()
        except ConsumerNotStarted:
            return  # Faust starts its consumer after the guard's own clients
        for tp in assignment:
            if tp.topic != self._custody_topic:
                continue
            next_offset = self._state.next_offsets.get(InputPartition(tp.topic, tp.partition))
            if next_offset is None:
                continue
            highwater = consumer.highwater(tp)
            if highwater is not None:
                self._metrics.custody_lag.labels(str(tp.partition)).set(
                    max(0, highwater - next_offset)
                )
