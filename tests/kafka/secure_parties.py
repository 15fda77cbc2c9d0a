"""The parties of a secure deployment, each running real ``guard`` commands as its own user.

Every command runs as a child process (``python -m guard ...``) with exactly
the environment an operator of that party would give it: its own SCRAM login,
the shared topic names, the keys where the party needs them.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guard.devbroker.broker import free_port

USERS = {
    "worker": "guard-worker",
    "operator": "registry-operator",
    "upstream": "custody-upstream",
    "subscriber": "public-subscriber",
    "auditor": "auditor",
    "reviewer": "reviewer",
}


def write_secret(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


@dataclass
class Parties:
    """One deployment on the secure broker: topics, ACLs, keys, and a command per party."""

    secure: Any
    """The session's SecureKafka (tests/conftest.py)."""
    shared: dict[str, str]
    workdir: Path
    keys: dict[str, str] = field(default_factory=dict)
    worker: subprocess.Popen[bytes] | None = None
    worker_log: Path | None = None

    def __post_init__(self) -> None:
        self.keys = {
            "GUARD_BLINDING_KEY_FILE": str(
                write_secret(self.workdir / "blinding.key", secrets.token_hex(32))
            ),
            "GUARD_SUBJECT_REF_KEY_FILE": str(
                write_secret(self.workdir / "subject-ref.key", secrets.token_hex(32))
            ),
        }

    def env(self, party: str, **extra: str) -> dict[str, str]:
        """The environment of ``party``'s commands (keys for those that blind)."""
        base = {**self.secure.environment(USERS[party]), **self.shared}
        if party in ("worker", "operator", "reviewer"):
            base.update(self.keys)
        return {**base, **extra}

    def run(self, party: str, *args: str, stdin: str | None = None, **extra: str) -> str:
        """Run ``guard ARGS`` as ``party``; its stdout. Fails the test on a non-zero exit."""
        result = self.attempt(party, *args, stdin=stdin, **extra)
        assert result.returncode == 0, f"guard {' '.join(args)} as {party}: {result.stderr}"
        return result.stdout

    def attempt(
        self, party: str, *args: str, stdin: str | None = None, **extra: str
    ) -> subprocess.CompletedProcess[str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("GUARD_")}
        return subprocess.run(
            [sys.executable, "-m", "guard", *args],
            env={**clean, **self.env(party, **extra)},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    # -- the worker --------------------------------------------------------------

    def start_worker(self, **extra: str) -> None:
        self.worker_log = self.workdir / f"worker-{time.monotonic_ns()}.log"
        self.metrics_port = free_port()
        clean = {k: v for k, v in os.environ.items() if not k.startswith("GUARD_")}
        env = {
            **clean,
            **self.env(
                "worker",
                GUARD_WORKER_ID="secure-test",
                GUARD_DATA_DIR=str(self.workdir / "guard-data"),
                GUARD_METRICS_PORT=str(self.metrics_port),
                GUARD_LOG_LEVEL="DEBUG",
                **extra,
            ),
        }
        with self.worker_log.open("wb") as log:
            self.worker = subprocess.Popen(
                [sys.executable, "-m", "guard", "worker"], env=env, stdout=log, stderr=log
            )

    def http(self, path: str) -> tuple[int, str]:
        try:
            url = f"http://127.0.0.1:{self.metrics_port}{path}"
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
        except OSError:
            return 0, ""

    def wait_ready(self, timeout: float = 120.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.worker is not None and self.worker.poll() is None, self.log_text()
            status, body = self.http("/readyz")
            if status == 200:
                answer: dict[str, Any] = json.loads(body)
                return answer
            time.sleep(0.5)
        raise AssertionError(f"worker never ready; log:\n{self.log_text()[-3000:]}")

    def stop_worker(self) -> None:
        if self.worker is not None and self.worker.poll() is None:
            self.worker.terminate()
            try:
                self.worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.worker.kill()
                self.worker.wait(timeout=30)
        self.worker = None

    def log_text(self) -> str:
        return self.worker_log.read_text(errors="replace") if self.worker_log else ""

    # -- reading as a party ---------------------------------------------------------

    def tail(
        self, party: str, name: str, at_least: int, timeout: float = 90.0
    ) -> list[dict[str, Any]]:
        """``guard tail NAME --from-beginning`` as ``party`` until ``at_least`` records show."""
        deadline = time.monotonic() + timeout
        records: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            out = self.run(party, "tail", name, "--from-beginning", "--idle-exit", "2")
            records = [json.loads(line) for line in out.splitlines() if line.strip()]
            if len(records) >= at_least:
                return records
        return records


def custody_line(event_id: str, a_number: str, family: str) -> str:
    return json.dumps(
        {
            "event_id": event_id,
            "occurred_at": "2026-11-20T08:00:00Z",
            "source_system": "TEST",
            "subject": {
                "given_name": "Test",
                "family_name": family,
                "a_number": a_number,
                "date_of_birth": "1980-02-03",
            },
            "custody": {
                "status": "IN_CUSTODY",
                "facility_code": "KRO",
                "facility_name": "Krome North SPC",
                "facility_city": "Miami",
                "facility_state": "FL",
                "status_changed_at": "2026-11-20T07:55:00Z",
            },
            "case_notes": f"CASE-NOTE-{event_id}",
        }
    )


def registry_line(record_id: str, a_number: str, family: str) -> str:
    return json.dumps(
        {
            "record_id": record_id,
            "basis": "U_VISA",
            "status": "ACTIVE",
            "a_numbers": [a_number],
            "names": [{"given_name": "Test", "middle_name": None, "family_name": family}],
            "date_of_birth": "1980-02-03",
        }
    )
