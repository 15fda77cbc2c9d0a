"""Reduce identifiers as typed upstream to one canonical form each.

The registry side and the event side run the same functions, so two
spellings of one identifier meet in one canonical string. Whenever a rule
has to choose, it chooses to make more spellings meet: a false match delays
one notification, a missed match discloses a protected person.
"""

from __future__ import annotations

import unicodedata

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
    compatible = unicodedata.normalize("NFKC", value)
    digits = "".join(_decimal_to_ascii(ch) for ch in compatible if ch.isdecimal())
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
    kept = (
        _decimal_to_ascii(ch) if ch.isdecimal() else ch for ch in folded if ch.isalnum()
    )
    canonical = "".join(kept)
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
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("M"))
    text = text.translate(_UNDECOMPOSED_LETTERS)
    text = "".join(ch if ch.isalpha() else " " for ch in text)
    return tuple(text.split())
