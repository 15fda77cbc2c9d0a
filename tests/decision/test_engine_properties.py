"""Properties of the engine over generated people and events.

* An event about a registered person, under any spelling of any one of
  their identifiers, is never published (with the default policy: DROPPED,
  naming their record).
* An event about someone whose identifiers are disjoint from the registry's
  is published; so is the first event once its protection is revoked.
* No event dict, however malformed, makes ``decide`` raise; a wrong type in
  any field is a REJECT naming that field.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from random import Random
from typing import Any

from decision_builders import custody_event, engine_for, protection_record
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guard.decision.engine import Reason
from guard.identity.model import Identity, PersonName
from guard.identity.names import PARTICLES, PLACEHOLDER_FIELDS, PLACEHOLDER_WORDS
from guard.policy.model import Decision
from guard.registry.index import RegistryIndex
from guard.registry.model import ProtectionStatus

PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# -- spelling one token in many ways ------------------------------------------

_ACCENTS = ("\u0301", "\u0300", "\u0302", "\u0308", "\u0303", "\u0327", "\u030c", "\u0304")
_SPECIAL_SPELLINGS = {
    "ss": ("ß", "\u1e9e"),
    "ae": ("æ", "Æ"),
    "oe": ("œ", "Œ"),
    "th": ("þ", "Þ"),
    "fi": ("\ufb01",),
    "o": ("ø", "Ø"),
    "l": ("ł", "Ł"),
    "d": ("đ", "Đ", "ð"),
    "i": ("\u0131", "\u0130"),
}


_seeds = st.integers(0, 2**32)
"""Spelling variations come from a seeded Random: one draw instead of hundreds."""


def spelled_token(rnd: Random, token: str) -> str:
    """``token`` with random case, accents, special letters and ligatures."""
    out: list[str] = []
    position = 0
    while position < len(token):
        pair, char = token[position : position + 2], token[position]
        if pair in _SPECIAL_SPELLINGS and rnd.random() < 0.3:
            out.append(rnd.choice(_SPECIAL_SPELLINGS[pair]))
            position += 2
            continue
        if char in _SPECIAL_SPELLINGS and rnd.random() < 0.2:
            out.append(rnd.choice(_SPECIAL_SPELLINGS[char]))
        else:
            out.append(char.upper() if rnd.random() < 0.5 else char)
        if rnd.random() < 0.25:
            out.append(rnd.choice(_ACCENTS))
        position += 1
    return unicodedata.normalize(rnd.choice(["NFC", "NFD"]), "".join(out))


def spelled_name(rnd: Random, tokens: Sequence[str]) -> str:
    """Tokens spelled and joined by any separator a clerk might type."""
    parts = [spelled_token(rnd, token) for token in tokens]
    text = parts[0]
    for part in parts[1:]:
        text += rnd.choice([" ", "-", "  ", " - ", "'", ", "]) + part
    return rnd.choice(["", " "]) + text + rnd.choice(["", " ", "."])


_NOT_A_NAME = PLACEHOLDER_FIELDS | PLACEHOLDER_WORDS | PARTICLES | {"doe", "roe"}


def _token(alphabet: str) -> st.SearchStrategy[str]:
    """Letters of ``alphabet``, salted with the sequences that have special spellings.

    Never a placeholder word (``nn``, ``unk``...): a placeholder is absence,
    and the properties below are about people who have names. Never a
    particle (``da``, ``ab``) either: a particle meets only weakly
    (tests/identity/test_names.py), and these properties expect a DROP.
    """
    pieces = list(alphabet) + [p for p in _SPECIAL_SPELLINGS if set(p) <= set(alphabet)]
    tokens = st.lists(st.sampled_from(pieces), min_size=2, max_size=4).map("".join)
    return tokens.filter(lambda token: token not in _NOT_A_NAME)


def _tokens(alphabet: str, low: int, high: int) -> st.SearchStrategy[list[str]]:
    return st.lists(_token(alphabet), min_size=low, max_size=high)


def written_a_number(rnd: Random, canonical: str) -> str:
    """``canonical`` (9 digits) as typed: fewer leading zeros, any prefix and separators."""
    zeros = len(canonical) - len(canonical.lstrip("0"))
    digits = canonical[rnd.randint(0, min(zeros, 2)) :]
    out = rnd.choice(["", "A", "a", "A-", "a-", "A ", "A#", "A: "])
    for position, digit in enumerate(digits):
        if position and rnd.random() < 0.25:
            out += rnd.choice(["-", " ", ".", "/"])
        out += digit
    return out


def written_document_number(rnd: Random, canonical: str) -> str:
    out = ""
    for position, char in enumerate(canonical):
        if position and rnd.random() < 0.25:
            out += rnd.choice(["-", " ", "."])
        out += char.lower() if rnd.random() < 0.5 else char
    return out


# -- people -------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """A person by canonical identifiers; identities spell them out at random."""

    a_numbers: tuple[str, ...]
    fbi_numbers: tuple[str, ...]
    fins_numbers: tuple[str, ...]
    given: tuple[str, ...]
    middle: tuple[str, ...]
    family: tuple[str, ...]
    aliases: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]
    date_of_birth: date | None


@st.composite
def people(
    draw: st.DrawFn,
    letters: str = "abcdefghijklmnopqrstuvwxyz",
    a_number_first_digits: str = "0123456789",
    document_alphabet: str = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789",
    born_after: date = date(1930, 1, 2),
    born_before: date = date(2025, 12, 31),
) -> Person:
    def a_number() -> str:
        first = draw(st.sampled_from(a_number_first_digits))
        rest = st.text(alphabet="0123456789", min_size=8, max_size=8)
        return first + draw(rest.filter(lambda digits: len(set(first + digits)) > 1))

    # A number made of one repeated symbol is a placeholder (absent), never a
    # key; one that begins with letters may begin with a label (FBI, ANUM) or
    # be a placeholder word (EMPTY). Real FBI and FINS numbers begin with a digit.
    document = st.text(alphabet=document_alphabet, min_size=3, max_size=10).filter(
        lambda text: len(set(text)) > 1 and text[0].isdigit()
    )
    person = Person(
        a_numbers=tuple(a_number() for _ in range(draw(st.integers(0, 2)))),
        fbi_numbers=tuple(draw(st.lists(document, max_size=1))),
        fins_numbers=tuple(draw(st.lists(document, max_size=1))),
        given=tuple(draw(_tokens(letters, 1, 2))),
        middle=tuple(draw(_tokens(letters, 0, 2))),
        family=tuple(draw(_tokens(letters, 1, 2))),
        aliases=tuple(
            (tuple(g), tuple(f))
            for g, f in draw(st.lists(st.tuples(_tokens(letters, 1, 2), _tokens(letters, 1, 2)),
                                      max_size=2))
        ),
        date_of_birth=draw(st.none() | st.dates(born_after, born_before)),
    )
    if not (person.a_numbers or person.fbi_numbers or person.fins_numbers
            or person.date_of_birth):
        person = Person(**{**person.__dict__, "date_of_birth": born_after})
    return person


@st.composite
def registered_identity(draw: st.DrawFn, person: Person) -> Identity:
    """The person as a registry import file might spell them."""
    rnd = Random(draw(_seeds))
    return Identity(
        a_numbers=tuple(written_a_number(rnd, a) for a in person.a_numbers),
        fbi_numbers=tuple(written_document_number(rnd, f) for f in person.fbi_numbers),
        fins_numbers=tuple(written_document_number(rnd, f) for f in person.fins_numbers),
        names=(
            PersonName(
                spelled_name(rnd, person.given),
                spelled_name(rnd, person.family),
                spelled_name(rnd, person.middle) if person.middle else None,
            ),
            *(PersonName(spelled_name(rnd, g), spelled_name(rnd, f)) for g, f in person.aliases),
        ),
        date_of_birth=person.date_of_birth,
    )


def _ways_to_match(person: Person) -> list[str]:
    ways = []
    if person.a_numbers:
        ways.append("a_number")
    if person.fbi_numbers:
        ways.append("fbi")
    if person.fins_numbers:
        ways.append("fins")
    if person.date_of_birth is not None:
        ways += ["same_name", "swapped", "extra_middle", "fewer_names"]
        if person.aliases:
            ways += ["alias_as_primary", "alias_listed"]
    return ways


@st.composite
def event_about(draw: st.DrawFn, person: Person) -> dict[str, Any]:
    """A custody event about ``person``, matching on one identifier chosen at random.

    Every other identifier is noise (valid, but unrelated), so only the chosen
    one can be what matches.
    """
    noise_letters = "abcdefghijklmnopqrstuvwxyz"
    rnd = Random(draw(_seeds))
    way = draw(st.sampled_from(_ways_to_match(person)))
    fields: dict[str, Any] = {
        "a_number": draw(st.none() | st.text(alphabet="0123456789", min_size=9, max_size=9)),
        "given_name": spelled_name(rnd, draw(_tokens(noise_letters, 1, 2))),
        "family_name": spelled_name(rnd, draw(_tokens(noise_letters, 1, 2))),
        "date_of_birth": draw(st.none() | st.dates()),
    }
    if way == "a_number":
        fields["a_number"] = written_a_number(rnd, draw(st.sampled_from(person.a_numbers)))
    elif way in ("fbi", "fins"):
        numbers = person.fbi_numbers if way == "fbi" else person.fins_numbers
        fields[f"{way}_number"] = written_document_number(rnd, numbers[0])
    else:
        fields["date_of_birth"] = person.date_of_birth
        given, family = list(person.given), list(person.family)
        middle: list[str] = list(person.middle) if draw(st.booleans()) else []
        if way == "swapped":
            given, family = family, given
        elif way == "extra_middle":
            middle += draw(_tokens(noise_letters, 1, 2))
            if draw(st.booleans()):
                given = given[:1] + draw(_tokens(noise_letters, 1, 1)) + given[1:]
        elif way == "fewer_names":
            given, family, middle = given[:1], [draw(st.sampled_from(family))], []
        elif way in ("alias_as_primary", "alias_listed"):
            given, family = (list(part) for part in draw(st.sampled_from(person.aliases)))
            middle = []
        if way == "alias_listed":
            fields["aliases"] = ((spelled_name(rnd, given), spelled_name(rnd, family)),)
        else:
            fields["given_name"] = spelled_name(rnd, given)
            fields["family_name"] = spelled_name(rnd, family)
            fields["middle_name"] = spelled_name(rnd, middle) if middle else None
    return custody_event(event_id=f"evt-{way}", **fields)


@st.composite
def registry_and_event(draw: st.DrawFn) -> tuple[RegistryIndex, Person, dict[str, Any]]:
    person = draw(people())
    index = RegistryIndex()
    for n, other in enumerate(draw(st.lists(people(), max_size=3))):
        index.apply(f"other-{n}", protection_record(f"other-{n}",
                                                    draw(registered_identity(other))))
    index.apply("target", protection_record("target", draw(registered_identity(person))))
    return index, person, draw(event_about(person))


@PROPERTY_SETTINGS
@given(registry_and_event())
def test_event_about_a_protected_person_is_never_published(
    case: tuple[RegistryIndex, Person, dict[str, Any]],
) -> None:
    index, _, event = case
    verdict = engine_for(index).decide(event)
    assert verdict.decision is not Decision.PUBLISH
    assert verdict.decision is Decision.DROP, verdict
    assert any(match.record_ref == "target" and match.is_strong for match in verdict.matches)
    assert verdict.notice is None


@PROPERTY_SETTINGS
@given(st.data())
def test_revoking_the_protection_publishes_again(data: st.DataObject) -> None:
    person = data.draw(people())
    identity = data.draw(registered_identity(person))
    event = data.draw(event_about(person))
    index = RegistryIndex()
    engine = engine_for(index)
    index.apply("target", protection_record("target", identity))
    assert engine.decide(event).decision is Decision.DROP
    if data.draw(st.booleans()):
        index.apply("target", None)
    else:
        index.apply("target",
                    protection_record("target", identity, status=ProtectionStatus.REVOKED))
    verdict = engine.decide(event)
    assert verdict.decision is Decision.PUBLISH
    assert verdict.reason is Reason.NO_MATCH
    assert verdict.notice is not None


# Registry people and outsiders are drawn from disjoint alphabets and disjoint
# birth years, so none of their identifiers can coincide, not even weakly: by
# construction, not by filtering. Letters that documents fold into digits
# (B/8, L/1, S/5, Z/2, O/0, I/1) stay out of both document alphabets, and
# sound-alike codes need the same birth date to meet.
_INSIDER: dict[str, Any] = {"letters": "abcdefghijklm", "a_number_first_digits": "01234",
            "document_alphabet": "ACDEFGHJK01234",
            "born_after": date(1930, 1, 2), "born_before": date(1969, 12, 31)}
_OUTSIDER: dict[str, Any] = {"letters": "nopqrstuvwxyz", "a_number_first_digits": "56789",
             "document_alphabet": "MNPRTUVWXY56789",
             "born_after": date(1975, 1, 2), "born_before": date(2025, 12, 31)}


@PROPERTY_SETTINGS
@given(st.data())
def test_event_about_an_unregistered_person_is_published(data: st.DataObject) -> None:
    index = RegistryIndex()
    for n, insider in enumerate(data.draw(st.lists(people(**_INSIDER), min_size=1, max_size=3))):
        index.apply(f"rec-{n}", protection_record(f"rec-{n}",
                                                  data.draw(registered_identity(insider))))
    outsider = data.draw(people(**_OUTSIDER))
    identity = data.draw(registered_identity(outsider))
    name = identity.names[0]
    event = custody_event(
        a_number=identity.a_numbers[0] if identity.a_numbers else None,
        fbi_number=identity.fbi_numbers[0] if identity.fbi_numbers else None,
        fins_number=identity.fins_numbers[0] if identity.fins_numbers else None,
        given_name=name.given_name or "",
        middle_name=name.middle_name,
        family_name=name.family_name or "",
        aliases=tuple((n.given_name or "", n.family_name or "") for n in identity.names[1:]),
        date_of_birth=outsider.date_of_birth,
    )
    verdict = engine_for(index).decide(event)
    assert verdict.decision is Decision.PUBLISH, verdict
    assert verdict.reason is Reason.NO_MATCH
    assert verdict.notice is not None
    assert verdict.notice["given_name"] == name.given_name


# -- malformed events -----------------------------------------------------------

_anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
    | st.binary(max_size=8) | st.dates() | st.datetimes(timezones=st.just(UTC)),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)


@PROPERTY_SETTINGS
@given(st.dictionaries(st.sampled_from(["event_id", "occurred_at", "subject", "custody",
                                        "case_notes", "source_system"]), _anything) | _anything)
def test_decide_never_raises_on_garbage(event: Any) -> None:
    index = RegistryIndex()
    index.apply("r1", protection_record("r1", Identity(a_numbers=("012345678",))))
    verdict = engine_for(index).decide(event)
    assert verdict.decision is Decision.REJECT
    assert verdict.reason is not Reason.INTERNAL_ERROR


_STRING_FIELDS = [
    ("event_id",), ("subject", "given_name"), ("subject", "family_name"),
    ("custody", "status"),
]
_OPTIONAL_STRING_FIELDS = [
    ("subject", "a_number"), ("subject", "fbi_number"), ("subject", "fins_number"),
    ("subject", "middle_name"), ("custody", "facility_code"), ("custody", "facility_name"),
    ("custody", "facility_city"), ("custody", "facility_state"),
]
_INSTANT_FIELDS = [("occurred_at",), ("custody", "status_changed_at")]
_RECORD_FIELDS = [("subject",), ("custody",)]

_not_string = (st.integers() | st.floats() | st.binary() | st.booleans() | st.dates()
               | st.lists(st.text(max_size=3), max_size=2)
               | st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2))
_not_instant = (st.integers() | st.text(max_size=10) | st.dates()
                | st.datetimes(timezones=st.none()))
_not_date = st.integers() | st.text(max_size=10) | st.datetimes(timezones=st.just(UTC))
_not_record = st.integers() | st.text(max_size=10) | st.lists(st.integers(), max_size=2)
_not_aliases = (st.integers() | st.text(max_size=10)
                | st.lists(st.integers() | st.text(max_size=3), min_size=1, max_size=2)
                | st.lists(st.just({"given_name": "A"}), min_size=1, max_size=2))


@st.composite
def one_wrong_field(draw: st.DrawFn) -> tuple[tuple[str, ...], Any]:
    kind = draw(st.sampled_from(["string", "optional_string", "instant", "record", "date",
                                 "aliases", "missing"]))
    if kind == "string":
        return draw(st.sampled_from(_STRING_FIELDS)), draw(_not_string | st.none())
    if kind == "optional_string":
        return draw(st.sampled_from(_OPTIONAL_STRING_FIELDS)), draw(_not_string)
    if kind == "instant":
        return draw(st.sampled_from(_INSTANT_FIELDS)), draw(_not_instant | st.none())
    if kind == "record":
        return draw(st.sampled_from(_RECORD_FIELDS)), draw(_not_record | st.none())
    if kind == "date":
        return ("subject", "date_of_birth"), draw(_not_date)
    if kind == "aliases":
        return ("subject", "aliases"), draw(_not_aliases)
    required = _STRING_FIELDS + _INSTANT_FIELDS + _RECORD_FIELDS
    return draw(st.sampled_from(required)), _DELETE


_DELETE = object()


@PROPERTY_SETTINGS
@given(one_wrong_field(), st.booleans())
def test_one_wrong_field_is_rejected_as_invalid_event(
    wrong: tuple[tuple[str, ...], Any], is_protected: bool
) -> None:
    path, value = wrong
    event = custody_event(a_number="012345678" if is_protected else "222333444",
                          date_of_birth=date(1980, 2, 3), aliases=(("Pepe", "Ruiz"),))
    target = event
    for name in path[:-1]:
        target = target[name]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    index = RegistryIndex()
    index.apply("r1", protection_record("r1", Identity(a_numbers=("012345678",))))
    verdict = engine_for(index).decide(event)
    assert verdict.decision is Decision.REJECT
    assert verdict.reason is Reason.INVALID_EVENT
    assert verdict.invalid_field is not None
    assert verdict.invalid_field.startswith(".".join(path))


def test_naive_datetime_is_not_an_instant() -> None:
    event = custody_event(a_number="222333444")
    event["occurred_at"] = datetime(2026, 1, 1)
    verdict = engine_for(RegistryIndex()).decide(event)
    assert verdict.invalid_field == "occurred_at"
