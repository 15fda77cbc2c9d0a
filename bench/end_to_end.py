"""Scenario ``end_to_end``: a real worker drains a custody topic filled up front.

1. A registry (10,000 records, the protected pool included) is written and
   200,000 custody events (the decision_core mix) are produced into the custody
   topic before anything consumes it.
2. ``python -m guard worker`` is launched (GUARD_METRICS_PORT=0,
   GUARD_LOG_LEVEL=WARNING, default batch settings). The clock runs from just
   before the launch until the guard's consumer group has committed the
   offset after the last event: the worker commits offsets in the same
   transaction as the batch's decisions, so that moment is "last decision
   committed". (Polling a committed offset costs the machine nothing, where
   counting 200,000 audit records with a consumer would take CPU from the
   worker on a 2-core machine.) Afterwards the audit topic is read
   ``read_committed`` and must hold exactly one decision per event.
3. Same broker, same records: ``python -m bench.pipe`` copies the custody topic
   into a scratch topic with plain aiokafka, timed the same way (launch → the
   scratch topic's end offsets reach 200,000).

The figure that counts is guard ÷ pipe; both absolute rates stand beside it.
Both include process start-up; the rates after the first output are given
too.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.kafka import (
    OffsetWatch,
    WorkerProcess,
    create_topic,
    deploy,
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
TARGET_RATIO = 0.6
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
    total_seconds: float
    first_output_seconds: float

    def rate(self, events: int) -> float:
        return events / self.total_seconds

    def rate_after_first_output(self, events: int) -> float | None:
        """None when everything came out within a couple of polls: too short to time."""
        span = self.total_seconds - self.first_output_seconds
        return events / span if span >= 2 * POLL_SECONDS else None


async def watch_until(
    progress: Callable[[], Awaitable[int]],
    target: int,
    started_at: float,
    timeout: float,
    is_alive: Callable[[], bool],
) -> Timing:
    """Poll ``progress`` until it reaches ``target``; times are from ``started_at``."""
    first: float | None = None
    deadline = started_at + timeout
    while True:
        done = await progress()
        now = time.monotonic()
        if done > 0 and first is None:
            first = now - started_at
        if done >= target:
            return Timing(now - started_at, first if first is not None else now - started_at)
        if now > deadline:
            raise TimeoutError(f"only {done} of {target} done after {timeout:.0f}s")
        if not is_alive():
            raise RuntimeError(f"process exited with {done} of {target} done")
        await asyncio.sleep(POLL_SECONDS)


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


async def _sample_later(
    pid: int, folded: Path, *, is_smoke: bool
) -> subprocess.Popen[bytes] | None:
    """Start py-spy once the worker is past start-up, for a stretch of steady work."""
    await asyncio.sleep(1.0 if is_smoke else 5.0)
    return start_sampler(pid, 2 if is_smoke else 20, folded)


async def _finish_sampling(
    sampler: asyncio.Task[subprocess.Popen[bytes] | None] | None, folded: Path, results_dir: Path
) -> str | None:
    if sampler is None:
        return None
    process = await sampler
    if process is None:
        return "py-spy not installed"
    await asyncio.to_thread(process.wait, 60)
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
    deployment = await deploy(bootstrap, workdir, NAME)
    config = deployment.config
    workload = Workload(params.seed, deployment.blinder)
    log(f"  writing a registry of {params.registry_size:,} records")
    registry_seconds = await write_registry_in_chunks(
        config, list(workload.registry(params.registry_size))
    )
    log(f"  producing {params.events:,} custody events")
    payloads = workload.events(params.events, EventMix())
    produce_seconds = await produce_all(bootstrap, config.custody_topic, payloads)

    worker = WorkerProcess(deployment)
    folded = results_dir / f"{NAME}.worker-profile.folded"
    sampler: asyncio.Task[subprocess.Popen[bytes] | None] | None = None
    async with OffsetWatch(bootstrap) as watch:
        worker.start()
        if is_worker_sampled:
            results_dir.mkdir(parents=True, exist_ok=True)
            sampler = asyncio.create_task(_sample_later(worker.pid, folded, is_smoke=is_smoke))
        try:
            guard = await watch_until(
                lambda: watch.committed(config.app_id, config.custody_topic),
                params.events,
                worker.started_at,
                params.timeout,
                lambda: worker.process is not None and worker.process.poll() is None,
            )
        finally:
            exit_code = worker.stop()
        profile_note = await _finish_sampling(sampler, folded, results_dir)
        log(f"  guard: {guard.total_seconds:.1f} s, {fmt_rate(guard.rate(params.events))} events/s")

        sink = f"pipe-sink-{uuid.uuid4().hex[:8]}"
        await create_topic(bootstrap, sink, partitions=3)
        started = time.monotonic()
        pipe = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.pipe",
                bootstrap,
                config.custody_topic,
                sink,
                str(params.events),
            ],
            stdout=subprocess.DEVNULL,
        )
        try:
            baseline = await watch_until(
                lambda: watch.end_total(sink),
                params.events,
                started,
                params.timeout,
                lambda: pipe.poll() is None or pipe.returncode == 0,
            )
        finally:
            if pipe.poll() is None:
                pipe.wait(timeout=60)
        log(
            f"  pipe: {baseline.total_seconds:.1f} s, "
            f"{fmt_rate(baseline.rate(params.events))} events/s"
        )

    audit = await read_records(
        bootstrap, config.audit_topic, at_least=params.events, timeout=120, drain=True
    )
    decode = codec_for(SchemaName.GUARD_DECISION).decode
    decisions = [decode(r.value) for r in audit if r.value is not None]
    positions = Counter((d["input_partition"], d["input_offset"]) for d in decisions)
    mix = Counter(f"{d['decision']}/{d['reason']}" for d in decisions)
    ratio = guard.rate(params.events) / baseline.rate(params.events)
    guard_steady = guard.rate_after_first_output(params.events)
    pipe_steady = baseline.rate_after_first_output(params.events)
    steady_ratio = guard_steady / pipe_steady if guard_steady and pipe_steady else None
    figures: dict[str, Any] = {
        "guard_seconds": round(guard.total_seconds, 2),
        "guard_first_commit_seconds": round(guard.first_output_seconds, 2),
        "guard_events_per_second": round(guard.rate(params.events)),
        "guard_events_per_second_after_first_commit": _rounded(guard_steady, 0),
        "pipe_seconds": round(baseline.total_seconds, 2),
        "pipe_first_output_seconds": round(baseline.first_output_seconds, 2),
        "pipe_events_per_second": round(baseline.rate(params.events)),
        "pipe_events_per_second_after_first_output": _rounded(pipe_steady, 0),
        "guard_over_pipe": round(ratio, 3),
        "guard_over_pipe_after_first_output": _rounded(steady_ratio, 3),
        "audit_records": len(decisions),
        "distinct_positions_decided": len(positions),
        "duplicate_decisions": sum(n - 1 for n in positions.values() if n > 1),
        "decision_mix": dict(sorted(mix.items())),
        "worker_exit_code": exit_code,
        "registry_write_seconds": round(registry_seconds, 2),
        "produce_seconds": round(produce_seconds, 2),
        "worker_profile": profile_note,
    }
    if len(positions) != params.events or figures["duplicate_decisions"]:
        raise RuntimeError(
            f"audit holds {len(positions)} distinct decisions for {params.events} events "
            f"({figures['duplicate_decisions']} duplicates)"
        )
    return ScenarioResult(
        scenario=NAME,
        is_smoke=is_smoke,
        parameters={
            "events": params.events,
            "registry_size": params.registry_size,
            "custody_partitions": 3,
            "mix": {"protected": 0.05, "malformed": 0.01, "unprotected": 0.94},
            "worker_env": {
                "GUARD_METRICS_PORT": "0",
                "GUARD_LOG_LEVEL": "WARNING",
                "GUARD_BATCH_MAX": "500 (default)",
                "GUARD_BATCH_WITHIN": "0.05 (default)",
            },
            "clock": "worker launch → custody offsets of every event committed (same "
            "transaction as the decisions); pipe: launch → sink end offsets reach the count",
        },
        figures=figures,
        targets=[at_least("guard ÷ pipe", round(ratio, 3), TARGET_RATIO, "")],
        summary=[
            (
                "guard events/s (launch → last commit)",
                f"{fmt_rate(guard.rate(params.events))} ({guard.total_seconds:.1f} s)",
            ),
            (
                "pipe events/s (launch → last ack)",
                f"{fmt_rate(baseline.rate(params.events))} ({baseline.total_seconds:.1f} s)",
            ),
            ("guard ÷ pipe", f"{ratio:.3f}"),
            (
                "guard ÷ pipe after first output",
                "n/a (too short)" if steady_ratio is None else f"{steady_ratio:.3f}",
            ),
        ],
    )
