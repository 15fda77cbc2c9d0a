"""HOLD, release and confirm on the real broker; the poison-pill loop gone.

The review commands run as an operator runs them (``python -m guard review
...``), against the worker's own topics, registry and keys.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from typing import Any

from aiokafka import AIOKafkaProducer
from stream_harness import GuardHarness, by_event, custody_event, protection

from guard.codec.avro import codec_for
from guard.codec.jsonlines import custody_event_from_json
from guard.codec.schemas import SchemaName
from guard.review.held import load_held
from guard.review.resolve import review_transactional_id

ZENOBIA = protection(
    "rec-A246813579",  # an operator who typed an A-number into the record id
    a_numbers=["A-246-813-579"],
    names=[{"given_name": "Zenobia", "family_name": "Quillfeather"}],
    date_of_birth="1981-04-05",
)
PLANTED = ("246813579", "Zenobia", "Zenobya", "Quillfeather", "1981-04-0", "rec-A246813579",
           "CASE-NOTE")  # fmt: skip


def weak_variant(event_id: str, **changes: Any) -> dict[str, Any]:
    """An event that meets Zenobia on weak keys only: a typo and a date one day off."""
    subject = {"a_number": "A-555-000-111", "given_name": "Zenobya",
               "family_name": "Quillfeather", "date_of_birth": "1981-04-06", **changes}  # fmt: skip
    return custody_event(event_id, **subject)


def position_of(decision: dict[str, Any]) -> str:
    return f"{decision['input_topic']}/{decision['input_partition']}/{decision['input_offset']}"


def review(guard: GuardHarness, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "guard", "review", *args],
        env={**os.environ, **guard.env},
        capture_output=True,
        text=True,
        timeout=180,
    )


async def wait_for_metric(guard: GuardHarness, line: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = await asyncio.to_thread(guard.http_get, "/metrics")
        if status == 200 and line in body.splitlines():
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"/metrics never showed {line!r}")


async def test_weak_matches_are_held_then_released_or_confirmed_exactly_once(
    guard: GuardHarness,
) -> None:
    await guard.protect(ZENOBIA)
    guard.start_worker()
    events = [
        custody_event("strong", a_number="A-246-813-579"),
        weak_variant("to-release"),
        weak_variant("to-confirm", given_name="Zenobbia"),
        custody_event(
            "free", a_number="A-777-000-222", given_name="Ana", family_name="Ruiz",
            date_of_birth="1990-06-15",
        ),
    ]
    await guard.send(*events)
    decided = by_event(await guard.decisions(at_least=len(events)))
    assert decided["strong"]["decision"] == "DROP"
    assert decided["free"]["decision"] == "PUBLISH"
    for held in ("to-release", "to-confirm"):
        assert (decided[held]["decision"], decided[held]["reason"]) == ("HOLD", "weak_match")
        assert decided[held]["match_strength"] == "WEAK"
    held_positions = {name: position_of(decided[name]) for name in ("to-release", "to-confirm")}
    assert set(await load_held(guard.config)) == set(held_positions.values())
    await wait_for_metric(guard, "guard_review_held_events 2.0")

    listing = review(guard, "list")
    assert listing.returncode == 0, listing.stderr
    for position in held_positions.values():
        assert position in listing.stdout
    assert not any(planted in listing.stdout for planted in PLANTED)
    shown = review(guard, "list", "--show-identifiers")
    assert "Zenobya Quillfeather" in shown.stdout  # the reviewer is entitled to see them

    released = review(guard, "release", held_positions["to-release"], "--operator", "rev-1")
    assert released.returncode == 0, released.stderr
    assert "PUBLISH (review_released)" in released.stdout
    again = review(guard, "release", held_positions["to-release"], "--operator", "rev-1")
    assert again.returncode == 1 and "not held" in again.stdout
    confirmed = review(guard, "confirm", held_positions["to-confirm"], "--operator", "rev-2")
    assert confirmed.returncode == 0 and "DROP (review_confirmed)" in confirmed.stdout

    assert await load_held(guard.config) == {}
    await wait_for_metric(guard, "guard_review_held_events 0.0")
    notices = await guard.notices(at_least=2)
    assert Counter(n["event_id"] for n in notices) == {"free": 1, "to-release": 1}
    audit = await guard.decisions(at_least=len(events) + 2)
    reviewed = [d for d in audit if d["stage"] == "REVIEWED"]
    assert sorted((d["event_id"], d["decision"], d["reason"], d["actor"]) for d in reviewed) == [
        ("to-confirm", "DROP", "review_confirmed", "rev-2"),
        ("to-release", "PUBLISH", "review_released", "rev-1"),
    ]
    assert Counter(d["stage"] for d in audit) == {"DECIDED": len(events), "REVIEWED": 2}
    # No identifier, not even the operator's record id, in any output or the worker's log.
    everything = "".join(map(str, audit)) + "".join(map(str, notices)) + guard.log_text()
    for planted in ("246813579", "rec-A246813579", "CASE-NOTE", "1981-04-0"):
        assert planted not in everything, planted


async def test_a_release_that_now_meets_a_protection_strongly_is_dropped(
    guard: GuardHarness,
) -> None:
    await guard.protect(ZENOBIA)
    guard.start_worker()
    await guard.send(weak_variant("late"))
    (held,) = await guard.decisions(at_least=1)
    assert held["decision"] == "HOLD"
    # The registry learns the held subject's own A-number before the reviewer acts.
    await guard.protect(protection("rec-late", a_numbers=["A-555-000-111"]))
    released = review(guard, "release", position_of(held), "--operator", "rev-1")
    assert "DROP (review_now_protected)" in released.stdout, released.stdout + released.stderr
    assert await guard.notices(at_least=0) == []


async def test_a_release_interrupted_mid_transaction_is_published_once(
    guard: GuardHarness,
) -> None:
    await guard.protect(ZENOBIA)
    guard.start_worker()
    await guard.send(weak_variant("interrupted"))
    (held,) = await guard.decisions(at_least=1)
    position = position_of(held)
    # A review command that died after writing its notice and tombstone, before
    # committing: the same transactional id, a transaction left open.
    dead = AIOKafkaProducer(bootstrap_servers=guard.config.brokers,
                            transactional_id=review_transactional_id(guard.config))  # fmt: skip
    await dead.start()
    await dead.begin_transaction()
    await dead.send_and_wait(guard.topics.public, b"half a release", key=b"k")
    await dead.send_and_wait(guard.topics.review, None, key=position.encode())
    # (no commit, no abort: the process is gone; its connection closes)
    await dead.client.close()

    released = review(guard, "release", position, "--operator", "rev-1")
    assert "PUBLISH (review_released)" in released.stdout, released.stdout + released.stderr
    notices = await guard.notices(at_least=1)
    assert [n["event_id"] for n in notices] == ["interrupted"]  # never the aborted write
    assert review(guard, "release", position, "--operator", "rev-1").returncode == 1


async def test_a_pathological_event_is_rejected_once_and_the_stream_goes_on(
    guard: GuardHarness,
) -> None:
    """Once, an event with hundreds of name words made an audit record over the producer's
    limit: the transaction failed, the worker restarted and failed again, for ever."""
    guard.start_worker()
    words = " ".join(f"Name{n}" for n in range(400))
    aliases = [{"given_name": f"Al{n}", "family_name": "Ias"} for n in range(300)]
    await guard.send(
        custody_event("many-words", a_number="A-100-200-300", given_name=words,
                      family_name=words),
        custody_event("many-aliases", a_number="A-100-200-304", aliases=aliases),
        custody_event("after", a_number="A-100-200-301", given_name="Ana", family_name="Ruiz"),
    )  # fmt: skip
    # Nearly a megabyte that does not decode: its dead letter cannot carry it whole.
    big = custody_event("near-limit", a_number="A-100-200-302")
    big["case_notes"] = "x" * 950_000
    raw = codec_for(SchemaName.CUSTODY_EVENT).encode(custody_event_from_json(big)) + b"\x00"
    await guard.send_raw(guard.topics.custody, raw)
    await guard.send(custody_event("last", a_number="A-100-200-303"))
    decided = by_event(await guard.decisions(at_least=5))
    for name in ("many-words", "many-aliases"):
        assert (decided[name]["decision"], decided[name]["reason"]) == (
            "REJECT", "identity_too_large")  # fmt: skip
    assert decided["after"]["decision"] == decided["last"]["decision"] == "PUBLISH"
    letters = await guard.dead_letters(at_least=3)
    omitted = [dict(r.headers).get("guard.value.omitted") for r in letters]
    assert str(len(raw)).encode() in omitted
    assert all(len(r.value or b"") < 1_000_000 for r in letters)
    assert guard.process is not None and guard.process.poll() is None  # it never exited


async def test_a_released_notice_stands_weak_evidence_but_a_strong_protection_withdraws_it(
    guard: GuardHarness,
) -> None:
    """The worker follows the notices a reviewer publishes: the weak evidence the reviewer
    judged does not withdraw it, a protection of the released subject's own A-number does."""
    await guard.protect(ZENOBIA)
    guard.start_worker()
    await guard.send(weak_variant("to-release"))
    (held,) = await guard.decisions(at_least=1)
    released = review(guard, "release", position_of(held), "--operator", "rev-1")
    assert "PUBLISH (review_released)" in released.stdout, released.stdout + released.stderr
    await guard.protect(ZENOBIA)  # applied again: weak evidence only, the review stands
    await guard.protect(protection("rec-released", a_numbers=["A-555-000-111"]))

    deadline = time.monotonic() + 90
    while not (retracted := [d for d in await guard.decisions(at_least=0, timeout=1.0)
                             if d["stage"] == "RETRACTED"]) and time.monotonic() < deadline:
        await asyncio.sleep(0.5)  # fmt: skip

    assert [(d["input_offset"], d["match_strength"]) for d in retracted] == [
        (held["input_offset"], "STRONG")
    ]
    assert guard.record_ref("rec-released") in retracted[0]["matched_record_refs"]
