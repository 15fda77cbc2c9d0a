"""Scenario ``registry_scale``: restore time and peak memory of a worker per registry size.

For each size (0 as the baseline, then 100,000 and 1,000,000 records) a fresh
registry topic is written with ``guard registry import``'s writer
(``guard.cli.feed.write_registry``, 20,000 records per transaction). Then
``python -m guard worker`` is launched with its ops endpoints on a free port
and the clock runs from the launch until ``/readyz`` answers 200 (the
registry restored and caught up). Peak RSS is the worker's ``VmHWM`` from
``/proc/<pid>/status`` at that moment.

Restored records per second are computed over the restore alone: the ready
time at that size minus the ready time with an empty registry (Python and
Faust start-up, joining the group).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.kafka import deploy, with_metrics_port, write_registry_in_chunks
from bench.report import ScenarioResult, Target, at_most, fmt_rate
from bench.workload import Workload

NAME = "registry_scale"
TARGET_SECONDS_AT_1M = 30.0
TARGET_PEAK_RSS_MIB = 1024.0


@dataclass(frozen=True)
class Parameters:
    sizes: tuple[int, ...]
    ready_timeout: float
    heavy_keys_per_record: int = 10
    """A last run at the largest size with this many keys on every filler record."""
    seed: int = 8

    @classmethod
    def for_run(cls, *, is_smoke: bool) -> Parameters:
        if is_smoke:
            return cls(sizes=(0, 2_000, 10_000), ready_timeout=120)
        return cls(sizes=(0, 100_000, 1_000_000), ready_timeout=600)


async def measure(
    size: int,
    params: Parameters,
    bootstrap: str,
    workdir: Path,
    log: Callable[[str], None],
    keys_per_record: int | None = None,
) -> dict[str, Any]:
    deployment = await deploy(bootstrap, workdir, f"{NAME}-{size}")
    workload = Workload(params.seed, deployment.blinder, protected_pool=min(size, 2000))
    write_seconds = 0.0
    if size:
        log(f"  writing {size:,} registry records")
        write_seconds = await write_registry_in_chunks(
            deployment.config, list(workload.registry(size, keys_per_record=keys_per_record))
        )
    worker = with_metrics_port(deployment)
    worker.start()
    try:
        ready = await worker.wait_ready(params.ready_timeout)
        memory = worker.memory_kib()
    finally:
        worker.stop(is_graceful=False)
    log(f"  {size:,} records: ready after {ready:.1f} s, peak RSS {memory['VmHWM'] / 1024:.0f} MiB")
    return {
        "records": size,
        "registry_write_seconds": round(write_seconds, 1),
        "launch_to_ready_seconds": round(ready, 2),
        "peak_rss_mib": round(memory["VmHWM"] / 1024, 1),
        "rss_at_ready_mib": round(memory["VmRSS"] / 1024, 1),
        "mean_keys_per_record": keys_per_record or round(workload.mean_keys_per_record, 2),
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
    runs = [await measure(size, params, bootstrap, workdir, log) for size in params.sizes]
    runs.append(
        await measure(
            params.sizes[-1], params, bootstrap, workdir, log, params.heavy_keys_per_record
        )
    )
    baseline = runs[0]
    summary = []
    for entry in runs[1:]:
        restore = max(1e-3, entry["launch_to_ready_seconds"] - baseline["launch_to_ready_seconds"])
        entry["restore_seconds"] = round(restore, 2)
        entry["records_restored_per_second"] = round(entry["records"] / restore)
        entry["peak_rss_bytes_per_record_over_empty"] = round(
            (entry["peak_rss_mib"] - baseline["peak_rss_mib"]) * 1024 * 1024 / entry["records"]
        )
        summary.append(
            (
                f"{entry['records']:,} records x {entry['mean_keys_per_record']} keys: "
                "launch → ready, peak RSS",
                f"{entry['launch_to_ready_seconds']} s "
                f"({fmt_rate(entry['records_restored_per_second'])} records/s), "
                f"{entry['peak_rss_mib']:,.0f} MiB",
            )
        )
    summary.insert(
        0,
        (
            "empty registry: launch → ready, peak RSS",
            f"{baseline['launch_to_ready_seconds']} s, {baseline['peak_rss_mib']:,.0f} MiB",
        ),
    )
    largest = runs[-2]
    heavy = runs[-1]
    targets: list[Target] = [
        at_most(
            f"launch → ready at {largest['records']:,}",
            largest["launch_to_ready_seconds"],
            TARGET_SECONDS_AT_1M,
            "s",
        ),
        at_most(
            f"peak RSS at {largest['records']:,}",
            largest["peak_rss_mib"],
            TARGET_PEAK_RSS_MIB,
            "MiB",
        ),
        at_most(
            f"launch → ready at {heavy['records']:,} x {heavy['mean_keys_per_record']} keys",
            heavy["launch_to_ready_seconds"],
            TARGET_SECONDS_AT_1M,
            "s",
        ),
        at_most(
            f"peak RSS at {heavy['records']:,} x {heavy['mean_keys_per_record']} keys",
            heavy["peak_rss_mib"],
            TARGET_PEAK_RSS_MIB,
            "MiB",
        ),
    ]
    return ScenarioResult(
        scenario=NAME,
        is_smoke=is_smoke,
        parameters={
            "sizes": list(params.sizes),
            "heavy_keys_per_record": params.heavy_keys_per_record,
            "runs": "each size with filler key counts drawn like generated identities, then "
            "the largest size again with exactly heavy_keys_per_record keys per filler record",
            "registry_transaction_records": 20_000,
            "clock": "worker launch → /readyz 200; peak RSS = VmHWM at that moment",
        },
        figures={"runs": runs},
        targets=targets,
        summary=summary,
    )
