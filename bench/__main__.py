"""``python -m bench [--smoke] [--only SCENARIO] [--results-dir DIR] [--docs FILE]``.

Runs the scenarios in order against one real local broker (started only if a
scenario needs it), writes ``<results dir>/<scenario>.json`` for each, and
rebuilds the table in docs/BENCHMARKS.md from the results directory.

A smoke run (``--smoke``) uses tiny sizes, checks that everything runs and
writes well-formed files. The table in docs/BENCHMARKS.md is rebuilt only
for the default results directory (or the file given with ``--docs``), and a
smoke run refuses to write into the committed results
directory, so it can never overwrite the figures of a full run.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import decision_core, end_to_end, failover, latency, registry_scale, retraction
from bench.kafka import running_broker
from bench.report import ScenarioResult, load_average, now, update_docs, write_result

REPO = Path(__file__).resolve().parents[1]
DEFAULT_RESULTS = REPO / "bench" / "results"
DEFAULT_DOCS = REPO / "docs" / "BENCHMARKS.md"
SCENARIOS = (
    decision_core.NAME,
    end_to_end.NAME,
    latency.NAME,
    failover.NAME,
    registry_scale.NAME,
    retraction.NAME,
)
BROKER_SCENARIOS = frozenset(SCENARIOS) - {decision_core.NAME}


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes; checks the machinery")
    parser.add_argument("--only", choices=SCENARIOS, action="append", help="run only these")
    parser.add_argument("--results-dir", type=Path, default=None)
    parser.add_argument("--docs", type=Path, default=None, help="markdown file with the table")
    parser.add_argument(
        "--profile-worker",
        dest="is_worker_sampled",
        action="store_true",
        help="sample the end_to_end worker with py-spy (its rates are then not of record)",
    )
    arguments = parser.parse_args(argv)
    if arguments.results_dir is None:
        if arguments.smoke:
            parser.error("--smoke needs --results-dir (the default holds the full-run results)")
        arguments.results_dir = DEFAULT_RESULTS
    if arguments.smoke and arguments.results_dir.resolve() == DEFAULT_RESULTS.resolve():
        parser.error("a smoke run may not write into bench/results (full-run figures)")
    is_default_results = arguments.results_dir.resolve() == DEFAULT_RESULTS.resolve()
    if arguments.docs is None and is_default_results:
        arguments.docs = DEFAULT_DOCS
    return arguments


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    chosen = [name for name in SCENARIOS if not arguments.only or name in arguments.only]
    results_dir: Path = arguments.results_dir
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="guard-bench-") as scratch:
        workdir = Path(scratch)
        if decision_core.NAME in chosen:
            failures += _run_one(
                decision_core.NAME,
                lambda: decision_core.run(
                    is_smoke=arguments.smoke, results_dir=results_dir, log=log
                ),
                results_dir,
            )
        kafka_chosen = [name for name in chosen if name in BROKER_SCENARIOS]
        if kafka_chosen:
            log("starting a local Kafka broker")
            with running_broker(workdir / "kafka") as broker:
                for name in kafka_chosen:
                    module = {
                        end_to_end.NAME: end_to_end,
                        latency.NAME: latency,
                        failover.NAME: failover,
                        registry_scale.NAME: registry_scale,
                        retraction.NAME: retraction,
                    }[name]
                    extra = (
                        {"is_worker_sampled": True}
                        if name == end_to_end.NAME and arguments.is_worker_sampled
                        else {}
                    )
                    failures += _run_one(
                        name,
                        lambda module=module, extra=extra: asyncio.run(  # type: ignore[misc]
                            module.run(
                                is_smoke=arguments.smoke,
                                bootstrap=broker.bootstrap,
                                workdir=workdir,
                                log=log,
                                results_dir=results_dir,
                                **extra,
                            )
                        ),
                        results_dir,
                    )
    if arguments.docs is not None:
        if update_docs(arguments.docs, results_dir, SCENARIOS):
            log(f"table in {arguments.docs} rebuilt from {results_dir}")
        else:
            log(f"{arguments.docs} has no table markers; left unchanged")
    if failures:
        log("failed: " + ", ".join(failures))
        return 1
    return 0


def _run_one(name: str, body: Callable[[], ScenarioResult], results_dir: Path) -> list[str]:
    """Run one scenario and write its file; a failing scenario does not stop the others."""
    log(f"== {name}")
    started_at, started = now()
    load_before = load_average()
    try:
        result = body()
    except Exception:
        traceback.print_exc()
        return [name]
    path = write_result(
        results_dir,
        result,
        started_at=started_at,
        duration=time.monotonic() - started,
        load_before=load_before,
    )
    for figure, value in result.summary:
        log(f"  {figure}: {value}")
    log(f"  wrote {path} ({time.monotonic() - started:.1f} s)")
    return []


if __name__ == "__main__":
    sys.exit(main())
