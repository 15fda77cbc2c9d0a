"""Several workers in one group on the real broker: crashes, leaves, joins and a frozen worker.

Every test ends with the same check: exactly one audit record per input
position, exactly one notice per unprotected event, nothing about a protected
person on the public topic. Events keep arriving while workers come and go,
so batches are in flight when each change happens. No assertion is about
time; waits are for conditions (a count of decisions, a log line).
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from typing import Any

from stream_harness import GuardHarness, custody_event, protection

PROTECTED_A_NUMBER = "A-000-000-013"
FLEET_ENV = {"GUARD_LOG_LEVEL": "INFO", "GUARD_BATCH_MAX": "20", "GUARD_SESSION_TIMEOUT": "6"}


def wave(name: str, count: int) -> list[dict[str, Any]]:
    """``count`` events; every tenth is about the protected person."""
    return [
        custody_event(
            f"{name}-{n:05d}",
            a_number=PROTECTED_A_NUMBER if n % 10 == 0 else f"A-5{ord(name[0]) % 10}{n:07d}",
        )
        for n in range(count)
    ]


async def decided_count(guard: GuardHarness, at_least: int) -> int:
    return len(await guard.decisions(at_least=at_least, drain=False))


async def assert_exactly_once(guard: GuardHarness, events: list[dict[str, Any]]) -> None:
    decisions = await guard.decisions(at_least=len(events))
    missing = sorted({e["event_id"] for e in events} - {d["event_id"] for d in decisions})
    assert not missing, f"{len(missing)} events without a decision, e.g. {missing[:5]}"
    positions = Counter((d["input_partition"], d["input_offset"]) for d in decisions)
    assert len(positions) == len(events)
    assert max(positions.values()) == 1, positions.most_common(3)
    assert Counter(d["event_id"] for d in decisions) == Counter(e["event_id"] for e in events)
    protected = {e["event_id"] for e in events if e["subject"]["a_number"] == PROTECTED_A_NUMBER}
    for decision in decisions:
        expected = "DROP" if decision["event_id"] in protected else "PUBLISH"
        assert decision["decision"] == expected, decision["event_id"]
    notices = Counter(n["event_id"] for n in await guard.notices(at_least=1, timeout=5))
    assert set(notices) == {e["event_id"] for e in events} - protected
    assert max(notices.values()) == 1, notices.most_common(3)


async def test_two_workers_with_a_sigkill_and_a_join_decide_each_event_once(
    guard: GuardHarness,
) -> None:
    await guard.protect(protection("rec-group", a_numbers=[PROTECTED_A_NUMBER]))
    first, second, third = wave("a", 3000), wave("b", 3000), wave("c", 2000)
    await guard.send(*first)
    guard.spawn("w1", **FLEET_ENV)
    guard.spawn("w2", **FLEET_ENV)
    await decided_count(guard, 300)

    guard.signal("w1", signal.SIGKILL)
    guard.wait_fleet_exit("w1", timeout=30)
    await guard.send(*second)
    await decided_count(guard, len(first) + 300)
    guard.spawn("w3", **FLEET_ENV)  # joins mid-stream: a rebalance with batches in flight
    await guard.send(*third)

    await assert_exactly_once(guard, first + second + third)


async def test_three_workers_with_a_sigterm_and_a_join_decide_each_event_once(
    guard: GuardHarness,
) -> None:
    await guard.protect(protection("rec-group", a_numbers=[PROTECTED_A_NUMBER]))
    first, second = wave("d", 4000), wave("e", 3000)
    await guard.send(*first)
    for name in ("w1", "w2", "w3"):
        guard.spawn(name, **FLEET_ENV)
    await decided_count(guard, 400)

    guard.signal("w2", signal.SIGTERM)
    assert await asyncio.to_thread(guard.wait_fleet_exit, "w2", 60) == 0
    await guard.send(*second)
    guard.spawn("w4", **FLEET_ENV)

    await assert_exactly_once(guard, first + second)


async def test_a_worker_frozen_past_its_session_timeout_is_fenced_when_it_wakes(
    guard: GuardHarness,
) -> None:
    await guard.protect(protection("rec-group", a_numbers=[PROTECTED_A_NUMBER]))
    first, second, third = wave("f", 3000), wave("g", 2000), wave("h", 2000)
    await guard.send(*first)
    guard.spawn("frozen", **FLEET_ENV)
    guard.spawn("survivor", **FLEET_ENV)
    await decided_count(guard, 300)

    guard.signal("frozen", signal.SIGSTOP)
    await guard.send(*second)
    # Everything sent so far can only be decided once the survivor holds the
    # frozen worker's partitions, i.e. after the frozen one's session expired.
    await decided_count(guard, len(first) + len(second))
    guard.signal("frozen", signal.SIGCONT)
    await guard.send(*third)

    await assert_exactly_once(guard, first + second + third)
    guard.stop_fleet()
    assert "assigned custody partitions" in guard.stderr_text()
