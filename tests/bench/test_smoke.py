"""``python -m bench --smoke`` runs every scenario and writes well-formed results files.

Checks shape only: the figures of a smoke run (tiny sizes, a shared CI
machine) say nothing about the targets, so no target is asserted here.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SMOKE_TIMEOUT_SECONDS = 600
SCENARIOS = ("decision_core", "end_to_end", "latency", "failover", "registry_scale", "retraction")
TABLE_START = "<!-- bench-table:start -->"
TABLE_END = "<!-- bench-table:end -->"

# The results format, written out here rather than imported from bench.report,
# so that a change to the format has to be made on purpose in both places.
Kind = type | tuple[type, ...]
RESULT_KEYS: dict[str, Kind] = {
    "scenario": str,
    "is_smoke": bool,
    "started_at": str,
    "duration_seconds": float,
    "parameters": dict,
    "machine": dict,
    "figures": dict,
    "targets": list,
    "summary": list,
}
MACHINE_KEYS: dict[str, Kind] = {
    "cpu_count": int,
    "cpu_model": str,
    "python": str,
    "platform": str,
    "kafka_version": str,
    "load_average_before": list,
    "load_average_after": list,
}
TARGET_KEYS: dict[str, Kind] = {"name": str, "target": str, "value": (int, float), "is_met": bool}


def problems_with(document: dict[str, Any]) -> list[str]:
    found = _type_problems(document, RESULT_KEYS, "")
    if isinstance(document.get("machine"), dict):
        found += _type_problems(document["machine"], MACHINE_KEYS, "machine.")
    for n, target in enumerate(document.get("targets") or []):
        found += _type_problems(target, TARGET_KEYS, f"targets[{n}].")
    return found


def _type_problems(document: dict[str, Any], keys: dict[str, Kind], prefix: str) -> list[str]:
    found = []
    for key, kind in keys.items():
        value = document.get(key)
        if key not in document:
            found.append(f"{prefix}{key}: missing")
        elif isinstance(value, bool) and kind is not bool:
            found.append(f"{prefix}{key}: a boolean")
        elif not isinstance(value, kind):
            found.append(f"{prefix}{key}: not {kind}")
    return found


def run_bench(
    *arguments: str, timeout: float = SMOKE_TIMEOUT_SECONDS
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *arguments],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """One smoke run for the module: its results directory, its docs copy, its stderr."""
    workdir = tmp_path_factory.mktemp("bench-smoke")
    results = workdir / "results"
    docs = workdir / "BENCHMARKS.md"
    shutil.copy(REPO / "docs" / "BENCHMARKS.md", docs)
    completed = run_bench("--smoke", "--results-dir", str(results), "--docs", str(docs))
    assert completed.returncode == 0, completed.stderr[-4000:]
    return results, docs, completed.stderr


def _load(results: Path, scenario: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((results / f"{scenario}.json").read_text())
    return document


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_each_scenario_writes_a_well_formed_results_file(
    smoke_run: tuple[Path, Path, str], scenario: str
) -> None:
    results, _, _ = smoke_run
    document = _load(results, scenario)
    assert problems_with(document) == []
    assert document["scenario"] == scenario
    assert document["is_smoke"] is True
    assert document["duration_seconds"] > 0
    assert document["machine"]["cpu_count"] >= 1
    assert len(document["machine"]["load_average_before"]) == 3
    assert document["targets"], "every scenario states its targets"
    for target in document["targets"]:
        assert math.isfinite(target["value"])


def test_decision_core_reports_rates_per_registry_size(smoke_run: tuple[Path, Path, str]) -> None:
    results, _, _ = smoke_run
    figures = _load(results, "decision_core")["figures"]
    sizes = _load(results, "decision_core")["parameters"]["registry_sizes"]
    assert sorted(figures["events_per_second"]) == sorted(str(size) for size in sizes)
    assert all(rate > 0 for rate in figures["events_per_second"].values())
    assert figures["flatness_largest_over_smallest"] > 0
    decisions = {outcome.split("/")[0] for outcome in figures["outcome_mix"]}
    assert {"PUBLISH", "DROP", "REJECT"} <= decisions, "the mix exercises every path"
    assert (results / figures["profile_file"]).read_text().strip()


def test_end_to_end_decides_every_event_exactly_once(smoke_run: tuple[Path, Path, str]) -> None:
    results, _, _ = smoke_run
    document = _load(results, "end_to_end")
    figures = document["figures"]
    assert figures["distinct_positions_decided"] == document["parameters"]["events"]
    assert figures["duplicate_decisions"] == 0
    assert figures["guard_over_pipe"] > 0


def test_latency_sees_every_notice_and_never_publishes_a_new_protection(
    smoke_run: tuple[Path, Path, str],
) -> None:
    results, _, _ = smoke_run
    figures = _load(results, "latency")["figures"]
    for rate in (1000, 5000):
        entry = figures[f"produce_to_notice_at_{rate}"]
        assert entry["notices_missing"] == 0
        assert 0 < entry["p50_ms"] <= entry["p99_ms"] <= entry["p999_ms"]
    updates = figures["registry_update_to_effective"]
    assert updates["published_after_protection"] == 0
    assert updates["decisions"] == {"DROP": updates["updates"]}


def test_registry_scale_measures_every_size(smoke_run: tuple[Path, Path, str]) -> None:
    results, _, _ = smoke_run
    document = _load(results, "registry_scale")
    runs = document["figures"]["runs"]
    sizes = document["parameters"]["sizes"]
    assert [run["records"] for run in runs] == [*sizes, sizes[-1]]
    assert runs[-1]["mean_keys_per_record"] == document["parameters"]["heavy_keys_per_record"]
    assert all(run["peak_rss_mib"] > 0 for run in runs)


def test_the_docs_table_is_rebuilt_from_the_results(smoke_run: tuple[Path, Path, str]) -> None:
    _, docs, _ = smoke_run
    text = docs.read_text()
    table = text.split(TABLE_START, 1)[1].split(TABLE_END, 1)[0]
    for scenario in SCENARIOS:
        assert f"**{scenario}**" in table
    assert "smoke" in table


def test_a_smoke_run_may_not_write_over_the_full_run_results() -> None:
    for arguments in (["--smoke"], ["--smoke", "--results-dir", "bench/results"]):
        completed = run_bench(*arguments, timeout=60)
        assert completed.returncode == 2, completed.stderr
        assert "smoke" in completed.stderr


def test_malformed_results_are_reported() -> None:
    """The checker above must be able to fail, or the smoke tests prove nothing."""
    assert "scenario: missing" in problems_with({})
    bad_target = {"name": "x", "target": ">= 1", "value": True, "is_met": "yes"}
    found = problems_with({"machine": {}, "targets": [bad_target]})
    assert "targets[0].value: a boolean" in found
    assert any(problem.startswith("targets[0].is_met") for problem in found)
    assert "machine.cpu_count: missing" in found
