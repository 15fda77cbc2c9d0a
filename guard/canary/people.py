"""Synthetic protected people, derived from the blinding key: recognisable to no one else.

A canary must look like any other person to everything downstream (nothing
in its events says "canary", since subscribers would otherwise learn to
spot protected people by the same mark) and yet be recognisable to the
guard's operators. So each canary person is *derived* from the registry
blinding key: the A-number, names and date of birth come from HMACs of
``canary-<n>``. Anyone without the key sees an ordinary-looking person;
an operator with it can recompute them (``guard canary`` does).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from guard.identity.blind import Blinder

_CONSONANTS = "bdfgklmnprstvz"
_VOWELS = "aeiou"


@dataclass(frozen=True, slots=True)
class CanaryPerson:
    """One synthetic protected person. Holds made-up identifiers: still never logged."""

    number: int
    a_number: str
    given_name: str
    family_name: str
    date_of_birth: date

    @property
    def record_id(self) -> str:
        """The operator's record id of its registry entry."""
        return f"canary-{self.number}"

    def registry_entry(self) -> dict[str, object]:
        """The ``guard registry import`` line that protects it."""
        return {
            "record_id": self.record_id,
            "basis": "OTHER_1367",
            "status": "ACTIVE",
            "a_numbers": [self.a_number],
            "names": [{"given_name": self.given_name, "family_name": self.family_name}],
            "date_of_birth": self.date_of_birth.isoformat(),
        }

    def custody_event(self, event_id: str, now: datetime) -> dict[str, object]:
        """A custody event about it, in ``guard produce``'s JSON form: an ordinary booking."""
        stamp = now.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return {
            "event_id": event_id, "occurred_at": stamp, "source_system": "EARM",
            "subject": {"a_number": self.a_number, "given_name": self.given_name,
                        "family_name": self.family_name,
                        "date_of_birth": self.date_of_birth.isoformat()},
            "custody": {"status": "IN_CUSTODY", "status_changed_at": stamp},
        }  # fmt: skip

    def __repr__(self) -> str:
        return f"CanaryPerson({self.number})"


MAX_CANARY_PEOPLE = 100
"""``guard canary --people`` at most; ids ``canary-0`` .. ``canary-99`` are the canary's."""


def canary_record_ids() -> list[str]:
    """Every record id a canary person can have (what a key rotation must account for)."""
    return [f"canary-{number}" for number in range(MAX_CANARY_PEOPLE)]


def canary_people(blinder: Blinder, count: int) -> list[CanaryPerson]:
    """The first ``count`` canary people under this blinding key (always the same ones)."""
    return [_person(blinder, n) for n in range(count)]


def _person(blinder: Blinder, number: int) -> CanaryPerson:
    digest = blinder.blind(f"canary-{number}")
    digits = int.from_bytes(digest[:8], "big") % 900_000_000 + 100_000_000
    born = date(1950, 1, 2) + timedelta(days=int.from_bytes(digest[8:10], "big") % 18_000)
    return CanaryPerson(
        number=number,
        a_number=f"A{digits:09d}",
        given_name=_word(digest[10:14]),
        family_name=_word(digest[14:19]),
        date_of_birth=born,
    )


def _word(seed: bytes) -> str:
    """A pronounceable made-up name: consonant-vowel syllables, one per byte."""
    letters = []
    for byte in seed:
        letters.append(_CONSONANTS[byte % len(_CONSONANTS)])
        letters.append(_VOWELS[byte // len(_CONSONANTS) % len(_VOWELS)])
    return "".join(letters).capitalize()
