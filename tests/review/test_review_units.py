"""The review pieces in process: the queue follower's bookkeeping and the listing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

from guard.cli.review import render_held, render_resolutions
from guard.codec.avro import codec_for
from guard.codec.jsonlines import custody_event_from_json
from guard.codec.schemas import SchemaName
from guard.decision.verdict import Reason
from guard.kafka.connection import KafkaConnection
from guard.policy.model import Decision
from guard.review.held import HeldEvent
from guard.review.resolve import Resolution
from guard.review.tracker import HeldEventTracker

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def held_value(held_at: datetime, event: bytes | None = b"raw") -> bytes:
    return codec_for(SchemaName.HELD_EVENT).encode({
        "input_topic": "custody", "input_partition": 0, "input_offset": 7, "event_ref": "e" * 64,
        "held_at": held_at, "reason": "weak_match", "match_strength": "WEAK",
        "bases": ["U_VISA"], "matched_record_refs": ["a" * 64], "policy_version": "v",
        "registry_offsets": {"0": 1}, "event": event, "event_size": len(event or b""),
    })  # fmt: skip


def test_the_tracker_counts_held_events_until_their_tombstones() -> None:
    published: list[tuple[int, float]] = []
    tracker = HeldEventTracker(connection=KafkaConnection.plaintext("unused"), topic="review",
                               publish=lambda n, t: published.append((n, t)))  # fmt: skip
    tracker.apply(b"custody/0/7", held_value(NOW - timedelta(hours=2)))
    tracker.apply(b"custody/1/9", held_value(NOW))
    assert tracker.held_count == 2
    assert tracker.oldest_held_at == (NOW - timedelta(hours=2)).timestamp()
    tracker.apply(b"custody/0/7", None)  # resolved
    assert tracker.held_count == 1
    assert tracker.oldest_held_at == NOW.timestamp()
    tracker.apply(b"custody/1/9", None)
    assert tracker.held_count == 0
    assert tracker.oldest_held_at is None


def test_an_unreadable_review_record_still_counts_as_held() -> None:
    tracker = HeldEventTracker(
        connection=KafkaConnection.plaintext("unused"), topic="review", publish=lambda n, t: None
    )
    tracker.apply(b"custody/0/8", b"\xff not avro")
    assert tracker.held_count == 1


def _held(position: str, hours: float, event: bytes | None) -> HeldEvent:
    decoded = codec_for(SchemaName.HELD_EVENT).decode(held_value(NOW - timedelta(hours=hours),
                                                                 event))  # fmt: skip
    return HeldEvent.from_avro(position, decoded)


def test_the_listing_hides_identifiers_unless_asked() -> None:
    event = codec_for(SchemaName.CUSTODY_EVENT).encode(custody_event_from_json({
        "event_id": "e", "occurred_at": "2026-11-30T10:00:00Z", "source_system": "S",
        "subject": {"given_name": "Zenobya", "family_name": "Quillfeather",
                    "a_number": "A-555-000-111", "date_of_birth": "1981-04-06"},
        "custody": {"status": "IN_CUSTODY", "status_changed_at": "2026-11-30T10:00:00Z"},
    }))  # fmt: skip
    held = [_held("custody/0/7", 30, event), _held("custody/2/1", 0.5, None)]
    plain = render_held(held, show_identifiers=False, now=NOW)
    assert plain.splitlines()[1].startswith("custody/0/7")  # oldest first
    assert "1d06h" in plain and "30m" in plain and "weak_match" in plain
    assert "Zenobya" not in plain and "555" not in plain
    shown = render_held(held, show_identifiers=True, now=NOW)
    assert "Zenobya Quillfeather; A-number A-555-000-111; born 1981-04-06" in shown
    assert "not copied" in shown
    assert repr(held[0]).startswith("HeldEvent(custody/0/7")
    assert "Zenobya" not in repr(held[0])
    assert render_held([], show_identifiers=True) == "no events are held"


def test_resolutions_print_one_line_each_and_fail_when_one_was_not_done() -> None:
    out = StringIO()
    status = render_resolutions([
        Resolution("custody/0/7", Decision.PUBLISH, Reason.REVIEW_RELEASED),
        Resolution("custody/0/8", Decision.HOLD, Reason.WEAK_MATCH, "custody/0/8: not held"),
    ], out)  # fmt: skip
    assert status == 1
    assert out.getvalue().splitlines() == [
        "custody/0/7: PUBLISH (review_released)", "custody/0/8: not held"]  # fmt: skip
