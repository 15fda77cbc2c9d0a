"""Key generation: kinds never collide, names need a date of birth, pairs and aliases."""

from __future__ import annotations

from datetime import date

import pytest

from guard.identity.errors import InvalidIdentifier
from guard.identity.keys import (
    collect_identity_keys,
    full_name_key,
    identity_keys,
    name_keys,
    strongest_key,
)
from guard.identity.model import Identity, PersonName

DOB = date(1980, 2, 3)


def test_identifier_kinds_get_their_prefix() -> None:
    identity = Identity(
        a_numbers=("A-12-345-678",), fbi_numbers=("12ab-34",), fins_numbers=("9 8 7",)
    )
    assert identity_keys(identity) == {"a:012345678", "fbi:12AB34", "fins:987"}


def test_same_value_of_different_kinds_gives_different_keys() -> None:
    identity = Identity(a_numbers=("123456789",), fbi_numbers=("123456789",),
                        fins_numbers=("123456789",))
    assert len(identity_keys(identity)) == 3


def test_no_date_of_birth_means_no_name_keys() -> None:
    identity = Identity(names=(PersonName("José", "García López"),))
    assert identity_keys(identity) == frozenset()
    assert name_keys(PersonName("José", "García López"), None) == frozenset()
    assert full_name_key(PersonName("José", "García López"), None) is None


def test_name_keys_all_tokens_and_pairs() -> None:
    keys = name_keys(PersonName("José", "GARCÍA LÓPEZ", middle_name="Luis"), DOB)
    assert keys == {
        "name:garcia jose lopez luis|1980-02-03",  # all tokens
        "name:garcia jose|1980-02-03",  # pair: each given/middle token + each family token
        "name:jose lopez|1980-02-03",
        "name:garcialopez jose|1980-02-03",  # family tokens run together
        "name:garcia luis|1980-02-03",
        "name:lopez luis|1980-02-03",
        "name:garcialopez luis|1980-02-03",
    }


def test_middle_name_pairs_with_family_names_not_with_given_names() -> None:
    with_middle = name_keys(PersonName("Ana", "Ruiz", middle_name="Sofia"), DOB)
    assert "name:ana ruiz sofia|1980-02-03" in with_middle
    assert "name:ruiz sofia|1980-02-03" in with_middle
    assert "name:ana sofia|1980-02-03" not in with_middle


def test_a_second_given_name_alone_still_meets_the_family_name() -> None:
    registered = name_keys(PersonName("María José", "García"), DOB)
    event = name_keys(PersonName("Jose", "Garcia"), DOB)
    assert registered & event


def test_swapped_given_and_family_share_a_pair_key() -> None:
    registered = name_keys(PersonName("José", "García López"), DOB)
    swapped = name_keys(PersonName("Garcia", "Jose"), DOB)
    assert registered & swapped == {"name:garcia jose|1980-02-03"}


def test_shorter_name_meets_the_longer_one() -> None:
    registered = name_keys(PersonName("José", "GARCÍA LÓPEZ"), DOB)
    assert name_keys(PersonName("Jose", "Garcia"), DOB) <= registered
    assert name_keys(PersonName("Jose", "Lopez"), DOB) <= registered


@pytest.mark.parametrize(
    ("registered", "event"),
    [
        (PersonName("Sean", "O'Brien"), PersonName("Sean", "OBrien")),
        (PersonName("Sean", "OBrien"), PersonName("Sean", "O'Brien")),
        (PersonName("Mary-Jane", "Smith"), PersonName("Maryjane", "Smith")),
        (PersonName("Maryjane", "Smith"), PersonName("Mary Jane", "Smith")),
    ],
)
def test_run_together_names_meet_their_split_spelling(
    registered: PersonName, event: PersonName
) -> None:
    assert name_keys(registered, DOB) & name_keys(event, DOB)


def test_other_date_of_birth_does_not_match() -> None:
    assert not name_keys(PersonName("José", "García"), DOB) & name_keys(
        PersonName("José", "García"), date(1980, 2, 4)
    )


def test_different_people_same_birthday_do_not_match() -> None:
    assert not name_keys(PersonName("José", "García"), DOB) & name_keys(
        PersonName("Ana", "Ruiz"), DOB
    )


def test_aliases_and_several_identities_all_give_keys() -> None:
    identity = Identity(
        a_numbers=("012345678", "A-98-765-432"),
        names=(PersonName("José", "García"), PersonName("Pepe", "Ruiz")),
        date_of_birth=DOB,
    )
    keys = identity_keys(identity)
    assert {"a:012345678", "a:098765432"} <= keys
    assert "name:garcia jose|1980-02-03" in keys
    assert "name:pepe ruiz|1980-02-03" in keys


def test_name_without_family_gets_only_the_all_tokens_key() -> None:
    assert name_keys(PersonName("Madonna", None), DOB) == {"name:madonna|1980-02-03"}
    assert name_keys(PersonName(None, None), DOB) == frozenset()


def test_invalid_a_number_raises_but_collect_keeps_the_rest() -> None:
    identity = Identity(a_numbers=("12",), fbi_numbers=("X1",),
                        names=(PersonName("Ana", "Ruiz"),), date_of_birth=DOB)
    with pytest.raises(InvalidIdentifier):
        identity_keys(identity)
    keys, problems = collect_identity_keys(identity)
    assert keys == {"fbi:X1", "name:ana ruiz|1980-02-03"}
    assert [problem.field for problem in problems] == ["a_number"]


def test_absent_identifiers_give_no_keys() -> None:
    identity = Identity(a_numbers=("A-",), fbi_numbers=("",), fins_numbers=(" - ",))
    assert identity_keys(identity) == frozenset()


@pytest.mark.parametrize(
    ("identity", "key"),
    [
        (Identity(a_numbers=("1234567",), fbi_numbers=("F1",)), "a:001234567"),
        (Identity(a_numbers=("12", "1234567")), "a:001234567"),
        (Identity(fbi_numbers=("f-1",), fins_numbers=("S1",)), "fbi:F1"),
        (Identity(fins_numbers=("s1",), names=(PersonName("A", "B"),), date_of_birth=DOB),
         "fins:S1"),
        (Identity(names=(PersonName("José", "García", "Luis"), PersonName("X", "Y")),
                  date_of_birth=DOB), "name:garcia jose luis|1980-02-03"),
        (Identity(names=(PersonName("José", "García"),)), None),
    ],
)
def test_strongest_key_order(identity: Identity, key: str | None) -> None:
    assert strongest_key(identity) == key
