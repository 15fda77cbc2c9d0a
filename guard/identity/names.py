"""Names in the shapes real feeds type them, reduced to the tokens keys are made of.

What this repairs, on both sides of a match:

* **one field for the whole name**: ``GARCIA LOPEZ, JOSE MARIA`` in the
  family field with the given field empty is split at the comma (family,
  then given). Without a comma the order is unknown, so every two words of
  the name may form a pair (:attr:`NameForm.has_known_roles` is False);
* **placeholders**: ``FNU``, ``LNU``, ``UNKNOWN``, ``N/A``... in a field mean
  that part of the name is absent (:attr:`NameForm.is_part_missing`); a
  whole placeholder name (``JOHN DOE``) is no name at all;
* **particles** (``de la``, ``van der``, ``bin``, ``al-``...): kept, dropped
  or run together, one side rarely agrees with the other. Particles never
  form a pair on their own; a family name's words are also run together
  (``de la Cruz`` meets ``Delacruz``); and a particle glued to the front of
  a family word is peeled off as a weak variant (``Delacruz`` meets ``Cruz``);
* **hyphens and apostrophes** of every kind: ``García-López`` gives
  ``garcia``, ``lopez`` and ``garcialopez``; ``O'Brien`` gives ``o``, ``brien``
  and ``obrien``.

Characters are folded first (:mod:`guard.identity.text`); when a name has a
look-alike reading as well, each reading gives its own :class:`NameForm`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations, pairwise

from guard.identity.errors import IdentityTooLarge
from guard.identity.limits import MAX_WORDS_PER_NAME
from guard.identity.model import PersonName
from guard.identity.text import FIELD_SEPARATOR, WORD_JOINER, text_readings, words_of

PARTICLES = frozenset(
    {
        "a", "ab", "abu", "af", "al", "am", "ap", "aus", "bar", "ben", "bin", "bint", "binti",
        "d", "da", "dal", "dalla", "das", "de", "dei", "del", "dela", "della", "delle", "den",
        "der", "des", "di", "do", "dos", "du", "e", "el", "et", "ibn", "im", "l", "la", "las",
        "le", "les", "lo", "los", "mac", "o", "op", "san", "st", "te", "ten", "ter", "uit",
        "ul", "ud", "um", "un", "ur", "van", "vande", "vanden", "vander", "ver", "von", "y",
        "z", "zu", "zum", "zur",
    }
)  # fmt: skip
"""Words that join a name rather than name anyone (``de``, ``van``, ``bin``, ``al``, ``y``)."""

PLACEHOLDER_FIELDS = frozenset(
    {
        "fnu", "lnu", "mnu", "nfn", "nln", "nmn", "nmi", "fnulnu", "unknown", "unk", "unkn",
        "none", "null", "nil", "na", "nn", "x", "xx", "xxx", "xxxx", "notgiven", "notknown",
        "notavailable", "notapplicable", "missing", "blank", "empty", "noname", "nofirstname",
        "nolastname", "nomiddlename", "desconocido", "inconnu", "tbd", "unnamed",
    }
)  # fmt: skip
"""A field whose letters, run together, are one of these holds no name."""

PLACEHOLDER_WORDS = frozenset(
    {"fnu", "lnu", "mnu", "nfn", "nln", "nmn", "nmi", "unknown", "unk", "unkn"}
)
"""Words that are dropped wherever they stand (``FNU GARCIA``)."""

PLACEHOLDER_NAMES = frozenset({("jane", "doe"), ("john", "doe"), ("richard", "roe")})

_MIN_PEELABLE_LENGTH = 6
_MIN_PEELED_LENGTH = 4
_PARTICLES_BY_INITIAL = {
    initial: tuple(p for p in sorted(PARTICLES) if p[0] == initial and len(p) > 1)
    for initial in {particle[0] for particle in PARTICLES}
}


@dataclass(frozen=True, slots=True)
class NameForm:
    """The tokens of one reading of one name, ready to be paired into keys.

    Tokens are lowercase ASCII words without joiners.
    """

    full: tuple[str, ...]
    """Every name word that is not a particle, sorted and unique: the whole-name key."""
    strong_pairs: frozenset[tuple[str, str]]
    """Sorted (given-side, family-side) token pairs from the name as typed."""
    weak_pairs: frozenset[tuple[str, str]]
    """Pairs involving a variant token (a peeled particle, adjacent words run together)."""
    tokens: frozenset[str]
    """Every non-particle token, variants included: single-token keys are made of these."""
    has_known_roles: bool
    """False when the whole name came in one field without a comma."""
    is_part_missing: bool
    """True when the given or the family name is absent or a placeholder (``FNU``)."""
    family_tokens: frozenset[str] = frozenset()
    """The family-side tokens (particles peeled, parts run together); every token when
    the roles are unknown. A family name with the date of birth is a weak key of its own."""


@dataclass(frozen=True, slots=True)
class _Field:
    words: tuple[str, ...]
    """Words of the field, joiners kept (``garcia-lopez``)."""
    was_placeholder: bool


def name_forms(name: PersonName) -> tuple[NameForm, ...]:
    """One :class:`NameForm` per reading of ``name``; empty when it holds no name.

    Raises:
        IdentityTooLarge: the name has more than :data:`MAX_WORDS_PER_NAME` words.
    """
    forms: dict[NameForm, None] = {}
    for given_text, middle_text, family_text in _readings(name):
        form = _form(_field(given_text), _field(middle_text), _field(family_text))
        if form is not None:
            forms.setdefault(form, None)
    return tuple(forms)


def _readings(name: PersonName) -> list[tuple[str, str, str]]:
    """Folded (given, middle, family) texts: the plain reading, then the look-alike one."""
    fields = (name.given_name, name.middle_name, name.family_name)
    parts = [text_readings(value) if value else ("",) for value in fields]
    plain = (parts[0][0], parts[1][0], parts[2][0])
    readings = [plain]
    lookalike = (parts[0][-1], parts[1][-1], parts[2][-1])
    if lookalike != plain:
        readings.append(lookalike)
    return readings


def _field(folded: str) -> _Field:
    letters = "".join(c for c in folded if "a" <= c <= "z")
    if letters in PLACEHOLDER_FIELDS:
        return _Field((), was_placeholder=True)
    segments = folded.split(FIELD_SEPARATOR)
    words = tuple(
        word for segment in segments for word in words_of(segment)
        if word.replace(WORD_JOINER, "") not in PLACEHOLDER_WORDS
    )  # fmt: skip
    if FIELD_SEPARATOR in folded and len(segments) == 2 and all(words_of(s) for s in segments):
        # Keep the comma's position for FAMILY, GIVEN: marked by a sentinel word.
        before = [w for w in words_of(segments[0]) if w not in PLACEHOLDER_WORDS]
        after = [w for w in words_of(segments[1]) if w not in PLACEHOLDER_WORDS]
        return _Field((*before, FIELD_SEPARATOR, *after), was_placeholder=False)
    return _Field(words, was_placeholder=not words and bool(letters))


def _form(given: _Field, middle: _Field, family: _Field) -> NameForm | None:
    given_words, family_words = list(given.words), list(family.words)
    has_known_roles = True
    is_part_missing = False
    single = given_words or family_words
    if given_words and family_words:
        given_words = _without_comma(given_words)
        family_words = _without_comma(family_words)
    elif FIELD_SEPARATOR in single:
        cut = single.index(FIELD_SEPARATOR)
        family_words, given_words = single[:cut], single[cut + 1 :]
        is_part_missing = not given_words or not family_words
    elif given.was_placeholder or family.was_placeholder or len(single) == 1:
        is_part_missing = True
    else:
        has_known_roles = False
    middle_words = _without_comma(list(middle.words))
    if len(given_words) + len(middle_words) + len(family_words) > MAX_WORDS_PER_NAME:
        raise IdentityTooLarge("name", f"more than {MAX_WORDS_PER_NAME} words")
    if not given_words and not family_words and not middle_words:
        return None
    if (_plain(given_words), _plain(family_words)) in PLACEHOLDER_NAMES and not middle_words:
        return None
    if has_known_roles:
        return _form_with_roles(given_words, middle_words, family_words, is_part_missing)
    return _form_without_roles(single)


def _without_comma(words: list[str]) -> list[str]:
    return [word for word in words if word != FIELD_SEPARATOR]


def _plain(words: list[str]) -> str:
    return " ".join(word.replace(WORD_JOINER, "") for word in words)


def _parts(words: Iterable[str]) -> list[str]:
    """The parts of every word (``garcia-lopez`` → ``garcia``, ``lopez``), particles removed
    unless nothing else is left."""
    parts = _all_parts(words)
    meaningful = [part for part in parts if part not in PARTICLES]
    return meaningful or parts


def _all_parts(words: Iterable[str]) -> list[str]:
    return [part for word in words for part in word.split(WORD_JOINER)]


def _particles(words: Iterable[str]) -> set[str]:
    """Particles that :func:`_parts` left out: they still pair, weakly (``Da`` may be a
    name of its own where another record wrote ``da Silva``)."""
    return set(_all_parts(words)) - set(_parts(words))


def _joined(words: list[str]) -> set[str]:
    """Hyphenated words, and the whole field, run together."""
    joined = {word.replace(WORD_JOINER, "") for word in words if WORD_JOINER in word}
    if len(words) > 1:
        joined.add("".join(word.replace(WORD_JOINER, "") for word in words))
    return joined


def _peeled(words: list[str]) -> set[str]:
    """Family words with particles glued to their front, without them (``delacruz`` →
    ``lacruz``, ``cruz``). Short words are left alone: ``Lopez`` is not ``lo`` + ``pez``."""
    peeled: set[str] = set()
    pending = [word.replace(WORD_JOINER, "") for word in words]
    while pending:
        word = pending.pop()
        if len(word) < _MIN_PEELABLE_LENGTH:
            continue
        for particle in _PARTICLES_BY_INITIAL.get(word[:1], ()):
            rest = word[len(particle) :]
            is_new = len(rest) >= _MIN_PEELED_LENGTH and rest not in peeled
            if word.startswith(particle) and is_new:
                peeled.add(rest)
                pending.append(rest)
    return peeled


def _adjacent(words: list[str]) -> set[str]:
    """Each two neighbouring words run together (``min su`` → ``minsu``)."""
    plain = [word.replace(WORD_JOINER, "") for word in words]
    return {a + b for a, b in pairwise(plain)} if len(plain) > 2 else set()


def _pairs(firsts: Iterable[str], lasts: Iterable[str]) -> set[tuple[str, str]]:
    """Sorted pairs; a token may pair with itself (``Ali Ali``, ``Kim Kim`` are real names)."""
    return {(a, b) if a <= b else (b, a) for a in firsts for b in lasts}


def _form_with_roles(
    given: list[str], middle: list[str], family: list[str], is_part_missing: bool
) -> NameForm:
    given_parts, middle_parts, family_parts = _parts(given), _parts(middle), _parts(family)
    firsts = {*given_parts, *middle_parts, *_joined(given), *_joined(middle)}
    lasts = {*family_parts, *_joined(family)}
    variant_firsts = _adjacent(given + middle)
    variant_lasts = (_peeled(family) | _adjacent(family) | _particles(family)) - lasts
    strong = _pairs(firsts, lasts)
    weak = (_pairs(firsts | variant_firsts, lasts | variant_lasts)) - strong
    full = tuple(sorted({*given_parts, *middle_parts, *family_parts}))
    return NameForm(
        full=full,
        strong_pairs=frozenset(strong),
        weak_pairs=frozenset(weak),
        tokens=frozenset(firsts | lasts | variant_firsts | variant_lasts),
        has_known_roles=True,
        is_part_missing=is_part_missing,
        family_tokens=frozenset(lasts | variant_lasts),
    )


def _form_without_roles(words: list[str]) -> NameForm:
    """Every two words (or their parts) of a name whose given/family split is unknown."""
    per_word = [set(_parts([word])) | _joined([word]) for word in words]
    strong: set[tuple[str, str]] = set()
    for left, right in combinations(per_word, 2):
        strong |= _pairs(left, right)
    tokens = set().union(*per_word)
    variants = (_adjacent(words) | _peeled(words) | _joined(words)) - tokens
    weak = _pairs(variants, tokens | variants) - strong
    full = tuple(sorted(set(_parts(words))))
    return NameForm(
        full=full,
        strong_pairs=frozenset(strong),
        weak_pairs=frozenset(weak),
        tokens=frozenset(tokens | variants),
        has_known_roles=False,
        is_part_missing=False,
        family_tokens=frozenset(tokens | variants),
    )
