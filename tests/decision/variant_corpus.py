"""A corpus of realistic spellings of registered people, on both sides of a match.

Each :class:`VariantCase` is one registry entry and one custody subject that
are the same person, spelt the way real feeds spell people: every kind of
variation listed in ``shared/notes/matching.md``. For an *event-side* case
the registry holds the person as a careful clerk would type them and the
event holds the variant; for a *registry-side* case it is the other way
round. ``tests/decision/test_variant_corpus.py`` runs every case through the
real decision path (JSON import line → blinded registry record → index;
custody event → Avro bytes → decoder → engine) and requires that none is
published.

Subjects in name cases carry no number of the registered person (an
unrelated A-number, or none), so it is the name and date that must meet;
number cases carry an unrelated name and no date, so the number must.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Person:
    """One person as a careful clerk types them."""

    key: str
    given: str
    family: str
    dob: date
    a_number: str
    middle: str | None = None
    fbi: str | None = None
    fins: str | None = None


@dataclass(frozen=True)
class Subject:
    """Identifiers as one side types them (the event's subject, or a registry entry)."""

    given: str | None
    family: str | None
    middle: str | None = None
    dob: date | None = None
    a_number: str | None = None
    fbi: str | None = None
    fins: str | None = None
    aliases: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class VariantCase:
    kind: str
    """The kind of variation (matching.md's list)."""
    name: str
    side: str
    """``event``: the event holds the variant; ``registry``: the registry entry does."""
    registry: Subject
    event: Subject
    note: str = field(default="")

    @property
    def case_id(self) -> str:
        return f"{self.kind}/{self.side}/{self.name}"


PEOPLE = (
    Person("garcia", "José María", "García López", date(1987, 3, 14), "A-012-345-678",
           fbi="123456AB7", fins="7712345"),
    Person("rashid", "Mohammed", "Al-Rashid", date(1990, 7, 4), "A-098-765-432",
           middle="Hassan"),
    Person("shevchenko", "Oleksandr", "Shevchenko", date(1985, 11, 2), "A-055-123-987"),
    Person("nguyen", "An", "Nguyễn", date(1979, 5, 6), "A-203-456-789", middle="Văn"),
    Person("muller", "Jürgen", "Müller", date(1972, 2, 9), "A-300-111-222"),
    Person("cruz", "María", "de la Cruz", date(1995, 12, 25), "A-301-222-333"),
    Person("obrien", "Siobhán", "O'Brien", date(1983, 8, 17), "A-302-333-444"),
    Person("abdullah", "Aisha", "Abdullah", date(2001, 4, 10), "A-303-444-555"),
    Person("wang", "Wei", "Wang", date(1968, 9, 30), "A-304-555-666"),
    Person("smith", "Katherine", "Smith", date(1992, 6, 5), "A-305-666-777"),
    Person("yusuf", "Yusuf", "Abdulrahman", date(1988, 10, 11), "A-306-777-888"),
    Person("ivanova", "Tatiana", "Ivanova", date(1980, 3, 7), "A-307-888-999"),
    Person("dubois", "Jean-Pierre", "Dubois", date(1975, 4, 12), "A-308-999-000"),
    Person("hussein", "Hussein", "Haddad", date(1993, 1, 1), "A-309-000-111"),
    Person("osterberg", "Søren", "Østergaard", date(1969, 10, 3), "A-310-111-222"),
    Person("papadopoulos", "Giorgos", "Papadopoulos", date(1977, 5, 19), "A-311-222-333"),
)  # fmt: skip

UNRELATED_A_NUMBER = "A-999-000-123"
UNRELATED_NAME = ("Quentin", "Zebulon")


def clean(person: Person) -> Subject:
    """The person as a careful clerk types them, every identifier present."""
    return Subject(
        given=person.given,
        family=person.family,
        middle=person.middle,
        dob=person.dob,
        a_number=person.a_number,
        fbi=person.fbi,
        fins=person.fins,
    )


def by_name(person: Person, **changes: Any) -> Subject:
    """The person's name and date only (plus an unrelated A-number), then ``changes``."""
    subject = Subject(
        given=person.given, family=person.family, middle=person.middle, dob=person.dob,
        a_number=UNRELATED_A_NUMBER,
    )  # fmt: skip
    return replace(subject, **changes)


def by_number(**numbers: str | None) -> Subject:
    """An unrelated name, no date: only ``numbers`` can meet the person."""
    return Subject(given=UNRELATED_NAME[0], family=UNRELATED_NAME[1], **numbers)  # type: ignore[arg-type]


Variant = Callable[[Person], Subject | None]
"""A spelling of a person, or None when the variation does not apply to them."""


def _a_digits(person: Person) -> str:
    return "".join(c for c in person.a_number if c.isdigit())


def _replace_first(text: str, old: str, new: str) -> str | None:
    return text.replace(old, new, 1) if old in text else None


def _in_name(person: Person, old: str, new: str) -> Subject | None:
    """Replace the first ``old`` in the given name, else in the family name."""
    given = _replace_first(person.given, old, new)
    if given is not None:
        return by_name(person, given=given)
    family = _replace_first(person.family, old, new)
    return by_name(person, family=family) if family is not None else None


def _swapped_date(value: date) -> date | None:
    if value.day > 12 or value.day == value.month:
        return None
    return date(value.year, value.day, value.month)


def _shift(value: date, days: int) -> date:
    return date.fromordinal(value.toordinal() + days)


def _with_part(value: date, **part: int) -> date | None:
    """The date with one part retyped, when that is still a date and not a swap or a
    one-day slip (those have variants of their own)."""
    try:
        typed = value.replace(**part)
    except ValueError:
        return None
    if typed == value or typed == _swapped_date(value) or abs((typed - value).days) <= 1:
        return None
    return typed


def _year_digits_transposed(value: date) -> date | None:
    digits = f"{value.year:04d}"
    return _with_part(value, year=int(digits[:2] + digits[3] + digits[2]))


# -- kind 1: identifier corruption --------------------------------------------

IDENTIFIER_VARIANTS: dict[str, Variant] = {
    "o_for_zero": lambda p: by_number(a_number=_a_digits(p).replace("0", "O")),
    "l_for_one": lambda p: (by_number(a_number="A" + _a_digits(p).replace("1", "l"))
                            if "1" in _a_digits(p) else None),
    "i_for_one": lambda p: (by_number(a_number=_a_digits(p).replace("1", "I", 1))
                            if "1" in _a_digits(p) else None),
    "s_for_five": lambda p: (by_number(a_number=_a_digits(p).replace("5", "S", 1))
                             if "5" in _a_digits(p) else None),
    "b_for_eight": lambda p: (by_number(a_number=_a_digits(p).replace("8", "B", 1))
                              if "8" in _a_digits(p) else None),
    "float_export": lambda p: by_number(a_number=f"{int(_a_digits(p))}.0"),
    "scientific_exact": lambda p: by_number(
        a_number=f"{_a_digits(p).lstrip('0')[0]}.{_a_digits(p).lstrip('0')[1:]}E+"
        f"{len(_a_digits(p).lstrip('0')) - 1:02d}"),
    "label_a_hash": lambda p: by_number(a_number=f"A# {_a_digits(p)}"),
    "label_a_number_colon": lambda p: by_number(a_number=f"A-Number: {_a_digits(p)}"),
    "label_alien_no": lambda p: by_number(a_number=f"Alien No. {_a_digits(p)}"),
    "label_anum": lambda p: by_number(a_number=f"ANUM{_a_digits(p)}"),
    "spaces_and_dots": lambda p: by_number(
        a_number=f"{_a_digits(p)[:3]}.{_a_digits(p)[3:6]}.{_a_digits(p)[6:]}"),
    "leading_zero_dropped": lambda p: by_number(a_number=_a_digits(p).lstrip("0")),
    "fullwidth_digits": lambda p: by_number(
        a_number="".join(chr(0xFF10 + int(c)) for c in _a_digits(p))),
    "arabic_indic_digits": lambda p: by_number(
        a_number="".join(chr(0x0660 + int(c)) for c in _a_digits(p))),
    "a_number_in_fbi_field": lambda p: by_number(fbi=_a_digits(p)),
    "a_number_in_fins_field": lambda p: by_number(fins=p.a_number),
    "fbi_label_in_a_field": lambda p: (by_number(a_number=f"FBI# {p.fbi}") if p.fbi else None),
    "fbi_label_typed": lambda p: (by_number(fbi=f"FBI No. {p.fbi}") if p.fbi else None),
    "fbi_o_for_zero": lambda p: (by_number(fbi=p.fbi.replace("0", "O")) if p.fbi and "0" in p.fbi
                                 else None),
    "fins_label_typed": lambda p: (by_number(fins=f"FINS: {p.fins}") if p.fins else None),
    "filler_a_number_with_name": lambda p: by_name(p, a_number="000000000"),
}  # fmt: skip

# -- kind 2: names in the wrong shape ------------------------------------------


def _one_field_with_comma(p: Person) -> Subject:
    given = " ".join(part for part in (p.given, p.middle) if part)
    return by_name(p, given="", middle=None, family=f"{p.family.upper()}, {given.upper()}")


def _both_in_given(p: Person) -> Subject:
    return by_name(p, given=f"{p.given} {p.family}", middle=None, family="")


def _both_in_family_reversed(p: Person) -> Subject:
    return by_name(p, given="", middle=None, family=f"{p.family} {p.given}")


NAME_SHAPE_VARIANTS: dict[str, Variant] = {
    "family_comma_given_in_family_field": _one_field_with_comma,
    "family_comma_given_in_given_field": lambda p: by_name(
        p, given=f"{p.family}, {p.given}", middle=None, family=""),
    "whole_name_in_given_field": _both_in_given,
    "whole_name_family_first_in_family_field": _both_in_family_reversed,
    "given_and_family_swapped": lambda p: by_name(p, given=p.family, family=p.given),
    "first_family_name_only": lambda p: (by_name(p, family=p.family.split()[0])
                                         if len(p.family.split()) > 1 else None),
    "second_family_name_only": lambda p: (by_name(p, family=p.family.split()[-1])
                                          if len(p.family.split()) > 1 else None),
    "middle_name_dropped": lambda p: by_name(p, middle=None) if p.middle else None,
    "middle_name_in_given": lambda p: (by_name(p, given=f"{p.given} {p.middle}", middle=None)
                                       if p.middle else None),
    "first_given_name_only": lambda p: (by_name(p, given=p.given.split()[0])
                                        if len(p.given.split()) > 1 else None),
    "married_name_added": lambda p: by_name(p, family=f"{p.family} de Pérez"),
    "particles_dropped": lambda p: (by_name(p, family=p.family.split()[-1])
                                    if p.family.lower().startswith(("de ", "al-", "van ", "o'"))
                                    else None),
    "particles_run_together": lambda p: (by_name(p, family=p.family.replace(" ", "")
                                                 .replace("-", "").replace("'", ""))
                                         if p.family.lower().startswith(("de ", "al-", "o'"))
                                         else None),
    "particle_al_space": lambda p: _in_name(p, "Al-", "al "),
    "particle_el_for_al": lambda p: _in_name(p, "Al-", "El-"),
    "hyphen_as_space": lambda p: _in_name(p, "-", " "),
    "hyphen_dropped": lambda p: _in_name(p, "-", ""),
    "hyphen_u2010": lambda p: _in_name(p, "-", "\u2010"),
    "hyphen_u2011": lambda p: _in_name(p, "-", "\u2011"),
    "apostrophe_u2019": lambda p: _in_name(p, "'", "\u2019"),
    "apostrophe_u02bc": lambda p: _in_name(p, "'", "\u02bc"),
    "apostrophe_dropped": lambda p: _in_name(p, "'", ""),
    "apostrophe_as_space": lambda p: _in_name(p, "'", " "),
    "accents_stripped": lambda p: by_name(
        p, given=_strip_accents(p.given), family=_strip_accents(p.family),
        middle=_strip_accents(p.middle) if p.middle else None),
    "all_upper_case": lambda p: by_name(p, given=p.given.upper(), family=p.family.upper()),
}  # fmt: skip


def _strip_accents(text: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# -- kind 3: characters that look alike ----------------------------------------

_CYRILLIC_LOOKALIKES = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "c": "\u0441", "p": "\u0440",
                        "x": "\u0445", "y": "\u0443", "i": "\u0456", "A": "\u0410", "M": "\u041c",
                        "O": "\u041e", "K": "\u041a", "H": "\u041d", "T": "\u0422"}  # fmt: skip
_GREEK_LOOKALIKES = {"o": "\u03bf", "A": "\u0391", "O": "\u039f", "i": "\u03b9", "K": "\u039a"}
_SMALL_CAPITALS = {"a": "\u1d00", "e": "\u1d07", "i": "\u026a", "o": "\u1d0f", "r": "\u0280",
                   "m": "\u1d0d", "n": "\u0274", "s": "\ua731", "h": "\u029c",
                   "u": "\u1d1c"}  # fmt: skip


def _swap_letters(text: str, table: dict[str, str], limit: int = 2) -> str | None:
    out, done = [], 0
    for char in text:
        if done < limit and char in table:
            out.append(table[char])
            done += 1
        else:
            out.append(char)
    return "".join(out) if done else None


def _with_letters(table: dict[str, str], limit: int = 2) -> Variant:
    def variant(p: Person) -> Subject | None:
        given = _swap_letters(p.given, table, limit)
        family = _swap_letters(p.family, table, limit)
        if given is None and family is None:
            return None
        return by_name(p, given=given or p.given, family=family or p.family)

    return variant


def _every_letter(p: Person, mapping: Callable[[str], str]) -> Subject:
    return by_name(p, given="".join(map(mapping, p.given)), family="".join(map(mapping, p.family)))


def _math_bold(char: str) -> str:
    if "A" <= char <= "Z":
        return chr(0x1D400 + ord(char) - ord("A"))
    if "a" <= char <= "z":
        return chr(0x1D41A + ord(char) - ord("a"))
    return char


def _fullwidth(char: str) -> str:
    return chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else char


LOOKALIKE_VARIANTS: dict[str, Variant] = {
    "cyrillic_letters_mixed_in": _with_letters(_CYRILLIC_LOOKALIKES),
    "cyrillic_letters_throughout": _with_letters(_CYRILLIC_LOOKALIKES, limit=99),
    "greek_letters_mixed_in": _with_letters(_GREEK_LOOKALIKES),
    "small_capitals": _with_letters(_SMALL_CAPITALS, limit=99),
    "mathematical_bold": lambda p: _every_letter(p, _math_bold),
    "fullwidth": lambda p: _every_letter(p, _fullwidth),
    "zero_width_space": lambda p: by_name(p, family=p.family[:2] + "\u200b" + p.family[2:]),
    "zero_width_joiner": lambda p: by_name(p, given=p.given[:1] + "\u200d" + p.given[1:]),
    "soft_hyphen": lambda p: by_name(p, family=p.family[:3] + "\u00ad" + p.family[3:]),
    "bidi_marks": lambda p: by_name(p, family="\u200f" + p.family + "\u200e"),
    "byte_order_mark": lambda p: by_name(p, given="\ufeff" + p.given),
    "combining_accent_added": lambda p: by_name(p, family=p.family[:1] + "\u0301" + p.family[1:]),
    "modifier_letter_capital": lambda p: (by_name(p, given="\u1d39" + p.given[1:])
                                          if p.given.startswith("M") else None),
    "double_spaces_and_tabs": lambda p: by_name(p, given=f"  {p.given}\t", family=f"{p.family}  "),
}  # fmt: skip

# -- kind 4: transliteration and sound-alike spellings -------------------------

TRANSLITERATIONS: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    # person key: (given, family) of the variant, as (label, given, family, middle-or-"")
    "rashid": (("mohd_al_rasheed", "Mohd", "Al Rasheed", "Hassan"),
               ("muhammad", "Muhammad", "Al-Rashid", "Hassan"),
               ("mohamed_el", "Mohamed", "El-Rashid", "Hassan"),
               ("arabic_script", "محمد", "الراشد", "حسن"),
               ("mohammad_husain", "Mohammad", "Alrashid", "Husain")),
    "shevchenko": (("ukrainian_cyrillic", "Олександр", "Шевченко", ""),
                   ("russian_form", "Aleksandr", "Shevchenko", ""),
                   ("alexander", "Alexander", "Shevchenko", ""),
                   ("german_romanization", "Oleksandr", "Schewtschenko", "")),
    "muller": (("mrz_ue", "Juergen", "Mueller", ""),
               ("accent_dropped", "Jurgen", "Muller", "")),
    "osterberg": (("mrz_oe_aa", "Soeren", "Oestergaard", ""),
                  ("danish_aa", "Søren", "Østergård", "")),
    "nguyen": (("no_diacritics", "An", "Nguyen", "Van"),
               ("typed_transposed", "An", "Ngyuen", "Van")),
    "ivanova": (("cyrillic", "Татьяна", "Иванова", ""),
                ("tatyana", "Tatyana", "Ivanova", ""),
                ("tatjana", "Tatjana", "Ivanova", ""),
                ("tatiyana_ivanovva", "Tatiyana", "Ivanovva", "")),
    "papadopoulos": (("greek_script", "Γιώργος", "Παπαδόπουλος", ""),
                     ("georgios", "Georgios", "Papadopoulos", ""),
                     ("yiorgos", "Yiorgos", "Papadopoulos", ""),
                     ("yiorgos_papadopulos", "Yiorgos", "Papadopulos", "")),
    "hussein": (("husain", "Husain", "Haddad", ""),
                ("khusein", "Khusein", "Haddad", ""),
                ("hossein", "Hossein", "Hadad", "")),
    "yusuf": (("youssef", "Youssef", "Abdulrahman", ""),
              ("abdul_rahman_split", "Yusuf", "Abdul Rahman", ""),
              ("abdel_rahman", "Yousef", "Abdelrahman", "")),
    "smith": (("catherine", "Catherine", "Smith", ""),
              ("catherine_smyth", "Catherine", "Smyth", ""),
              ("smyth", "Katherine", "Smyth", "")),
    "abdullah": (("aysha", "Aysha", "Abdullah", ""),
                 ("abdallah", "Aisha", "Abdallah", "")),
    "wang": (("chinese_script_family_first", "", "王伟", ""),),
    "garcia": (("typo_in_given", "Jsoe María", "García López", ""),
               ("typo_in_family", "José María", "Garcia Lpoez", "")),
    "dubois": (("typo_double_letter", "Jean-Pierre", "Duboiss", ""),),
}  # fmt: skip

# -- kind 5: placeholders -------------------------------------------------------

PLACEHOLDER_VARIANTS: dict[str, Variant] = {
    "fnu_given": lambda p: by_name(p, given="FNU", middle=None, a_number=None),
    "lnu_family": lambda p: by_name(p, family="LNU", middle=None, a_number=None),
    "unknown_given": lambda p: by_name(p, given="UNKNOWN", middle=None, a_number=None),
    "n_a_a_number_with_name": lambda p: by_name(p, a_number="N/A"),
    "unknown_a_number_with_name": lambda p: by_name(p, a_number="UNKNOWN"),
    "sentinel_dob_with_a_number": lambda p: by_number(a_number=p.a_number),
}  # fmt: skip

# -- kind 6: dates of birth ---------------------------------------------------------

DATE_VARIANTS: dict[str, Variant] = {
    "day_month_swapped": lambda p: (by_name(p, dob=_swapped_date(p.dob))
                                    if _swapped_date(p.dob) else None),
    "one_day_early": lambda p: by_name(p, dob=_shift(p.dob, -1)),
    "one_day_late": lambda p: by_name(p, dob=_shift(p.dob, 1)),
    "year_only": lambda p: by_name(p, dob=date(p.dob.year, 1, 1)),
    # One part of the date mistyped: a slipped key in the month, a transposed year,
    # a day typed from the wrong row.
    "month_mistyped": lambda p: (by_name(p, dob=_with_part(p.dob, month=p.dob.month % 12 + 1))
                                 if _with_part(p.dob, month=p.dob.month % 12 + 1) else None),
    "month_first_digit_dropped": lambda p: (
        by_name(p, dob=_with_part(p.dob, month=p.dob.month % 10 or 1))
        if p.dob.month >= 10 and _with_part(p.dob, month=p.dob.month % 10 or 1) else None),
    "year_digits_transposed": lambda p: (by_name(p, dob=_year_digits_transposed(p.dob))
                                         if _year_digits_transposed(p.dob) else None),
    "year_decade_mistyped": lambda p: (by_name(p, dob=_with_part(p.dob, year=p.dob.year + 10))
                                       if p.dob.year < 2015 else None),
    "day_mistyped": lambda p: (by_name(p, dob=_with_part(p.dob, day=(p.dob.day + 9) % 28 + 1))
                               if _with_part(p.dob, day=(p.dob.day + 9) % 28 + 1) else None),
    "no_date": lambda p: by_name(p, dob=None),
    "sentinel_1900": lambda p: by_name(p, dob=date(1900, 1, 1)),
    "sentinel_1970": lambda p: by_name(p, dob=date(1970, 1, 1)),
}  # fmt: skip

KINDS: dict[str, dict[str, Variant]] = {
    "identifier_corruption": IDENTIFIER_VARIANTS,
    "name_shape": NAME_SHAPE_VARIANTS,
    "lookalike_characters": LOOKALIKE_VARIANTS,
    "placeholders": PLACEHOLDER_VARIANTS,
    "dates_of_birth": DATE_VARIANTS,
}


def _transliteration_cases() -> Iterator[VariantCase]:
    people = {person.key: person for person in PEOPLE}
    for key, spellings in TRANSLITERATIONS.items():
        person = people[key]
        for label, given, family, middle in spellings:
            variant = by_name(person, given=given, family=family, middle=middle or None)
            yield VariantCase("transliteration", label, "event", clean(person), variant)
            yield VariantCase(
                "transliteration", label, "registry", _as_registry(variant, person),
                by_name(person),
            )


def _as_registry(variant: Subject, person: Person) -> Subject:
    """A registry entry typed the variant way (a registry holds no unrelated number)."""
    del person
    if variant.a_number == UNRELATED_A_NUMBER:
        return replace(variant, a_number=None)
    return variant


def cases() -> list[VariantCase]:
    """Every case: each kind's variants applied to each person, on both sides."""
    out: list[VariantCase] = []
    for kind, variants in KINDS.items():
        for label, variant in variants.items():
            for person in PEOPLE:
                spelled = variant(person)
                if spelled is None:
                    continue
                out.append(VariantCase(kind, f"{label}:{person.key}", "event",
                                       clean(person), spelled))  # fmt: skip
                if not _is_registry_side_meaningful(kind, label):
                    continue
                registry = _as_registry(spelled, person)
                out.append(VariantCase(kind, f"{label}:{person.key}", "registry", registry,
                                       clean(person)))  # fmt: skip
    out.extend(_transliteration_cases())
    return out


# Variants that describe an event, not how a registry entry could be typed:
# a registry entry with a placeholder A-number and nothing else, say, is
# refused at import instead.
_EVENT_ONLY = {
    ("placeholders", "sentinel_dob_with_a_number"),
    ("identifier_corruption", "filler_a_number_with_name"),
    ("placeholders", "n_a_a_number_with_name"),
    ("placeholders", "unknown_a_number_with_name"),
}


def _is_registry_side_meaningful(kind: str, label: str) -> bool:
    return (kind, label) not in _EVENT_ONLY
