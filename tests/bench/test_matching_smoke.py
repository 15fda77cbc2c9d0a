"""``python -m bench.matching`` on a small population: it runs and reports its figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_false_positive_measurement_runs_and_reports_shares(tmp_path: Path) -> None:
    output = tmp_path / "matching.json"
    subprocess.run(
        [sys.executable, "-m", "bench.matching", "--events", "400", "--registry", "200",
         "--seed", "7", "--output", str(output)],
        cwd=REPO, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    result = json.loads(output.read_text())
    decisions = result["decisions"]
    assert sum(decisions.values()) == 400
    assert set(decisions) <= {"PUBLISH", "DROP", "HOLD", "REJECT"}
    assert result["published_share"] + result["held_share"] + result["dropped_share"] <= 1.0
    assert result["registry_keys_per_record"] > result["registry_strong_keys_per_record"] > 0
    assert result["event_probes_per_event"] > 0
