"""``guard review list | release | confirm``: the reviewer's side of held events.

``list`` shows what is held, by position, with its reasons and age; the
subject's identifiers only with ``--show-identifiers`` (the reviewer is
entitled to them, a shoulder-surfer is not). ``release`` and ``confirm``
resolve held events exactly once (:mod:`guard.review.resolve`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TextIO

from guard.codec.avro import codec_for
from guard.codec.errors import DecodeError
from guard.codec.schemas import SchemaName
from guard.review.held import HeldEvent
from guard.review.resolve import Resolution

_COLUMNS = ("position", "held for", "reason", "match", "bases", "records")


def render_held(
    held: Sequence[HeldEvent], *, show_identifiers: bool, now: datetime | None = None
) -> str:
    """A table of held events, oldest first."""
    moment = now or datetime.now(UTC)
    rows = [list(_COLUMNS) + (["subject"] if show_identifiers else [])]
    for event in sorted(held, key=lambda e: e.held_at):
        row = [
            event.position,
            _age(moment - event.held_at),
            event.reason,
            event.match_strength,
            ",".join(event.bases) or "-",
            ",".join(ref[:12] for ref in event.matched_record_refs) or "-",
        ]
        if show_identifiers:
            row.append(_subject(event))
        rows.append(row)
    if len(rows) == 1:
        return "no events are held"
    widths = [max(len(row[n]) for row in rows) for n in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def render_resolutions(resolutions: Sequence[Resolution], out: TextIO) -> int:
    """One line per position; returns the exit status (1 if any position was not resolved)."""
    status = 0
    for resolution in resolutions:
        if resolution.is_done:
            out.write(
                f"{resolution.position}: {resolution.decision.value} ({resolution.reason.value})\n"
            )
        else:
            out.write(f"{resolution.problem}\n")
            status = 1
    return status


def _age(delta: object) -> str:
    seconds = int(getattr(delta, "total_seconds", lambda: 0)())
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"


def _subject(event: HeldEvent) -> str:
    """Given and family name, A-number and date of birth, as the event typed them."""
    if event.event is None:
        return f"(event of {event.event_size} bytes not copied; see the custody topic)"
    try:
        subject = codec_for(SchemaName.CUSTODY_EVENT).decode(event.event)["subject"]
    except DecodeError:
        return "(undecodable)"
    born = subject.get("date_of_birth")
    parts = [
        f"{subject.get('given_name', '')} {subject.get('family_name', '')}".strip(),
        f"A-number {subject.get('a_number') or '-'}",
        f"born {born.isoformat() if born else '-'}",
    ]
    return "; ".join(parts)
