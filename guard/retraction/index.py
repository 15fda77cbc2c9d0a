"""Which published notices a protection would meet: one compact index per custody partition.

A worker holds the publications of the custody partitions it owns, so that
when a protection arrives it can find, at once, every notice it published
about that person. A million notices must fit beside the registry, so each
costs a fixed 73 bytes and no object (its notice id and subject reference,
32 raw bytes each, its custody offset and a state byte: withdrawn, full,
redacted, or released by a reviewer) plus one 8-byte
:class:`~guard.registry.slots.SlotTable` entry per probe key and one for its
id. docs/BENCHMARKS.md has the measured cost per notice. A withdrawn notice
is only marked dead (retractions are rare; its table entries are skipped
from then on).

A match is graded as the registry grades one: strong when a strong probe
of the event meets a strong key of the protection, weak for any other
meeting.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass

from guard.registry.slots import MAX_NUMBER, SlotTable, pack_slots
from guard.retraction.model import Publication

_ID_BYTES = 32
_DEAD, _FULL, _REDACTED, _REVIEWED = 0, 1, 2, 3


@dataclass(frozen=True, slots=True)
class Published:
    """A live notice the index holds, as a retraction needs it."""

    notice_id: str
    subject_ref: str
    input_offset: int
    is_redacted: bool
    is_reviewed: bool = False
    """Released by a reviewer after weak evidence: only a strong match withdraws it."""


class PartitionFull(Exception):
    """More notices than one partition's index can number; the worker stops (fail closed)."""


class PublicationIndex:
    """The live notices published from one custody partition, found by probe key."""

    __slots__ = ("_alive", "_by_id", "_by_key", "_by_weak", "_ids", "_live", "_offsets", "_refs")

    def __init__(self) -> None:
        self._ids = bytearray()
        self._refs = bytearray()
        self._offsets = array("q")
        self._alive = bytearray()
        self._by_key = SlotTable()
        self._by_weak = SlotTable()
        self._by_id = SlotTable()
        self._live = 0

    def __len__(self) -> int:
        """Live notices held."""
        return self._live

    def add(self, publication: Publication) -> None:
        """Hold ``publication`` (a second copy of a live notice is ignored)."""
        raw_id = bytes.fromhex(publication.notice_id)
        if self._number_of(raw_id) is not None:
            return
        number = len(self._alive)
        if number > MAX_NUMBER:
            raise PartitionFull(f"more than {MAX_NUMBER} notices on one custody partition")
        self._ids += raw_id
        self._refs += bytes.fromhex(publication.subject_ref)
        self._offsets.append(publication.input_offset)
        self._alive.append(_state_of(publication))
        self._by_key.add(pack_slots(publication.blinded_keys), number)
        self._by_weak.add(pack_slots(publication.weak_keys), number)
        self._by_id.add(pack_slots((raw_id,)), number)
        self._live += 1

    def holds(self, notice_id: str) -> bool:
        """Whether ``notice_id`` is a live notice here (a cheap check before decoding)."""
        return self._number_of(bytes.fromhex(notice_id)) is not None

    def remove(self, notice_id: str) -> None:
        """Forget a withdrawn notice (a tombstone on the publications topic)."""
        number = self._number_of(bytes.fromhex(notice_id))
        if number is not None:
            self._alive[number] = _DEAD
            self._live -= 1

    def matching(
        self, strong: Iterable[bytes], weak: Iterable[bytes] = ()
    ) -> list[tuple[Published, bool]]:
        """Live notices a protection with these keys meets (digests or 7-byte slot keys),
        each once with whether the meeting is strong."""
        strong, weak = tuple(strong), tuple(weak)
        strongly = self._by_key.holders(strong, set())
        weakly = self._by_key.holders(weak, set())
        self._by_weak.holders(strong, weakly)
        self._by_weak.holders(weak, weakly)
        graded = [(n, True) for n in strongly] + [(n, False) for n in weakly - strongly]
        return [(self._published(n), firm) for n, firm in sorted(graded) if self._alive[n]]

    def _number_of(self, raw_id: bytes) -> int | None:
        for number in self._by_id.holders((raw_id,), set()):
            start = number * _ID_BYTES
            if self._alive[number] and self._ids[start : start + _ID_BYTES] == raw_id:
                return number
        return None

    def _published(self, number: int) -> Published:
        start = number * _ID_BYTES
        return Published(
            notice_id=self._ids[start : start + _ID_BYTES].hex(),
            subject_ref=self._refs[start : start + _ID_BYTES].hex(),
            input_offset=self._offsets[number],
            is_redacted=self._alive[number] == _REDACTED,
            is_reviewed=self._alive[number] == _REVIEWED,
        )

    def __repr__(self) -> str:
        return f"PublicationIndex({self._live} live notices)"


def _state_of(publication: Publication) -> int:
    if publication.is_redacted:
        return _REDACTED
    return _REVIEWED if publication.is_reviewed else _FULL
