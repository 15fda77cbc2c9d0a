"""Scenario ``retraction``: protection import → public tombstone, with a million notices out.

Two deployments on the same broker:

1. **baseline**: a worker on empty topics; its resident memory once ready
   and idle is the reference.
2. **loaded**: ``notices`` publication records are written first (what a
   worker would have written over months of publishing; random registry
   digests, 2 strong and 14 weak per notice as a dated event with one name
   has), spread over the custody partitions. A worker is launched and the
   clock runs until ``guard_publications_indexed`` reaches that count (the
   index load). Its memory minus the baseline's, over the count, is the
   index's cost per notice.

   Then ``people`` unprotected people each get one custody event through
   the worker (so their notices are real), and one by one a protection is
   imported for each (``guard registry import``'s writer): the time from
   that write returning to the tombstone of the person's ``subject_ref``
   being readable ``read_committed`` on the public topic is one sample.
"""

from __future__ import annotations

import asyncio
import random
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.kafka import Deployment, WorkerProcess, bench_connection, deploy, with_metrics_port
from bench.latency import PublicWatch, expected_notice_key, percentile
from bench.report import ScenarioResult, Target, at_most
from bench.workload import Workload
from guard.kafka.clients import new_producer
from guard.registry.writer import write_registry
from guard.retraction.index import PublicationIndex
from guard.retraction.model import Publication, encode_publication
from guard.upstream import send_custody

NAME = "retraction"
TARGET_P99_SECONDS = 5.0
STRONG_KEYS_PER_NOTICE = 2
WEAK_KEYS_PER_NOTICE = 14
CUSTODY_PARTITIONS = 3


@dataclass(frozen=True)
class Parameters:
    notices: int
    people: int
    index_timeout: float
    seed: int = 10

    @classmethod
    def for_run(cls, *, is_smoke: bool) -> Parameters:
        if is_smoke:
            return cls(notices=20_000, people=5, index_timeout=300)
        return cls(notices=1_000_000, people=100, index_timeout=1200)


class TombstoneWatch(PublicWatch):
    """Notes when each key's first tombstone is read."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        super().__init__(bootstrap, topic)
        self.tombstoned: dict[bytes, float] = {}

    def seen(self, key: bytes | None, value: bytes | None, at: float) -> None:
        super().seen(key, value, at)
        if key is not None and value is None:
            self.tombstoned.setdefault(key, at)

    async def wait_for_tombstone(self, key: bytes, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while key not in self.tombstoned:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no tombstone within {timeout:.0f} s")
            await asyncio.sleep(0.01)
        return self.tombstoned[key]


def synthetic_publication(
    rng: random.Random, n: int, custody_topic: str, now: datetime
) -> Publication:
    """The n-th made-up notice: random references and digests, realistic key counts."""
    partition = n % CUSTODY_PARTITIONS
    return Publication(
        notice_id=rng.randbytes(32).hex(), subject_ref=rng.randbytes(32).hex(),
        is_redacted=False, input_topic=custody_topic,
        input_partition=partition, input_offset=n // CUSTODY_PARTITIONS,
        blinded_keys=tuple(rng.randbytes(32) for _ in range(STRONG_KEYS_PER_NOTICE)),
        published_at=now,
        weak_keys=tuple(rng.randbytes(32) for _ in range(WEAK_KEYS_PER_NOTICE)),
    )  # fmt: skip


def index_bytes_per_notice(count: int, seed: int) -> float:
    """What :class:`PublicationIndex` itself allocates per notice (tracemalloc), apart from
    the worker around it."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    tracemalloc.start()
    try:
        index = PublicationIndex()
        for n in range(count):  # each publication is garbage once added: only the index stays
            index.add(synthetic_publication(rng, n, "custody", now))
        allocated, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return allocated / count


async def write_publications(deployment: Deployment, count: int, seed: int) -> float:
    """``count`` synthetic publication records, keyed and partitioned as the worker writes
    them; returns the seconds taken."""
    rng = random.Random(seed)
    topic = deployment.config.publications_topic
    producer = new_producer(
        bench_connection(deployment.bootstrap), acks="all", linger_ms=20,
        max_batch_size=512 * 1024,
    )  # fmt: skip
    await producer.start()
    started = time.monotonic()
    now = datetime.now(UTC)
    try:
        pending = []
        for n in range(count):
            publication = synthetic_publication(rng, n, deployment.config.custody_topic, now)
            value, key = encode_publication(publication), publication.notice_id.encode()
            partition = publication.input_partition
            pending.append(await producer.send(topic, value, key=key, partition=partition))
            if len(pending) >= 10_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.monotonic() - started


def indexed(worker: WorkerProcess) -> float:
    """``guard_publications_indexed`` now (0 while the ops endpoint is not up yet)."""
    try:
        text = worker.http_text("/metrics")
    except OSError:
        return 0.0
    for line in text.splitlines():
        if line.startswith("guard_publications_indexed "):
            return float(line.split()[1])
    return 0.0


async def wait_indexed(worker: WorkerProcess, count: int, timeout: float) -> float:
    """Seconds from launch until the worker holds ``count`` publications in its index."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        worker.require_running()
        if await asyncio.to_thread(indexed, worker) >= count:
            return time.monotonic() - worker.started_at
        await asyncio.sleep(0.25)
    raise TimeoutError(f"fewer than {count:,} publications indexed after {timeout:.0f} s")


async def baseline_rss_mib(bootstrap: str, workdir: Path, params: Parameters) -> float:
    deployment = await deploy(
        bootstrap, workdir, f"{NAME}-empty", custody_partitions=CUSTODY_PARTITIONS
    )
    worker = with_metrics_port(deployment)
    worker.start()
    try:
        await worker.wait_ready(params.index_timeout)
        await wait_indexed(worker, 0, params.index_timeout)
        await asyncio.sleep(2)  # let start-up garbage settle, as the loaded run does
        return worker.memory_kib()["VmRSS"] / 1024
    finally:
        worker.stop(is_graceful=False)


async def withdrawal_seconds(
    deployment: Deployment, params: Parameters, log: Callable[[str], None]
) -> list[float]:
    """One sample per person: protection written → its tombstone read."""
    workload = Workload(params.seed, deployment.blinder, protected_pool=0)
    drawn = [workload.unprotected_person_event(f"probe-{n}") for n in range(params.people)]
    people = [person for person, _ in drawn]
    events = [event for _, event in drawn]
    keys = [expected_notice_key(deployment, event) for event in events]
    watch = TombstoneWatch(deployment.bootstrap, deployment.config.public_topic)
    await watch.start()
    try:
        await send_custody(deployment.config, [workload.encode(e) for e in events])
        await watch.wait_for(keys, timeout=120)
        log(f"  {len(keys)} probe notices published; protecting them one by one")
        samples = []
        for n, (key, person) in enumerate(zip(keys, people, strict=True)):
            record = workload.protection_for(f"probe-rec-{n}", person)
            await write_registry(deployment.config, [record])
            written = time.monotonic()
            samples.append(await watch.wait_for_tombstone(key, timeout=60) - written)
        return samples
    finally:
        await watch.stop()


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
    in_process = index_bytes_per_notice(params.notices, params.seed)
    log(f"  the index alone: {in_process:.0f} B per notice (tracemalloc)")
    baseline = await baseline_rss_mib(bootstrap, workdir, params)
    log(f"  baseline worker: {baseline:.0f} MiB resident")
    deployment = await deploy(bootstrap, workdir, NAME, custody_partitions=CUSTODY_PARTITIONS)
    log(f"  writing {params.notices:,} publication records")
    write_seconds = await write_publications(deployment, params.notices, params.seed)
    worker = with_metrics_port(deployment)
    worker.start()
    try:
        load_seconds = await wait_indexed(worker, params.notices, params.index_timeout)
        await asyncio.sleep(2)
        loaded = worker.memory_kib()
        log(f"  {params.notices:,} indexed {load_seconds:.1f} s after launch")
        samples = await withdrawal_seconds(deployment, params, log)
    finally:
        worker.stop(is_graceful=False)
    rss = loaded["VmRSS"] / 1024
    per_notice = (rss - baseline) * 1024 * 1024 / params.notices
    p50, p99 = percentile(samples, 0.50), percentile(samples, 0.99)
    figures = {
        "notices_published_before": params.notices,
        "publications_write_seconds": round(write_seconds, 1),
        "launch_to_indexed_seconds": round(load_seconds, 1),
        "baseline_rss_mib": round(baseline, 1),
        "rss_with_index_mib": round(rss, 1),
        "peak_rss_mib": round(loaded["VmHWM"] / 1024, 1),
        "index_bytes_per_notice": round(per_notice),
        "index_alone_bytes_per_notice": round(in_process),
        "withdrawals": len(samples),
        "import_to_tombstone_p50_seconds": round(p50, 3),
        "import_to_tombstone_p99_seconds": round(p99, 3),
        "import_to_tombstone_max_seconds": round(max(samples), 3),
    }
    name = f"import → tombstone p99 with {params.notices:,} notices out"
    targets: list[Target] = [at_most(name, p99, TARGET_P99_SECONDS, "s")]
    summary = [
        (f"import → public tombstone, {params.notices:,} notices out (p50 / p99)",
         f"{p50:.2f} s / {p99:.2f} s over {len(samples)} withdrawals"),
        ("publication index: memory per notice (worker RSS over an idle one; the index alone)",
         f"{per_notice:,.0f} B ({rss:,.0f} MiB vs {baseline:,.0f} MiB); {in_process:,.0f} B"),
        (f"publication index: launch → {params.notices:,} indexed",
         f"{load_seconds:.1f} s"),
    ]  # fmt: skip
    return ScenarioResult(
        scenario=NAME,
        is_smoke=is_smoke,
        parameters={
            "notices": params.notices,
            "people": params.people,
            "keys_per_notice": f"{STRONG_KEYS_PER_NOTICE} strong + {WEAK_KEYS_PER_NOTICE} weak",
            "custody_partitions": CUSTODY_PARTITIONS,
            "clock": "write_registry returned → tombstone read read_committed on the public "
            "topic; one protection at a time",
        },
        figures=figures,
        targets=targets,
        summary=summary,
    )
