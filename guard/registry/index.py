"""The in-memory registry: blinded key → protected records, compact enough for 10M keys.

Sized for a million records with ten keys each well inside 1 GiB, so each
key costs 8 bytes in a flat array and nothing else:

* a key is reduced to the first 7 bytes of its digest (a *slot*, 56 bits).
  Two digests that share a slot can only make an event match a record it
  does not belong to (a false positive: the event is dropped), never hide a
  match. HMAC outputs are uniform and the key is secret, so with ten million
  keys held the chance that a given event key meets another's slot is about
  10^7 / 2^56, i.e. 1.4 * 10^-10, and nobody without the blinding key can
  aim for one;
* slots are spread over 65,536 buckets by their top 16 bits. A bucket is an
  ``array('Q')`` of entries ``(low 40 bits of the slot) << 24 | record
  number``, kept sorted so ``bisect`` (in C) finds a slot's holders. A key
  several records share (one person registered twice, two people with the
  same name and birth date) simply has one entry per holder;
* new entries are appended and their bucket is sorted when next searched,
  so restoring a million records costs an append per key, not an insert;
* a record is a 24-bit number (at most 16,777,215 records at once; more
  stops the registry reader, fail closed). Per number the index keeps the
  record id, the basis and its slots packed into one ``bytes`` (to unlink
  them when the record changes or goes away); freed numbers are reused.

Where a ``dict`` of int → record id took ~134 bytes per key, this takes
~9 (docs/BENCHMARKS.md has the measured restore RSS).

Only ACTIVE records are held: a REVOKED version or a tombstone removes the
record and its keys, so a lookup never has to filter.

Checks on the record itself (its id equals the message key, its keys were
blinded under the current key id) belong to the registry reader, which can
halt on a bad record; this index trusts what it is given.
"""

from __future__ import annotations

import struct
from array import array
from bisect import bisect_left
from collections.abc import Iterable

from guard.registry.model import BlindedKey, Match, ProtectionBasis, ProtectionRecord

SLOT_BYTES = 7
"""How much of a digest the index keeps (see the module docstring)."""
MAX_RECORDS = (1 << 24) - 1
_NUMBER_BITS = 24
_NUMBER_MASK = (1 << _NUMBER_BITS) - 1
_BUCKET_SHIFT = 8 * SLOT_BYTES - 16
_LOW_MASK = (1 << _BUCKET_SHIFT) - 1
_BASES = tuple(ProtectionBasis)
_BASIS_NUMBER = {basis: n for n, basis in enumerate(_BASES)}
_from_bytes = int.from_bytes


class RegistryFull(Exception):
    """More active records than record numbers; the reader halts rather than drop one."""


def key_slot(key: BlindedKey) -> int:
    """The integer under which the index files a blinded key."""
    return _from_bytes(key[:SLOT_BYTES], "big")


def _unpack_slots(packed: bytes) -> tuple[int, ...]:
    """A record's slots, from their packed form (each zero-extended to 8 bytes)."""
    return struct.unpack(f">{len(packed) // 8}Q", packed)


class RegistryIndex:
    """Active protection records, looked up by blinded key.

    Not thread-safe: one task applies records and decisions read between
    applications, so a lookup never sees a half-applied record.
    """

    __slots__ = ("_bases", "_buckets", "_free", "_ids", "_numbers", "_slots", "_unsorted")

    def __init__(self) -> None:
        self._buckets = [array("Q") for _ in range(1 << 16)]
        self._unsorted: set[int] = set()
        self._numbers: dict[str, int] = {}
        self._ids: list[str | None] = []
        self._bases = bytearray()
        self._slots: list[bytes] = []
        self._free: list[int] = []

    def apply(self, record_id: str, record: ProtectionRecord | None) -> None:
        """Apply one registry message: a new version of ``record_id``, or a tombstone (None).

        A new version replaces the old one's keys entirely; REVOKED and a
        tombstone both lift the protection.
        """
        if record_id in self._numbers:
            self._remove(record_id)
        if record is None or not record.is_active:
            return
        packed = b"".join({b"\0" + key[:SLOT_BYTES] for key in record.blinded_keys})
        number = self._allocate(record_id, record.basis, packed)
        buckets, unsorted = self._buckets, self._unsorted
        for slot in _unpack_slots(packed):
            bucket = slot >> _BUCKET_SHIFT
            buckets[bucket].append((slot & _LOW_MASK) << _NUMBER_BITS | number)
            unsorted.add(bucket)

    def match(self, keys: Iterable[BlindedKey]) -> tuple[Match, ...]:
        """Active records sharing at least one key, each once, ordered by record id."""
        found: set[int] = set()
        for key in keys:
            slot = _from_bytes(key[:SLOT_BYTES], "big")
            entries = self._sorted_bucket(slot >> _BUCKET_SHIFT)
            low = slot & _LOW_MASK
            at = bisect_left(entries, low << _NUMBER_BITS)
            while at < len(entries) and entries[at] >> _NUMBER_BITS == low:
                found.add(entries[at] & _NUMBER_MASK)
                at += 1
        if not found:
            return ()
        ids, bases = self._ids, self._bases
        matches = [Match(ids[n], _BASES[bases[n]]) for n in found]  # type: ignore[arg-type]
        return tuple(sorted(matches, key=lambda m: m.record_id))

    @property
    def active_count(self) -> int:
        """Active records held (every record held is active)."""
        return len(self._numbers)

    @property
    def key_count(self) -> int:
        """Distinct key slots held (distinct blinded keys, barring a slot collision).

        Counted on demand (it walks every entry): for logs and tests, not the hot path.
        """
        return sum(
            len({entry >> _NUMBER_BITS for entry in self._sorted_bucket(bucket)})
            for bucket in range(len(self._buckets))
        )

    def __len__(self) -> int:
        return len(self._numbers)

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._numbers

    def __repr__(self) -> str:
        return f"RegistryIndex({self.active_count} active records, {self.key_count} keys)"

    def _sorted_bucket(self, bucket: int) -> array[int]:
        entries = self._buckets[bucket]
        if bucket in self._unsorted:
            entries = self._buckets[bucket] = array("Q", sorted(entries))
            self._unsorted.discard(bucket)
        return entries

    def _allocate(self, record_id: str, basis: ProtectionBasis, packed: bytes) -> int:
        if self._free:
            number = self._free.pop()
            self._ids[number] = record_id
            self._bases[number] = _BASIS_NUMBER[basis]
            self._slots[number] = packed
        elif len(self._ids) > MAX_RECORDS:
            raise RegistryFull(f"more than {MAX_RECORDS} active registry records")
        else:
            number = len(self._ids)
            self._ids.append(record_id)
            self._bases.append(_BASIS_NUMBER[basis])
            self._slots.append(packed)
        self._numbers[record_id] = number
        return number

    def _remove(self, record_id: str) -> None:
        number = self._numbers.pop(record_id)
        for slot in _unpack_slots(self._slots[number]):
            entries = self._buckets[slot >> _BUCKET_SHIFT]
            entries.remove((slot & _LOW_MASK) << _NUMBER_BITS | number)  # keeps the order
        self._ids[number] = None
        self._slots[number] = b""
        self._free.append(number)
