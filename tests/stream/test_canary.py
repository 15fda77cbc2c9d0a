"""``guard canary`` against a real worker on the real broker.

The canary must see three worlds apart: a guard that protects its people
(every event DROP, nothing late, nothing published), a guard that lost one
of its people's registry entries (the notice reaches the public topic and
is counted), and a guard that does not run (every event late).
"""

from __future__ import annotations

import secrets

from stream_harness import GuardHarness

from guard.canary.monitor import Canary, CanarySettings
from guard.config.settings import load_config


def canary_for(guard: GuardHarness, *, people: int, bound: float = 120.0) -> Canary:
    return Canary(guard.config, CanarySettings(interval=0.2, bound=bound, people=people))


async def test_a_protecting_guard_drops_every_canary_event(guard: GuardHarness) -> None:
    canary = canary_for(guard, people=2)
    await canary.install()
    guard.start_worker()

    counts = await canary.run(rounds=4)

    assert counts.sent == 4
    assert counts.decided == {"DROP": 4}
    assert (counts.late, counts.published) == (0, 0)
    assert counts.last_decided_at is not None
    # Nothing the canary sent names it a canary: its events look like anyone's.
    for record in await guard.decisions(at_least=4):
        assert "canary" not in repr(record).lower()


async def test_a_revoked_canary_entry_is_seen_as_a_publication(guard: GuardHarness) -> None:
    canary = canary_for(guard, people=1)
    await canary.install()
    await guard.revoke(canary.people[0].record_id)
    guard.start_worker()

    counts = await canary.run(rounds=2)

    assert counts.decided == {"PUBLISH": 2}
    assert counts.published == 2
    assert counts.late == 0


async def test_no_running_guard_makes_every_canary_event_late(guard: GuardHarness) -> None:
    canary = canary_for(guard, people=2, bound=3.0)
    await canary.install()

    counts = await canary.run(rounds=3)

    assert counts.sent == 3
    assert counts.late == 3
    assert (counts.decided, counts.published) == ({}, 0)


async def test_a_canary_installed_under_the_wrong_blinding_key_halts_the_guard_and_is_late(
    guard: GuardHarness,
) -> None:
    """Its registry entries carry another key's check value: the workers refuse the
    registry and publish nothing (fail closed), and the canary sees every event late."""
    wrong = load_config({**guard.env, "GUARD_BLINDING_KEY": secrets.token_hex(32)})
    canary = Canary(wrong, CanarySettings(interval=0.2, bound=10.0, people=2))
    await canary.install()
    guard.start_worker()

    counts = await canary.run(rounds=2)

    assert (counts.late, counts.decided, counts.published) == (2, {}, 0)
    assert "registry_halted" in guard.http_get("/readyz")[1]


async def test_a_canary_run_with_the_wrong_blinding_key_sees_its_people_published(
    guard: GuardHarness,
) -> None:
    """Installed right, restarted with another key (``--no-install``): its people are not
    the protected ones, so their events are published, and it cannot find its audit
    records: late and published, both alerts."""
    await canary_for(guard, people=2).install()
    guard.start_worker()
    await guard.wait_for_status("/readyz", 200)
    wrong = load_config({**guard.env, "GUARD_BLINDING_KEY": secrets.token_hex(32)})
    canary = Canary(wrong, CanarySettings(interval=0.2, bound=30.0, people=2))

    counts = await canary.run(rounds=2)

    assert counts.late == 2 and counts.decided == {}
    assert counts.published == 2
