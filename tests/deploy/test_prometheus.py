"""deploy/prometheus: promtool's checks and unit tests, and the alerts held to the code.

promtool is the only thing that can say whether a rule parses and fires as
meant, so its absence fails the run (with the command that fixes it) rather
than skipping: a skipped alert test looks like a passed one. The pure-Python
tests catch what promtool cannot know: alerts on metric names the worker
does not export, a scrape job GuardDown does not select, a scrape target on
a port the worker does not listen on.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from metric_names import declared_metric_names, referenced_metric_names

from guard.config.settings import SETTINGS

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
ALERTS_FILE = PROMETHEUS_DIR / "alerts.yml"
CONFIG_FILE = PROMETHEUS_DIR / "prometheus.yml"
RULE_TESTS_DIR = PROMETHEUS_DIR / "tests"
SCRAPE_JOB = "disclosure-guard"

REQUIRED_ALERTS = {
    "GuardNotReady": "critical",
    "GuardRegistryHalted": "critical",
    "GuardFreshnessGateBacklog": "warning",
    "GuardDeadLetterRate": "warning",
    "GuardCustodyConsumerLag": "warning",
    "GuardDecisionLatencyHigh": "warning",
    "GuardPublishedWhileNotReady": "critical",
    "GuardDown": "critical",
    "GuardReviewQueueStale": "warning",
    "GuardReviewQueueGrowing": "warning",
    "GuardRetractionsStuck": "critical",
    "GuardCanaryPublished": "critical",
    "GuardCanaryLate": "warning",
    "GuardCanaryDown": "warning",
}
# The brief's minimum; the other alerts have promtool tests too, checked below.
MUST_HAVE_FIRING_AND_QUIET_TESTS = (
    "GuardNotReady",
    "GuardPublishedWhileNotReady",
    "GuardDeadLetterRate",
    "GuardFreshnessGateBacklog",
)
REQUIRED_ANNOTATIONS = ("summary", "description", "runbook")


def load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict):
        raise TypeError(f"{path.name} is not a YAML mapping")
    return data


def alert_rules() -> list[dict[str, Any]]:
    return [
        rule
        for group in load_yaml(ALERTS_FILE)["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]


def rule_test_files() -> list[Path]:
    return sorted(RULE_TESTS_DIR.glob("*.yml"))


# --- promtool -----------------------------------------------------------------


def run_promtool(*args: str) -> subprocess.CompletedProcess[str]:
    """Run promtool from the repository root; fail (not skip, not error) when it is missing."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail(
            "promtool is not on PATH; run scripts/install-promtool.sh (as root or with sudo) "
            "and run the tests again",
            pytrace=False,
        )
    return subprocess.run(
        [promtool, *args], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )


def assert_succeeded(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, (
        f"{' '.join(result.args[1:])} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    )


def test_promtool_accepts_the_alert_rules() -> None:
    result = run_promtool("check", "rules", str(ALERTS_FILE.relative_to(REPO)))
    assert_succeeded(result)
    assert f"SUCCESS: {len(alert_rules())} rules found" in result.stdout + result.stderr


def test_promtool_accepts_the_prometheus_config() -> None:
    # Also loads the rule files the config names, so a wrong path fails here.
    assert_succeeded(run_promtool("check", "config", str(CONFIG_FILE.relative_to(REPO))))


def test_promtool_rule_unit_tests_pass() -> None:
    files = rule_test_files()
    assert files, f"no promtool tests in {RULE_TESTS_DIR.relative_to(REPO)}"
    result = run_promtool("test", "rules", *(str(f.relative_to(REPO)) for f in files))
    assert_succeeded(result)
    # promtool prints one SUCCESS per test file: none may have been passed over.
    assert (result.stdout + result.stderr).count("SUCCESS") == len(files)


# --- the alerts, read as data -------------------------------------------------


def test_every_required_alert_exists_with_its_severity() -> None:
    severities = {rule["alert"]: rule.get("labels", {}).get("severity") for rule in alert_rules()}
    missing = sorted(set(REQUIRED_ALERTS) - set(severities))
    assert not missing, f"alerts.yml lacks {missing}"
    wrong = {
        name: severities[name]
        for name, severity in REQUIRED_ALERTS.items()
        if severities[name] != severity
    }
    assert not wrong, f"severity differs from {REQUIRED_ALERTS}: {wrong}"


def test_every_alert_has_a_severity_and_operator_annotations() -> None:
    for rule in alert_rules():
        assert rule.get("labels", {}).get("severity") in ("critical", "warning"), rule["alert"]
        annotations = rule.get("annotations", {})
        for key in REQUIRED_ANNOTATIONS:
            text = annotations.get(key, "")
            assert isinstance(text, str), f"{rule['alert']}: {key} is not text"
            assert len(text.split()) >= 5, f"{rule['alert']}: {key} is missing or a stub"


def test_published_while_not_ready_pages_without_delay() -> None:
    (rule,) = [r for r in alert_rules() if r["alert"] == "GuardPublishedWhileNotReady"]
    assert rule.get("for", "0m") in ("0m", "0s", "0")
    assert rule["labels"]["severity"] == "critical"


def test_every_metric_an_alert_uses_is_one_the_worker_declares() -> None:
    declared = declared_metric_names()
    for rule in alert_rules():
        used = referenced_metric_names([rule["expr"]])
        if rule["alert"] not in ("GuardDown", "GuardCanaryDown"):  # `up` is Prometheus's
            assert used, f"{rule['alert']}: no guard_* metric found in its expression"
        unknown = sorted(used - declared)
        assert not unknown, f"{rule['alert']} uses undeclared metrics {unknown}"


def test_every_metric_a_runbook_names_is_one_the_worker_declares() -> None:
    declared = declared_metric_names()
    for rule in alert_rules():
        unknown = sorted(referenced_metric_names(rule["annotations"].values()) - declared)
        assert not unknown, f"{rule['alert']} annotations name undeclared metrics {unknown}"


def test_alerts_fire_and_stay_quiet_in_promtool_tests() -> None:
    """Each alert has a test expecting it to fire and one expecting silence."""
    expectations: dict[str, dict[str, int]] = {}
    for path in rule_test_files():
        for group in load_yaml(path)["tests"]:
            for case in group.get("alert_rule_test", []):
                counts = expectations.setdefault(case["alertname"], {"firing": 0, "quiet": 0})
                counts["firing" if case.get("exp_alerts") else "quiet"] += 1
    for name in REQUIRED_ALERTS:
        counts = expectations.get(name, {"firing": 0, "quiet": 0})
        assert counts["firing"] and counts["quiet"], f"{name}: promtool tests {counts}"
    assert set(MUST_HAVE_FIRING_AND_QUIET_TESTS) <= set(expectations)


def test_promtool_tests_load_the_real_alerts_file() -> None:
    for path in rule_test_files():
        rule_files = [(path.parent / name).resolve() for name in load_yaml(path)["rule_files"]]
        assert rule_files == [ALERTS_FILE.resolve()], path.name


# --- the scrape config, held to the worker --------------------------------------


def scrape_job() -> dict[str, Any]:
    jobs: list[dict[str, Any]] = [
        job for job in load_yaml(CONFIG_FILE)["scrape_configs"] if job["job_name"] == SCRAPE_JOB
    ]
    assert len(jobs) == 1, f"prometheus.yml needs exactly one {SCRAPE_JOB!r} scrape job"
    return jobs[0]


def test_scrape_targets_the_worker_metrics_port() -> None:
    default_port = {s.env: s.default for s in SETTINGS}["GUARD_METRICS_PORT"]
    job = scrape_job()
    assert job.get("metrics_path", "/metrics") == "/metrics"
    targets = [t for config in job["static_configs"] for t in config["targets"]]
    assert targets == [f"guard:{default_port}"]


def test_guard_down_selects_the_scrape_job() -> None:
    (rule,) = [r for r in alert_rules() if r["alert"] == "GuardDown"]
    assert f'job="{scrape_job()["job_name"]}"' in rule["expr"]


def test_config_loads_the_alerts_file() -> None:
    rule_files = [
        (CONFIG_FILE.parent / name).resolve() for name in load_yaml(CONFIG_FILE)["rule_files"]
    ]
    assert rule_files == [ALERTS_FILE.resolve()]
