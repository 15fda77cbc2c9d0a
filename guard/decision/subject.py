"""The subject of a custody event, as an :class:`Identity` the key functions understand."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from guard.decision.fields import optional_date, optional_records, optional_str, require_str
from guard.identity.model import Identity, PersonName


def subject_identity(subject: Mapping[str, Any]) -> Identity:
    """Every identifier of the subject: A-number, FBI/FINS, primary name and aliases, DOB.

    The primary name (with its middle name) comes first, then the aliases:
    the public reference uses the first name, the match uses them all.

    Raises:
        InvalidEvent: a field is missing or of the wrong type.
    """
    a_number = optional_str(subject, "a_number", "subject.a_number")
    fbi_number = optional_str(subject, "fbi_number", "subject.fbi_number")
    fins_number = optional_str(subject, "fins_number", "subject.fins_number")
    primary = PersonName(
        given_name=require_str(subject, "given_name", "subject.given_name"),
        family_name=require_str(subject, "family_name", "subject.family_name"),
        middle_name=optional_str(subject, "middle_name", "subject.middle_name"),
    )
    aliases = tuple(
        PersonName(
            given_name=require_str(alias, "given_name", f"subject.aliases[{n}].given_name"),
            family_name=require_str(alias, "family_name", f"subject.aliases[{n}].family_name"),
        )
        for n, alias in enumerate(optional_records(subject, "aliases", "subject.aliases"))
    )
    return Identity(
        a_numbers=(a_number,) if a_number is not None else (),
        fbi_numbers=(fbi_number,) if fbi_number is not None else (),
        fins_numbers=(fins_number,) if fins_number is not None else (),
        names=(primary, *aliases),
        date_of_birth=optional_date(subject, "date_of_birth", "subject.date_of_birth"),
    )
