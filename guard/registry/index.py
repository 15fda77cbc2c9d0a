"""The in-memory registry: blinded key → protected records, for O(1) lookups.

Sized for millions of records with several keys each, so memory per record
and per key is kept small:

* one ``dict`` from blinded key to record id. The value is the record id
  string itself in the usual case of a key held by one record, and becomes
  a ``set`` only for a key several records share (one person registered
  twice, two people with the same name and birth date). A set per key would
  cost ~200 bytes on every key instead of on the rare shared one;
* one ``dict`` from record id to a two-slot object (``__slots__``, no
  per-record ``__dict__``) holding the basis and the tuple of its keys, the
  keys being needed to unlink them when the record changes or goes away;
* the record id string and the key bytes are the same objects in both
  dicts, so neither is stored twice.

Measured with tracemalloc (CPython 3.11, 100,000 records of 10 keys each):
about 1.3 KB per record, i.e. ~130 bytes per key, most of it the 32-byte
digest object and its dict slot; 1 million such records take ~1.3 GB.

Only ACTIVE records are held: a REVOKED version or a tombstone removes the
record and its keys, so a lookup never has to filter.

Checks on the record itself (its id equals the message key, its keys were
blinded under the current key id) belong to the registry reader, which can
halt on a bad record; this index trusts what it is given.
"""

from __future__ import annotations

from collections.abc import Iterable

from guard.registry.model import BlindedKey, Match, ProtectionBasis, ProtectionRecord


class _IndexedRecord:
    """What the index keeps of one active record."""

    __slots__ = ("basis", "keys")

    def __init__(self, basis: ProtectionBasis, keys: tuple[BlindedKey, ...]) -> None:
        self.basis = basis
        self.keys = keys


class RegistryIndex:
    """Active protection records, looked up by blinded key.

    Not thread-safe: one task applies records and decisions read between
    applications, so a lookup never sees a half-applied record.
    """

    __slots__ = ("_by_key", "_records")

    def __init__(self) -> None:
        self._by_key: dict[BlindedKey, str | set[str]] = {}
        self._records: dict[str, _IndexedRecord] = {}

    def apply(self, record_id: str, record: ProtectionRecord | None) -> None:
        """Apply one registry message: a new version of ``record_id``, or a tombstone (None).

        A new version replaces the old one's keys entirely; REVOKED and a
        tombstone both lift the protection.
        """
        self._remove(record_id)
        if record is None or not record.is_active:
            return
        keys = tuple(record.blinded_keys)
        self._records[record_id] = _IndexedRecord(record.basis, keys)
        for key in keys:
            self._link(key, record_id)

    def match(self, keys: Iterable[BlindedKey]) -> tuple[Match, ...]:
        """Active records sharing at least one key, each once, ordered by record id."""
        found: set[str] = set()
        for key in keys:
            holder = self._by_key.get(key)
            if holder is None:
                continue
            if isinstance(holder, str):
                found.add(holder)
            else:
                found.update(holder)
        return tuple(
            Match(record_id, self._records[record_id].basis) for record_id in sorted(found)
        )

    @property
    def active_count(self) -> int:
        """Active records held (every record held is active)."""
        return len(self._records)

    @property
    def key_count(self) -> int:
        """Distinct blinded keys held."""
        return len(self._by_key)

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._records

    def __repr__(self) -> str:
        return f"RegistryIndex({self.active_count} active records, {self.key_count} keys)"

    def _link(self, key: BlindedKey, record_id: str) -> None:
        holder = self._by_key.get(key)
        if holder is None:
            self._by_key[key] = record_id
        elif isinstance(holder, str):
            if holder != record_id:
                self._by_key[key] = {holder, record_id}
        else:
            holder.add(record_id)

    def _remove(self, record_id: str) -> None:
        indexed = self._records.pop(record_id, None)
        if indexed is None:
            return
        for key in indexed.keys:
            holder = self._by_key.get(key)
            if holder is None:
                continue
            if isinstance(holder, str):
                if holder == record_id:
                    del self._by_key[key]
                continue
            holder.discard(record_id)
            if len(holder) == 1:
                (self._by_key[key],) = holder
            elif not holder:
                del self._by_key[key]
