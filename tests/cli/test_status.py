"""``guard status`` rendering from a worker's /readyz and /metrics answers."""

from __future__ import annotations

import pytest

from guard.cli.errors import CliError
from guard.cli.status import parse_status, render_status

METRICS = """\
# TYPE guard_decisions_total counter
guard_decisions_total{basis="U_VISA",decision="DROP",reason="protected"} 3.0
guard_decisions_total{basis="T_VISA",decision="DROP",reason="protected"} 1.0
guard_decisions_total{basis="none",decision="PUBLISH",reason="no_match"} 7.0
# TYPE guard_deadletter_total counter
guard_deadletter_total{reason="undecodable"} 2.0
# TYPE guard_registry_active_records gauge
guard_registry_active_records 12.0
# TYPE guard_registry_restored gauge
guard_registry_restored 1.0
# TYPE guard_registry_halted gauge
guard_registry_halted 0.0
# TYPE guard_registry_lag_records gauge
guard_registry_lag_records{partition="0"} 4.0
# TYPE guard_custody_consumer_lag_records gauge
guard_custody_consumer_lag_records{partition="2"} 9.0
guard_custody_consumer_lag_records{partition="10"} 1.0
# TYPE guard_registry_caught_up_age_seconds gauge
guard_registry_caught_up_age_seconds 0.25
"""


def test_status_table_sums_decisions_and_lists_lag() -> None:
    status = parse_status('{"ready": false, "reason": "registry_stale"}', METRICS)
    table = render_status(status)
    assert "NOT READY (registry_stale)" in table
    assert "PUBLISH 7  DROP 4  REDACT 0  HOLD 0  REJECT 0" in table
    assert "12 active records; restored yes; halted no" in table
    assert "p0 4" in table
    assert "p2 9, p10 1" in table
    assert "undecodable 2" in table
    assert "0.2 s ago" in table


def test_status_refuses_a_non_json_readiness_answer() -> None:
    with pytest.raises(CliError):
        parse_status("<html>", METRICS)


def test_status_shows_the_rotation_state_from_readiness() -> None:
    readyz = (
        '{"ready": true, "reason": "ok", "blinding_keys": {"state": "in_progress", '
        '"current_key": "k2.1a2b3c4d", "current_key_records": 4, '
        '"previous_key": "k1.5e6f7a8b", "previous_key_records": 3}}'
    )
    table = render_status(parse_status(readyz, METRICS))
    assert "k2.1a2b3c4d (4 records); previous k1.5e6f7a8b (3 records): rotation in_progress" in (
        table
    )
    one_key = (
        '{"ready": true, "reason": "ok", "blinding_keys": {"state": "none", '
        '"current_key": "k1.5e6f7a8b", "current_key_records": 4, "previous_key": null, '
        '"previous_key_records": 0}}'
    )
    last_row = render_status(parse_status(one_key, METRICS)).splitlines()[-1]
    assert last_row.split() == ["blinding", "keys", "k1.5e6f7a8b", "(4", "records)"]
