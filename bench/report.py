"""Results files and the table in docs/BENCHMARKS.md.

Every scenario writes one JSON file, ``<results dir>/<scenario>.json``, with the
same top-level shape, so CI can check any of them without knowing the scenario:

``scenario`` (str), ``is_smoke`` (bool), ``started_at`` (ISO 8601 str),
``duration_seconds`` (float), ``parameters`` (object), ``machine`` (object, see
:func:`machine_facts`), ``figures`` (object of numbers, strings, lists or
objects) and ``targets`` (list of ``{"name", "target", "value", "is_met"}``) and ``summary``
(list of ``[figure, value]`` pairs, the rows of the docs table).

The table is rebuilt from whatever results files the directory holds, so a run
of one scenario (``--only``) keeps the others' rows.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from guard.devbroker.jars import KAFKA_VERSION

TABLE_START = "<!-- bench-table:start -->"
TABLE_END = "<!-- bench-table:end -->"

RESULT_KEYS: Mapping[str, type | tuple[type, ...]] = {
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
MACHINE_KEYS: Mapping[str, type | tuple[type, ...]] = {
    "cpu_count": int,
    "cpu_model": str,
    "python": str,
    "platform": str,
    "kafka_version": str,
    "load_average_before": list,
    "load_average_after": list,
}
TARGET_KEYS: Mapping[str, type | tuple[type, ...]] = {
    "name": str,
    "target": str,
    "value": (int, float),
    "is_met": bool,
}


@dataclass
class Target:
    """One of the issue's targets and what this run measured against it."""

    name: str
    target: str
    """How the issue states it, e.g. ``>= 40000 events/s``."""
    value: float
    is_met: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "target": self.target,
            "value": self.value,
            "is_met": self.is_met,
        }


def at_least(name: str, value: float, limit: float, unit: str) -> Target:
    return Target(name, f">= {limit:g} {unit}".rstrip(), value, value >= limit)


def at_most(name: str, value: float, limit: float, unit: str) -> Target:
    return Target(name, f"<= {limit:g} {unit}".rstrip(), value, value <= limit)


@dataclass
class ScenarioResult:
    """What one scenario run produced; written as one JSON file."""

    scenario: str
    is_smoke: bool
    parameters: dict[str, Any]
    figures: dict[str, Any] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)
    summary: list[tuple[str, str]] = field(default_factory=list)
    """(figure, value) pairs for the docs table, in display order."""


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_facts(load_before: list[float], load_after: list[float]) -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count() or 0,
        "cpu_model": cpu_model(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "kafka_version": KAFKA_VERSION,
        "load_average_before": load_before,
        "load_average_after": load_after,
    }


def write_result(
    directory: Path,
    result: ScenarioResult,
    *,
    started_at: datetime,
    duration: float,
    load_before: list[float],
) -> Path:
    document = {
        "scenario": result.scenario,
        "is_smoke": result.is_smoke,
        "started_at": started_at.isoformat(timespec="seconds"),
        "duration_seconds": round(duration, 3),
        "parameters": result.parameters,
        "machine": machine_facts(load_before, load_average()),
        "figures": result.figures,
        "targets": [target.as_json() for target in result.targets],
        "summary": [list(pair) for pair in result.summary],
    }
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{result.scenario}.json"
    path.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


def problems_with(document: Mapping[str, Any]) -> list[str]:
    """What is missing or mistyped in one results document (empty when well-formed)."""
    found = _type_problems(document, RESULT_KEYS, "")
    machine = document.get("machine")
    if isinstance(machine, Mapping):
        found += _type_problems(machine, MACHINE_KEYS, "machine.")
    targets = document.get("targets")
    if isinstance(targets, list):
        for n, target in enumerate(targets):
            if not isinstance(target, Mapping):
                found.append(f"targets[{n}]: not an object")
            else:
                found += _type_problems(target, TARGET_KEYS, f"targets[{n}].")
    return found


def _type_problems(
    document: Mapping[str, Any], keys: Mapping[str, type | tuple[type, ...]], prefix: str
) -> list[str]:
    found = []
    for key, kind in keys.items():
        if key not in document:
            found.append(f"{prefix}{key}: missing")
        elif isinstance(document[key], bool) and kind in (int, float, (int, float)):
            found.append(f"{prefix}{key}: a boolean where a number belongs")
        elif not isinstance(document[key], kind):
            found.append(f"{prefix}{key}: not {kind}")
    return found


def render_table(documents: Iterable[Mapping[str, Any]]) -> str:
    """The markdown table: one block of rows per scenario, then its targets."""
    lines = [
        "| scenario | figure | value | run |",
        "|---|---|---|---|",
    ]
    for document in documents:
        machine = document["machine"]
        run = (
            f"{document['started_at'][:10]}, {machine['cpu_count']} CPU, "
            f"load {machine['load_average_before'][0]:.1f}→{machine['load_average_after'][0]:.1f}"
            + (", smoke" if document["is_smoke"] else "")
        )
        rows = [(figure, value) for figure, value in document.get("summary", [])]
        for target in document["targets"]:
            verdict = "met" if target["is_met"] else "**missed**"
            rows.append((f"target: {target['name']} {target['target']}", verdict))
        for n, (figure, value) in enumerate(rows):
            name = f"**{document['scenario']}**" if n == 0 else ""
            lines.append(f"| {name} | {figure} | {value} | {run if n == 0 else ''} |")
    return "\n".join(lines)


def update_docs(docs: Path, results_dir: Path, order: Iterable[str]) -> bool:
    """Replace the table between the markers with one built from ``results_dir``.

    Returns False (and changes nothing) when the markers are missing.
    """
    text = docs.read_text(encoding="utf-8")
    if TABLE_START not in text or TABLE_END not in text:
        return False
    documents = []
    for scenario in order:
        path = results_dir / f"{scenario}.json"
        if path.exists():
            documents.append(json.loads(path.read_text(encoding="utf-8")))
    head, rest = text.split(TABLE_START, 1)
    _, tail = rest.split(TABLE_END, 1)
    table = render_table(documents) if documents else "(no results yet)"
    docs.write_text(f"{head}{TABLE_START}\n{table}\n{TABLE_END}{tail}", encoding="utf-8")
    return True


def now() -> tuple[datetime, float]:
    return datetime.now(UTC), time.monotonic()


def fmt_rate(value: float) -> str:
    return f"{value:,.0f}"


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"
