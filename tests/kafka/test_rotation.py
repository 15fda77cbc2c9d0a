"""A blinding-key rotation from k1 to k2 under live traffic publishes no protected event.

On the secure broker, every party as its own user. Custody events about
protected and unprotected people are produced without pause while the worker
is restarted with k2 and k1 as the previous key, the registry is imported
under k2 and the k1 records are retired. Every event gets exactly one
decision; every protected one is dropped; the public topic never carries a
protected A-number. Readiness reports each stage of the rotation.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secure_parties import USERS, Parties, custody_line, registry_line, write_secret

from guard.codec.avro import codec_for
from guard.codec.jsonlines import custody_event_from_json
from guard.codec.schemas import SchemaName
from guard.kafka.clients import new_producer

if TYPE_CHECKING:
    from conftest import SecureKafka

PROTECTED = [f"A-0{n}1-222-333" for n in range(4)]


class Traffic:
    """Upstream sends custody events, alternating protected and free, until stopped."""

    def __init__(self, parties: Parties) -> None:
        self._connection = parties.secure.connection(USERS["upstream"])
        self._topic = parties.shared["GUARD_CUSTODY_TOPIC"]
        self._stop = threading.Event()
        self.protected = 0
        self.free = 0
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    async def _run(self) -> None:
        encode = codec_for(SchemaName.CUSTODY_EVENT).encode
        producer = new_producer(self._connection, acks="all", enable_idempotence=True)
        await producer.start()
        try:
            n = 0
            while not self._stop.is_set():
                n += 1
                if n % 2:
                    line = custody_line(f"p-{n}", PROTECTED[n % len(PROTECTED)], f"Prot{n % 4}")
                else:
                    line = custody_line(f"f-{n}", f"A-{200000000 + n}", "Free")
                event = encode(custody_event_from_json(json.loads(line)))
                await producer.send_and_wait(self._topic, event, key=secrets.token_bytes(8))
                if n % 2:
                    self.protected += 1
                else:
                    self.free += 1
                await asyncio.sleep(0.02)
        finally:
            await producer.stop()


def _keys(current: Path, current_id: str, previous: Path | None) -> dict[str, str]:
    env = {"GUARD_BLINDING_KEY_FILE": str(current), "GUARD_BLINDING_KEY_ID": current_id}
    if previous is not None:
        env |= {"GUARD_BLINDING_KEY_PREVIOUS_FILE": str(previous),
                "GUARD_BLINDING_KEY_PREVIOUS_ID": "k1"}  # fmt: skip
    return env


def _wait_keys(parties: Parties, check: Any, timeout: float = 90.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    keys: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status, body = parties.http("/readyz")
        if status:
            keys = json.loads(body).get("blinding_keys", {})
            if check(keys):
                return keys
        time.sleep(0.5)
    raise AssertionError(f"rotation state never reached; last {keys}")


def test_rotation_from_k1_to_k2_under_live_traffic_publishes_nothing_protected(
    secure_kafka: SecureKafka, tmp_path: Path
) -> None:
    _, shared = secure_kafka.create_topics()
    parties = Parties(secure_kafka, shared, tmp_path)
    k1 = Path(parties.keys["GUARD_BLINDING_KEY_FILE"])
    k2 = write_secret(tmp_path / "blinding-k2.key", secrets.token_hex(32))
    source = tmp_path / "registry.jsonl"
    lines = [registry_line(f"rec-{n}", a, f"Prot{n}") for n, a in enumerate(PROTECTED)]
    source.write_text("\n".join(lines) + "\n")
    parties.run("operator", "registry", "import", str(source))
    parties.start_worker()
    traffic = Traffic(parties)
    try:
        parties.wait_ready()
        traffic.start()
        time.sleep(3)
        # 1. the worker restarts knowing both keys: k2 current, k1 previous.
        parties.stop_worker()
        rotating = _keys(k2, "k2", k1)
        parties.start_worker(**rotating)
        state = parties.wait_ready()["blinding_keys"]
        assert state["state"] == "in_progress" and state["previous_key_records"] == 4
        assert state["current_key"].startswith("k2.") and state["previous_key"].startswith("k1.")
        # 2. the registry is imported under k2 from the operator's source.
        parties.run("operator", "registry", "import", str(source), **_keys(k2, "k2", None))
        _wait_keys(parties, lambda k: k.get("current_key_records") == 4)
        refused = parties.attempt("operator", "registry", "retire-previous", str(source),
                                  **_keys(k2, "k2", None))  # fmt: skip
        assert refused.returncode == 2 and "name the key being retired" in refused.stderr
        # 3. the k1 records are retired.
        parties.run("operator", "registry", "retire-previous", str(source), **rotating)
        done = _wait_keys(parties, lambda k: k.get("state") == "previous_retired")
        assert done["previous_key_records"] == 0 and done["current_key_records"] == 4
        time.sleep(3)
    finally:
        traffic.stop()
    try:
        sent = traffic.protected + traffic.free
        audit = parties.tail("auditor", "audit", at_least=sent, timeout=120)
        decisions = [record["value"]["decision"] for record in audit]
        assert len(decisions) == sent
        assert decisions.count("DROP") == traffic.protected
        assert decisions.count("PUBLISH") == traffic.free
        public = parties.tail("subscriber", "public", at_least=1)
        published = {record["value"]["a_number"] for record in public}
        protected_digits = {a.replace("A-", "").replace("-", "") for a in PROTECTED}
        assert published and not (published & protected_digits)
    finally:
        parties.stop_worker()


def test_without_the_previous_key_a_worker_halts_on_old_records_instead_of_missing_them(
    secure_kafka: SecureKafka, tmp_path: Path
) -> None:
    _, shared = secure_kafka.create_topics()
    parties = Parties(secure_kafka, shared, tmp_path)
    parties.run("operator", "registry", "import", "-",
                stdin=registry_line("rec-0", PROTECTED[0], "Prot0") + "\n")  # fmt: skip
    k2 = write_secret(tmp_path / "blinding-k2.key", secrets.token_hex(32))
    parties.start_worker(**_keys(k2, "k2", None))
    try:
        deadline = time.monotonic() + 90
        body = ""
        while time.monotonic() < deadline:
            status, body = parties.http("/readyz")
            if status == 503 and "registry_halted" in body:
                break
            time.sleep(0.5)
        assert "registry_halted" in body and "GUARD_BLINDING_KEY_PREVIOUS_ID" in body
    finally:
        parties.stop_worker()
