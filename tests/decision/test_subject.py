"""Reading an event's subject into an Identity, refusing wrong types by field."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from decision_builders import custody_event

from guard.decision.errors import InvalidEvent
from guard.decision.subject import subject_identity
from guard.identity.model import PersonName


def subject(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = custody_event()["subject"]
    record.update(changes)
    return record


def test_subject_becomes_an_identity() -> None:
    identity = subject_identity(
        subject(
            a_number="A-012-345-678",
            fbi_number="F1",
            fins_number="S1",
            given_name="José",
            middle_name="Luis",
            family_name="García",
            aliases=[{"given_name": "Pepe", "family_name": "Ruiz"}],
            date_of_birth=date(1980, 2, 3),
        )
    )
    assert identity.a_numbers == ("A-012-345-678",)
    assert identity.fbi_numbers == ("F1",)
    assert identity.fins_numbers == ("S1",)
    assert identity.names == (PersonName("José", "García", "Luis"), PersonName("Pepe", "Ruiz"))
    assert identity.date_of_birth == date(1980, 2, 3)


def test_absent_optional_fields_are_empty() -> None:
    record = {"given_name": "Ana", "family_name": "Ruiz"}
    identity = subject_identity(record)
    assert identity.a_numbers == identity.fbi_numbers == identity.fins_numbers == ()
    assert identity.names == (PersonName("Ana", "Ruiz"),)
    assert identity.date_of_birth is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"a_number": 12345678}, "subject.a_number"),
        ({"fbi_number": b"F1"}, "subject.fbi_number"),
        ({"fins_number": ["S1"]}, "subject.fins_number"),
        ({"given_name": None}, "subject.given_name"),
        ({"family_name": 7}, "subject.family_name"),
        ({"middle_name": 1.5}, "subject.middle_name"),
        ({"aliases": "Pepe Ruiz"}, "subject.aliases"),
        ({"aliases": {"given_name": "Pepe"}}, "subject.aliases"),
        ({"aliases": ["Pepe Ruiz"]}, "subject.aliases[0]"),
        ({"aliases": [{"given_name": "P", "family_name": "R"}, {"given_name": "P"}]},
         "subject.aliases[1].family_name"),
        ({"date_of_birth": "1980-02-03"}, "subject.date_of_birth"),
        ({"date_of_birth": datetime(1980, 2, 3, tzinfo=UTC)}, "subject.date_of_birth"),
        ({"date_of_birth": 3685}, "subject.date_of_birth"),
    ],
)
def test_wrong_type_names_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidEvent) as raised:
        subject_identity(subject(**changes))
    assert raised.value.field == field
    assert field in str(raised.value)


def test_missing_required_name_is_refused() -> None:
    record = subject()
    del record["family_name"]
    with pytest.raises(InvalidEvent, match=r"subject\.family_name: missing"):
        subject_identity(record)
