"""Start-up, crashes and a poisoned registry, on the real broker."""

from __future__ import annotations

import asyncio
from collections import Counter

from aiokafka.admin import AIOKafkaAdminClient, NewPartitions
from stream_harness import GuardHarness, by_event, custody_event, protection

from guard.codec.jsonlines import registry_entry_from_json
from guard.config.keys import registry_blinder
from guard.kafka.topics import TopicSpec, ensure_topics
from guard.registry.writer import blind_entry, write_registry


async def test_worker_publishes_nothing_before_restoring_a_large_registry(
    guard: GuardHarness,
) -> None:
    # 10,000 records; the people in the custody feed are protected by the
    # very last ones written. A worker that decided before applying the whole
    # registry would publish them.
    blinder = registry_blinder(guard.config)
    filler = [
        blind_entry(
            blinder,
            registry_entry_from_json(protection(f"filler-{n:05d}", a_numbers=[f"{100000000 + n}"])),
        )
        for n in range(9_990)
    ]
    for start in range(0, len(filler), 2_000):
        await write_registry(guard.config, filler[start : start + 2_000])
    last = [protection(f"last-{n}", a_numbers=[f"A-7{n:02d}-000-000"]) for n in range(10)]
    await guard.protect(*last)
    events = [custody_event(f"held-{n}", a_number=f"A-7{n:02d}-000-000") for n in range(10)]
    events.append(custody_event("free-0", a_number="A-888-000-000"))
    await guard.send(*events)

    registry_end = await guard.registry_end_offset()
    assert registry_end >= 10_000
    guard.start_worker()
    decided = by_event(await guard.decisions(at_least=len(events)))

    for n in range(10):
        assert decided[f"held-{n}"]["decision"] == "DROP"
    assert decided["free-0"]["decision"] == "PUBLISH"
    for decision in decided.values():
        # Everything written before the worker started was applied first.
        assert decision["registry_offsets"]["0"] >= registry_end
    assert [n["event_id"] for n in await guard.notices(at_least=1)] == ["free-0"]


async def test_sigkill_mid_stream_leaves_exactly_one_decision_per_event(
    guard: GuardHarness,
) -> None:
    await guard.protect(protection("rec-k", a_numbers=["A-000-000-007"]))
    total = 4_000
    events = [
        custody_event(f"k-{n:05d}", a_number="A-000-000-007" if n % 10 == 0 else f"A-5{n:08d}")
        for n in range(total)
    ]
    await guard.send(*events)
    guard.start_worker(GUARD_BATCH_MAX="20")

    # Kill it once some, but not all, decisions are committed.
    partial = await guard.decisions(at_least=100, drain=False)
    assert 0 < len(partial) < total, len(partial)
    guard.kill_worker()
    guard.start_worker(GUARD_BATCH_MAX="20")

    decisions = await guard.decisions(at_least=total)
    positions = Counter((d["input_partition"], d["input_offset"]) for d in decisions)
    assert len(positions) == total
    assert max(positions.values()) == 1
    assert Counter(d["event_id"] for d in decisions) == Counter(e["event_id"] for e in events)
    notices = await guard.notices(at_least=total - total // 10)
    notice_ids = Counter(n["event_id"] for n in notices)
    assert len(notice_ids) == total - total // 10
    assert max(notice_ids.values()) == 1
    assert not any(n.startswith("k-") and int(n[2:]) % 10 == 0 for n in notice_ids)


async def test_undecodable_registry_record_halts_publishing_until_operator_acts(
    guard: GuardHarness,
) -> None:
    await guard.protect(protection("rec-ok", a_numbers=["A-111-222-333"]))
    (bad_offset,) = await guard.send_raw(
        guard.topics.registry, b"\x00garbage that is no ProtectionRecord"
    )
    guard.start_worker()
    await guard.send(custody_event("waits", a_number="A-999-888-777"))

    # Halted: no decision at all, not even for an unprotected person.
    assert await guard.decisions(at_least=1, timeout=15) == []
    guard.stop_worker()
    assert "publishing is halted" in guard.log_text()

    # The operator reads the bad record's position from the log line and
    # lets the reader pass over exactly that one.
    assert f"partition 0 offset {bad_offset} cannot be applied" in guard.stderr_text()
    guard.start_worker(GUARD_REGISTRY_ACCEPTED_UNDECODABLE=f"0:{bad_offset}")
    decided = by_event(await guard.decisions(at_least=1))
    assert decided["waits"]["decision"] == "PUBLISH"


async def test_worker_log_holds_no_plaintext_identifier(guard: GuardHarness) -> None:
    await guard.protect(
        protection(
            "rec-log",
            a_numbers=["A-246-813-579"],
            names=[{"given_name": "Zenobia", "family_name": "Quillfeather"}],
            date_of_birth="1981-04-05",
        )
    )
    guard.start_worker()
    await guard.send(
        custody_event(
            "log-1",
            a_number="A-246-813-579",
            given_name="Zenobia",
            family_name="Quillfeather",
            date_of_birth="1981-04-05",
        ),
        custody_event(
            "log-2",
            a_number="A-12",
            given_name="Zenobia",
            family_name="Quillfeather",
            date_of_birth="1981-04-05",
        ),
    )
    await guard.send_raw(guard.topics.custody, b"\x02Zenobia Quillfeather 246813579")
    await guard.decisions(at_least=3)
    guard.stop_worker()  # waits for the exit, so every line is flushed

    log = guard.log_text()
    assert " decided DROP " in log  # the DEBUG decision lines were written
    for planted in (
        "246813579",
        "246-813-579",
        "Zenobia",
        "Quillfeather",
        "1981-04-05",
        "CASE-NOTE",
    ):
        assert planted not in log, planted


async def test_a_registry_partition_added_at_runtime_halts_publishing(guard: GuardHarness) -> None:
    guard.start_worker()
    await guard.send(custody_event("before-split", a_number="A-600-000-001"))
    assert by_event(await guard.decisions(at_least=1))["before-split"]["decision"] == "PUBLISH"

    admin = AIOKafkaAdminClient(bootstrap_servers=guard.config.brokers)
    await admin.start()
    try:
        await admin.create_partitions({guard.topics.registry: NewPartitions(total_count=2)})
    finally:
        await admin.close()

    body = await guard.wait_for_status("/readyz", 503, timeout=60)
    assert '"reason": "registry_halted"' in body
    await guard.send(custody_event("after-split", a_number="A-600-000-002"))
    assert len(await guard.decisions(at_least=2, timeout=10)) == 1
    assert "partitions at start-up" in guard.stderr_text()


async def test_a_failed_output_transaction_stops_the_worker_and_loses_nothing(
    guard: GuardHarness,
) -> None:
    guard.start_worker(GUARD_TRANSACTION_TIMEOUT_MS="10000")
    await guard.send(custody_event("first", a_number="A-700-000-001"))
    assert len(await guard.decisions(at_least=1)) == 1

    # Take the public topic away: the next PUBLISH cannot be written.
    admin = AIOKafkaAdminClient(bootstrap_servers=guard.config.brokers)
    await admin.start()
    try:
        await admin.delete_topics([guard.topics.public])
        await guard.send(custody_event("second", a_number="A-700-000-002"))
        code = await asyncio.to_thread(guard.wait_for_exit, 180)
        assert code == 70
        assert "stopping the worker so the batch is decided again" in guard.stderr_text()
        await ensure_topics(guard.connection, [TopicSpec(guard.topics.public, compacted=True)])
    finally:
        await admin.close()

    guard.start_worker()
    decisions = await guard.decisions(at_least=2)
    assert Counter(d["event_id"] for d in decisions) == {"first": 1, "second": 1}
    notices = await guard.notices(at_least=1)
    assert [n["event_id"] for n in notices] == ["second"]  # "first" went with the old topic
