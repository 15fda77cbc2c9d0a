"""Scenario ``failover``: how long a group of workers leaves partitions undecided.

Custody events arrive at a steady rate over 4 partitions for the whole run.

1. Two workers share the group. One is killed with SIGKILL. The clock runs
   from the kill until every partition's committed offset has moved past
   where it stood at the kill: the survivor decides the dead worker's
   partitions again (``failover_seconds``; the group notices the death after
   ``GUARD_SESSION_TIMEOUT``).
2. A third worker joins, then the survivor of step 1 gets SIGTERM: its exit
   time (``sigterm_exit_seconds``), and the time until every partition moves
   again (``sigterm_handover_seconds``).
3. The audit topic must hold exactly one decision per event produced.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.end_to_end import exactly_once_check
from bench.kafka import (
    Deployment,
    OffsetWatch,
    WorkerProcess,
    bench_connection,
    deploy,
    write_registry_in_chunks,
)
from bench.report import ScenarioResult, at_most
from bench.workload import EventMix, Workload
from guard.kafka.clients import new_producer

NAME = "failover"
PARTITIONS = 4
TARGET_FAILOVER_SECONDS = 15.0
TARGET_SIGTERM_SECONDS = 5.0
POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Parameters:
    rate: int
    registry_size: int
    timeout: float
    seed: int = 45

    @classmethod
    def for_run(cls, *, is_smoke: bool) -> Parameters:
        return cls(rate=200 if is_smoke else 1_000, registry_size=1_000, timeout=120)


class SteadyFeed:
    """Produces events at ``rate`` per second until stopped; counts what it sent."""

    def __init__(self, deployment: Deployment, workload: Workload, rate: int) -> None:
        self._deployment = deployment
        self._workload = workload
        self._rate = rate
        self.sent = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        chunk = max(1, self._rate // 10)
        producer = new_producer(bench_connection(self._deployment.bootstrap), acks="all")
        await producer.start()
        try:
            started = time.monotonic()
            while True:
                payloads = self._workload.events(chunk, EventMix(), prefix=f"f{self.sent}")
                sends = [
                    await producer.send(self._deployment.config.custody_topic, p, key=os.urandom(8))
                    for p in payloads
                ]
                await asyncio.gather(*sends)
                self.sent += chunk
                await asyncio.sleep(max(0.0, started + self.sent / self._rate - time.monotonic()))
        finally:
            await producer.stop()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def settle(watch: OffsetWatch, deployment: Deployment, members: int) -> None:
    """Until the group is stable with ``members`` members and every partition is moving."""
    deadline = time.monotonic() + 120
    while await watch.stable_members(deployment.config.app_id) != members:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the group never settled with {members} members")
        await asyncio.sleep(POLL_SECONDS)
    await seconds_until_all_partitions_move(watch, deployment, time.monotonic(), 120)


async def seconds_until_all_partitions_move(
    watch: OffsetWatch, deployment: Deployment, since: float, timeout: float
) -> float:
    """From ``since``: until every custody partition's committed offset passed its value now."""
    config = deployment.config
    before = await watch.committed_by_partition(config.app_id, config.custody_topic)
    while True:
        now = await watch.committed_by_partition(config.app_id, config.custody_topic)
        if len(now) == PARTITIONS and all(now[p] > before.get(p, 0) for p in now):
            return time.monotonic() - since
        if time.monotonic() - since > timeout:
            raise TimeoutError(f"partitions did not all move within {timeout:.0f} s: {now}")
        await asyncio.sleep(POLL_SECONDS)


async def drained(watch: OffsetWatch, deployment: Deployment, timeout: float) -> int:
    """Wait until every event in the custody topic is committed; how many there are."""
    config = deployment.config
    produced = await watch.end_total(config.custody_topic)
    deadline = time.monotonic() + timeout
    while await watch.committed(config.app_id, config.custody_topic) < produced:
        if time.monotonic() > deadline:
            raise TimeoutError("the remaining workers did not decide every event")
        await asyncio.sleep(POLL_SECONDS)
    return produced


async def run(
    *,
    is_smoke: bool,
    bootstrap: str,
    workdir: Path,
    log: Callable[[str], None],
    results_dir: Path,
) -> ScenarioResult:
    """``results_dir`` is unused: everything goes into the returned result."""
    del results_dir
    params = Parameters.for_run(is_smoke=is_smoke)
    deployment = await deploy(bootstrap, workdir, NAME, custody_partitions=PARTITIONS)
    workload = Workload(params.seed, deployment.blinder)
    await write_registry_in_chunks(
        deployment.config, list(workload.registry(params.registry_size))
    )
    feed = SteadyFeed(deployment, workload, params.rate)
    workers = {n: WorkerProcess(deployment, {"GUARD_WORKER_ID": n}) for n in ("a", "b", "c")}
    figures: dict[str, Any] = {}
    feed.start()
    try:
        async with OffsetWatch(bootstrap) as watch:
            workers["a"].start()
            workers["b"].start()
            await settle(watch, deployment, members=2)
            killed_at = time.monotonic()
            workers["a"].stop(is_graceful=False)
            figures["failover_seconds"] = round(
                await seconds_until_all_partitions_move(
                    watch, deployment, killed_at, params.timeout
                ),
                2,
            )
            log(f"  SIGKILL → every partition decided again: {figures['failover_seconds']} s")
            workers["c"].start()
            await settle(watch, deployment, members=2)
            figures.update(await sigterm(workers["b"], watch, deployment, params))
            log(
                f"  SIGTERM → exit {figures['sigterm_exit_seconds']} s, every partition "
                f"decided again {figures['sigterm_handover_seconds']} s"
            )
            await feed.stop()
            produced = await drained(watch, deployment, params.timeout)
    finally:
        await feed.stop()
        exits = {name: worker.stop() for name, worker in workers.items()}
    figures["exit_codes"] = exits
    figures["events"] = produced
    figures["exactly_once"] = await exactly_once_check(deployment, produced)
    return ScenarioResult(
        scenario=NAME,
        is_smoke=is_smoke,
        parameters={
            "offered_per_second": params.rate,
            "custody_partitions": PARTITIONS,
            "session_timeout_seconds": deployment.config.session_timeout,
            "clock": "signal sent → every custody partition's committed offset moved past its "
            "value at that moment (polled every 100 ms); SIGTERM exit: signal → process exit",
        },
        figures=figures,
        targets=[
            at_most("failover after SIGKILL", figures["failover_seconds"],
                    TARGET_FAILOVER_SECONDS, "s"),
            at_most("SIGTERM exit", figures["sigterm_exit_seconds"], TARGET_SIGTERM_SECONDS, "s"),
        ],
        summary=[
            ("SIGKILL → every partition decided again", f"{figures['failover_seconds']} s"),
            ("SIGTERM → process exited", f"{figures['sigterm_exit_seconds']} s"),
            ("SIGTERM → every partition decided again", f"{figures['sigterm_handover_seconds']} s"),
            ("events, all decided exactly once", f"{produced:,}"),
        ],
    )


async def sigterm(
    worker: WorkerProcess, watch: OffsetWatch, deployment: Deployment, params: Parameters
) -> dict[str, float]:
    process = worker.process
    if process is None:
        raise RuntimeError("worker not running")
    signalled_at = time.monotonic()
    process.send_signal(signal.SIGTERM)
    moving = asyncio.create_task(
        seconds_until_all_partitions_move(watch, deployment, signalled_at, params.timeout)
    )
    await asyncio.to_thread(process.wait, 60)
    exited = time.monotonic() - signalled_at
    worker.process = None
    return {
        "sigterm_exit_seconds": round(exited, 2),
        "sigterm_exit_code": float(process.returncode),
        "sigterm_handover_seconds": round(await moving, 2),
    }
