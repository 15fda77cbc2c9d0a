"""What ops teams see on the real broker: metrics without PII, readiness tracking the registry."""

from __future__ import annotations

import json
import subprocess
import sys

from prometheus_client.parser import text_string_to_metric_families
from stream_harness import GuardHarness, custody_event, protection

from guard.devbroker.broker import LocalKafkaBroker

PLANTED = ("A-246-813-579", "246813579", "Zenobia", "Quillfeather", "1981-04-05", "CASE-NOTE",
           "Krome", "Miami")


def _samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


async def test_metrics_count_decisions_and_carry_no_identifier(guard: GuardHarness) -> None:
    await guard.protect(protection(
        "rec-metrics", a_numbers=["A-246-813-579"],
        names=[{"given_name": "Zenobia", "family_name": "Quillfeather"}],
        date_of_birth="1981-04-05"))
    guard.start_worker()
    await guard.send(
        custody_event("m-1", a_number="A-246-813-579", given_name="Zenobia",
                      family_name="Quillfeather", date_of_birth="1981-04-05"),
        custody_event("m-2", a_number="A-555-000-111", given_name="Zenobia",
                      family_name="Quillfeather", date_of_birth="1970-02-03"),
        custody_event("m-3", a_number="A-12", given_name="Zenobia", family_name="Quillfeather"),
    )
    await guard.send_raw(guard.topics.custody, b"\x02 Zenobia Quillfeather 246813579")
    await guard.decisions(at_least=4)

    body = await guard.wait_for_status("/metrics", 200)
    for planted in PLANTED:
        assert planted not in body, planted
    samples = _samples(body)
    decisions = {labels: v for (name, labels), v in samples.items()
                 if name == "guard_decisions_total"}
    assert decisions == {
        (("basis", "U_VISA"), ("decision", "DROP"), ("reason", "protected")): 1.0,
        (("basis", "none"), ("decision", "PUBLISH"), ("reason", "no_match")): 1.0,
        # Refused for its A-number, yet its undated name meets the protected person
        # weakly: the basis is counted, as the audit and dead-letter headers say.
        (("basis", "U_VISA"), ("decision", "REJECT"), ("reason", "invalid_a_number")): 1.0,
        (("basis", "none"), ("decision", "REJECT"), ("reason", "undecodable")): 1.0,
    }
    assert samples[("guard_registry_ready", ())] == 1.0
    assert samples[("guard_registry_active_records", ())] == 1.0
    assert samples[("guard_published_while_not_ready_total", ())] == 0.0
    assert samples[("guard_decision_latency_seconds_count", ())] >= 1
    assert samples[("guard_deadletter_total", (("reason", "undecodable"),))] == 1.0

    # guard status reads the same endpoints and says the worker is ready.
    status = subprocess.run(
        [sys.executable, "-m", "guard", "status", "--url", guard.ops_url],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert status.returncode == 0, status.stderr
    assert "readiness" in status.stdout and "ready" in status.stdout
    assert "PUBLISH 1  DROP 1  REDACT 0  HOLD 0  REJECT 2" in status.stdout
    assert "no events held" in status.stdout


async def test_json_logs_are_one_object_a_line_and_free_of_identifiers(
    guard: GuardHarness,
) -> None:
    await guard.protect(protection("rec-json", a_numbers=["A-246-813-579"]))
    guard.start_worker(GUARD_LOG_FORMAT="json")
    await guard.send(custody_event("j-1", a_number="A-246-813-579", given_name="Zenobia",
                                   family_name="Quillfeather", date_of_birth="1981-04-05"))
    await guard.send_raw(guard.topics.custody, b"\x02 Zenobia Quillfeather 246813579")
    await guard.decisions(at_least=2)
    guard.stop_worker()

    entries = [json.loads(line) for line in guard.stderr_text().splitlines() if line.strip()]
    # The decision line names the event by its keyed reference, never by its upstream id.
    reference = guard.event_ref("j-1")[:16]
    prefix = f"event {reference} at "
    assert any(e["message"].startswith(prefix) and " decided DROP " in e["message"]
               for e in entries)
    assert {"ts", "level", "logger", "message"} <= set(entries[0])
    text = guard.stderr_text()
    for planted in PLANTED:
        assert planted not in text, planted


async def test_readiness_turns_503_when_the_registry_is_unreachable_and_recovers(
    guard_on_private_broker: tuple[GuardHarness, LocalKafkaBroker],
) -> None:
    guard, broker = guard_on_private_broker
    guard.start_worker(GUARD_REGISTRY_STALE_AFTER="3")
    await guard.wait_for_status("/readyz", 200)
    assert (await guard.wait_for_status("/healthz", 200)) == '{"alive": true}\n'
    # Readiness speaks of the registry only: wait until the group has given the
    # worker its partitions too (one decision), or the outage would fall into
    # its first join (a join without the topic's metadata gets no partitions).
    await guard.send(custody_event("before-outage", a_number="A-321-000-124"))
    await guard.decisions(at_least=1)

    broker.stop()
    body = await guard.wait_for_status("/readyz", 503)
    assert '"reason": "registry_stale"' in body
    assert guard.http_get("/healthz")[0] == 200  # alive, just not ready

    broker.start()
    await guard.wait_for_status("/readyz", 200, timeout=180)
    # And it still decides after the outage.
    await guard.send(custody_event("after-outage", a_number="A-321-000-123"))
    decided = {d["event_id"]: d for d in await guard.decisions(at_least=2)}
    assert decided["after-outage"]["decision"] == "PUBLISH"
