"""The commands with a schema registry: produce, tail, review and schemas check/register,
run as an operator runs them, on the real broker and registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext
from stream_harness import GuardHarness, custody_event
from test_hold_and_review import ZENOBIA, weak_variant

from guard.cli.tail import read_records
from guard.schemaregistry.wireformat import output_subjects


def guard_command(
    guard: GuardHarness, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "guard", *args],
        env={**os.environ, **guard.env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture
def wired(guard: GuardHarness, schema_registry_url: str) -> Iterator[GuardHarness]:
    guard.env["GUARD_SCHEMA_REGISTRY_URL"] = schema_registry_url
    yield guard


async def _audit(guard: GuardHarness, at_least: int) -> list[dict[str, Any]]:
    deserialize = AvroDeserializer(
        SchemaRegistryClient({"url": guard.env["GUARD_SCHEMA_REGISTRY_URL"]})
    )
    context = SerializationContext(guard.topics.audit, MessageField.VALUE)
    records = await read_records(
        guard.connection, guard.topics.audit, at_least=at_least, timeout=120
    )
    decided = [deserialize(r.value, context) for r in records if r.value is not None]
    for decision in decided:
        decision["event_id"] = guard.sent_ids.get(decision["event_ref"] or "")
    return decided


async def test_produce_tail_and_review_release_in_the_wire_format(
    wired: GuardHarness, tmp_path: Path
) -> None:
    check = guard_command(wired, "schemas", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "new subject" in check.stdout

    await wired.protect(ZENOBIA)
    wired.start_worker()
    events = [
        weak_variant("to-release"),
        custody_event("free", a_number="A-777-000-222", given_name="Ana", family_name="Ruiz",
                      date_of_birth="1990-06-15"),
    ]  # fmt: skip
    wired.remember("to-release", "free")
    produced = guard_command(
        wired, "produce", "-", stdin="".join(json.dumps(e) + "\n" for e in events)
    )
    assert produced.returncode == 0, produced.stderr
    decided = {d["event_id"]: d for d in await _audit(wired, at_least=2)}
    assert decided["to-release"]["decision"] == "HOLD"
    assert decided["free"]["decision"] == "PUBLISH"

    tail = guard_command(wired, "tail", "public", "--from-beginning", "--idle-exit", "3")
    assert tail.returncode == 0, tail.stderr
    lines = [json.loads(line) for line in tail.stdout.splitlines()]
    assert [line["value"]["family_name"] for line in lines] == ["Ruiz"]
    assert all(isinstance(line["schema_id"], int) for line in lines)

    listed = guard_command(wired, "review", "list")
    assert listed.returncode == 0 and "weak_match" in listed.stdout, listed.stderr
    position = next(
        f"{d['input_topic']}/{d['input_partition']}/{d['input_offset']}"
        for d in decided.values() if d["decision"] == "HOLD"
    )  # fmt: skip
    released = guard_command(wired, "review", "release", position, "--operator", "tester")
    assert released.returncode == 0, released.stdout + released.stderr
    reviewed = [d for d in await _audit(wired, at_least=3) if d["stage"] == "REVIEWED"]
    assert [(d["decision"], d["reason"]) for d in reviewed] == [("PUBLISH", "review_released")]

    registered = guard_command(wired, "schemas", "register")
    assert registered.returncode == 0, registered.stdout + registered.stderr
    subjects = {
        line.split()[1].rstrip(":")
        for line in registered.stdout.splitlines()
        if line.startswith("registered ")
    }
    assert subjects == set(output_subjects(wired.config))  # notices, audit, held, retractions


def test_schemas_commands_need_a_registry(guard: GuardHarness) -> None:
    result = guard_command(guard, "schemas", "check")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "guard: error: GUARD_SCHEMA_REGISTRY_URL: not set; these commands need a registry"
    )
