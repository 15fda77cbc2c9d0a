"""deploy/grafana: the dashboard and its provisioning, read as data.

No Grafana runs in the test suite, so the dashboard is held to what Grafana
and the worker need: JSON that loads, panel ids that are unique (Grafana
silently drops or mixes up panels otherwise), panels that do not overlap,
every query on the provisioned Prometheus datasource, every metric one the
worker declares, and every metric an operator needs on screen.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from metric_names import declared_metric_names, referenced_metric_names

REPO = Path(__file__).resolve().parents[2]
GRAFANA_DIR = REPO / "deploy" / "grafana"
DASHBOARD_FILE = GRAFANA_DIR / "dashboards" / "disclosure-guard.json"
DATASOURCES_DIR = GRAFANA_DIR / "provisioning" / "datasources"
PROVIDERS_DIR = GRAFANA_DIR / "provisioning" / "dashboards"
PROMETHEUS_CONFIG = REPO / "deploy" / "prometheus" / "prometheus.yml"

DATASOURCE_VARIABLE = "DS_PROMETHEUS"
GRID_COLUMNS = 24

# What an operator must be able to see, by the metric that shows it.
REQUIRED_METRICS = (
    "guard_registry_ready",
    "guard_registry_halted",
    "guard_decisions_total",
    "guard_deadletter_total",
    "guard_registry_active_records",
    "guard_registry_lag_records",
    "guard_registry_caught_up_age_seconds",
    "guard_freshness_gate_waiting_events",
    "guard_freshness_gate_oldest_wait_seconds",
    "guard_decision_latency_seconds_bucket",
    "guard_custody_consumer_lag_records",
    "guard_published_while_not_ready_total",
)


def load_dashboard() -> dict[str, Any]:
    data = json.loads(DASHBOARD_FILE.read_text())
    if not isinstance(data, dict):
        raise TypeError("the dashboard is not a JSON object")
    return data


def all_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every panel, including those folded inside rows."""
    for panel in panels:
        yield panel
        yield from all_panels(panel.get("panels", []))


def panel_exprs(panel: dict[str, Any]) -> list[str]:
    return [target["expr"] for target in panel.get("targets", []) if "expr" in target]


def every_query(dashboard: dict[str, Any]) -> list[str]:
    """PromQL of panels, annotations and template variables."""
    queries = [expr for panel in all_panels(dashboard["panels"]) for expr in panel_exprs(panel)]
    queries += [a["expr"] for a in dashboard["annotations"]["list"] if "expr" in a]
    for variable in dashboard["templating"]["list"]:
        query = variable.get("query")
        if variable["type"] == "query":
            queries.append(query["query"] if isinstance(query, dict) else query)
    return queries


def provisioned(directory: Path, key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.y*ml")):
        data = yaml.safe_load(path.read_text())
        assert data.get("apiVersion") == 1, path.name
        items += data[key]
    return items


def test_dashboard_identity() -> None:
    dashboard = load_dashboard()
    assert dashboard["uid"] == "disclosure-guard"
    assert 36 <= dashboard["schemaVersion"] <= 41
    assert dashboard["title"]


def test_panel_ids_are_unique_integers() -> None:
    ids = [panel["id"] for panel in all_panels(load_dashboard()["panels"])]
    assert all(isinstance(i, int) for i in ids), ids
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"panel ids used more than once: {duplicates}"


def test_panels_fit_the_grid_without_overlapping() -> None:
    cells: dict[tuple[int, int], str] = {}
    for panel in all_panels(load_dashboard()["panels"]):
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["w"] > 0 and grid["h"] > 0, panel["title"]
        assert grid["x"] + grid["w"] <= GRID_COLUMNS, f"{panel['title']} is wider than the grid"
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                other = cells.setdefault((x, y), panel["title"])
                assert other == panel["title"], f"{panel['title']!r} overlaps {other!r}"


def test_every_metric_the_dashboard_queries_is_declared() -> None:
    used = referenced_metric_names(every_query(load_dashboard()))
    assert used, "no guard_* metric found in the dashboard's queries"
    unknown = sorted(used - declared_metric_names())
    assert not unknown, f"the dashboard queries undeclared metrics {unknown}"


def test_every_metric_an_operator_needs_has_a_panel() -> None:
    shown = referenced_metric_names(
        expr for panel in all_panels(load_dashboard()["panels"]) for expr in panel_exprs(panel)
    )
    missing = [name for name in REQUIRED_METRICS if name not in shown]
    assert not missing, f"no panel shows {missing}"


def test_published_while_not_ready_turns_red_at_one() -> None:
    panels = [
        panel
        for panel in all_panels(load_dashboard()["panels"])
        if "guard_published_while_not_ready_total" in referenced_metric_names(panel_exprs(panel))
    ]
    assert any(panel["type"] == "stat" for panel in panels), "needs a stat panel"
    for panel in panels:
        steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
        assert steps[0]["color"] == "green", panel["title"]
        red = [step["value"] for step in steps if step["color"] == "red"]
        assert red and 0 < min(red) <= 1, f"{panel['title']}: red threshold {red}"


def test_every_query_uses_the_datasource_variable() -> None:
    dashboard = load_dashboard()
    expected = {"type": "prometheus", "uid": f"${{{DATASOURCE_VARIABLE}}}"}
    for panel in all_panels(dashboard["panels"]):
        assert panel["datasource"] == expected, panel["title"]
        for target in panel.get("targets", []):
            assert target.get("datasource", expected) == expected, panel["title"]
    for annotation in dashboard["annotations"]["list"]:
        if "expr" in annotation:
            assert annotation["datasource"] == expected, annotation["name"]


def test_datasource_variable_defaults_to_the_provisioned_prometheus() -> None:
    variables = {v["name"]: v for v in load_dashboard()["templating"]["list"]}
    variable = variables[DATASOURCE_VARIABLE]
    assert variable["type"] == "datasource"
    assert variable["query"] == "prometheus"
    datasources = {ds["uid"]: ds for ds in provisioned(DATASOURCES_DIR, "datasources")}
    default = variable["current"]["value"]
    assert default in datasources, f"{default!r} is not a provisioned datasource uid"
    assert datasources[default]["type"] == "prometheus"


def test_queries_select_the_prometheus_scrape_job() -> None:
    scrape_jobs = {
        job["job_name"] for job in yaml.safe_load(PROMETHEUS_CONFIG.read_text())["scrape_configs"]
    }
    jobs_in_queries = set()
    for query in every_query(load_dashboard()):
        jobs_in_queries |= set(re.findall(r'\bjob="([^"]*)"', query))
    assert jobs_in_queries, "no query selects a job"
    assert jobs_in_queries <= scrape_jobs, f"{jobs_in_queries - scrape_jobs} are not scraped"


def test_dashboard_provider_loads_files_and_refuses_ui_edits() -> None:
    (provider,) = provisioned(PROVIDERS_DIR, "providers")
    assert provider["type"] == "file"
    assert provider["options"]["path"].startswith("/")
    assert provider["allowUiUpdates"] is False
