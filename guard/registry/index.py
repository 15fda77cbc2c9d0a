"""The in-memory registry: blinded key → protected records, compact enough for 10M keys.

Sized for a million records with ten keys each well inside 1 GiB: keys live
in :class:`~guard.registry.slots.SlotTable` (8 bytes a key, nothing else; the
module says how and what a 56-bit slot can and cannot get wrong). A record
is a 24-bit number (at most 16,777,215 records at once; more stops the
registry reader, fail closed). Per number the index keeps the record
reference, the basis and its slots packed into ``bytes`` (to unlink them
when the record changes or goes away); freed numbers are reused. Strong and
weak keys go into two separate tables, so a match can say whether it rests
on a strong key of the record (:meth:`RegistryIndex.match_graded`).

Where a ``dict`` of int → record id took ~134 bytes per key, this takes
~9 (docs/BENCHMARKS.md has the measured restore RSS).

Only ACTIVE records are held: a REVOKED version or a tombstone removes the
record and its keys, so a lookup never has to filter.

Checks on the record itself (its id equals the message key, its keys were
blinded under the current key id) belong to the registry reader, which can
halt on a bad record; this index trusts what it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from guard.registry.model import BlindedKey, Match, ProtectionBasis, ProtectionRecord
from guard.registry.slots import MAX_NUMBER, SlotTable, key_slot, pack_slots, slot_keys

__all__ = ["RegistryFull", "RegistryIndex", "key_slot"]

MAX_RECORDS = MAX_NUMBER

ProtectionListener = Callable[[Match, list[bytes], list[bytes]], None]
"""Gets an applied ACTIVE record's match, its strong keys and its weak keys (both as
7-byte slot keys)."""
_BASES = tuple(ProtectionBasis)
_BASIS_NUMBER = {basis: n for n, basis in enumerate(_BASES)}

CURRENT_KEY = 0
"""Key role of records blinded under the worker's current blinding key."""
PREVIOUS_KEY = 1
"""Key role of records blinded under the key a rotation is retiring."""
KEY_ROLES = 2


class RegistryFull(Exception):
    """More active records than record numbers; the reader halts rather than drop one."""


class RegistryIndex:
    """Active protection records, looked up by blinded key.

    Not thread-safe: one task applies records and decisions read between
    applications, so a lookup never sees a half-applied record.
    """

    __slots__ = ("_bases", "_free", "_ids", "_listeners", "_numbers", "_role_counts", "_roles",
                 "_slots", "_strong", "_weak", "_weak_slots")  # fmt: skip

    def __init__(self) -> None:
        self._strong = SlotTable()
        self._weak = SlotTable()
        self._numbers: dict[str, int] = {}
        self._ids: list[str | None] = []
        self._bases = bytearray()
        self._slots: list[bytes] = []
        self._weak_slots: list[bytes] = []
        self._free: list[int] = []
        self._roles = bytearray()
        self._role_counts = [0] * KEY_ROLES
        self._listeners: list[ProtectionListener] = []

    def add_listener(self, listener: ProtectionListener) -> None:
        """Call ``listener`` with each record that becomes (or stays) ACTIVE, once applied.

        Retraction listens: a protection that arrives after notices were
        published about the person withdraws them.
        """
        self._listeners.append(listener)

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
        packed = pack_slots(record.blinded_keys)
        weak_packed = pack_slots(record.weak_keys - record.blinded_keys)
        number = self._allocate(record_ref, record.basis, packed, weak_packed)
        self._roles[number] = key_role
        self._role_counts[key_role] += 1
        self._strong.add(packed, number)
        self._weak.add(weak_packed, number)
        for listener in self._listeners:
            listener(self._match(number, is_strong=True), slot_keys(packed), slot_keys(weak_packed))

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

    def active_records(self) -> Iterator[tuple[Match, list[bytes], list[bytes]]]:
        """Every active record with its strong and weak keys (as 7-byte slot keys, which
        the tables look up like digests): what a sweep of published notices checks."""
        for number, record_ref in enumerate(self._ids):
            if record_ref is not None:
                match = self._match(number, is_strong=True)
                yield match, slot_keys(self._slots[number]), slot_keys(self._weak_slots[number])

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
