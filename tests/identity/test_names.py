"""Names in real shapes: one field, placeholders, particles, joiners, look-alike readings."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guard.identity.errors import IdentityTooLarge
from guard.identity.limits import MAX_WORDS_PER_NAME
from guard.identity.model import PersonName
from guard.identity.names import PARTICLES, PLACEHOLDER_FIELDS, NameForm, name_forms


def form(given: str | None, family: str | None, middle: str | None = None) -> NameForm:
    forms = name_forms(PersonName(given, family, middle))
    assert len(forms) == 1
    return forms[0]


def pairs(found: NameForm) -> set[str]:
    return {" ".join(pair) for pair in found.strong_pairs}


def test_given_middle_and_family_pair_up() -> None:
    found = form("José María", "García López", "Luis")
    assert found.full == ("garcia", "jose", "lopez", "luis", "maria")
    assert {"garcia jose", "jose lopez", "garcialopez jose", "garcia maria", "garcia josemaria",
            "garcia luis"} <= pairs(found)  # fmt: skip
    assert "jose maria" not in pairs(found)  # two given names never pair
    assert found.has_known_roles and not found.is_part_missing


@pytest.mark.parametrize(
    ("given", "family"),
    [
        ("", "GARCIA LOPEZ, JOSE MARIA"),
        ("GARCIA LOPEZ, JOSE MARIA", ""),
        (None, "García López,José María"),
    ],
)
def test_family_comma_given_in_one_field_is_split_at_the_comma(
    given: str | None, family: str | None
) -> None:
    assert pairs(form(given, family)) == pairs(form("José María", "García López"))


def test_whole_name_in_one_field_pairs_every_two_words() -> None:
    found = form("", "Jose Maria Garcia")
    assert not found.has_known_roles
    assert {"garcia jose", "jose maria", "garcia maria"} <= pairs(found)


def test_given_and_family_swapped_give_the_same_pairs() -> None:
    assert pairs(form("Garcia", "Jose")) == pairs(form("Jose", "Garcia"))


@pytest.mark.parametrize("placeholder", ["FNU", "fnu", "UNKNOWN", "N/A", "NONE", "Unk", "X"])
def test_a_placeholder_field_is_a_missing_part(placeholder: str) -> None:
    found = form(placeholder, "Garcia")
    assert found.full == ("garcia",)
    assert found.is_part_missing
    assert not found.strong_pairs


def test_placeholder_words_are_dropped_inside_a_field() -> None:
    assert form("FNU Maria", "Garcia LNU").full == ("garcia", "maria")


@pytest.mark.parametrize(("given", "family"), [("FNU", "LNU"), ("John", "Doe"), ("", "UNKNOWN")])
def test_a_placeholder_name_is_no_name(given: str, family: str) -> None:
    assert name_forms(PersonName(given, family)) == ()


@pytest.mark.parametrize("family", ["de la Cruz", "De La Cruz", "DE LA CRUZ", "de-la-Cruz"])
def test_particles_never_pair_and_the_field_runs_together(family: str) -> None:
    found = form("Maria", family)
    assert "cruz maria" in pairs(found)
    assert "delacruz maria" in pairs(found)
    assert not any(p in PARTICLES for pair in found.strong_pairs for p in pair)


def test_a_particle_glued_to_the_front_is_peeled_as_a_weak_variant() -> None:
    found = form("Maria", "Delacruz")
    assert ("delacruz", "maria") in found.strong_pairs
    assert ("cruz", "maria") in found.weak_pairs
    assert ("lopez", "maria") in form("Maria", "Lopez").strong_pairs
    assert not form("Maria", "Lopez").weak_pairs  # Lopez is not lo + pez


def test_a_name_made_only_of_particles_keeps_them() -> None:
    assert form("An", "Le").full == ("an", "le")  # Vietnamese family name Lê


@pytest.mark.parametrize("written", ["O'Brien", "O\u2019Brien", "O\u02bcBrien", "O Brien"])
def test_apostrophes_of_every_kind_meet(written: str) -> None:
    assert "obrien siobhan" in pairs(form("Siobhan", written))


def test_a_look_alike_name_has_two_forms() -> None:
    forms = name_forms(PersonName("\u0420edro", "Lopez"))
    assert {next(iter(f.full)) for f in forms} == {"lopez"}
    assert {" ".join(f.full) for f in forms} == {"lopez pedro", "lopez redro"}


def test_too_many_words_are_refused() -> None:
    with pytest.raises(IdentityTooLarge):
        name_forms(PersonName(" ".join(["ana"] * (MAX_WORDS_PER_NAME + 1)), "Ruiz"))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(PLACEHOLDER_FIELDS)), st.sampled_from(sorted(PLACEHOLDER_FIELDS)))
def test_placeholders_alone_never_make_a_name(given: str, family: str) -> None:
    assert name_forms(PersonName(given.upper(), family)) == ()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30), st.text(max_size=30))
def test_forms_are_made_of_lowercase_ascii_tokens(given: str, family: str) -> None:
    try:
        forms = name_forms(PersonName(given, family))
    except IdentityTooLarge:
        return
    for found in forms:
        for token in (*found.full, *found.tokens):
            assert token.isascii() and token.isalpha() and token == token.lower()
