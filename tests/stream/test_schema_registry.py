"""The wire format on the real broker and a real schema registry (Apicurio 3.0.9).

The other side of every exchange is the ecosystem's reference client:
``confluent-kafka``'s ``AvroSerializer`` writes the custody events (through
its own producer) and ``AvroDeserializer`` reads what the guard wrote, each
with its own ``SchemaRegistryClient``. Nothing here asserts on a schema id's
value: Apicurio's ids have gaps.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from stream_harness import GuardHarness, custody_event, protection

from guard.canary.monitor import Canary, CanarySettings
from guard.cli.tail import read_records
from guard.codec.jsonlines import custody_event_from_json
from guard.codec.schemas import SchemaName, load_schema
from guard.codec.wire import frame
from guard.config.settings import load_config
from guard.subscriber.store import SubscriberStore

JOSE = protection(
    "rec-jose",
    a_numbers=["A-012-345-678"],
    names=[{"given_name": "José", "family_name": "GARCÍA LÓPEZ"}],
    date_of_birth="1987-03-14",
)
PROTECTED = custody_event("w-protected", a_number="A-012-345-678")
PLAIN = custody_event(
    "w-plain", a_number="A-055-123-456", given_name="Robert", family_name="Miller",
    date_of_birth="1970-01-05",
)  # fmt: skip


def custody_v1() -> dict[str, Any]:
    return copy.deepcopy(dict(load_schema(SchemaName.CUSTODY_EVENT).raw))


def custody_v2() -> dict[str, Any]:
    """Upstream's next version: an optional field added and a custody status added."""
    schema = custody_v1()
    subject = next(f for f in schema["fields"] if f["name"] == "subject")["type"]
    subject["fields"].append({"name": "nationality", "type": ["null", "string"], "default": None})
    custody = next(f for f in schema["fields"] if f["name"] == "custody")["type"]
    custody["fields"][0]["type"]["symbols"].append("PAROLED")
    return schema


def custody_incompatible() -> dict[str, Any]:
    """A change the guard cannot read: the subject's family name is no longer a string."""
    schema = custody_v1()
    subject = next(f for f in schema["fields"] if f["name"] == "subject")["type"]
    family = next(f for f in subject["fields"] if f["name"] == "family_name")
    family["type"] = "long"
    return schema


class Upstream:
    """An upstream custody system using confluent-kafka's serializer and producer."""

    def __init__(self, guard: GuardHarness, registry_url: str) -> None:
        self._guard = guard
        self._client = SchemaRegistryClient({"url": registry_url})
        self._topic = guard.topics.custody

    def serialize(self, schema: dict[str, Any], event: dict[str, Any]) -> bytes:
        serializer = AvroSerializer(
            self._client, json.dumps(schema), conf={"auto.register.schemas": True}
        )
        value = serializer(event, SerializationContext(self._topic, MessageField.VALUE))
        assert isinstance(value, bytes)
        return value

    def event(self, json_event: dict[str, Any], **extra_subject: Any) -> dict[str, Any]:
        self._guard.remember(json_event["event_id"])
        event = custody_event_from_json(json_event)
        event["subject"].update(extra_subject)
        return event

    def send(self, *values: bytes) -> None:
        producer = Producer({"bootstrap.servers": self._guard.config.brokers, "acks": "all"})
        for value in values:
            producer.produce(self._topic, value=value, key=b"upstream")
        assert producer.flush(30) == 0


class Subscriber:
    """A reader of the guard's outputs using confluent-kafka's deserializer."""

    def __init__(self, guard: GuardHarness, registry_url: str) -> None:
        self._guard = guard
        self._deserialize = AvroDeserializer(SchemaRegistryClient({"url": registry_url}))

    async def read(self, topic: str, at_least: int, timeout: float = 120.0) -> list[Any]:
        records = await read_records(
            self._guard.connection, topic, at_least=at_least, timeout=timeout
        )
        context = SerializationContext(topic, MessageField.VALUE)
        return [self._deserialize(r.value, context) for r in records if r.value is not None]

    async def decisions(self, at_least: int, timeout: float = 120.0) -> dict[str, Any]:
        """Audit records by event id; fails on a second decision for any event."""
        decided = await self.read(self._guard.topics.audit, at_least, timeout)
        ids = [self._guard.sent_ids.get(d["event_ref"] or "", d["input_offset"]) for d in decided]
        repeated = [i for i, n in Counter(ids).items() if n > 1]
        assert not repeated, f"decided more than once: {repeated}"
        return dict(zip(ids, decided, strict=True))

    async def notices(self, at_least: int) -> dict[str | None, Any]:
        notices = await self.read(self._guard.topics.public, at_least, timeout=30.0)
        return {self._guard.sent_ids.get(n["notice_id"]): n for n in notices}


@pytest.fixture
def wired(guard: GuardHarness, schema_registry_url: str) -> Iterator[GuardHarness]:
    guard.env["GUARD_SCHEMA_REGISTRY_URL"] = schema_registry_url
    yield guard


async def test_reference_client_interop_both_ways(wired: GuardHarness) -> None:
    url = wired.env["GUARD_SCHEMA_REGISTRY_URL"]
    upstream, subscriber = Upstream(wired, url), Subscriber(wired, url)
    await wired.protect(JOSE)
    wired.start_worker()
    v1 = custody_v1()
    upstream.send(*(upstream.serialize(v1, upstream.event(e)) for e in (PROTECTED, PLAIN)))

    decided = await subscriber.decisions(at_least=2)
    assert decided["w-protected"]["decision"] == "DROP"
    assert decided["w-plain"]["decision"] == "PUBLISH"
    notices = await subscriber.notices(at_least=1)
    assert list(notices) == ["w-plain"]
    assert notices["w-plain"]["family_name"] == "Miller"
    assert notices["w-plain"]["custody_status"] == "IN_CUSTODY"
    # Every output value is in the wire format under its TopicNameStrategy subject.
    registered = SchemaRegistryClient({"url": url}).get_subjects()
    for topic in (wired.topics.public, wired.topics.audit, wired.topics.review):
        assert f"{topic}-value" in registered


async def test_upstream_evolution_flows_and_incompatible_or_unknown_schemas_are_rejected(
    wired: GuardHarness,
) -> None:
    url = wired.env["GUARD_SCHEMA_REGISTRY_URL"]
    upstream, subscriber = Upstream(wired, url), Subscriber(wired, url)
    await wired.protect(JOSE)
    wired.start_worker()
    v2 = custody_v2()
    evolved_plain = upstream.event(
        custody_event("w-v2-plain", a_number="A-099-000-111", given_name="Ana",
                      family_name="Silva", date_of_birth="1980-02-03"),
        nationality="BR",
    )  # fmt: skip
    evolved_plain["custody"]["status"] = "PAROLED"
    evolved_protected = upstream.event(
        custody_event("w-v2-protected", a_number="A 012 345 678"), nationality="MX"
    )
    incompatible = upstream.event(custody_event("w-incompatible", a_number="A-099-000-222"))
    incompatible["subject"]["family_name"] = 42
    upstream.send(
        upstream.serialize(v2, evolved_plain),
        upstream.serialize(v2, evolved_protected),
        upstream.serialize(custody_incompatible(), incompatible),
        frame(2_000_000_000, b"\x00"),  # an id no registry has handed out
    )

    decided = await subscriber.decisions(at_least=4)
    assert decided["w-v2-plain"]["decision"] == "PUBLISH"
    assert decided["w-v2-protected"]["decision"] == "DROP"
    # A value that cannot be read has no event id to name it by: found by its reason.
    for reason in ("incompatible_schema", "unknown_schema"):
        rejected = [d for d in decided.values() if d["reason"] == reason]
        assert [d["decision"] for d in rejected] == ["REJECT"], reason
    # The new enum symbol became the reader's default; the added field was read past.
    notices = await subscriber.notices(at_least=1)
    assert list(notices) == ["w-v2-plain"]
    assert notices["w-v2-plain"]["custody_status"] == "UNKNOWN"
    letters = await wired.dead_letters(at_least=2)
    reasons = sorted(dict(r.headers)["guard.reason"].decode() for r in letters)
    assert reasons == ["incompatible_schema", "unknown_schema"]
    assert all("guard.schema.id" in dict(r.headers) for r in letters)


async def test_a_registry_outage_holds_the_batch_until_it_answers(
    guard: GuardHarness, private_schema_registry: Any
) -> None:
    registry = private_schema_registry
    guard.env["GUARD_SCHEMA_REGISTRY_URL"] = registry.url
    upstream, subscriber = Upstream(guard, registry.url), Subscriber(guard, registry.url)
    await guard.protect(JOSE)
    guard.start_worker()
    upstream.send(upstream.serialize(custody_v1(), upstream.event(PLAIN)))
    assert len(await subscriber.decisions(at_least=1)) == 1
    await guard.wait_for_status("/readyz", 200)

    # Serialized under a schema the worker has never fetched, sent while the registry is down.
    held = [
        upstream.serialize(custody_v2(), upstream.event(custody_event(f"w-held-{n}",
                           a_number=f"A-077-000-{n:03d}"), nationality=None))
        for n in range(5)
    ] + [upstream.serialize(custody_v2(), upstream.event(PROTECTED, nationality=None))]  # fmt: skip
    registry.stop()
    upstream.send(*held)
    body = await guard.wait_for_status("/readyz", 503)
    assert json.loads(body)["reason"] == "schema_registry_unavailable"
    await asyncio.sleep(3)  # the batch stays undecided however long the outage lasts
    records = await read_records(guard.connection, guard.topics.audit, at_least=0, timeout=1)
    assert len(records) == 1, "decided while the schema registry did not answer"

    registry.start()
    decided = await subscriber.decisions(at_least=7)
    assert sorted(decided) == sorted(["w-plain", "w-protected", *(f"w-held-{n}" for n in range(5))])
    assert decided["w-protected"]["decision"] == "DROP"
    assert all(decided[f"w-held-{n}"]["decision"] == "PUBLISH" for n in range(5))
    await guard.wait_for_status("/readyz", 200)
    assert "holding the batch" in guard.stderr_text()


def test_the_worker_refuses_to_start_when_its_output_schema_would_break_subscribers(
    guard: GuardHarness, schema_registry_url: str
) -> None:
    # A subject already holding a notice schema without a field the guard's schema
    # requires (no default): the guard's schema cannot read what is there.
    other = copy.deepcopy(dict(load_schema(SchemaName.PUBLIC_NOTICE).raw))
    other["fields"] = [f for f in other["fields"] if f["name"] != "notice_id"]
    client = SchemaRegistryClient({"url": schema_registry_url})
    client.register_schema(f"{guard.topics.public}-value", Schema(json.dumps(other), "AVRO"))
    guard.env["GUARD_SCHEMA_REGISTRY_URL"] = schema_registry_url
    guard.start_worker()
    assert guard.wait_for_exit(timeout=120) == 2
    lines = [ln for ln in guard.stderr_text().splitlines() if ln.strip()]
    assert lines[-1].startswith("guard: error: GUARD_SCHEMA_REGISTRY_URL")
    assert "not BACKWARD compatible" in lines[-1] and "notice_id" in lines[-1]


async def test_withdrawals_subscriber_and_canary_speak_the_wire_format(
    wired: GuardHarness, tmp_path: Path
) -> None:
    """A notice withdrawn later: its retraction record is read by the reference
    deserializer, ``guard subscribe`` forgets it, and a canary sending and reading the
    wire format sees its events dropped."""
    url = wired.env["GUARD_SCHEMA_REGISTRY_URL"]
    upstream, subscriber = Upstream(wired, url), Subscriber(wired, url)
    wired.start_worker()
    upstream.send(upstream.serialize(custody_v1(), upstream.event(PLAIN)))
    assert list(await subscriber.notices(at_least=1)) == ["w-plain"]
    db = tmp_path / "subscriber.sqlite"
    follow = [sys.executable, "-m", "guard", "subscribe", "--db", str(db), "--idle-exit", "2"]
    subprocess.run(follow, env={**os.environ, **wired.env}, check=True, timeout=120)
    assert len(lookup(db, "A-055-123-456")) == 1

    await wired.protect(protection("rec-miller", a_numbers=["A-055-123-456"]))
    (retraction,) = await subscriber.read(wired.topics.retractions, at_least=1)
    subprocess.run(follow, env={**os.environ, **wired.env}, check=True, timeout=120)

    assert len(retraction["notice_id"]) == 64 and "Miller" not in str(retraction)
    assert lookup(db, "A-055-123-456") == []
    canary = Canary(load_config(wired.env), CanarySettings(interval=0.2, bound=60.0, people=1))
    await canary.install()
    counts = await canary.run(rounds=2)
    assert counts.decided == {"DROP": 2} and (counts.late, counts.published) == (0, 0)


def lookup(db: Path, a_number: str) -> list[Any]:
    store = SubscriberStore(db)
    try:
        return store.by_a_number(a_number)
    finally:
        store.close()
