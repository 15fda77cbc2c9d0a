"""Identity as it arrives: the raw, un-normalized identifiers of one person.

Both sides of a match are reduced to this shape first: a custody event's
subject (one A-number, one name plus aliases) and a registry entry (several
A-numbers and names, because one person often has several identities in DHS
records). Normalization and blinding then work on one type only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class PersonName:
    """One name a person is known by, as typed upstream."""

    given_name: str | None
    """Given name(s); each of its words, and all of them run together, pairs with each
    family word in a name key (``guard.identity.names``)."""
    family_name: str | None
    """Family name(s), possibly several words (``GARCÍA LÓPEZ``), possibly holding the whole
    name (``GARCIA LOPEZ, JOSE``) when upstream typed it into one field."""
    middle_name: str | None = None
    """Middle name(s); each word pairs with each family word, like a given name."""

    def __repr__(self) -> str:
        return "PersonName(<redacted>)"


@dataclass(frozen=True, slots=True)
class Identity:
    """Every identifier of one person, un-normalized.

    Holds plaintext: it must never be logged, put in an exception message or
    leave the process. Only blinded keys derived from it may.
    """

    a_numbers: tuple[str, ...] = ()
    """A-numbers in any format (``A-012-345-678``, ``a12345678``, ``012345678``)."""
    fbi_numbers: tuple[str, ...] = ()
    fins_numbers: tuple[str, ...] = ()
    names: tuple[PersonName, ...] = ()
    """The primary name first, then aliases."""
    date_of_birth: date | None = None
    """Strong name keys need it; without it a name meets people only weakly (held, never
    dropped or published on that alone)."""

    def __repr__(self) -> str:
        # A repr that printed the fields would put plaintext identifiers into
        # tracebacks and debug logs.
        return (
            f"Identity(<{len(self.a_numbers)} a_numbers, {len(self.fbi_numbers)} fbi, "
            f"{len(self.fins_numbers)} fins, {len(self.names)} names, redacted>)"
        )
