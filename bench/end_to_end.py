"""Scenario ``end_to_end``: the guard, a Quix Streams app and a raw pipe drain the same topic.

1. A registry (10,000 records, the protected pool included) is written and
   200,000 custody events (the ``EventMix`` mix) are produced into a custody
   topic of 4 partitions before anything consumes it.
2. Each contestant then drains those events in turn, from its launch:
   * one ``python -m guard worker`` (GUARD_METRICS_PORT=0, WARNING logs,
     default batch settings);
   * two guard workers in one group, on their own consumer group and outputs;
   * ``python -m bench.quix_app``: Quix Streams, exactly-once, calling the
     guard's ``MessageDecider.decide`` per event (the same decode → match →
     encode) and producing every output record;
   * ``python -m bench.pipe``: plain aiokafka consume → produce, no decoding.
   The guards and Quix are timed until their consumer group has committed
   the offset after the last event (both commit offsets in the transaction
   that writes the outputs: "last decision committed"); the pipe until the
   sink's end offsets reach the count. Polling a committed offset costs the
   2-core machine nothing, where counting output records would not.
3. The audit topic of each guard run is read ``read_committed`` and must hold
   exactly one decision per event.

The figures that count are the ratios, all from this one run.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.kafka import (
    Deployment,
    OffsetWatch,
    WorkerProcess,
    bench_connection,
    create_topic,
    deploy,
    deploy_sharing_inputs,
    produce_all,
    write_registry_in_chunks,
)
from bench.profiling import start_sampler, summarize
from bench.report import ScenarioResult, at_least, fmt_rate
from bench.workload import EventMix, Workload
from guard.cli.tail import read_records
from guard.codec.avro import codec_for
from guard.codec.schemas import SchemaName

NAME = "end_to_end"
CUSTODY_PARTITIONS = 4
TARGET_OVER_QUIX = 1.0
TARGET_OVER_PIPE = 0.35
TARGET_TWO_OVER_ONE = 1.7
POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Parameters:
    events: int
    registry_size: int
    timeout: float
    seed: int = 2026

    @classmethod
    def for_run(cls, *, is_smoke: bool) -> Parameters:
        if is_smoke:
            return cls(events=2_000, registry_size=1_000, timeout=120)
        return cls(events=200_000, registry_size=10_000, timeout=900)


@dataclass
class Timing:
    seconds: float
    first_output_seconds: float
    events: int

    @property
    def rate(self) -> float:
        return self.events / self.seconds

    @property
    def rate_after_first_output(self) -> float | None:
        """None when everything came out within a couple of polls: too short to time."""
        span = self.seconds - self.first_output_seconds
        return self.events / span if span >= 2 * POLL_SECONDS else None


async def watch_until(
    progress: Callable[[], Awaitable[int]],
    target: int,
    started_at: float,
    timeout: float,
    is_alive: Callable[[], bool],
) -> Timing:
    """Poll ``progress`` until it reaches ``target``; times are from ``started_at``."""
    first: float | None = None
    while True:
        done = await progress()
        elapsed = time.monotonic() - started_at
        if done > 0 and first is None:
            first = elapsed
        if done >= target:
            return Timing(elapsed, first if first is not None else elapsed, target)
        if elapsed > timeout:
            raise TimeoutError(f"only {done} of {target} done after {timeout:.0f}s")
        if not is_alive():
            raise RuntimeError(f"process exited with {done} of {target} done")
        await asyncio.sleep(POLL_SECONDS)


async def time_guard(
    deployment: Deployment, watch: OffsetWatch, params: Parameters, workers: int
) -> tuple[Timing, list[int | None]]:
    """Launch ``workers`` guard workers together; time them to the last commit."""
    config = deployment.config
    processes = [
        WorkerProcess(deployment, {"GUARD_WORKER_ID": f"bench-{n}"}) for n in range(workers)
    ]
    for process in processes:
        process.start()
    try:
        timing = await watch_until(
            lambda: watch.committed(config.app_id, config.custody_topic),
            params.events,
            processes[0].started_at,
            params.timeout,
            lambda: all(p.process is not None and p.process.poll() is None for p in processes),
        )
    finally:
        exits = [process.stop() for process in processes]
    return timing, exits


async def time_command(
    command: list[str],
    progress: Callable[[], Awaitable[int]],
    params: Parameters,
    env: dict[str, str] | None = None,
) -> Timing:
    """Launch ``command``; time it until ``progress`` reaches the event count, then stop it."""
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, env=env)
    try:
        return await watch_until(
            progress,
            params.events,
            started,
            params.timeout,
            lambda: process.poll() is None or process.returncode == 0,
        )
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=60)


async def exactly_once_check(deployment: Deployment, events: int) -> dict[str, Any]:
    """Read the run's audit topic; raise unless it holds one decision per event."""
    config = deployment.config
    audit = await read_records(
        bench_connection(config.brokers), config.audit_topic, at_least=events, timeout=120
    )
    decode = codec_for(SchemaName.GUARD_DECISION).decode
    decisions = [decode(r.value) for r in audit if r.value is not None]
    positions = Counter((d["input_partition"], d["input_offset"]) for d in decisions)
    duplicates = sum(n - 1 for n in positions.values() if n > 1)
    if len(positions) != events or duplicates:
        raise RuntimeError(
            f"audit holds {len(positions)} distinct decisions for {events} events "
            f"({duplicates} duplicates)"
        )
    mix = Counter(f"{d['decision']}/{d['reason']}" for d in decisions)
    return {"distinct_positions": len(positions), "duplicates": 0, "mix": dict(sorted(mix.items()))}


async def prepare(params: Parameters, bootstrap: str, workdir: Path) -> Deployment:
    deployment = await deploy(bootstrap, workdir, NAME, custody_partitions=CUSTODY_PARTITIONS)
    workload = Workload(params.seed, deployment.blinder)
    await write_registry_in_chunks(
        deployment.config, list(workload.registry(params.registry_size))
    )
    payloads = workload.events(params.events, EventMix())
    await produce_all(bootstrap, deployment.config.custody_topic, payloads)
    return deployment


async def profile_one_worker(
    deployment: Deployment, params: Parameters, results_dir: Path, *, is_smoke: bool
) -> str:
    """A separate, sampled one-worker run (its rate is not of record)."""
    sampled = await deploy_sharing_inputs(deployment, f"{NAME}-profiled")
    folded = results_dir / f"{NAME}.worker-profile.folded"
    results_dir.mkdir(parents=True, exist_ok=True)
    worker = WorkerProcess(sampled)
    async with OffsetWatch(deployment.bootstrap) as watch:
        worker.start()
        await asyncio.sleep(1.0 if is_smoke else 3.0)  # past start-up: sample steady work
        sampler = start_sampler(worker.pid, 2 if is_smoke else 15, folded)
        try:
            await watch_until(
                lambda: watch.committed(sampled.config.app_id, sampled.config.custody_topic),
                params.events,
                worker.started_at,
                params.timeout,
                lambda: worker.process is not None and worker.process.poll() is None,
            )
        finally:
            worker.stop(is_graceful=False)
    if sampler is None:
        return "py-spy not installed"
    await asyncio.to_thread(sampler.wait, 60)
    if not folded.exists():
        return "py-spy wrote no samples"
    summary = results_dir / f"{NAME}.worker-profile.txt"
    summary.write_text(summarize(folded) + "\n", encoding="utf-8")
    return summary.name


async def run(
    *,
    is_smoke: bool,
    bootstrap: str,
    workdir: Path,
    log: Callable[[str], None],
    results_dir: Path,
    is_worker_sampled: bool = False,
) -> ScenarioResult:
    params = Parameters.for_run(is_smoke=is_smoke)
    one = await prepare(params, bootstrap, workdir)
    two = await deploy_sharing_inputs(one, f"{NAME}-two")
    quix = await deploy_sharing_inputs(one, f"{NAME}-quix")
    sinks = {name: f"{name}-sink-{uuid.uuid4().hex[:8]}" for name in ("quix", "pipe")}
    for sink in sinks.values():
        await create_topic(bootstrap, sink, partitions=3)
    custody = one.config.custody_topic
    async with OffsetWatch(bootstrap) as watch:
        guard_one, exits_one = await time_guard(one, watch, params, workers=1)
        log(f"  guard, 1 worker: {fmt_rate(guard_one.rate)} events/s")
        guard_two, exits_two = await time_guard(two, watch, params, workers=2)
        log(f"  guard, 2 workers: {fmt_rate(guard_two.rate)} events/s")
        quix_timing = await time_command(
            [sys.executable, "-m", "bench.quix_app", sinks["quix"]],
            lambda: watch.committed(quix.config.app_id, custody),
            params,
            env={**os.environ, **quix.env},
        )
        log(f"  quix streams: {fmt_rate(quix_timing.rate)} events/s")
        pipe = await time_command(
            [sys.executable, "-m", "bench.pipe", bootstrap, custody, sinks["pipe"],
             str(params.events)],
            lambda: watch.end_total(sinks["pipe"]),
            params,
        )
        log(f"  raw pipe: {fmt_rate(pipe.rate)} events/s")
    checks = {"one_worker": await exactly_once_check(one, params.events)}
    checks["two_workers"] = await exactly_once_check(two, params.events)
    profile = (
        await profile_one_worker(one, params, results_dir, is_smoke=is_smoke)
        if is_worker_sampled
        else None
    )
    return _result(
        params,
        {"guard_one": guard_one, "guard_two": guard_two, "quix": quix_timing, "pipe": pipe},
        checks,
        {"exit_codes": {"one_worker": exits_one, "two_workers": exits_two}, "profile": profile},
        is_smoke=is_smoke,
    )


def _result(
    params: Parameters,
    timings: dict[str, Timing],
    checks: dict[str, Any],
    extra: dict[str, Any],
    *,
    is_smoke: bool,
) -> ScenarioResult:
    rate = {name: timing.rate for name, timing in timings.items()}
    ratios = {
        "guard_over_quix": rate["guard_one"] / rate["quix"],
        "guard_over_pipe": rate["guard_one"] / rate["pipe"],
        "two_workers_over_one": rate["guard_two"] / rate["guard_one"],
    }
    figures: dict[str, Any] = {
        **{f"{name}_events_per_second": round(value) for name, value in rate.items()},
        **{name: round(value, 3) for name, value in ratios.items()},
        "timings": {
            name: {k: round(v, 2) for k, v in asdict(t).items()} for name, t in timings.items()
        },
        "exactly_once": checks,
        "distinct_positions_decided": checks["one_worker"]["distinct_positions"],
        "duplicate_decisions": 0,
        **extra,
    }
    labels = {
        "guard_one": "guard, 1 worker",
        "guard_two": "guard, 2 workers",
        "quix": "Quix Streams (same decision, exactly-once)",
        "pipe": "raw aiokafka pipe",
    }
    summary = [
        (f"{labels[name]} events/s", f"{fmt_rate(t.rate)} ({t.seconds:.1f} s)")
        for name, t in timings.items()
    ]
    summary += [(name.replace("_", " "), f"{value:.3f}") for name, value in ratios.items()]
    return ScenarioResult(
        scenario=NAME,
        is_smoke=is_smoke,
        parameters={
            "events": params.events,
            "registry_size": params.registry_size,
            "custody_partitions": CUSTODY_PARTITIONS,
            "mix": asdict(EventMix()),
            "worker_env": {"GUARD_METRICS_PORT": "0", "GUARD_LOG_LEVEL": "WARNING"},
            "clock": "launch → consumer group committed the last offset (guards, Quix); "
            "launch → sink end offsets reach the count (pipe)",
        },
        figures=figures,
        targets=[
            at_least(
                "guard ÷ Quix Streams", round(ratios["guard_over_quix"], 3), TARGET_OVER_QUIX, ""
            ),
            at_least("guard ÷ raw pipe", round(ratios["guard_over_pipe"], 3), TARGET_OVER_PIPE, ""),
            at_least(
                "2 workers ÷ 1", round(ratios["two_workers_over_one"], 3), TARGET_TWO_OVER_ONE, ""
            ),
        ],
        summary=summary,
    )
