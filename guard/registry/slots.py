"""A compact multimap from blinded keys to small numbers: the storage under both indexes.

The registry index (blinded key → protection record) and the publication
index (blinded key → published notice, for retractions) hold millions of
keys for the life of a worker. Each key costs 8 bytes here and nothing else:

* a key is reduced to the first 7 bytes of its digest (a *slot*, 56 bits).
  Two digests that share a slot can only make a key meet an entry it does
  not belong to (a false positive), never hide one. HMAC outputs are uniform
  and the key is secret, so with ten million keys held the chance that a
  given key meets another's slot is about 10^7 / 2^56, i.e. 1.4 * 10^-10,
  and nobody without the blinding key can aim for one;
* slots are spread over 65,536 buckets by their top 16 bits. A bucket is an
  ``array('Q')`` of entries ``(low 40 bits of the slot) << 24 | number``,
  kept sorted so ``bisect`` (in C) finds a slot's holders. A key several
  holders share simply has one entry per holder;
* new entries are appended and their bucket is sorted when next searched,
  so loading a million holders costs an append per key, not an insert;
  buckets are made on first use, so a small table stays small.
"""

from __future__ import annotations

import struct
from array import array
from bisect import bisect_left
from collections.abc import Iterable

SLOT_BYTES = 7
"""How much of a digest a table keeps (see the module docstring)."""
MAX_NUMBER = (1 << 24) - 1
"""The largest holder number (24 bits)."""
_NUMBER_BITS = 24
_NUMBER_MASK = (1 << _NUMBER_BITS) - 1
_BUCKET_SHIFT = 8 * SLOT_BYTES - 16
_LOW_MASK = (1 << _BUCKET_SHIFT) - 1
_from_bytes = int.from_bytes


def key_slot(key: bytes) -> int:
    """The integer under which a table files a blinded key."""
    return _from_bytes(key[:SLOT_BYTES], "big")


def pack_slots(keys: Iterable[bytes]) -> bytes:
    """Distinct slots of ``keys``, packed (8 bytes each) for :class:`SlotTable`."""
    return b"".join({b"\0" + key[:SLOT_BYTES] for key in keys})


def slot_keys(packed: bytes) -> list[bytes]:
    """Packed slots back as 7-byte keys: :meth:`SlotTable.holders` reads only the first 7
    bytes of a key, so these find what the full digests would."""
    return [packed[at + 1 : at + 8] for at in range(0, len(packed), 8)]


def unpack_slots(packed: bytes) -> tuple[int, ...]:
    """Slots from their packed form (each zero-extended to 8 bytes)."""
    return struct.unpack(f">{len(packed) // 8}Q", packed)


class SlotTable:
    """Slots → holder numbers, in 65,536 sorted buckets of packed 64-bit entries."""

    __slots__ = ("_buckets", "_unsorted")

    def __init__(self) -> None:
        self._buckets: list[array[int] | None] = [None] * (1 << 16)
        self._unsorted: set[int] = set()

    def add(self, packed: bytes, number: int) -> None:
        buckets, unsorted = self._buckets, self._unsorted
        for slot in unpack_slots(packed):
            bucket = slot >> _BUCKET_SHIFT
            entries = buckets[bucket]
            if entries is None:
                entries = buckets[bucket] = array("Q")
            entries.append((slot & _LOW_MASK) << _NUMBER_BITS | number)
            unsorted.add(bucket)

    def remove(self, packed: bytes, number: int) -> None:
        for slot in unpack_slots(packed):
            entries = self._buckets[slot >> _BUCKET_SHIFT]
            if entries is not None:
                entries.remove((slot & _LOW_MASK) << _NUMBER_BITS | number)  # keeps the order

    def holders(self, keys: Iterable[bytes], found: set[int]) -> set[int]:
        """Add to ``found`` the number of every holder of one of ``keys``."""
        for key in keys:
            slot = _from_bytes(key[:SLOT_BYTES], "big")
            entries = self._sorted_bucket(slot >> _BUCKET_SHIFT)
            if entries is None:
                continue
            low = slot & _LOW_MASK
            at = bisect_left(entries, low << _NUMBER_BITS)
            while at < len(entries) and entries[at] >> _NUMBER_BITS == low:
                found.add(entries[at] & _NUMBER_MASK)
                at += 1
        return found

    def distinct_slots(self) -> int:
        return sum(
            len({entry >> _NUMBER_BITS for entry in entries})
            for bucket in range(len(self._buckets))
            if (entries := self._sorted_bucket(bucket)) is not None
        )

    def entry_arrays(self) -> list[array[int]]:
        """The non-empty buckets (for tests of the memory layout)."""
        return [entries for entries in self._buckets if entries]

    def _sorted_bucket(self, bucket: int) -> array[int] | None:
        entries = self._buckets[bucket]
        if entries is not None and bucket in self._unsorted:
            entries = self._buckets[bucket] = array("Q", sorted(entries))
            self._unsorted.discard(bucket)
        return entries
