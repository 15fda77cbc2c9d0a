"""Canonical key strings: what gets blinded and compared.

Each key carries a kind prefix (``a:``, ``fbi:``, ``fins:``, ``name:``) so an
FBI number can never collide with an A-number or a name. The registry side
(one protected person, several identities) and the event side (one subject)
use the same functions, so a match is plain set intersection of keys.

Name keys always include the date of birth: a name alone is shared by far too
many people to stand for one of them. For each name (primary and aliases):

* the sorted set of all its tokens (given + middle + family);
* for each given (or middle) token and each family token, the sorted *pair*.
  Sorted, so a record whose given and family names were swapped by a clerk
  still matches, and a subject known by fewer names (``Jose Garcia`` for
  ``José García López``) still meets the pair. The base rule pairs only the
  first given token; every given and middle token is paired here so that
  ``María José García`` also meets ``José García``: a few more keys per name,
  and only ever more matches (false positives), never fewer;
* where the given or family name has several tokens, its tokens run together
  (``O'Brien``/``OBrien``, ``Mary-Jane``/``Maryjane``) also stand in for a
  first given or family token. This goes beyond the base rule and only ever
  adds matches; it costs one or two keys per multi-word name.

A 2-token all-tokens key and a pair key of the same two words are the same
string on purpose: that is how ``Jose Garcia`` meets ``José García López``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from guard.identity.errors import InvalidIdentifier
from guard.identity.model import Identity, PersonName
from guard.identity.normalize import (
    canonical_a_number,
    canonical_document_number,
    name_tokens,
)

A_NUMBER_PREFIX = "a:"
FBI_PREFIX = "fbi:"
FINS_PREFIX = "fins:"
NAME_PREFIX = "name:"


def _name_key(tokens: Iterable[str], date_of_birth: date) -> str:
    return f"{NAME_PREFIX}{' '.join(tokens)}|{date_of_birth.isoformat()}"


def full_name_key(name: PersonName, date_of_birth: date | None) -> str | None:
    """The all-tokens key of one name, or None without a date of birth or tokens."""
    if date_of_birth is None:
        return None
    tokens = set(name_tokens(name.given_name))
    tokens.update(name_tokens(name.middle_name))
    tokens.update(name_tokens(name.family_name))
    if not tokens:
        return None
    return _name_key(sorted(tokens), date_of_birth)


def name_keys(name: PersonName, date_of_birth: date | None) -> frozenset[str]:
    """Every key of one name (see the module docstring); empty without a date of birth."""
    full = full_name_key(name, date_of_birth)
    if full is None or date_of_birth is None:
        return frozenset()
    keys = {full}
    given = name_tokens(name.given_name)
    family = name_tokens(name.family_name)
    if given and family:
        firsts = {*given, *name_tokens(name.middle_name), "".join(given)}
        families = {*family, "".join(family)}
        for first in firsts:
            for last in families:
                keys.add(_name_key(sorted((first, last)), date_of_birth))
    return frozenset(keys)


def collect_identity_keys(
    identity: Identity,
) -> tuple[frozenset[str], tuple[InvalidIdentifier, ...]]:
    """Keys of every identifier that normalizes, and the problems of those that do not.

    The caller still refuses an identity with problems, but the keys of its
    valid identifiers let it say in the audit whether the refused event was
    about a protected person.
    """
    keys: set[str] = set()
    problems: list[InvalidIdentifier] = []
    for raw in identity.a_numbers:
        try:
            a_number = canonical_a_number(raw)
        except InvalidIdentifier as problem:
            problems.append(problem)
            continue
        if a_number is not None:
            keys.add(A_NUMBER_PREFIX + a_number)
    for prefix, values in _document_numbers(identity):
        for raw in values:
            number = canonical_document_number(raw)
            if number is not None:
                keys.add(prefix + number)
    for name in identity.names:
        keys.update(name_keys(name, identity.date_of_birth))
    return frozenset(keys), tuple(problems)


def identity_keys(identity: Identity) -> frozenset[str]:
    """Every key of the identity.

    Raises:
        InvalidIdentifier: an identifier is present but does not normalize; a
            partial key set would silently miss what it stands for.
    """
    keys, problems = collect_identity_keys(identity)
    if problems:
        raise problems[0]
    return keys


def _document_numbers(identity: Identity) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return ((FBI_PREFIX, identity.fbi_numbers), (FINS_PREFIX, identity.fins_numbers))


def strongest_key(identity: Identity) -> str | None:
    """The one key that best names the person, for a stable public reference.

    Order: first valid A-number, FBI number, FINS number, then the primary
    name's all-tokens key. None when the identity has none of these.
    """
    for raw in identity.a_numbers:
        try:
            a_number = canonical_a_number(raw)
        except InvalidIdentifier:
            continue
        if a_number is not None:
            return A_NUMBER_PREFIX + a_number
    for prefix, values in _document_numbers(identity):
        for raw in values:
            number = canonical_document_number(raw)
            if number is not None:
                return prefix + number
    if identity.names:
        return full_name_key(identity.names[0], identity.date_of_birth)
    return None
