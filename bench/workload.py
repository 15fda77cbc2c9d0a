"""Synthetic people, registry records and custody events for the benchmarks.

Everything is generated from a seeded ``random.Random`` so two runs decide the
same events against the same registry. No real person's data is involved.

Registry records come in two kinds:

* **protected people** (a pool of a few thousand): real identities, turned into
  keys by the guard's own ``registry_keys`` and blinded with the run's key,
  exactly as ``guard registry import`` does. The protected share of the event
  mix refers to them, under varied spellings, so matches go through the real
  normalize → blind → look-up path;
* **filler**: the rest of a large registry. Their keys are 32 random bytes
  each: an HMAC-SHA256 output is indistinguishable from that, and generating
  a million records through normalization and HMAC would only slow the set-up.
  The number of keys per filler record is drawn from the key counts of
  generated identities, so the index holds as many keys as a real registry of
  the same people would.
"""

from __future__ import annotations

import random
import string
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from guard.codec.avro import codec_for
from guard.codec.schemas import SchemaName
from guard.identity.blind import Blinder
from guard.identity.keys import registry_keys
from guard.identity.model import Identity, PersonName
from guard.registry.model import ProtectionBasis, ProtectionRecord, ProtectionStatus

GIVEN_NAMES = (
    "José",
    "María",
    "Ana",
    "Luis",
    "Carlos",
    "Juan",
    "Rosa",
    "Elena",
    "Miguel",
    "Sofía",
    "Nguyễn",
    "Mei",
    "Wei",
    "Olga",
    "Fatima",
    "Amina",
    "Omar",
    "Yusuf",
    "Ivan",
    "Søren",
    "Łukasz",
    "Zoë",
    "Chloé",
    "François",
    "Aïcha",
    "Ngozi",
    "Kwame",
    "Priya",
    "Arjun",
    "Thảo",
    "Jean-Baptiste",
    "Mary Jane",
    "Ali",
    "Hana",
    "Tomás",
    "Inés",
    "Dmitri",
    "Esperanza",
)
FAMILY_NAMES = (
    "García",
    "López",
    "Martínez",
    "Hernández",
    "González",
    "Pérez",
    "Rodríguez",
    "Sánchez",
    "Ramírez",
    "Torres",
    "Flores",
    "Rivera",
    "Gómez",
    "Díaz",
    "Cruz",
    "Morales",
    "Reyes",
    "Nguyen",
    "Tran",
    "Le",
    "Kim",
    "Park",
    "Singh",
    "Khan",
    "Ahmed",
    "Okafor",
    "Mensah",
    "Kowalski",
    "Müller",
    "O'Brien",
    "García López",
    "De la Cruz",
    "Van der Berg",
    "Ibrahim",
)
MIDDLE_NAMES = ("Luz", "del Carmen", "Antonio", "Guadalupe", "Isabel", "José", "Ann")
FACILITIES = (
    ("KRO", "Krome North SPC", "Miami", "FL"),
    ("OTR", "Otero County PC", "Chaparral", "NM"),
    ("ELZ", "Elizabeth CF", "Elizabeth", "NJ"),
    ("STC", "South Texas ICE PC", "Pearsall", "TX"),
    ("ADL", "Adelanto ICE PC", "Adelanto", "CA"),
)
STATUSES = ("IN_CUSTODY", "TRANSFERRED", "RELEASED", "REMOVED")
BASES = tuple(ProtectionBasis)
EPOCH = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Person:
    """One synthetic person: plaintext identifiers, as a custody system would hold them."""

    a_number: str
    """Nine digits, canonical."""
    fbi_number: str | None
    given_name: str
    middle_name: str | None
    family_name: str
    date_of_birth: date

    def identity(self) -> Identity:
        return Identity(
            a_numbers=(self.a_number,),
            fbi_numbers=(self.fbi_number,) if self.fbi_number else (),
            names=(PersonName(self.given_name, self.family_name, self.middle_name),),
            date_of_birth=self.date_of_birth,
        )


@dataclass(frozen=True, slots=True)
class EventMix:
    """Shares of the custody stream; the rest is unprotected."""

    protected: float = 0.05
    malformed: float = 0.01


class Workload:
    """One seeded source of people, registry records and encoded custody events."""

    def __init__(self, seed: int, blinder: Blinder, *, protected_pool: int = 2000) -> None:
        self._rng = random.Random(seed)
        self._blinder = blinder
        self._a_numbers: set[str] = set()
        self._codec = codec_for(SchemaName.CUSTODY_EVENT)
        self.protected = [self.person(is_protected=True) for _ in range(protected_pool)]
        self.protected_records = [
            self._protected_record(f"prot-{n:07d}", person)
            for n, person in enumerate(self.protected)
        ]
        sample = [len(registry_keys(self.person().identity())) for _ in range(500)]
        self.key_counts: tuple[int, ...] = tuple(sample)

    @property
    def mean_keys_per_record(self) -> float:
        return sum(self.key_counts) / len(self.key_counts)

    # -- people --------------------------------------------------------------

    def person(self, *, is_protected: bool = False) -> Person:
        """A new person with an A-number no one else generated here has.

        Protected people are born in years 1950 + 4k between January 2 and June
        29, everyone else in years 1952 + 4k from July on, so an unprotected
        event never meets a protected person by chance, not even weakly (a
        nearby or swapped date, a year-only date, a sound-alike or family name
        all need the same year; a date with one part mistyped needs two parts of
        three alike, and year and month both differ): every unprotected event
        must be published, which the latency scenario counts on.
        """
        rng = self._rng
        while True:
            a_number = f"{rng.randrange(10**9):09d}"
            if a_number not in self._a_numbers:
                self._a_numbers.add(a_number)
                break
        return Person(
            a_number=a_number,
            fbi_number=_fbi_number(rng) if rng.random() < 0.3 else None,
            given_name=rng.choice(GIVEN_NAMES),
            middle_name=rng.choice(MIDDLE_NAMES) if rng.random() < 0.3 else None,
            family_name=rng.choice(FAMILY_NAMES),
            date_of_birth=(
                date(1950 + 4 * rng.randrange(14), 1, 2) + timedelta(days=rng.randrange(179))
                if is_protected
                else date(1952 + 4 * rng.randrange(14), 7, 1) + timedelta(days=rng.randrange(184))
            ),
        )

    # -- registry ------------------------------------------------------------

    def _protected_record(self, record_ref: str, person: Person) -> ProtectionRecord:
        keys = registry_keys(person.identity())
        return _record(
            record_ref,
            self._rng.choice(BASES),
            self._blinder.key_id,
            self._blinder.blind_all(keys.strong),
            self._blinder.blind_all(keys.weak),
        )

    def registry(
        self, size: int, *, keys_per_record: int | None = None
    ) -> Iterator[ProtectionRecord]:
        """``size`` records: the protected pool first, then random-key filler.

        Filler records get as many keys as generated identities do, or exactly
        ``keys_per_record`` (a registry of people with aliases and long names).
        """
        yield from self.protected_records[:size]
        rng = self._rng
        for n in range(max(0, size - len(self.protected_records))):
            count = keys_per_record or rng.choice(self.key_counts)
            keys = frozenset(rng.randbytes(32) for _ in range(count))
            yield _record(f"rec-{n:08d}", rng.choice(BASES), self._blinder.key_id, keys)

    def protection_for(self, record_id: str, person: Person) -> ProtectionRecord:
        """A new ACTIVE record for ``person`` (registry update → effective)."""
        return self._protected_record(record_id, person)

    # -- custody events --------------------------------------------------------

    def events(self, count: int, mix: EventMix, *, prefix: str = "evt") -> list[bytes]:
        """``count`` encoded custody events (malformed ones are arbitrary bytes)."""
        return [self.event_bytes(f"{prefix}-{n:08d}", mix) for n in range(count)]

    def event_bytes(self, event_id: str, mix: EventMix) -> bytes:
        return self.mixed_event(event_id, mix)[0]

    def mixed_event(self, event_id: str, mix: EventMix) -> tuple[bytes, dict[str, Any] | None]:
        """One event drawn from ``mix``: its bytes, and the event itself when it must be
        published (unprotected), else None (protected or malformed)."""
        roll = self._rng.random()
        if roll < mix.malformed:
            return self.malformed_bytes(event_id), None
        if roll < mix.malformed + mix.protected:
            event = self.protected_event(event_id, self._rng.choice(self.protected))
            return self.encode(event), None
        event = self.unprotected_event(event_id)
        return self.encode(event), event

    def encode(self, event: dict[str, Any]) -> bytes:
        return self._codec.encode(event)

    def unprotected_event(self, event_id: str) -> dict[str, Any]:
        return self.unprotected_person_event(event_id)[1]

    def unprotected_person_event(self, event_id: str) -> tuple[Person, dict[str, Any]]:
        """A new unprotected person and an event about them (to protect them later)."""
        person = self.person()
        rng = self._rng
        return person, self._event(
            event_id,
            a_number=_format_a_number(rng, person.a_number),
            fbi_number=person.fbi_number,
            given_name=person.given_name,
            middle_name=person.middle_name,
            family_name=person.family_name,
            # Always dated: an undated event whose name a protected person shares
            # is held for review (a weak match), and the names here are few.
            date_of_birth=person.date_of_birth,
        )

    def protected_event(self, event_id: str, person: Person) -> dict[str, Any]:
        """An event about a protected person under one of several spellings."""
        rng = self._rng
        variant = rng.randrange(5)
        a_number: str | None = _format_a_number(rng, person.a_number)
        fbi_number = None
        given, family, middle = person.given_name, person.family_name, person.middle_name
        date_of_birth: date | None = person.date_of_birth
        if variant == 1:  # no A-number: name and date of birth only, upper case, no accents
            a_number = None
            given, family = _plain_upper(given), _plain_upper(family)
        elif variant == 2:  # given and family swapped by a clerk, no A-number
            a_number = None
            given, family, middle = family, given, None
        elif variant == 3 and person.fbi_number:  # only the FBI number, other separators
            a_number, date_of_birth = None, None
            fbi_number = "-".join(
                person.fbi_number[i : i + 3] for i in range(0, len(person.fbi_number), 3)
            ).lower()
        elif variant == 4:  # a new A-number the registry does not know, but the name and DOB
            a_number = _format_a_number(rng, self.person(is_protected=True).a_number)
        return self._event(
            event_id,
            a_number=a_number,
            fbi_number=fbi_number,
            given_name=given,
            middle_name=middle,
            family_name=family,
            date_of_birth=date_of_birth,
        )

    def malformed_bytes(self, event_id: str) -> bytes:
        rng = self._rng
        kind = rng.randrange(3)
        if kind == 0:
            return rng.randbytes(rng.randrange(1, 300))
        valid = self.encode(self.unprotected_event(event_id))
        if kind == 1:
            return valid[: rng.randrange(1, len(valid))]
        return valid + b"\x00"

    def _event(self, event_id: str, **subject: Any) -> dict[str, Any]:
        rng = self._rng
        code, name, city, state = rng.choice(FACILITIES)
        occurred = EPOCH + timedelta(seconds=rng.randrange(86400))
        return {
            "event_id": event_id,
            "occurred_at": occurred,
            "source_system": "BENCH",
            "subject": {
                "a_number": subject["a_number"],
                "fbi_number": subject["fbi_number"],
                "fins_number": None,
                "given_name": subject["given_name"],
                "middle_name": subject["middle_name"],
                "family_name": subject["family_name"],
                "aliases": [],
                "date_of_birth": subject["date_of_birth"],
                "country_of_birth": "MX",
            },
            "custody": {
                "status": rng.choice(STATUSES),
                "facility_code": code,
                "facility_name": name,
                "facility_city": city,
                "facility_state": state,
                "status_changed_at": occurred - timedelta(minutes=5),
            },
            "case_notes": "synthetic benchmark event; internal only",
        }


def _record(
    record_ref: str,
    basis: ProtectionBasis,
    key_id: str,
    keys: frozenset[bytes],
    weak_keys: frozenset[bytes] = frozenset(),
) -> ProtectionRecord:
    return ProtectionRecord(
        record_ref=record_ref,
        basis=basis,
        status=ProtectionStatus.ACTIVE,
        created_at=EPOCH,
        updated_at=EPOCH,
        blinding_key_id=key_id,
        blinded_keys=keys,
        weak_keys=weak_keys,
    )


def _fbi_number(rng: random.Random) -> str:
    return (
        "".join(rng.choice(string.digits) for _ in range(6))
        + "".join(rng.choice(string.ascii_uppercase) for _ in range(2))
        + rng.choice(string.digits)
    )


def _format_a_number(rng: random.Random, digits: str) -> str:
    """One of the spellings upstream systems use for the same A-number."""
    style = rng.randrange(5)
    if style == 0:
        return f"A-{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    if style == 1:
        return "a" + digits
    if style == 2:
        return f"A {digits[:3]} {digits[3:6]} {digits[6:]}"
    if style == 3:
        return digits.lstrip("0").zfill(7)
    return digits


def _plain_upper(name: str) -> str:
    stripped = "".join(
        ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch)
    )
    return stripped.upper()
