"""A guard worker run as a real child process against the session's broker.

The worker is a separate process (``python -m guard worker``), exactly as an
operator runs it, so a test can SIGKILL it mid-batch and start it again.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition
from custody_events import KROME, as_json_form
from custody_events import custody_event as build_custody_event

from guard.cli.tail import read_records
from guard.codec.avro import codec_for
from guard.codec.jsonlines import custody_event_from_json, registry_entry_from_json
from guard.codec.schemas import SchemaName
from guard.config.keys import registry_blinder, subject_ref_blinder
from guard.config.settings import GuardConfig
from guard.decision.projection import notice_id
from guard.decision.references import event_reference
from guard.kafka.clients import new_consumer, new_producer
from guard.kafka.connection import KafkaConnection, kafka_connection
from guard.registry.model import record_reference
from guard.registry.writer import blind_entry, revoke_registry, write_registry
from guard.upstream import send_custody

DECISION_TIMEOUT = 120.0


def custody_event(event_id: str, **subject: Any) -> dict[str, Any]:
    """A custody event in the JSON form ``guard produce`` reads; ``subject`` fields (in
    that JSON form) replace the default person's."""
    event = as_json_form(
        build_custody_event(
            event_id=event_id,
            given_name="Test",
            family_name="Person",
            source_system="TEST",
            occurred_at=datetime(2026, 11, 20, 8, 0, tzinfo=UTC),
            status_changed_at=datetime(2026, 11, 20, 7, 55, tzinfo=UTC),
            facility={**KROME, "facility_name": "Krome North SPC"},
            case_notes=f"CASE-NOTE-{event_id} internal only",
        )
    )
    event["subject"].update(subject)
    return event


def protection(record_id: str, **identifiers: Any) -> dict[str, Any]:
    """A registry entry in the JSON form ``guard registry import`` reads."""
    return {"record_id": record_id, "basis": "U_VISA", "status": "ACTIVE", **identifiers}


@dataclass
class GuardHarness:
    topics: Any
    """The test's TopicNames (tests/conftest.py)."""
    config: GuardConfig
    env: dict[str, str]
    workdir: Path
    process: subprocess.Popen[bytes] | None = None
    logs: list[Path] = field(default_factory=list)
    sent_ids: dict[str, str] = field(default_factory=dict)
    """Keyed reference (audit ``event_ref`` or public ``notice_id``) → the event id sent.

    Outputs never carry an upstream event id; the harness, which knows the
    keys, maps them back so tests can speak of events by their ids."""
    fleet: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    """Extra workers in the same group (``spawn``), by name."""

    # -- the worker process -------------------------------------------------

    def start_worker(self, **extra_env: str) -> None:
        """Start ``guard worker``; its stderr (the log) and stdout go to separate files."""
        self.process = self._launch(extra_env)

    def _launch(self, extra_env: dict[str, str]) -> subprocess.Popen[bytes]:
        log_path = self.workdir / f"worker-{len(self.logs)}.log"
        out_path = self.workdir / f"worker-{len(self.logs)}.out"
        self.logs.append(log_path)
        with log_path.open("wb") as log, out_path.open("wb") as out:
            return subprocess.Popen(
                [sys.executable, "-m", "guard", "worker"],
                env={**os.environ, **self.env, **extra_env},
                stdout=out,
                stderr=log,
            )

    def spawn(self, name: str, **extra_env: str) -> None:
        """Start one more worker of the same group, with its own id and metrics port."""
        env = {"GUARD_WORKER_ID": name, "GUARD_METRICS_PORT": "0", **extra_env}
        self.fleet[name] = self._launch(env)

    def signal(self, name: str, signum: int) -> None:
        self.fleet[name].send_signal(signum)

    def wait_fleet_exit(self, name: str, timeout: float) -> int:
        return self.fleet.pop(name).wait(timeout=timeout)

    def stop_fleet(self) -> None:
        """Wake, stop and reap every extra worker (used at teardown too)."""
        for process in self.fleet.values():
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.send_signal(signal.SIGTERM)
        for process in self.fleet.values():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
        self.fleet.clear()

    def kill_worker(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)
            self.process = None

    def wait_for_exit(self, timeout: float) -> int:
        """Wait for the worker to exit on its own; its exit status."""
        if self.process is None:
            raise AssertionError("no worker is running")
        code = self.process.wait(timeout=timeout)
        self.process = None
        return code

    def stop_worker(self) -> int | None:
        self.stop_fleet()
        if self.process is None:
            return None
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait(timeout=30)
        self.process = None
        return code

    @property
    def ops_url(self) -> str:
        return f"http://127.0.0.1:{self.env['GUARD_METRICS_PORT']}"

    def http_get(self, path: str) -> tuple[int, str]:
        """Status and body of a GET to the worker's ops endpoint; (0, "") if it does not answer."""
        try:
            with urllib.request.urlopen(self.ops_url + path, timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
        except OSError:
            return 0, ""

    async def wait_for_status(self, path: str, status: int, timeout: float = 90.0) -> str:
        """Poll until ``path`` answers ``status``; return the body. Fails after ``timeout``."""
        deadline = time.monotonic() + timeout
        last: tuple[int, str] = (0, "")
        while time.monotonic() < deadline:
            last = await asyncio.to_thread(self.http_get, path)
            if last[0] == status:
                return last[1]
            await asyncio.sleep(0.5)
        raise AssertionError(f"{path} never answered {status}; last answer {last}")

    def stderr_text(self) -> str:
        """Everything the worker logged (stderr), across its starts."""
        return "".join(p.read_text(errors="replace") for p in self.logs if p.exists())

    def log_text(self) -> str:
        """Everything the worker wrote, stderr and stdout."""
        outs = [p.with_suffix(".out") for p in self.logs]
        return self.stderr_text() + "".join(
            p.read_text(errors="replace") for p in outs if p.exists()
        )

    @property
    def connection(self) -> KafkaConnection:
        """How the harness reaches the broker: as the worker's configuration says."""
        return kafka_connection(self.config)

    # -- writing --------------------------------------------------------------

    async def protect(self, *entries: dict[str, Any]) -> None:
        blinder = registry_blinder(self.config)
        records = [blind_entry(blinder, registry_entry_from_json(e)) for e in entries]
        await write_registry(self.config, records)

    async def revoke(self, record_id: str) -> None:
        await revoke_registry(self.config, record_id)

    def event_ref(self, event_id: str) -> str:
        """The keyed reference outputs and logs use for an upstream event id."""
        return event_reference(registry_blinder(self.config), event_id)

    def record_ref(self, record_id: str) -> str:
        """The registry key (keyed reference) of an operator's record id."""
        return record_reference(registry_blinder(self.config), record_id)

    async def tombstone(self, record_id: str) -> None:
        producer = new_producer(self.connection, acks="all")
        await producer.start()
        try:
            key = self.record_ref(record_id).encode()
            await producer.send_and_wait(self.topics.registry, None, key=key)
        finally:
            await producer.stop()

    async def send_raw(self, topic: str, *payloads: bytes) -> list[int]:
        """Send raw bytes; returns the offset each landed at."""
        producer = new_producer(self.connection, acks="all")
        await producer.start()
        try:
            return [
                (await producer.send_and_wait(topic, payload, key=b"raw")).offset
                for payload in payloads
            ]
        finally:
            await producer.stop()

    async def send(self, *events: dict[str, Any]) -> None:
        codec = codec_for(SchemaName.CUSTODY_EVENT)
        self.remember(*(event["event_id"] for event in events))
        await send_custody(self.config, [codec.encode(custody_event_from_json(e)) for e in events])

    def remember(self, *event_ids: str) -> None:
        """Let decisions and notices about these events be named by their ids."""
        blinder, notice_blinder = registry_blinder(self.config), subject_ref_blinder(self.config)
        for event_id in event_ids:
            self.sent_ids[event_reference(blinder, event_id)] = event_id
            self.sent_ids[notice_id(event_id, notice_blinder)] = event_id

    # -- reading --------------------------------------------------------------

    async def registry_end_offset(self) -> int:
        """The registry partition's high watermark now (single-partition registry)."""
        consumer = new_consumer(self.connection)
        await consumer.start()
        try:
            tp = TopicPartition(self.topics.registry, 0)
            return int((await consumer.end_offsets([tp]))[tp])
        finally:
            await consumer.stop()

    async def decisions(
        self, at_least: int, timeout: float = DECISION_TIMEOUT, *, drain: bool = True
    ) -> list[dict[str, Any]]:
        decode = codec_for(SchemaName.GUARD_DECISION).decode
        records = await read_records(
            self.connection, self.topics.audit, at_least=at_least, timeout=timeout, drain=drain
        )
        decided = [decode(r.value) for r in records if r.value is not None]
        by_position: dict[tuple[str, int, int], str | None] = {}
        for decision in decided:
            decision["event_id"] = self.sent_ids.get(decision["event_ref"] or "")
            if decision["event_id"] is not None:
                by_position[_position(decision)] = decision["event_id"]
        for decision in decided:
            # A retraction's audit record names the event by its position only.
            if decision["event_id"] is None:
                decision["event_id"] = by_position.get(_position(decision))
        return decided

    async def notices(self, at_least: int = 0, timeout: float = 2.0) -> list[dict[str, Any]]:
        decode = codec_for(SchemaName.PUBLIC_NOTICE).decode
        records = await read_records(
            self.connection, self.topics.public, at_least=at_least, timeout=timeout
        )
        notices = [decode(r.value) for r in records if r.value is not None]
        for notice in notices:
            notice["event_id"] = self.sent_ids.get(notice["notice_id"])
        return notices

    async def public_bytes(self) -> list[bytes]:
        records = await read_records(
            self.connection, self.topics.public, at_least=0, timeout=2.0
        )
        return [
            (r.key or b"") + (r.value or b"") + b"".join(v for _, v in r.headers) for r in records
        ]

    async def dead_letters(self, at_least: int, timeout: float = DECISION_TIMEOUT) -> list[Any]:
        return await read_records(
            self.connection, self.topics.deadletter, at_least=at_least, timeout=timeout
        )


def _position(decision: dict[str, Any]) -> tuple[str, int, int]:
    return decision["input_topic"], decision["input_partition"], decision["input_offset"]


def by_event(decisions: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each event's decision (its DECIDED audit record), by event id."""
    return {
        d["event_id"]: d
        for d in decisions
        if d["event_id"] is not None and d["stage"] == "DECIDED"
    }
