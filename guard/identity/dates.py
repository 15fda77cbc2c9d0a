"""Dates of birth as custody and registry data really hold them.

A date of birth turns a common name into one person, so it sits in every
strong name key. Real feeds hold three kinds of trouble with it:

* **sentinels** that mean "unknown" (1900-01-01, 1970-01-01 which is Avro
  date 0, spreadsheet epochs, 9999-12-31): absent, never part of a key;
* **year only**, written as January 1: a real date as far as anyone can
  tell, so it keys as itself, but the person may have been born on any
  day of that year, so the name is also looked up as if undated;
* **typing and conversion slips**: day and month swapped, one day off after
  a time-zone conversion. The event side looks these readings up as weak
  probes (:func:`nearby_readings`); the registry keeps only what was typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

EARLIEST_BIRTH_YEAR = 1900
"""Dates before this year are taken for fillers, not births."""

SENTINEL_DATES = frozenset(
    {
        date(1, 1, 1),
        date(1800, 1, 1),
        date(1899, 12, 30),  # spreadsheet day 0
        date(1899, 12, 31),
        date(1900, 1, 1),
        date(1900, 1, 2),
        date(1901, 1, 1),
        date(1970, 1, 1),  # Unix and Avro date 0
        date(9999, 12, 31),
    }
)


@dataclass(frozen=True, slots=True)
class BirthDate:
    """A date of birth judged usable, with what kind of date it may really be."""

    value: date

    @property
    def may_be_year_only(self) -> bool:
        """January 1 is how many systems write "born in that year"."""
        return self.value.month == 1 and self.value.day == 1

    @property
    def key(self) -> str:
        return self.value.isoformat()


def usable_birth_date(value: date | None) -> BirthDate | None:
    """The date as a :class:`BirthDate`, or None when it is absent or a sentinel."""
    if value is None or value in SENTINEL_DATES or value.year < EARLIEST_BIRTH_YEAR:
        return None
    return BirthDate(value)


def partial_readings(birth: BirthDate) -> tuple[str, str, str]:
    """The date with one of its three parts blanked out (``1985-11-??``, ``1985-??-02``,
    ``????-11-02``). Two dates that share one of these agree in two parts of three: a
    mistyped month, day or year (``1985-01-02``, ``1958-11-02``) still meets."""
    year, month, day = birth.value.year, birth.value.month, birth.value.day
    return (f"{year:04d}-{month:02d}-??", f"{year:04d}-??-{day:02d}", f"????-{month:02d}-{day:02d}")


def nearby_readings(birth: BirthDate) -> tuple[str, ...]:
    """Other dates the same birth may have been typed as: day/month swapped, one day off.

    Ordered, without the date itself and without repeats.
    """
    value = birth.value
    readings: list[date] = []
    if value.day <= 12 and value.day != value.month:
        readings.append(date(value.year, value.day, value.month))
    for shift in (-1, 1):
        try:
            readings.append(value + timedelta(days=shift))
        except OverflowError:
            continue
    seen: dict[str, None] = {}
    for reading in readings:
        if reading != value:
            seen.setdefault(reading.isoformat(), None)
    return tuple(seen)
