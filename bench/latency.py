"""Scenario ``latency``: produce → public notice at paced rates, and registry update → effective.

One worker (default settings; the freshness gate is always on) runs against a
registry of 10,000 records. This process then, for each offered rate:

* produces custody events on a fixed schedule (open loop: event *n* is due at
  ``start + n / rate``; a late producer sends what is due at once, and the
  latency is measured from the *scheduled* time, so a stall in the producer
  counts against the guard instead of hiding it);
* reads the public topic ``read_committed`` and notes when each notice is
  seen. A notice is matched to its event by its key: the bench computes each
  published event's ``subject_ref`` with the guard's own projection code, so
  nothing has to be decoded on the read side. Both clocks are this process's
  ``time.monotonic``.

Registry update → effective, during the 1,000/s stream: write one new
protection with ``guard registry import``'s writer (one transaction); as soon
as it is acknowledged (committed), produce an event about that person, and
measure ack → that event's DROP decision visible on the audit topic
(``read_committed``). The freshness gate guarantees the DROP; a PUBLISH would
be counted as ``published_after_protection`` (must be 0). The worker's own
histogram ``guard_registry_update_effective_seconds`` (record timestamp →
applied to the index) is scraped too.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition

from bench.kafka import (
    Deployment,
    WorkerProcess,
    bench_connection,
    deploy,
    with_metrics_port,
    write_registry_in_chunks,
)
from bench.report import ScenarioResult, at_most
from bench.workload import EventMix, Workload
from guard.codec.avro import codec_for
from guard.codec.errors import DecodeError
from guard.codec.schemas import SchemaName
from guard.decision.projection import subject_reference
from guard.decision.subject import subject_identity
from guard.identity.keys import subject_keys
from guard.kafka.clients import new_consumer, new_producer
from guard.registry.writer import write_registry
from guard.topic_metadata import partitions_of

NAME = "latency"
TARGET_P99_AT_1000 = 0.100
TARGET_UPDATE_P99 = 0.250


@dataclass(frozen=True)
class Parameters:
    rates: tuple[int, ...]
    seconds_per_rate: tuple[float, ...]
    registry_size: int
    updates: int
    drain_timeout: float
    seed: int = 1996

    @classmethod
    def for_run(cls, *, is_smoke: bool) -> Parameters:
        if is_smoke:
            return cls((1_000, 5_000), (2.0, 1.0), 1_000, 3, 30)
        return cls((1_000, 5_000), (30.0, 20.0), 10_000, 30, 120)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (no interpolation): an observed value, never a blend."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


class TopicWatch:
    """Follows one topic ``read_committed`` from its end, noting when records arrive."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._connection = bench_connection(bootstrap)
        self._consumer = new_consumer(
            self._connection,
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_committed",
            fetch_max_wait_ms=50,
        )
        self._topic = topic
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._consumer.start()
        partitions = await partitions_of(self._connection, self._topic)
        tps = [TopicPartition(self._topic, p) for p in sorted(partitions)]
        self._consumer.assign(tps)
        await self._consumer.seek_to_end(*tps)
        for tp in tps:  # resolve the lazy seek before anything is produced
            await self._consumer.position(tp)
        self._task = asyncio.create_task(self._follow())

    async def _follow(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=100)
            now = time.monotonic()
            for records in batches.values():
                for record in records:
                    self.seen(record.key, record.value, now)

    def seen(self, key: bytes | None, value: bytes | None, at: float) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._consumer.stop()


class PublicWatch(TopicWatch):
    """Notes the monotonic time each notice key is first seen."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        super().__init__(bootstrap, topic)
        self.first_seen: dict[bytes, float] = {}

    def seen(self, key: bytes | None, value: bytes | None, at: float) -> None:
        if key is not None:
            self.first_seen.setdefault(key, at)

    async def wait_for(self, keys: Iterable[bytes], timeout: float) -> None:
        """Until every key in ``keys`` has been seen (a condition, not a fixed sleep)."""
        wanted = set(keys)
        deadline = time.monotonic() + timeout
        while not wanted <= self.first_seen.keys():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(wanted - self.first_seen.keys())} notices never came")
            await asyncio.sleep(0.05)


class AuditWatch(TopicWatch):
    """Finds the audit record of given input positions and its decision."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        super().__init__(bootstrap, topic)
        self.wanted: dict[bytes, asyncio.Future[tuple[float, str]]] = {}
        self._decode = codec_for(SchemaName.GUARD_DECISION).decode

    def expect(self, position: bytes) -> asyncio.Future[tuple[float, str]]:
        future = self.wanted.get(position)
        if future is None:
            future = self.wanted[position] = asyncio.get_running_loop().create_future()
        return future

    def seen(self, key: bytes | None, value: bytes | None, at: float) -> None:
        future = self.wanted.get(key or b"")
        if future is None or future.done() or value is None:
            return
        try:
            decision = str(self._decode(value)["decision"])
        except DecodeError:
            decision = "undecodable"
        future.set_result((at, decision))


def expected_notice_key(deployment: Deployment, event: dict[str, Any]) -> bytes:
    """The public key the guard will give this event's notice (its subject_ref)."""
    subject = subject_keys(subject_identity(event["subject"]))
    return subject_reference(subject, event["event_id"], deployment.subject_ref_blinder).encode()


async def paced_stream(
    producer: AIOKafkaProducer,
    topic: str,
    events: list[tuple[bytes, bytes | None]],
    rate: int,
    scheduled: dict[bytes, float],
) -> float:
    """Send ``(payload, notice key)`` pairs on schedule; returns the producer's worst lag (s)."""
    start = time.monotonic() + 0.2
    worst_lag = 0.0
    n = 0
    while n < len(events):
        due = start + n / rate
        now = time.monotonic()
        if due > now:
            await asyncio.sleep(due - now)
            now = time.monotonic()
        worst_lag = max(worst_lag, now - due)
        # Everything due by now goes out in one burst.
        while n < len(events) and start + n / rate <= now:
            payload, key = events[n]
            if key is not None:
                scheduled[key] = start + n / rate
            await producer.send(topic, payload, key=b"lat-%d" % n)
            n += 1
    return worst_lag


async def registry_updates(
    deployment: Deployment,
    workload: Workload,
    producer: AIOKafkaProducer,
    audit: AuditWatch,
    count: int,
    every: float,
) -> dict[str, Any]:
    """Protect a new person, then at once produce an event about them; time ack → DROP."""
    config = deployment.config
    effective: list[float] = []
    write_seconds: list[float] = []
    decisions: dict[str, int] = {}
    for n in range(count):
        person = workload.person(is_protected=True)
        record = workload.protection_for(f"upd-{n:05d}", person)
        event = workload.protected_event(f"upd-evt-{n:05d}", person)
        payload = workload.encode(event)
        began = time.monotonic()
        await write_registry(config, [record])
        acked = time.monotonic()
        metadata = await (await producer.send(config.custody_topic, payload, key=b"upd"))
        position = f"{metadata.topic}/{metadata.partition}/{metadata.offset}".encode()
        seen, decision = await asyncio.wait_for(audit.expect(position), 60)
        write_seconds.append(acked - began)
        effective.append(seen - acked)
        decisions[decision] = decisions.get(decision, 0) + 1
        await asyncio.sleep(max(0.0, every - (time.monotonic() - began)))
    return {
        "updates": count,
        "ack_to_drop_visible_p50_ms": round(percentile(effective, 0.5) * 1000, 1),
        "ack_to_drop_visible_p99_ms": round(percentile(effective, 0.99) * 1000, 1),
        "ack_to_drop_visible_max_ms": round(max(effective) * 1000, 1),
        "registry_write_p50_ms": round(percentile(write_seconds, 0.5) * 1000, 1),
        "decisions": decisions,
        "published_after_protection": decisions.get("PUBLISH", 0) + decisions.get("REDACT", 0),
        "_p99_seconds": percentile(effective, 0.99),
    }


def histogram_quantiles(metrics_text: str, name: str) -> dict[str, Any]:
    """p50/p99 upper bounds from a Prometheus histogram's cumulative buckets."""
    buckets: list[tuple[float, float]] = []
    for line in metrics_text.splitlines():
        if line.startswith(f"{name}_bucket{{"):
            labels, value = line.rsplit(" ", 1)
            le = labels.split('le="', 1)[1].split('"', 1)[0]
            buckets.append((math.inf if le == "+Inf" else float(le), float(value)))
    buckets.sort()
    total = buckets[-1][1] if buckets else 0.0
    found: dict[str, Any] = {"count": int(total)}
    for label, share in (("p50_le_ms", 0.5), ("p99_le_ms", 0.99)):
        bound = next(
            (b for b, cumulative in buckets if total and cumulative >= share * total), None
        )
        found[label] = None if bound is None or math.isinf(bound) else round(bound * 1000, 1)
    return found


@dataclass
class Probes:
    """What one latency run talks to: the worker, a producer and the two watches."""

    deployment: Deployment
    worker: WorkerProcess
    producer: AIOKafkaProducer
    public: PublicWatch
    audit: AuditWatch


def paced_events(
    deployment: Deployment, workload: Workload, rate: int, count: int
) -> list[tuple[bytes, bytes | None]]:
    """``(payload, notice key or None)`` pairs drawn from the standard ``EventMix``."""
    events: list[tuple[bytes, bytes | None]] = []
    for n in range(count):
        payload, published = workload.mixed_event(f"r{rate}-{n:07d}", EventMix())
        key = expected_notice_key(deployment, published) if published is not None else None
        events.append((payload, key))
    return events


async def warm_up(probes: Probes, workload: Workload) -> None:
    """The first batches pay for the group join and first transactions; wait them out."""
    warm = paced_events(probes.deployment, workload, 0, 200)
    for payload, _ in warm:
        await probes.producer.send(probes.deployment.config.custody_topic, payload, key=b"warm")
    await probes.producer.flush()
    await probes.public.wait_for((k for _, k in warm if k is not None), timeout=120)


async def measure_rate(
    probes: Probes, events: list[tuple[bytes, bytes | None]], rate: int, drain_timeout: float
) -> dict[str, Any]:
    """Send ``events`` on schedule at ``rate``; latency from schedule to each notice seen."""
    scheduled: dict[bytes, float] = {}
    lag = await paced_stream(
        probes.producer, probes.deployment.config.custody_topic, events, rate, scheduled
    )
    await probes.producer.flush()
    deadline = time.monotonic() + drain_timeout
    while time.monotonic() < deadline and not scheduled.keys() <= probes.public.first_seen.keys():
        probes.worker.require_running()
        await asyncio.sleep(0.2)
    seen = probes.public.first_seen
    latencies = [seen[k] - due for k, due in scheduled.items() if k in seen]
    return {
        "offered_per_second": rate,
        "events": len(events),
        "notices_expected": len(scheduled),
        "notices_missing": len(scheduled) - len(latencies),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "p999_ms": round(percentile(latencies, 0.999) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1) if latencies else None,
        "producer_worst_lag_ms": round(lag * 1000, 1),
    }


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
    deployment = await deploy(bootstrap, workdir, NAME)
    config = deployment.config
    workload = Workload(params.seed, deployment.blinder)
    await write_registry_in_chunks(config, list(workload.registry(params.registry_size)))
    probes = Probes(
        deployment,
        with_metrics_port(deployment),
        new_producer(bench_connection(bootstrap), acks="all"),
        PublicWatch(bootstrap, config.public_topic),
        AuditWatch(bootstrap, config.audit_topic),
    )
    probes.worker.start()
    figures: dict[str, Any] = {}
    try:
        log(f"  worker ready after {await probes.worker.wait_ready(timeout=120):.1f} s")
        for client in (probes.producer, probes.public, probes.audit):
            await client.start()
        await warm_up(probes, workload)
        for rate, seconds in zip(params.rates, params.seconds_per_rate, strict=True):
            events = paced_events(deployment, workload, rate, int(rate * seconds))
            measured = measure_rate(probes, events, rate, params.drain_timeout)
            if rate == params.rates[0] and params.updates:
                every = seconds / params.updates
                entry, updates = await asyncio.gather(
                    measured,
                    registry_updates(
                        deployment, workload, probes.producer, probes.audit, params.updates, every
                    ),
                )
                figures["registry_update_to_effective"] = updates
            else:
                entry = await measured
            figures[f"produce_to_notice_at_{rate}"] = entry
            log(f"  {rate}/s: p50 {entry['p50_ms']} ms, p99 {entry['p99_ms']} ms")
        metrics = await asyncio.to_thread(probes.worker.http_text, "/metrics")
        for name in ("registry_update_effective", "decision_latency"):
            figures[f"worker_{name}_histogram"] = histogram_quantiles(
                metrics, f"guard_{name}_seconds"
            )
    finally:
        for client in (probes.public, probes.audit, probes.producer):
            await client.stop()
        probes.worker.stop(is_graceful=False)
    return _result(params, figures, is_smoke=is_smoke)


def _result(params: Parameters, figures: dict[str, Any], *, is_smoke: bool) -> ScenarioResult:
    targets = []
    summary = []
    updates = figures.get("registry_update_to_effective")
    if updates is not None:
        p99 = updates.pop("_p99_seconds")
        targets.append(
            at_most("registry update → effective p99", round(p99 * 1000, 1),
                    TARGET_UPDATE_P99 * 1000, "ms")
        )
        summary.append(
            (
                "registry update → DROP visible p50 / p99",
                f"{updates['ack_to_drop_visible_p50_ms']} / "
                f"{updates['ack_to_drop_visible_p99_ms']} ms",
            )
        )
    for rate in params.rates:
        entry = figures[f"produce_to_notice_at_{rate}"]
        summary.append(
            (
                f"produce → notice at {rate:,}/s p50 / p99 / p99.9",
                f"{entry['p50_ms']} / {entry['p99_ms']} / {entry['p999_ms']} ms",
            )
        )
        if rate == 1_000:
            targets.append(
                at_most("p99 at 1,000/s", entry["p99_ms"], TARGET_P99_AT_1000 * 1000, "ms")
            )
    return ScenarioResult(
        scenario=NAME,
        is_smoke=is_smoke,
        parameters={
            "rates_per_second": list(params.rates),
            "seconds_per_rate": list(params.seconds_per_rate),
            "registry_size": params.registry_size,
            "registry_updates": params.updates,
            "mix": asdict(EventMix()),
            "clock": "scheduled send time → notice first seen by a read_committed consumer "
            "(same process, time.monotonic)",
            "worker_env": {"GUARD_BATCH_MAX": "1000 (default)", "GUARD_BATCH_WITHIN": "0.05"},
        },
        figures=figures,
        targets=targets,
        summary=summary,
    )
