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
  record reference, the basis and its slots packed into ``bytes`` (to unlink
  them when the record changes or goes away); freed numbers are reused;
* strong and weak keys go into two separate tables (:class:`_SlotTable`),
  so a match can say whether it rests on a strong key of the record
  (:meth:`RegistryIndex.match_graded`).

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

CURRENT_KEY = 0
"""Key role of records blinded under the worker's current blinding key."""
PREVIOUS_KEY = 1
"""Key role of records blinded under the key a rotation is retiring."""
KEY_ROLES = 2


class RegistryFull(Exception):
    """More active records than record numbers; the reader halts rather than drop one."""


def key_slot(key: BlindedKey) -> int:
    """The integer under which the index files a blinded key."""
    return _from_bytes(key[:SLOT_BYTES], "big")


def _unpack_slots(packed: bytes) -> tuple[int, ...]:
    """A record's slots, from their packed form (each zero-extended to 8 bytes)."""
    return struct.unpack(f">{len(packed) // 8}Q", packed)


class _SlotTable:
    """Slots → record numbers, in 65,536 sorted buckets of packed 64-bit entries.

    Buckets are made on first use: an index for a small registry (or a test)
    does not pay for 65,536 empty arrays.
    """

    __slots__ = ("_buckets", "_unsorted")

    def __init__(self) -> None:
        self._buckets: list[array[int] | None] = [None] * (1 << 16)
        self._unsorted: set[int] = set()

    def add(self, packed: bytes, number: int) -> None:
        buckets, unsorted = self._buckets, self._unsorted
        for slot in _unpack_slots(packed):
            bucket = slot >> _BUCKET_SHIFT
            entries = buckets[bucket]
            if entries is None:
                entries = buckets[bucket] = array("Q")
            entries.append((slot & _LOW_MASK) << _NUMBER_BITS | number)
            unsorted.add(bucket)

    def remove(self, packed: bytes, number: int) -> None:
        for slot in _unpack_slots(packed):
            entries = self._buckets[slot >> _BUCKET_SHIFT]
            if entries is not None:
                entries.remove((slot & _LOW_MASK) << _NUMBER_BITS | number)  # keeps the order

    def holders(self, keys: Iterable[BlindedKey], found: set[int]) -> set[int]:
        """Add to ``found`` the number of every record holding one of ``keys``."""
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


class RegistryIndex:
    """Active protection records, looked up by blinded key.

    Not thread-safe: one task applies records and decisions read between
    applications, so a lookup never sees a half-applied record.
    """

    __slots__ = ("_bases", "_free", "_ids", "_numbers", "_role_counts", "_roles", "_slots",
                 "_strong", "_weak", "_weak_slots")  # fmt: skip

    def __init__(self) -> None:
        self._strong = _SlotTable()
        self._weak = _SlotTable()
        self._numbers: dict[str, int] = {}
        self._ids: list[str | None] = []
        self._bases = bytearray()
        self._slots: list[bytes] = []
        self._weak_slots: list[bytes] = []
        self._free: list[int] = []
        self._roles = bytearray()
        self._role_counts = [0] * KEY_ROLES

    def apply(
        self, record_ref: str, record: ProtectionRecord | None, *, key_role: int = CURRENT_KEY
    ) -> None:
        """Apply one registry message: a new version of ``record_ref``, or a tombstone (None).

        A new version replaces the old one's keys entirely; REVOKED and a
        tombstone both lift the protection. ``key_role`` says which blinding
        key made its digests (:data:`CURRENT_KEY` or :data:`PREVIOUS_KEY`),
        so :meth:`active_count_for` can tell when a retired key's records are gone.
        """
        if record_ref in self._numbers:
            self._remove(record_ref)
        if record is None or not record.is_active:
            return
        strong = {b"\0" + key[:SLOT_BYTES] for key in record.blinded_keys}
        weak = {b"\0" + key[:SLOT_BYTES] for key in record.weak_keys} - strong
        packed, weak_packed = b"".join(strong), b"".join(weak)
        number = self._allocate(record_ref, record.basis, packed, weak_packed)
        self._roles[number] = key_role
        self._role_counts[key_role] += 1
        self._strong.add(packed, number)
        self._weak.add(weak_packed, number)

    def match(self, keys: Iterable[BlindedKey]) -> tuple[Match, ...]:
        """Active records sharing at least one strong key with ``keys``, ordered by reference."""
        return self._matches(self._strong.holders(keys, set()), set())

    def match_graded(
        self, strong_probes: Iterable[BlindedKey], weak_probes: Iterable[BlindedKey]
    ) -> tuple[Match, ...]:
        """Every active record any probe meets, each once, ordered by reference.

        A match is strong only when a *strong* probe of the event meets a
        *strong* key of the record. Any other meeting (a weak probe, or a
        record's weak key) is a weak match: evidence, not a decision.
        """
        strong_probes, weak_probes = tuple(strong_probes), tuple(weak_probes)
        strong = self._strong.holders(strong_probes, set())
        weak = self._strong.holders(weak_probes, set())
        self._weak.holders(strong_probes, weak)
        self._weak.holders(weak_probes, weak)
        return self._matches(strong, weak - strong)

    def active_count_for(self, key_role: int) -> int:
        """Active records whose digests were made under ``key_role``'s key."""
        return self._role_counts[key_role]

    @property
    def active_count(self) -> int:
        """Active records held (every record held is active)."""
        return len(self._numbers)

    @property
    def key_count(self) -> int:
        """Distinct key slots held, strong and weak (barring a slot collision).

        Counted on demand (it walks every entry): for logs and tests, not the hot path.
        """
        return self._strong.distinct_slots() + self._weak.distinct_slots()

    def __len__(self) -> int:
        return len(self._numbers)

    def __contains__(self, record_ref: object) -> bool:
        return record_ref in self._numbers

    def __repr__(self) -> str:
        return f"RegistryIndex({self.active_count} active records, {self.key_count} keys)"

    def _matches(self, strong: set[int], weak: set[int]) -> tuple[Match, ...]:
        if not strong and not weak:
            return ()
        matches = [self._match(n, is_strong=True) for n in strong]
        matches += [self._match(n, is_strong=False) for n in weak]
        return tuple(sorted(matches, key=lambda m: m.record_ref))

    def _match(self, number: int, *, is_strong: bool) -> Match:
        record_ref = self._ids[number]
        if record_ref is None:  # a number is only ever found while its record is held
            raise LookupError(f"record number {number} is free")
        return Match(record_ref, _BASES[self._bases[number]], is_strong=is_strong)

    def _allocate(
        self, record_ref: str, basis: ProtectionBasis, packed: bytes, weak_packed: bytes
    ) -> int:
        if self._free:
            number = self._free.pop()
            self._ids[number] = record_ref
            self._bases[number] = _BASIS_NUMBER[basis]
            self._slots[number] = packed
            self._weak_slots[number] = weak_packed
        elif len(self._ids) > MAX_RECORDS:
            raise RegistryFull(f"more than {MAX_RECORDS} active registry records")
        else:
            number = len(self._ids)
            self._ids.append(record_ref)
            self._bases.append(_BASIS_NUMBER[basis])
            self._slots.append(packed)
            self._weak_slots.append(weak_packed)
            self._roles.append(CURRENT_KEY)
        self._numbers[record_ref] = number
        return number

    def _remove(self, record_ref: str) -> None:
        number = self._numbers.pop(record_ref)
        self._role_counts[self._roles[number]] -= 1
        self._strong.remove(self._slots[number], number)
        self._weak.remove(self._weak_slots[number], number)
        self._ids[number] = None
        self._slots[number] = self._weak_slots[number] = b""
        self._free.append(number)
