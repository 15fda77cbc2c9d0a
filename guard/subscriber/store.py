"""The subscriber's SQLite store: notices by id, tombstones and retractions as deletes.

A lookup service (a VINE-like "is this person in custody, where?") keeps the
public feed in a database. Two things make it safe with the guard's
retractions: a tombstone on the public topic deletes every row of that
subject reference, and a retraction record deletes the notice it names
(history rows a compacted topic no longer shows). Each fetch is applied with
the consumer offsets it reached in one SQLite transaction, so a crash never
applies a record twice or skips one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from guard.identity.errors import InvalidIdentifier
from guard.identity.numbers import canonical_a_number

_SCHEMA = """
CREATE TABLE IF NOT EXISTS notices (
    notice_id TEXT PRIMARY KEY,
    subject_ref TEXT NOT NULL,
    a_number TEXT,
    given_name TEXT,
    family_name TEXT,
    name_key TEXT,
    custody_status TEXT NOT NULL,
    facility_name TEXT,
    facility_city TEXT,
    facility_state TEXT,
    status_changed_at TEXT NOT NULL,
    occurred_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notices_by_subject ON notices (subject_ref);
CREATE INDEX IF NOT EXISTS notices_by_a_number ON notices (a_number);
CREATE INDEX IF NOT EXISTS notices_by_name ON notices (name_key);
CREATE TABLE IF NOT EXISTS offsets (
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    next_offset INTEGER NOT NULL,
    PRIMARY KEY (topic, partition)
);
"""


@dataclass(frozen=True, slots=True)
class Change:
    """One record of the public or retractions topic, as the store applies it."""

    topic: str
    partition: int
    offset: int
    kind: str
    """``notice``, ``tombstone`` (public topic, by subject_ref) or ``retraction``."""
    subject_ref: str
    notice: Mapping[str, Any] | None = None
    notice_id: str | None = None


class SubscriberStore:
    """The notices a subscriber holds, and how far into each topic it has read."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path)
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def next_offsets(self) -> dict[tuple[str, int], int]:
        rows = self._db.execute("SELECT topic, partition, next_offset FROM offsets")
        return {(topic, partition): offset for topic, partition, offset in rows}

    def apply(self, changes: Iterable[Change]) -> int:
        """Apply ``changes`` and the offsets after them in one transaction; how many."""
        count = 0
        with self._db:
            for change in changes:
                self._apply(change)
                self._db.execute(
                    "INSERT INTO offsets VALUES (?, ?, ?) ON CONFLICT (topic, partition) "
                    "DO UPDATE SET next_offset = excluded.next_offset",
                    (change.topic, change.partition, change.offset + 1),
                )
                count += 1
        return count

    def _apply(self, change: Change) -> None:
        if change.kind == "tombstone":
            self._db.execute("DELETE FROM notices WHERE subject_ref = ?", (change.subject_ref,))
        elif change.kind == "retraction":
            self._db.execute("DELETE FROM notices WHERE notice_id = ?", (change.notice_id,))
        elif change.notice is not None:
            n = change.notice
            self._db.execute(
                "INSERT OR REPLACE INTO notices VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    n["notice_id"], n["subject_ref"], n["a_number"], n["given_name"],
                    n["family_name"], _name_key(n["given_name"], n["family_name"]),
                    n["custody_status"], n["facility_name"], n["facility_city"],
                    n["facility_state"], _iso(n["status_changed_at"]), _iso(n["occurred_at"]),
                ),
            )  # fmt: skip

    def by_a_number(self, a_number: str) -> list[dict[str, Any]]:
        """Notices about this A-number, written in any usual form; none if unreadable."""
        try:
            canonical = canonical_a_number(a_number)
        except InvalidIdentifier:
            return []
        return self._select("a_number = ?", canonical)

    def by_name(self, given_name: str, family_name: str) -> list[dict[str, Any]]:
        return self._select("name_key = ?", _name_key(given_name, family_name))

    def count(self) -> int:
        (count,) = self._db.execute("SELECT COUNT(*) FROM notices").fetchone()
        return int(count)

    def _select(self, where: str, value: object) -> list[dict[str, Any]]:
        cursor = self._db.execute(
            f"SELECT * FROM notices WHERE {where} ORDER BY occurred_at", (value,)
        )
        columns = [column[0] for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor]


def _name_key(given: str | None, family: str | None) -> str:
    return " ".join(part.strip().casefold() for part in (given or "", family or "") if part)


def _iso(moment: datetime) -> str:
    return moment.isoformat()
