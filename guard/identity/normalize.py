"""Reduce identifiers as typed upstream to one canonical form each.

The registry side and the event side run the same functions, so two
spellings of one identifier meet in one canonical string. Whenever a rule
has to choose, it chooses to make more spellings meet: a false match delays
one notification, a missed match discloses a protected person.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from guard.identity.errors import InvalidIdentifier

A_NUMBER_MIN_DIGITS = 7
A_NUMBER_MAX_DIGITS = 9

# Letters that Unicode does not decompose into a base letter plus marks, so
# NFKD leaves them alone and "Søren"/"Soren" or "Łukasz"/"Lukasz" would never
# meet. Each maps to the ASCII spelling an English-language system would type.
# Upper-case forms need no entry: names are casefolded before this table.
_UNDECOMPOSED_LETTERS = str.maketrans(
    {
        "\N{LATIN SMALL LETTER AE}": "ae",
        "\N{LATIN SMALL LETTER ETH}": "d",
        "\N{LATIN SMALL LETTER D WITH STROKE}": "d",
        "\N{LATIN SMALL LETTER H WITH STROKE}": "h",
        "\N{LATIN SMALL LETTER DOTLESS I}": "i",
        "\N{LATIN SMALL LETTER DOTLESS J}": "j",
        "\N{LATIN SMALL LETTER L WITH STROKE}": "l",
        "\N{LATIN SMALL LETTER O WITH STROKE}": "o",
        "\N{LATIN SMALL LIGATURE OE}": "oe",
        "\N{LATIN SMALL LETTER T WITH STROKE}": "t",
        "\N{LATIN SMALL LETTER THORN}": "th",
        "\N{LATIN SMALL LETTER F WITH HOOK}": "f",
    }
)


def _decimal_to_ascii(char: str) -> str:
    """An Arabic-Indic or Devanagari three counts as the digit 3, like an ASCII one."""
    return str(unicodedata.decimal(char))


class _CharacterRule(dict[int, str | None]):
    """A ``str.translate`` table that decides each code point once, on first sight.

    Normalizing character by character in a Python loop cost more than the
    rest of a decision together. ``str.translate`` runs the loop in C and
    asks the table only about code points it has not met yet, so the rule
    (a Python function) runs once per distinct character, not once per
    character of every identifier. The table holds characters, never
    identifiers, and can grow at most to the size of Unicode.
    """

    __slots__ = ("_rule",)

    def __init__(self, rule: Callable[[str], str | None]) -> None:
        super().__init__()
        self._rule = rule

    def __missing__(self, code_point: int) -> str | None:
        replacement = self._rule(chr(code_point))
        self[code_point] = replacement
        return replacement


def _a_number_character(char: str) -> str | None:
    """Decimal digits (of any script) as ASCII; everything else is dropped."""
    return _decimal_to_ascii(char) if char.isdecimal() else None


def _document_character(char: str) -> str | None:
    """Decimal digits as ASCII, other letters and digits kept, everything else dropped."""
    if char.isdecimal():
        return _decimal_to_ascii(char)
    return char if char.isalnum() else None


def _name_character(char: str) -> str | None:
    """Combining marks dropped, undecomposed letters spelled out, non-letters a space.

    Marks are never letters, and every spelled-out letter is ASCII letters,
    so one decision per character gives what the three steps did in turn.
    """
    if unicodedata.category(char).startswith("M"):
        return None
    spelled: str = char.translate(_UNDECOMPOSED_LETTERS)
    if spelled != char:
        return spelled
    return char if char.isalpha() else " "


_A_NUMBER_DIGITS = _CharacterRule(_a_number_character)
_DOCUMENT_CHARACTERS = _CharacterRule(_document_character)
_NAME_CHARACTERS = _CharacterRule(_name_character)


def canonical_a_number(value: str | None) -> str | None:
    """The 9-digit, zero-padded A-number, or None when no digit was given.

    Every non-digit is dropped (``A-012-345-678``, ``a12345678`` and
    ``A 12 345 678`` are one person). A value with digits outside 7 to 9 is
    not guessed at: it could be two numbers run together or a typo, and a
    guess that misses would publish. It raises instead, so the caller can
    refuse the event.

    Raises:
        InvalidIdentifier: the digit count is outside 7 to 9.
    """
    if value is None:
        return None
    digits = unicodedata.normalize("NFKC", value).translate(_A_NUMBER_DIGITS)
    if not digits:
        return None
    if not A_NUMBER_MIN_DIGITS <= len(digits) <= A_NUMBER_MAX_DIGITS:
        raise InvalidIdentifier(
            "a_number", f"digit count outside {A_NUMBER_MIN_DIGITS} to {A_NUMBER_MAX_DIGITS}"
        )
    return digits.zfill(A_NUMBER_MAX_DIGITS)


def canonical_document_number(value: str | None) -> str | None:
    """An FBI or FINS number: upper case, letters and digits only; None when empty.

    Separators vary between systems (``12-345 AB``, ``12345ab``) and carry no
    meaning, so all of them go. Compatibility forms (full-width letters,
    Unicode digits) are folded so that they cannot hide a match.
    """
    if value is None:
        return None
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", value).upper())
    canonical = folded.translate(_DOCUMENT_CHARACTERS)
    return canonical or None


def name_tokens(value: str | None) -> tuple[str, ...]:
    """The words of a name, in order, folded so that spellings of one name agree.

    ``José GARCÍA-LÓPEZ`` gives ``("jose", "garcia", "lopez")``. Steps:

    * NFKD splits accented letters into letter + combining mark and expands
      ligatures (``ﬁ`` → ``fi``); casefold then handles ``ß`` → ``ss``, and a
      second NFKD decomposes what casefolding produced;
    * every combining mark is removed, so accents added or stripped by one
      system do not matter;
    * letters NFKD leaves whole (``ø``, ``ł``, ``đ``, ``æ``, ``þ``...) are
      mapped to ASCII by a small table, as English-language systems type them;
    * every non-letter (hyphen, apostrophe, digit, punctuation) becomes a
      space, so ``GARCÍA-LÓPEZ`` and ``García López`` agree.

    Letters of other scripts are kept as they are: they still match the same
    script on the other side. No transliteration between scripts is tried.
    """
    if value is None:
        return ()
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", value).casefold())
    return tuple(text.translate(_NAME_CHARACTERS).split())
