"""RegistryReader in memory: applying, halting on a bad record, and never stopping silently."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from registry_doubles import InMemoryRegistryClients, InMemoryRegistryTopic

from guard.codec.errors import DecodeError
from guard.registry.errors import RegistryHalted, RegistryPartitionsChanged, RegistryReaderFailed
from guard.registry.index import CURRENT_KEY, PREVIOUS_KEY, RegistryIndex
from guard.registry.model import ProtectionBasis, ProtectionRecord, ProtectionStatus
from guard.registry.reader import PARTITION_CHECK_EVERY, RegistryReader

KEY_ID = "k1.abcd"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def decode(value: bytes) -> ProtectionRecord:
    """``ok:<record id>`` decodes; ``bad`` is a bad record; ``bug`` trips a decoder bug."""
    if value == b"bug":
        raise KeyError("a decoder bug, not a bad record")
    if not value.startswith(b"ok:"):
        raise DecodeError("ProtectionRecord", "undecodable")
    record_id = value[3:].decode()
    key = record_id.encode().ljust(32, b"\0")
    return ProtectionRecord(
        record_id,
        ProtectionBasis.T_VISA,
        ProtectionStatus.ACTIVE,
        NOW,
        NOW,
        KEY_ID,
        frozenset({key}),
    )


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def topic() -> InMemoryRegistryTopic:
    return InMemoryRegistryTopic()


def reader_on(
    topic: InMemoryRegistryTopic,
    *,
    accepted: frozenset[tuple[int, int]] = frozenset(),
    clock: Clock | None = None,
    index: RegistryIndex | None = None,
) -> RegistryReader:
    return RegistryReader(
        clients=InMemoryRegistryClients(topic),
        topic=topic.name,
        index=index if index is not None else RegistryIndex(),
        decode=decode,
        blinding_key_id=KEY_ID,
        accepted_undecodable=accepted,
        clock=clock or Clock(),
    )


@pytest.fixture
async def running(topic: InMemoryRegistryTopic) -> AsyncIterator[RegistryReader]:
    reader = reader_on(topic)
    yield reader
    await reader.stop()


async def never(awaitable: asyncio.Future[object] | object) -> bool:
    """True when ``awaitable`` is still waiting a moment later."""
    try:
        await asyncio.wait_for(awaitable, 0.2)  # type: ignore[arg-type]
    except TimeoutError:
        return True
    return False


async def test_restores_then_follows_and_the_gate_waits_for_new_records(
    topic: InMemoryRegistryTopic,
) -> None:
    topic.append(b"rec-1", b"ok:rec-1")
    clock = Clock()
    reader = reader_on(topic, clock=clock)
    await reader.start()
    try:
        assert await reader.wait_until_fresh() == {0: 1}
        assert reader.is_restored and reader.restored_at == 50.0
        topic.append(b"rec-2", b"ok:rec-2")
        clock.now = 60.0
        assert await reader.wait_until_fresh() == {0: 2}
        assert "rec-2" in reader.index and reader.last_caught_up_at == 60.0
    finally:
        await reader.stop()


async def test_a_bad_record_halts_the_reader_on_its_offset(
    topic: InMemoryRegistryTopic, running: RegistryReader
) -> None:
    topic.append(b"rec-1", b"ok:rec-1")
    topic.append(b"rec-2", b"bad")
    await running.start()

    assert await never(running.wait_until_fresh())
    assert isinstance(running.halted, RegistryHalted)
    assert running.halted.cause == "record at partition 0 offset 1: undecodable: DecodeError"
    assert running.applied == {0: 1}


async def test_a_decoder_bug_halts_as_a_reader_failure_not_as_a_bad_record(
    topic: InMemoryRegistryTopic,
) -> None:
    topic.append(b"rec-1", b"bug")
    # Even an operator override for that very offset does not pass over a bug.
    reader = reader_on(topic, accepted=frozenset({(0, 0)}))
    await reader.start()
    try:
        assert await never(reader.wait_until_fresh())
        assert isinstance(reader.halted, RegistryReaderFailed)
        assert reader.halted.cause == "registry reader failed: KeyError"
        assert "rec-1" not in reader.index
    finally:
        await reader.stop()


class BrokenIndex(RegistryIndex):
    __slots__ = ()

    def apply(self, record_id: str, record: ProtectionRecord | None, *, key_role: int = 0) -> None:
        raise RuntimeError("an index bug")


async def test_an_index_failure_halts_the_reader_too(topic: InMemoryRegistryTopic) -> None:
    topic.append(b"rec-1", b"ok:rec-1")
    reader = reader_on(topic, index=BrokenIndex())
    await reader.start()
    try:
        assert await never(reader.wait_until_fresh())
        assert isinstance(reader.halted, RegistryReaderFailed)
        assert reader.halted.cause == "registry reader failed: RuntimeError"
    finally:
        await reader.stop()


async def test_the_operator_override_passes_over_exactly_the_named_bad_record(
    topic: InMemoryRegistryTopic,
) -> None:
    topic.append(b"rec-1", b"bad")
    topic.append(b"rec-1", b"ok:rec-1")
    topic.append(b"rec-2", b"bad")
    reader = reader_on(topic, accepted=frozenset({(0, 0)}))
    await reader.start()
    try:
        assert await never(reader.wait_until_fresh())
        assert "rec-1" in reader.index
        assert isinstance(reader.halted, RegistryHalted) and reader.halted.offset == 2
    finally:
        await reader.stop()


async def test_a_partition_added_while_running_halts_the_reader(
    topic: InMemoryRegistryTopic, running: RegistryReader
) -> None:
    await running.start()
    topic.partitions[1] = []
    for _ in range(PARTITION_CHECK_EVERY):
        await running.probe()

    assert isinstance(running.halted, RegistryPartitionsChanged)
    assert running.halted.cause == "registry partitions changed from 1 to 2"
    assert not running.has_reached({0: 0})


def rotating_reader(topic: InMemoryRegistryTopic, previous: str | None) -> RegistryReader:
    return RegistryReader(
        clients=InMemoryRegistryClients(topic),
        topic=topic.name,
        index=RegistryIndex(),
        decode=decode,
        blinding_key_id="k2.new",
        previous_key_id=previous,
        clock=Clock(),
    )


async def test_during_a_rotation_records_under_the_previous_key_are_applied_as_such(
    topic: InMemoryRegistryTopic,
) -> None:
    topic.append(b"rec-1", b"ok:rec-1")  # blinded under KEY_ID, now the previous key
    reader = rotating_reader(topic, previous=KEY_ID)
    await reader.start()
    try:
        await reader.wait_until_fresh()
        assert reader.key_ids == ("k2.new", KEY_ID)
        assert reader.index.active_count_for(PREVIOUS_KEY) == 1
        assert reader.index.active_count_for(CURRENT_KEY) == 0
    finally:
        await reader.stop()


async def test_a_record_under_a_key_the_worker_does_not_hold_halts_it(
    topic: InMemoryRegistryTopic,
) -> None:
    topic.append(b"rec-1", b"ok:rec-1")
    reader = rotating_reader(topic, previous=None)
    await reader.start()
    try:
        assert await never(reader.wait_until_fresh())
        assert isinstance(reader.halted, RegistryHalted)
        assert "GUARD_BLINDING_KEY_PREVIOUS_ID" in reader.halted.cause
    finally:
        await reader.stop()
