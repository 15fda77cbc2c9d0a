"""Scenario ``decision_core``: the whole per-event path, in process, on one core.

Runs ``guard.stream.decider.MessageDecider.decide`` (what the worker calls once
per custody message): Avro decode with its canonical re-encode check →
field reads → normalize → blind → registry look-up → policy → projection →
notice encode, plus the audit record (built and encoded) for every event and
the dead letter for rejects. No Kafka, no Faust, no asyncio.

The registry index is built directly with ``RegistryIndex.apply`` at each size.
The sizes are measured in interleaved rounds (10k, 100k, 1M, 10k, ...), and
each size's figure is the median of its rounds, so a burst of load from
another process on the machine hits every size alike instead of one.

A second pass times the stages separately (decode, engine, notice encode,
audit build + encode) and a third runs under cProfile: the profile of the
slowest stage in docs/BENCHMARKS.md comes from there.
"""

from __future__ import annotations

import contextlib
import cProfile
import gc
import io
import os
import pstats
import secrets
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.report import ScenarioResult, at_least, fmt_rate
from bench.workload import EventMix, Workload
from guard.codec.avro import codec_for
from guard.codec.errors import DecodeError
from guard.codec.schemas import SchemaName
from guard.decision.engine import DecisionEngine
from guard.identity.blind import Blinder, qualified_key_id
from guard.policy.model import default_policy
from guard.registry.index import RegistryIndex
from guard.stream.decider import BatchContext, InputMessage, MessageDecider, OutputTopics

NAME = "decision_core"
TARGET_RATE = 40_000.0
TARGET_FLATNESS = 0.9
"""1M ÷ 10k rate: "within 10%"."""


@dataclass(frozen=True)
class Parameters:
    sizes: tuple[int, ...]
    events: int
    rounds: int
    seed: int = 1367

    @classmethod
    def for_run(cls, *, is_smoke: bool) -> Parameters:
        if is_smoke:
            return cls(sizes=(1_000, 5_000), events=2_000, rounds=2)
        return cls(sizes=(10_000, 100_000, 1_000_000), events=100_000, rounds=3)


def pin_to_one_core() -> int | None:
    """Run on one CPU (the least busy is not knowable; the last one is as good as any)."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[-1]})
    return cpus[-1]


def build_decider(index: RegistryIndex, blinder: Blinder, subject_ref: Blinder) -> MessageDecider:
    """Wired as ``guard.stream.runner.assemble`` wires it, with the default (drop-all) policy."""
    topics = OutputTopics(
        "public.custody-notices", "guard.decisions", "guard.deadletter", "guard.review",
        "guard.publications", "public.custody-retractions",
    )  # fmt: skip
    return MessageDecider(DecisionEngine(blinder, subject_ref, index, default_policy()), topics)


def time_pass(decider: MessageDecider, messages: Sequence[InputMessage]) -> float:
    """Seconds to decide every message once (garbage collection left on, as in the worker)."""
    batch = BatchContext.now({0: 1_000_000})
    decide = decider.decide
    started = time.perf_counter()
    for message in messages:
        decide(message, batch)
    return time.perf_counter() - started


def outcome_mix(decider: MessageDecider, messages: Sequence[InputMessage]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    batch = BatchContext.now({0: 1})
    for message in messages:
        outcome = decider.decide(message, batch)
        counts[f"{outcome.decision.value}/{outcome.reason}"] += 1
    return dict(sorted(counts.items()))


def stage_times(
    decider: MessageDecider, engine: DecisionEngine, raw: Sequence[bytes]
) -> dict[str, float]:
    """Microseconds per event of each stage, timed one stage at a time over the same events."""
    custody = codec_for(SchemaName.CUSTODY_EVENT)
    notice_codec = codec_for(SchemaName.PUBLIC_NOTICE)
    decoded: list[dict[str, Any]] = []
    started = time.perf_counter()
    for value in raw:
        with contextlib.suppress(DecodeError):
            decoded.append(custody.decode(value))
    decode = time.perf_counter() - started
    started = time.perf_counter()
    verdicts = [engine.decide(event) for event in decoded]
    decide = time.perf_counter() - started
    notices = [v.notice for v in verdicts if v.notice is not None]
    started = time.perf_counter()
    for notice in notices:
        notice_codec.encode(notice)
    encode_notice = time.perf_counter() - started
    message = InputMessage("custody.status-changed", 0, 1, b"")
    batch = BatchContext.now({0: 1})
    started = time.perf_counter()
    for verdict in verdicts:
        decider.audit_record(message, verdict.decision, verdict.reason, batch, verdict)
    audit = time.perf_counter() - started
    per_event = 1e6 / len(raw)
    return {
        "decode_and_canonical_check": round(decode * per_event, 2),
        "engine_normalize_blind_match_decide_project": round(decide * per_event, 2),
        "notice_encode": round(encode_notice * per_event, 2),
        "audit_build_and_encode": round(audit * per_event, 2),
    }


def profile_text(decider: MessageDecider, messages: Sequence[InputMessage], limit: int = 30) -> str:
    profiler = cProfile.Profile()
    batch = BatchContext.now({0: 1})
    profiler.enable()
    for message in messages:
        decider.decide(message, batch)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(limit)
    return out.getvalue()


def run(*, is_smoke: bool, results_dir: Path, log: Callable[[str], None]) -> ScenarioResult:
    params = Parameters.for_run(is_smoke=is_smoke)
    cpu = pin_to_one_core()
    secret = secrets.token_bytes(32)
    blinder = Blinder(secret, qualified_key_id("k1", secret))
    subject_ref = Blinder(secrets.token_bytes(32), "subject-ref")
    workload = Workload(params.seed, blinder)
    raw = workload.events(params.events, EventMix())
    messages = [
        InputMessage("custody.status-changed", n % 3, n, value) for n, value in enumerate(raw)
    ]
    deciders: dict[int, MessageDecider] = {}
    build_seconds: dict[str, float] = {}
    for size in params.sizes:
        started = time.perf_counter()
        index = RegistryIndex()
        for record in workload.registry(size):
            index.apply(record.record_ref, record)
        build_seconds[str(size)] = round(time.perf_counter() - started, 2)
        deciders[size] = build_decider(index, blinder, subject_ref)
        log(f"  index of {size:,} records built in {build_seconds[str(size)]} s ({index!r})")
    gc.collect()
    for decider in deciders.values():  # warm caches, codecs and translate tables
        time_pass(decider, messages[: min(2_000, len(messages))])
    rounds: dict[int, list[float]] = {size: [] for size in params.sizes}
    for round_no in range(params.rounds):
        for size, decider in deciders.items():
            seconds = time_pass(decider, messages)
            rounds[size].append(len(messages) / seconds)
            log(f"  round {round_no + 1}, {size:,} records: {rounds[size][-1]:,.0f} events/s")
    rates = {size: statistics.median(values) for size, values in rounds.items()}
    smallest, largest = params.sizes[0], params.sizes[-1]
    flatness = rates[largest] / rates[smallest]
    largest_decider = deciders[largest]
    engine = largest_decider._engine
    stages = stage_times(largest_decider, engine, raw)
    profile = profile_text(largest_decider, messages[: min(20_000, len(messages))])
    profile_path = results_dir / f"{NAME}.profile.txt"
    results_dir.mkdir(parents=True, exist_ok=True)
    profile_path.write_text(profile, encoding="utf-8")
    figures: dict[str, Any] = {
        "events_per_second": {str(size): round(rate) for size, rate in rates.items()},
        "microseconds_per_event": {str(size): round(1e6 / rate, 2) for size, rate in rates.items()},
        "rounds_events_per_second": {
            str(size): [round(v) for v in values] for size, values in rounds.items()
        },
        "flatness_largest_over_smallest": round(flatness, 3),
        "stage_microseconds_per_event_at_largest": stages,
        "outcome_mix": outcome_mix(deciders[smallest], messages),
        "index_build_seconds": build_seconds,
        "mean_keys_per_registry_record": round(workload.mean_keys_per_record, 2),
        "profile_file": profile_path.name,
    }
    summary = [
        (f"events/s at {size:,} records", f"{fmt_rate(rate)} ({1e6 / rate:.1f} µs/event)")
        for size, rate in rates.items()
    ]
    summary.append((f"flatness {largest:,} ÷ {smallest:,}", f"{flatness:.3f}"))
    slowest = max(stages, key=lambda name: stages[name])
    summary.append(("slowest stage (µs/event)", f"{slowest}: {stages[slowest]}"))
    return ScenarioResult(
        scenario=NAME,
        is_smoke=is_smoke,
        parameters={
            "registry_sizes": list(params.sizes),
            "events": params.events,
            "rounds": params.rounds,
            "seed": params.seed,
            "mix": asdict(EventMix()),
            "pinned_cpu": cpu,
            "path": "guard.stream.decider.MessageDecider.decide (decode, engine, notice and "
            "audit encode, dead letter)",
        },
        figures=figures,
        targets=[
            at_least(f"events/s at {largest:,}", round(rates[largest]), TARGET_RATE, "events/s"),
            at_least("flatness", round(flatness, 3), TARGET_FLATNESS, "(1M ÷ 10k)"),
        ],
        summary=summary,
    )
