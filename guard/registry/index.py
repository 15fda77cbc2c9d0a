"""The in-memory registry: blinded key → protected records, for O(1) lookups.

Sized for millions of records with several keys each, so memory per record
and per key is kept small:

* a blinded key is held as the integer of its first 8 bytes (a *slot*), not
  as the 32-byte digest: a Python int of 64 bits takes 40 bytes where a
  32-byte ``bytes`` takes 72, and keys are most of the index. Two different
  digests that share their first 8 bytes can only make an event match a
  record it does not belong to (a false positive: the event is dropped),
  never hide a match. HMAC outputs are uniform and the key is secret, so
  with ten million keys held the chance that a given event's key meets
  another's slot is about 10^7 / 2^64, i.e. 5 * 10^-13, and nobody without
  the blinding key can aim for one;
* one ``dict`` from slot to record id. The value is the record id string
  itself in the usual case of a key held by one record, and becomes a
  ``set`` only for a key several records share (one person registered
  twice, two people with the same name and birth date). A set per key would
  cost ~200 bytes on every key instead of on the rare shared one;
* one ``dict`` from record reference to a small object (``__slots__``, no
  per-record ``__dict__``): the basis and the tuples of the record's slots,
  needed to unlink them when the record changes or goes away;
* strong and weak keys are filed in two separate maps, so a match can say
  whether it rests on a strong key of the record (see
  :meth:`RegistryIndex.match_graded`);
* the record id string and the slot ints are the same objects in both
  dicts, so neither is stored twice.

Measured (docs/BENCHMARKS.md): ~134 bytes per key plus ~120 per record with
tracemalloc; a worker holding 1M records peaks at 627 MiB with 3.6 keys per
record and at 1,130 MiB with 10 keys per record.

Only ACTIVE records are held: a REVOKED version or a tombstone removes the
record and its keys, so a lookup never has to filter.

Checks on the record itself (its id equals the message key, its keys were
blinded under the current key id) belong to the registry reader, which can
halt on a bad record; this index trusts what it is given.
"""

from __future__ import annotations

from collections.abc import Iterable

from guard.registry.model import BlindedKey, Match, ProtectionBasis, ProtectionRecord

SLOT_BYTES = 8
"""How much of a digest the index keeps (see the module docstring)."""


class _IndexedRecord:
    """What the index keeps of one active record."""

    __slots__ = ("basis", "slots", "weak_slots")

    def __init__(
        self, basis: ProtectionBasis, slots: tuple[int, ...], weak_slots: tuple[int, ...]
    ) -> None:
        self.basis = basis
        self.slots = slots
        self.weak_slots = weak_slots


def key_slot(key: BlindedKey) -> int:
    """The integer under which the index files a blinded key."""
    return int.from_bytes(key[:SLOT_BYTES], "big")


class RegistryIndex:
    """Active protection records, looked up by blinded key.

    Not thread-safe: one task applies records and decisions read between
    applications, so a lookup never sees a half-applied record.
    """

    __slots__ = ("_by_key", "_by_weak_key", "_records")

    def __init__(self) -> None:
        self._by_key: dict[int, str | set[str]] = {}
        self._by_weak_key: dict[int, str | set[str]] = {}
        self._records: dict[str, _IndexedRecord] = {}

    def apply(self, record_ref: str, record: ProtectionRecord | None) -> None:
        """Apply one registry message: a new version of ``record_ref``, or a tombstone (None).

        A new version replaces the old one's keys entirely; REVOKED and a
        tombstone both lift the protection.
        """
        self._remove(record_ref)
        if record is None or not record.is_active:
            return
        slots = tuple({key_slot(key) for key in record.blinded_keys})
        weak_slots = tuple({key_slot(key) for key in record.weak_keys} - set(slots))
        self._records[record_ref] = _IndexedRecord(record.basis, slots, weak_slots)
        for slot in slots:
            _link(self._by_key, slot, record_ref)
        for slot in weak_slots:
            _link(self._by_weak_key, slot, record_ref)

    def match(self, keys: Iterable[BlindedKey]) -> tuple[Match, ...]:
        """Active records sharing at least one strong key with ``keys``, ordered by reference."""
        found = _holders(self._by_key, keys)
        records = self._records
        return tuple(Match(ref, records[ref].basis) for ref in sorted(found))

    def match_graded(
        self, strong_probes: Iterable[BlindedKey], weak_probes: Iterable[BlindedKey]
    ) -> tuple[Match, ...]:
        """Every active record any probe meets, each once, ordered by reference.

        A match is strong only when a *strong* probe of the event meets a
        *strong* key of the record. Any other meeting (a weak probe, or a
        record's weak key) is a weak match: evidence, not a decision.
        """
        strong_probes = tuple(strong_probes)
        weak_probes = tuple(weak_probes)
        strong = _holders(self._by_key, strong_probes)
        weak = _holders(self._by_key, weak_probes)
        weak |= _holders(self._by_weak_key, strong_probes)
        weak |= _holders(self._by_weak_key, weak_probes)
        weak -= strong
        if not strong and not weak:
            return ()
        records = self._records
        return tuple(
            Match(ref, records[ref].basis, is_strong=ref in strong)
            for ref in sorted(strong | weak)
        )

    @property
    def active_count(self) -> int:
        """Active records held (every record held is active)."""
        return len(self._records)

    @property
    def key_count(self) -> int:
        """Distinct key slots held, strong and weak (barring a slot collision)."""
        return len(self._by_key) + len(self._by_weak_key)

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, record_ref: object) -> bool:
        return record_ref in self._records

    def __repr__(self) -> str:
        return f"RegistryIndex({self.active_count} active records, {self.key_count} keys)"

    def _remove(self, record_ref: str) -> None:
        indexed = self._records.pop(record_ref, None)
        if indexed is None:
            return
        for slot in indexed.slots:
            _unlink(self._by_key, slot, record_ref)
        for slot in indexed.weak_slots:
            _unlink(self._by_weak_key, slot, record_ref)


def _holders(by_key: dict[int, str | set[str]], keys: Iterable[BlindedKey]) -> set[str]:
    found: set[str] = set()
    for key in keys:
        holder = by_key.get(int.from_bytes(key[:SLOT_BYTES], "big"))
        if holder is None:
            continue
        if isinstance(holder, str):
            found.add(holder)
        else:
            found.update(holder)
    return found


def _link(by_key: dict[int, str | set[str]], slot: int, record_ref: str) -> None:
    holder = by_key.get(slot)
    if holder is None:
        by_key[slot] = record_ref
    elif isinstance(holder, str):
        if holder != record_ref:
            by_key[slot] = {holder, record_ref}
    else:
        holder.add(record_ref)


def _unlink(by_key: dict[int, str | set[str]], slot: int, record_ref: str) -> None:
    holder = by_key.get(slot)
    if holder is None:
        return
    if isinstance(holder, str):
        if holder == record_ref:
            del by_key[slot]
        return
    holder.discard(record_ref)
    if len(holder) == 1:
        (by_key[slot],) = holder
    elif not holder:
        del by_key[slot]
