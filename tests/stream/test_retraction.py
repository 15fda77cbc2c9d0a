"""Withdrawing published notices when their subject becomes protected, on the real broker.

A reference subscriber (``guard subscribe``) keeps the public feed in SQLite,
as a lookup service would; the tests show a newly protected person leaving
it, while everyone else stays.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from stream_harness import GuardHarness, custody_event, protection

from guard.cli.tail import read_records
from guard.codec.avro import codec_for
from guard.codec.schemas import SchemaName
from guard.subscriber.store import SubscriberStore

ANA = {"a_number": "A-111-222-333", "given_name": "Anastasia", "family_name": "Quillfeather",
       "date_of_birth": "1984-07-21"}  # fmt: skip
BOB = {"a_number": "A-444-555-666", "given_name": "Bartholomew", "family_name": "Zanzibar",
       "date_of_birth": "1979-02-13"}  # fmt: skip
ANA_PROTECTION = protection("rec-ana", a_numbers=["A-111-222-333"])
PLANTED = ("111222333", "Anastasia", "Quillfeather", "1984-07-2")


def subscribe(guard: GuardHarness, db: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "guard", "subscribe", "--db", str(db), "--idle-exit", "2"],
        env={**os.environ, **guard.env}, check=True, capture_output=True, timeout=120,
    )  # fmt: skip


def lookup(db: Path, a_number: str) -> list[Any]:
    store = SubscriberStore(db)
    try:
        return store.by_a_number(a_number)
    finally:
        store.close()


async def withdrawn(guard: GuardHarness, at_least: int, timeout: float = 90.0) -> list[Any]:
    """The RETRACTED audit records, once there are ``at_least`` of them."""
    deadline = time.monotonic() + timeout
    while True:
        audit = await guard.decisions(at_least=0, timeout=1.0)
        retracted = [d for d in audit if d["stage"] == "RETRACTED"]
        if len(retracted) >= at_least or time.monotonic() > deadline:
            return retracted
        await asyncio.sleep(0.5)


async def public_records(guard: GuardHarness) -> list[Any]:
    return await read_records(guard.connection, guard.topics.public, at_least=0, timeout=2.0)


async def test_a_protection_withdraws_what_was_published_and_the_subscriber_forgets_it(
    guard: GuardHarness, tmp_path: Path
) -> None:
    guard.start_worker()
    await guard.send(custody_event("ana-1", **ANA), custody_event("ana-2", **ANA),
                     custody_event("bob-1", **BOB))  # fmt: skip
    await guard.decisions(at_least=3)
    notices = await guard.notices(at_least=3)
    ana_ref = next(n["subject_ref"] for n in notices if n["event_id"] == "ana-1")
    db = tmp_path / "subscriber.sqlite"
    subscribe(guard, db)
    assert len(lookup(db, "A111222333")) == 2 and len(lookup(db, "A-444-555-666")) == 1

    await guard.protect(ANA_PROTECTION)
    retracted = await withdrawn(guard, 2)

    assert Counter(d["event_id"] for d in retracted) == {"ana-1": 1, "ana-2": 1}
    assert {(d["decision"], d["reason"]) for d in retracted} == {("DROP", "retracted")}
    assert all(d["matched_record_refs"] == [guard.record_ref("rec-ana")] for d in retracted)
    # One tombstone per custody partition that had published about Ana (same key).
    tombstones = [r for r in await public_records(guard) if r.value is None]
    assert {r.key for r in tombstones} == {ana_ref.encode()}
    retractions = await read_records(guard.connection, guard.topics.retractions,
                                     at_least=2, timeout=10)  # fmt: skip
    decode = codec_for(SchemaName.RETRACTION).decode
    assert {decode(r.value)["subject_ref"] for r in retractions if r.value} == {ana_ref}
    for record in retractions:
        text = (record.key or b"") + (record.value or b"")
        assert not any(planted.encode() in text for planted in PLANTED)

    subscribe(guard, db)
    assert lookup(db, "A111222333") == []
    assert len(lookup(db, "A-444-555-666")) == 1
    # Withdrawn once: nothing more happens on its own.
    assert len(await withdrawn(guard, 3, timeout=3)) == 2


async def test_a_protection_that_arrives_while_no_worker_runs_is_applied_by_the_next(
    guard: GuardHarness,
) -> None:
    """A worker killed before it withdrew (or not running at all) leaves the work to its
    successor: every assignment sweeps the published notices against the registry."""
    guard.start_worker()
    await guard.send(custody_event("ana-1", **ANA), custody_event("bob-1", **BOB))
    await guard.notices(at_least=2)
    guard.kill_worker()
    await guard.protect(ANA_PROTECTION)
    guard.start_worker()
    retracted = await withdrawn(guard, 1)
    assert [d["event_id"] for d in retracted] == ["ana-1"]
    # Bob's notice stands; Ana's subject reference is tombstoned.
    latest = {r.key: r.value for r in await public_records(guard)}
    assert sum(value is None for value in latest.values()) == 1
    assert sum(value is not None for value in latest.values()) == 1


async def test_revocation_then_protection_again_withdraws_what_was_published_between(
    guard: GuardHarness,
) -> None:
    await guard.protect(ANA_PROTECTION)
    guard.start_worker()
    await guard.send(custody_event("ana-protected", **ANA))
    await guard.decisions(at_least=1)
    await guard.revoke("rec-ana")
    await guard.send(custody_event("ana-revoked", **ANA))
    decided = {d["event_id"]: d["decision"] for d in await guard.decisions(at_least=2)}
    assert decided == {"ana-protected": "DROP", "ana-revoked": "PUBLISH"}
    await guard.protect(ANA_PROTECTION)
    assert [d["event_id"] for d in await withdrawn(guard, 1)] == ["ana-revoked"]


async def test_two_workers_withdraw_each_their_own_partitions_once(guard: GuardHarness) -> None:
    guard.start_worker()
    guard.spawn("second")
    events = [custody_event(f"ana-{n}", **ANA) for n in range(12)]
    events += [custody_event(f"bob-{n}", **BOB) for n in range(6)]
    await guard.send(*events)
    await guard.notices(at_least=len(events), timeout=60)
    await guard.protect(ANA_PROTECTION)
    retracted = await withdrawn(guard, 12)
    assert Counter(d["event_id"] for d in retracted) == {f"ana-{n}": 1 for n in range(12)}
    latest = {r.key: r.value for r in await public_records(guard)}
    assert sorted(value is None for value in latest.values()) == [False, True]


async def test_a_misspelt_notice_is_withdrawn_when_the_person_becomes_protected(
    guard: GuardHarness,
) -> None:
    """Published under another spelling and no A-number: the protection meets it (at
    least weakly, as a new event would be held), so it does not stay public."""
    guard.start_worker()
    misspelt = {"given_name": "Anastasiya", "family_name": "Quilfeather",
                "date_of_birth": "1984-07-21"}  # fmt: skip
    await guard.send(custody_event("ana-misspelt", **misspelt), custody_event("bob-1", **BOB))
    await guard.decisions(at_least=2)
    assert {n["event_id"] for n in await guard.notices(at_least=2)} == {"ana-misspelt", "bob-1"}
    names = [{"given_name": "Anastasia", "family_name": "Quillfeather"}]
    await guard.protect(protection("rec-ana", a_numbers=["A-111-222-333"], names=names,
                                   date_of_birth="1984-07-21"))  # fmt: skip

    retracted = await withdrawn(guard, 1)

    assert [d["event_id"] for d in retracted] == ["ana-misspelt"]
    latest = {r.key: r.value for r in await public_records(guard)}
    assert sum(value is not None for value in latest.values()) == 1  # Bob's stands


async def first_uncommitted_retraction(guard: GuardHarness, timeout: float = 90.0) -> bool:
    """Wait until a retraction record is *written* (read_uncommitted): the withdrawing
    transaction is then open, or just committed. False if none came."""
    consumer = AIOKafkaConsumer(bootstrap_servers=guard.config.brokers, group_id=None,
                                isolation_level="read_uncommitted",
                                auto_offset_reset="earliest")  # fmt: skip
    await consumer.start()
    try:
        consumer.subscribe([guard.topics.retractions])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any((await consumer.getmany(timeout_ms=20)).values()):
                return True
        return False
    finally:
        await consumer.stop()


async def test_a_worker_killed_while_withdrawing_leaves_each_notice_withdrawn_once(
    guard: GuardHarness,
) -> None:
    """SIGKILL as soon as the first retraction record is written: an open withdrawal
    transaction is aborted, and the next worker withdraws whatever was not committed."""
    guard.start_worker()
    ana_events = [custody_event(f"ana-{n}", **ANA) for n in range(300)]
    await guard.send(*ana_events, custody_event("bob-1", **BOB))
    await guard.decisions(at_least=301, timeout=120)
    watcher = asyncio.create_task(first_uncommitted_retraction(guard))
    await guard.protect(ANA_PROTECTION)
    assert await watcher
    guard.kill_worker()
    guard.start_worker()

    retracted = await withdrawn(guard, 300, timeout=120)

    assert Counter(d["event_id"] for d in retracted) == {f"ana-{n}": 1 for n in range(300)}
    retractions = await read_records(guard.connection, guard.topics.retractions,
                                     at_least=300, timeout=10)  # fmt: skip
    decode = codec_for(SchemaName.RETRACTION).decode
    assert len({decode(r.value)["notice_id"] for r in retractions if r.value}) == len(retractions)
    latest = {r.key: r.value for r in await public_records(guard)}
    assert sorted(value is None for value in latest.values()) == [False, True]
