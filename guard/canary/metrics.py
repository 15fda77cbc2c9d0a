"""The canary's own metrics (it runs as its own process, with its own ``/metrics``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120)


class CanaryMetrics:
    """``guard_canary_*``; label values from fixed vocabularies only."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.sent = Counter("guard_canary_sent_total", "Canary custody events sent.", registry=r)
        self.decided = Counter(
            "guard_canary_decided_total",
            "Canary events the guard decided, by decision (DROP or HOLD expected).",
            ["decision"],
            registry=r,
        )
        self.late = Counter(
            "guard_canary_late_total",
            "Canary events not decided within the bound (counted once each).",
            registry=r,
        )
        self.published = Counter(
            "guard_canary_published_total",
            "Public notices about a canary person. Must stay 0: each is a possible disclosure.",
            registry=r,
        )
        self.decision_seconds = Histogram(
            "guard_canary_decision_seconds",
            "From a canary event sent to its audit record read.",
            buckets=_BUCKETS,
            registry=r,
        )
        self.last_decided = Gauge(
            "guard_canary_last_decided_timestamp_seconds",
            "Unix time of the last canary event decided DROP or HOLD.",
            registry=r,
        )

    def report(self, what: str, seconds: float | None) -> None:
        """The canary's :data:`~guard.canary.monitor.CanaryReport`."""
        if what == "sent":
            self.sent.inc()
        elif what == "late":
            self.late.inc()
        elif what == "published":
            self.published.inc()
        else:
            self.decided.labels(what).inc()
            if seconds is not None:
                self.decision_seconds.observe(seconds)
            if what in ("DROP", "HOLD"):
                self.last_decided.set_to_current_time()
