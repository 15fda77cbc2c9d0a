"""``guard status``: ask a running worker how it is doing, print a small table.

Reads the worker's own endpoints (``/readyz`` and ``/metrics``), so it shows
exactly what Prometheus would scrape. Exit status 0 when ready, 1 when the
worker answers but is not ready, 2 (via CliError) when it does not answer.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

from guard.cli.errors import CliError

_TIMEOUT_SECONDS = 5.0
DECISIONS = ("PUBLISH", "DROP", "REDACT", "HOLD", "REJECT")


@dataclass
class WorkerStatus:
    is_ready: bool
    reason: str
    gauges: dict[str, float] = field(default_factory=dict)
    """Unlabelled gauge samples by name."""
    decisions: dict[str, float] = field(default_factory=dict)
    deadletters: dict[str, float] = field(default_factory=dict)
    registry_lag: dict[str, float] = field(default_factory=dict)
    custody_lag: dict[str, float] = field(default_factory=dict)
    blinding_keys: dict[str, object] = field(default_factory=dict)
    """The rotation state from ``/readyz`` (key ids and record counts: no secret)."""


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT_SECONDS) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")
    except (urllib.error.URLError, OSError) as error:
        raise CliError(f"no worker answers at {url} ({type(error).__name__})") from None


def parse_status(readyz_body: str, metrics_body: str) -> WorkerStatus:
    try:
        readiness = json.loads(readyz_body)
    except json.JSONDecodeError:
        raise CliError("the worker's /readyz answer is not JSON") from None
    status = WorkerStatus(bool(readiness.get("ready")), str(readiness.get("reason", "?")))
    keys = readiness.get("blinding_keys")
    status.blinding_keys = dict(keys) if isinstance(keys, dict) else {}
    decisions: dict[str, float] = defaultdict(float)
    for family in text_string_to_metric_families(metrics_body):
        for sample in family.samples:
            if sample.name == "guard_decisions_total":
                decisions[sample.labels["decision"]] += sample.value
            elif sample.name == "guard_deadletter_total":
                status.deadletters[sample.labels["reason"]] = sample.value
            elif sample.name == "guard_registry_lag_records":
                status.registry_lag[sample.labels["partition"]] = sample.value
            elif sample.name == "guard_custody_consumer_lag_records":
                status.custody_lag[sample.labels["partition"]] = sample.value
            elif sample.name.startswith("guard_") and not sample.labels:
                status.gauges[sample.name] = sample.value
    status.decisions = dict(decisions)
    return status


def render_status(status: WorkerStatus) -> str:
    g = status.gauges

    def yes_no(name: str) -> str:
        return "yes" if g.get(name, 0) >= 1 else "no"

    def by_partition(values: dict[str, float]) -> str:
        if not values:
            return "unknown"
        return ", ".join(
            f"p{p} {int(v)}" for p, v in sorted(values.items(), key=lambda i: int(i[0]))
        )

    readiness = "ready" if status.is_ready else f"NOT READY ({status.reason})"
    caught_up = g.get("guard_registry_caught_up_age_seconds")
    rows = [
        ("readiness", readiness),
        (
            "registry",
            f"{int(g.get('guard_registry_active_records', 0))} active records; "
            f"restored {yes_no('guard_registry_restored')}; "
            f"halted {yes_no('guard_registry_halted')}",
        ),
        ("registry lag", by_partition(status.registry_lag)),
        ("caught up", "never" if caught_up is None else f"{caught_up:.1f} s ago"),
        (
            "freshness gate",
            f"{int(g.get('guard_freshness_gate_waiting_events', 0))} events held, "
            f"oldest {g.get('guard_freshness_gate_oldest_wait_seconds', 0):.1f} s",
        ),
        ("decisions", "  ".join(f"{d} {int(status.decisions.get(d, 0))}" for d in DECISIONS)),
        ("review queue", _review_queue(g)),
        (
            "dead letters",
            ", ".join(f"{r} {int(v)}" for r, v in sorted(status.deadletters.items())) or "none",
        ),
        ("custody lag", by_partition(status.custody_lag)),
        ("published while not ready", str(int(g.get("guard_published_while_not_ready_total", 0)))),
        ("blinding keys", _blinding_keys(status.blinding_keys)),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def _review_queue(gauges: dict[str, float]) -> str:
    held = int(gauges.get("guard_review_held_events", 0))
    if not held:
        return "no events held"
    oldest = gauges.get("guard_review_oldest_held_timestamp_seconds", 0.0)
    since = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(oldest)) if oldest else "unknown"
    return f"{held} events held for review, oldest since {since}"


def _blinding_keys(keys: dict[str, object]) -> str:
    if not keys:
        return "unknown"
    current = f"{keys.get('current_key')} ({keys.get('current_key_records')} records)"
    if keys.get("previous_key") is None:
        return current
    return (
        f"{current}; previous {keys.get('previous_key')} "
        f"({keys.get('previous_key_records')} records): rotation {keys.get('state')}"
    )


def fetch_status(base_url: str) -> WorkerStatus:
    _, readyz = _get(f"{base_url}/readyz")
    code, metrics = _get(f"{base_url}/metrics")
    if code != 200:
        raise CliError(f"{base_url}/metrics answered {code}")
    return parse_status(readyz, metrics)
