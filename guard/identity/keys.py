"""Key strings: what gets blinded and compared, in two strengths.

A registry entry and a custody event meet when they share a key. Keys come
in families, each with a prefix so no two families collide, and each key is
**strong** or **weak**:

* strong: a canonical identifier (``a:``, ``fbi:``, ``fins:``), or a name
  with its date of birth (``name:``: the whole name, and each given-side
  token paired with each family-side token). A strong match decides as it
  always has (DROP, or REDACT where policy allows);
* weak: evidence that may be the same person but may not. A match on weak
  keys only is HELD for review, never published.

The registry side (:func:`registry_keys`) and the event side
(:func:`subject_keys`) are not mirror images. Some variation can be
reached from one side only, so each family says who writes what and who
looks it up:

=================  ==============================  ===========================================
family             the registry writes             the event looks up
=================  ==============================  ===========================================
``a: fbi: fins:``  its identifiers (strong)        its identifiers (strong)
``xid:``           every number, kind-free (weak)  every number (weak): a number typed into the
                                                   wrong field
``name:``          name pairs + date (strong;      the same (strong), and the same pairs under
                   variant pairs weak)             the date swapped or one day off (weak)
``ph:``            sound-alike code pairs + date   the same, also under the nearby dates (weak)
``ini:``           initial + other token + date    the same (weak): a typo after the first letter
``u:``             name pairs without a date       only when its own date is unusable or may be
                                                   a year only
``ru:``            name pairs, only when its own   always (weak): the registry entry has no date
                   date is unusable/year-only
``rt:``            each family token + date; each  always, every token (weak): a given name
                   token + date when a part of     spelt past recognition (``Yiorgos`` for
                   its name is missing             ``Giorgos``) beside the family name
``rp:``            the sound-alike code of each    the code of every token + date (weak): both
                   family token + date             names respelt (``Yiorgos Papadopulos``)
``dp:``            whole name + the date with one  the same (weak): a mistyped month, day or
                   part blanked (three keys)       year (``1958`` for ``1985``)
=================  ==============================  ===========================================

An event whose given or family name is missing (``FNU GARCIA``) cannot
form pairs, so it looks up ``ini:`` keys with every possible initial of the
missing part (``a~garcia`` ... ``z~garcia``): 26 probes for a rare event,
instead of a single-token key for every name in the registry.

A weak key never enters the strong set of the same side, so a strong match
always rests on a strong key on *both* sides (the index keeps the two
strengths apart).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from guard.identity.dates import BirthDate, nearby_readings, partial_readings, usable_birth_date
from guard.identity.errors import IdentityTooLarge, InvalidIdentifier
from guard.identity.limits import MAX_FIELD_CHARS, MAX_IDENTIFIERS, MAX_KEYS, MAX_NAMES
from guard.identity.model import Identity
from guard.identity.names import NameForm, name_forms
from guard.identity.numbers import IdentifierKind, IdentifierReading, read_identifier
from guard.identity.phonetic import phonetic_code

NAME_PREFIX = "name:"
LOOSE_NUMBER_PREFIX = "xid:"
PHONETIC_PREFIX = "ph:"
INITIAL_PREFIX = "ini:"
UNDATED_PREFIX = "u:"
REGISTRY_UNDATED_PREFIX = "ru:"
REGISTRY_YEAR_PREFIX = "ry:"
REGISTRY_TOKEN_PREFIX = "rt:"
DATE_PART_PREFIX = "dp:"
TOKEN_PHONETIC_PREFIX = "rp:"



@dataclass(frozen=True, slots=True)
class KeySet:
    """Key strings in two strengths; the weak set never repeats a strong key."""

    strong: frozenset[str]
    weak: frozenset[str]

    def __len__(self) -> int:
        return len(self.strong) + len(self.weak)

    def __repr__(self) -> str:
        # Key strings are plaintext identifiers: never shown.
        return f"KeySet(<{len(self.strong)} strong, {len(self.weak)} weak>)"


@dataclass(frozen=True, slots=True)
class SubjectKeys:
    """Everything the decision needs from a subject's identifiers, derived in one pass."""

    probes: KeySet
    problems: tuple[InvalidIdentifier, ...]
    """Identifiers that are present but cannot be read; the event is refused."""
    reference_key: str | None
    """The one key that best names the subject, for the public ``subject_ref``."""
    a_number: str | None
    """The canonical A-number of the subject's A-number field, for the notice."""
    is_checkable: bool
    """A number, or a name with a usable date of birth: something a protection can meet."""

    def __repr__(self) -> str:
        return (
            f"SubjectKeys({self.probes!r}, problems={len(self.problems)}, "
            f"is_checkable={self.is_checkable})"
        )


def registry_keys(identity: Identity) -> KeySet:
    """Every key a registry entry files under (see the module table).

    Raises:
        InvalidIdentifier: an identifier is present but cannot be read; a
            partial key set would silently miss what it stands for.
        IdentityTooLarge: the entry exceeds a cap.
    """
    readings, problems = _readings(identity)
    if problems:
        raise problems[0]
    strong: set[str] = set()
    weak: set[str] = set()
    for _, reading in readings:
        _add_number_keys(reading, strong, weak)
    birth = usable_birth_date(identity.date_of_birth)
    for form in _all_forms(identity):
        core = _core_payloads(form)
        weak.update(UNDATED_PREFIX + payload for payload in core)
        if birth is None:
            weak.update(REGISTRY_UNDATED_PREFIX + payload for payload in core)
            continue
        if birth.may_be_year_only:
            weak.update(_dated(REGISTRY_YEAR_PREFIX, core, str(birth.value.year)))
        date_key = birth.key
        strong.update(_dated(NAME_PREFIX, core, date_key))
        weak.update(_dated(NAME_PREFIX, _joined_pairs(form.weak_pairs), date_key))
        codes = _token_codes(form)
        weak.update(_dated(PHONETIC_PREFIX, _phonetic_payloads(form.strong_pairs, codes), date_key))
        weak.update(_dated(INITIAL_PREFIX, _initial_payloads(form), date_key))
        tokens = form.tokens if form.is_part_missing else form.family_tokens
        weak.update(_dated(REGISTRY_TOKEN_PREFIX, tokens, date_key))
        family_codes = {codes[token] for token in tokens} - {None}
        weak.update(_dated(TOKEN_PHONETIC_PREFIX, family_codes, date_key))  # type: ignore[arg-type]
        weak.update(_date_part_keys(form, birth))
    return _bounded(strong, weak)


def subject_keys(identity: Identity) -> SubjectKeys:
    """The probes of a custody event's subject, and what else the decision needs of it.

    Never raises for an unreadable identifier (it is reported in
    ``problems``, so that the audit can still say whether the refused event
    matched a protected person).

    Raises:
        IdentityTooLarge: the subject exceeds a cap.
    """
    readings, problems = _readings(identity)
    strong: set[str] = set()
    weak: set[str] = set()
    a_number: str | None = None
    for field_kind, reading in readings:
        _add_number_keys(reading, strong, weak)
        is_a_number = field_kind is reading.kind is IdentifierKind.A_NUMBER
        if is_a_number and not reading.is_ambiguous and a_number is None:
            a_number = reading.canonical
    birth = usable_birth_date(identity.date_of_birth)
    forms = _all_forms(identity)
    for form in forms:
        _add_name_probes(form, birth, strong, weak)
    return SubjectKeys(
        probes=_bounded(strong, weak),
        problems=problems,
        reference_key=_reference_key(readings, identity, birth),
        a_number=a_number,
        is_checkable=bool(readings) or (birth is not None and bool(forms)),
    )


def _add_number_keys(reading: IdentifierReading, strong: set[str], weak: set[str]) -> None:
    """Every reading of a number is a strong key: an ambiguous value protects (and is
    checked against) each number it may be."""
    strong.update(f"{reading.kind.value}:{canonical}" for canonical in reading.canonicals)
    weak.update(LOOSE_NUMBER_PREFIX + loose for loose in reading.loose_forms)


def _add_name_probes(
    form: NameForm, birth: BirthDate | None, strong: set[str], weak: set[str]
) -> None:
    core = _core_payloads(form)
    weak.update(REGISTRY_UNDATED_PREFIX + payload for payload in core)
    if birth is None or birth.may_be_year_only:
        weak.update(UNDATED_PREFIX + payload for payload in core)
    if birth is None:
        return
    weak.update(_dated(REGISTRY_YEAR_PREFIX, core, str(birth.value.year)))
    date_key = birth.key
    strong.update(_dated(NAME_PREFIX, core, date_key))
    weak.update(_dated(NAME_PREFIX, _joined_pairs(form.weak_pairs), date_key))
    codes = _token_codes(form)
    phonetic = _phonetic_payloads(form.strong_pairs | form.weak_pairs, codes)
    weak.update(_dated(PHONETIC_PREFIX, phonetic, date_key))
    for other_date in nearby_readings(birth):
        # A slipped date, alone or with a spelling that sounds the same.
        weak.update(_dated(NAME_PREFIX, core, other_date))
        weak.update(_dated(PHONETIC_PREFIX, phonetic, other_date))
    weak.update(_dated(INITIAL_PREFIX, _initial_payloads(form), date_key))
    weak.update(_dated(REGISTRY_TOKEN_PREFIX, form.tokens, date_key))
    token_codes = set(codes.values()) - {None}
    weak.update(_dated(TOKEN_PHONETIC_PREFIX, token_codes, date_key))  # type: ignore[arg-type]
    weak.update(_date_part_keys(form, birth))
    if form.is_part_missing:
        weak.update(_dated(INITIAL_PREFIX, _any_initial_payloads(form), date_key))


def _readings(
    identity: Identity,
) -> tuple[list[tuple[IdentifierKind, IdentifierReading]], tuple[InvalidIdentifier, ...]]:
    readings: list[tuple[IdentifierKind, IdentifierReading]] = []
    problems: list[InvalidIdentifier] = []
    for field_kind, values in (
        (IdentifierKind.A_NUMBER, identity.a_numbers),
        (IdentifierKind.FBI, identity.fbi_numbers),
        (IdentifierKind.FINS, identity.fins_numbers),
    ):
        if len(values) > MAX_IDENTIFIERS:
            raise IdentityTooLarge(field_kind.field, f"more than {MAX_IDENTIFIERS} values")
        for value in values:
            _check_length(value, field_kind.field)
            try:
                reading = read_identifier(value, field_kind)
            except InvalidIdentifier as problem:
                problems.append(problem)
                continue
            if reading is not None:
                readings.append((field_kind, reading))
    return readings, tuple(problems)


def _all_forms(identity: Identity) -> list[NameForm]:
    if len(identity.names) > MAX_NAMES:
        raise IdentityTooLarge("names", f"more than {MAX_NAMES} names")
    forms: dict[NameForm, None] = {}
    for name in identity.names:
        for part in (name.given_name, name.middle_name, name.family_name):
            _check_length(part, "name")
        for form in name_forms(name):
            forms.setdefault(form, None)
    return list(forms)


def _check_length(value: str | None, field: str) -> None:
    if value is not None and len(value) > MAX_FIELD_CHARS:
        raise IdentityTooLarge(field, f"longer than {MAX_FIELD_CHARS} characters")


def _core_payloads(form: NameForm) -> set[str]:
    """The whole name and its strong pairs, as key payloads without a date."""
    payloads = _joined_pairs(form.strong_pairs)
    if form.full:
        payloads.add(" ".join(form.full))
    return payloads


def _joined_pairs(pairs: Iterable[tuple[str, str]]) -> set[str]:
    return {f"{first} {second}" for first, second in pairs}


def _phonetic_payloads(
    pairs: Iterable[tuple[str, str]], codes: dict[str, str | None]
) -> set[str]:
    """Sound-alike codes of token pairs. The registry codes its strong pairs; an event
    also codes its variant pairs (a peeled particle), which costs no registry memory."""
    payloads: set[str] = set()
    for first, second in pairs:
        pair = (codes[first], codes[second])
        if pair[0] is not None and pair[1] is not None:
            payloads.add(" ".join(sorted(pair)))  # type: ignore[arg-type]
    return payloads


def _token_codes(form: NameForm) -> dict[str, str | None]:
    """Each token's sound-alike code (None when too short), computed once per name form:
    the pair keys and the single-token keys both use them."""
    return {token: phonetic_code(token) for token in form.tokens}


def _initial_payloads(form: NameForm) -> set[str]:
    """Each strong pair with either token cut to its initial: a typo elsewhere still meets."""
    payloads: set[str] = set()
    for first, second in form.strong_pairs:
        payloads.add(f"{first[0]}~{second}")
        payloads.add(f"{second[0]}~{first}")
    return payloads


def _any_initial_payloads(form: NameForm) -> set[str]:
    """``ini:`` payloads for a name with a part missing: each token beside every initial."""
    return {f"{initial}~{token}" for token in form.tokens for initial in _INITIALS}


_INITIALS = "abcdefghijklmnopqrstuvwxyz"


def _date_part_keys(form: NameForm, birth: BirthDate) -> Iterator[str]:
    """The whole name with each two-of-three reading of the date (``dp:``)."""
    if not form.full:
        return iter(())
    whole = " ".join(form.full)
    return (f"{DATE_PART_PREFIX}{whole}|{partial}" for partial in partial_readings(birth))


def _dated(prefix: str, payloads: Iterable[str], date_key: str) -> Iterator[str]:
    return (f"{prefix}{payload}|{date_key}" for payload in payloads)


def _bounded(strong: set[str], weak: set[str]) -> KeySet:
    weak -= strong
    if len(strong) + len(weak) > MAX_KEYS:
        raise IdentityTooLarge("identity", f"more than {MAX_KEYS} keys")
    return KeySet(frozenset(strong), frozenset(weak))


def _reference_key(
    readings: list[tuple[IdentifierKind, IdentifierReading]],
    identity: Identity,
    birth: BirthDate | None,
) -> str | None:
    """First A-number, else FBI, else FINS number, else the primary name with its date."""
    for kind in IdentifierKind:
        for _, reading in readings:
            if reading.kind is kind:
                return f"{kind.value}:{reading.canonical}"
    if birth is None or not identity.names:
        return None
    primary = next(islice(name_forms(identity.names[0]), 1), None)
    if primary is None or not primary.full:
        return None
    return f"{NAME_PREFIX}{' '.join(primary.full)}|{birth.key}"
