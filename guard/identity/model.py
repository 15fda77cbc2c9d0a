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
    """Given name(s); its first token pairs with each family token in a name key."""
    family_name: str | None
    """Family name(s), possibly several tokens (``GARCÍA LÓPEZ``)."""
    middle_name: str | None = None
    """Middle name(s); only joins the all-tokens key."""

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
    """Name keys need it: a name alone is never a key."""

    def __repr__(self) -> str:
        # A repr that printed the fields would put plaintext identifiers into
        # tracebacks and debug logs.
        return (
            f"Identity(<{len(self.a_numbers)} a_numbers, {len(self.fbi_numbers)} fbi, "
            f"{len(self.fins_numbers)} fins, {len(self.names)} names, redacted>)"
        )
