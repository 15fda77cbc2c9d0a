"""Every Prometheus metric the worker exports, declared in one place.

Label values come only from fixed vocabularies the guard defines (decision,
reason, protection basis, partition number): never from an event. That is
what keeps identifiers out of ``/metrics``; a test plants identifiers in
events and scans the exposition for them.

Each worker owns its own :class:`CollectorRegistry`, so tests can run
several and the process collectors are registered explicitly.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
)

# Decision latency is dominated by batching (GUARD_BATCH_WITHIN) and the
# transaction commit: milliseconds to seconds.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1, 2, 5, 10, 30, 60)

NO_BASIS = "none"
"""The ``basis`` label of a decision that matched no protection record."""


class GuardMetrics:
    """The worker's metrics. Attribute names follow the exported names."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        r = self.registry
        self.build_info = Info(
            "guard_build", "Version of the guard and of the policy it enforces.", registry=r
        )
        self.decisions = Counter(
            "guard_decisions_total",
            "Decisions committed, by outcome, reason and protection basis.",
            ["decision", "reason", "basis"],
            registry=r,
        )
        self.deadletters = Counter(
            "guard_deadletter_total",
            "Events written to the dead-letter topic, by reason.",
            ["reason"],
            registry=r,
        )
        self.decision_latency = Histogram(
            "guard_decision_latency_seconds",
            "From a batch received by the worker to its transaction committed.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.registry_update_latency = Histogram(
            "guard_registry_update_effective_seconds",
            "From a registry record's Kafka timestamp to the record applied to the index.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.registry_ready = Gauge(
            "guard_registry_ready",
            "1 when the registry is restored and caught up recently enough to publish.",
            registry=r,
        )
        self.registry_restored = Gauge(
            "guard_registry_restored",
            "1 once the registry has been restored since start-up.",
            registry=r,
        )
        self.registry_halted = Gauge(
            "guard_registry_halted",
            "1 when an undecodable registry record has halted the reader (operator action).",
            registry=r,
        )
        self.registry_active_records = Gauge(
            "guard_registry_active_records", "ACTIVE protection records in the index.", registry=r
        )
        self.registry_applied_records = Counter(
            "guard_registry_applied_records_total",
            "Registry records applied (including revocations and tombstones).",
            registry=r,
        )
        self.registry_lag = Gauge(
            "guard_registry_lag_records",
            "Registry end offset minus applied offset, per partition, at the last probe.",
            ["partition"],
            registry=r,
        )
        self.registry_last_caught_up = Gauge(
            "guard_registry_last_caught_up_timestamp_seconds",
            "Unix time at which the applied offsets last reached freshly read end offsets.",
            registry=r,
        )
        self.registry_caught_up_age = Gauge(
            "guard_registry_caught_up_age_seconds",
            "Seconds since the applied offsets last reached freshly read end offsets.",
            registry=r,
        )
        self.gate_waiting_events = Gauge(
            "guard_freshness_gate_waiting_events",
            "Custody events received but held by the freshness gate.",
            registry=r,
        )
        self.gate_oldest_wait = Gauge(
            "guard_freshness_gate_oldest_wait_seconds",
            "How long the oldest event held by the freshness gate has waited.",
            registry=r,
        )
        self.custody_lag = Gauge(
            "guard_custody_consumer_lag_records",
            "Custody partition high watermark minus the next offset to decide.",
            ["partition"],
            registry=r,
        )
        self.review_held_events = Gauge(
            "guard_review_held_events",
            "Events held for review and not yet released or confirmed (from the review topic).",
            registry=r,
        )
        self.review_oldest_held = Gauge(
            "guard_review_oldest_held_timestamp_seconds",
            "Unix time the oldest event still held was held; 0 when none is held.",
            registry=r,
        )
        self.retractions = Counter(
            "guard_retractions_total",
            "Published notices withdrawn because their subject became protected.",
            registry=r,
        )
        self.publications_indexed = Gauge(
            "guard_publications_indexed",
            "Live published notices this worker can withdraw (its custody partitions').",
            registry=r,
        )
        self.retractions_pending = Gauge(
            "guard_retractions_pending",
            "Published notices a protection now meets, not yet withdrawn.",
            registry=r,
        )
        # -- schema registry (issue 11) --
        self.schema_registry_waiting = Gauge(
            "guard_schema_registry_waiting_seconds",
            "How long a batch has waited on a schema registry that does not answer; 0 when none.",
            registry=r,
        )
        self.schema_cache_entries = Gauge(
            "guard_schema_cache_entries",
            "Writer schemas held in the bounded schema cache.",
            registry=r,
        )
        # Blinding-key rotation (issue 9): label values are the fixed roles, never key ids.
        self.registry_active_records_by_key = Gauge(
            "guard_registry_active_records_by_key",
            "ACTIVE records by the blinding key that made them: current or previous (rotation).",
            ["key"],
            registry=r,
        )
        self.published_while_not_ready = Counter(
            "guard_published_while_not_ready_total",
            "PUBLISH or REDACT decisions committed while not ready. Must stay 0.",
            registry=r,
        )
