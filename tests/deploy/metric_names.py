"""Which metric names the worker exports, and which ones a PromQL text uses.

Alerts and dashboards name metrics as strings that no type checker sees: a
renamed or misspelt metric makes an alert that can never fire and a panel
that shows "No data", both of which look like a quiet, healthy guard. The
deploy tests therefore hold every ``guard_*`` (and ``process_*``) name in
those files to the names :class:`GuardMetrics` actually registers.

Names come from the registry's metric families, not from their samples: a
labelled metric (``guard_decisions_total``) has no sample until its first
``labels(...)`` call, yet Prometheus will see it soon after start-up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from prometheus_client.metrics_core import Metric

from guard.canary.metrics import CanaryMetrics
from guard.ops.metrics import GuardMetrics

_SUFFIXES_BY_TYPE: dict[str, tuple[str, ...]] = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "summary": ("", "_sum", "_count", "_created"),
    "info": ("_info",),
    "stateset": ("",),
    "unknown": ("",),
}

# A metric name starts after anything that cannot be part of one, so that
# `some_guard_x` or a label value like "guard_x" inside a longer word is not
# mistaken for one. Only the prefixes the worker owns are checked: other
# names (up, ALERTS) come from Prometheus itself.
METRIC_NAME = re.compile(r"(?<![A-Za-z0-9_:])((?:guard|process)_[a-z0-9_]*[a-z0-9])")


def exposed_names(family: Metric) -> set[str]:
    """Every series name one metric family can expose, sampled yet or not."""
    names = {family.name + suffix for suffix in _SUFFIXES_BY_TYPE[family.type]}
    names.update(sample.name for sample in family.samples)
    return names


def declared_metric_names() -> frozenset[str]:
    """Series names a fresh worker's or canary's registry can expose."""
    names: set[str] = set()
    for metrics in (GuardMetrics(), CanaryMetrics()):
        for family in metrics.registry.collect():
            names |= exposed_names(family)
    return frozenset(names)


def referenced_metric_names(texts: Iterable[str]) -> set[str]:
    """``guard_*`` and ``process_*`` names that appear in PromQL or prose."""
    return {match for text in texts for match in METRIC_NAME.findall(text)}
