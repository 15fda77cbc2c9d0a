"""From text in any script to lowercase ASCII: the first step for names and numbers.

Both sides of a match (registry import and custody events) run these
functions, so whatever variation they remove can never hide a match. What
they remove:

* **invisible characters**: Unicode's default-ignorable code points (zero
  width spaces and joiners, bidi controls, soft hyphens, variation
  selectors, Hangul fillers...) and the Arabic tatweel, which only
  stretches a word;
* **compatibility forms**: NFKC folds full-width letters, mathematical
  alphanumerics, ligatures, circled and modifier letters to plain ones;
* **look-alike letters of other scripts**: a Cyrillic a (U+0430) or a Greek
  capital omicron (U+039F) typed into a Latin name. :func:`text_readings` gives a second
  reading of such text in which every letter with a Latin look-alike in
  Unicode's confusables data (UTS #39) is replaced by that look-alike;
* **script**: every letter is transliterated to ASCII by ``anyascii``
  (Cyrillic, Greek, Arabic, Hebrew, Devanagari, CJK, Hangul and the rest),
  accents and other combining marks are dropped, small capitals and other
  Latin letter forms become their plain letters.

Each rule works on one code point at a time, so each code point is decided
once and cached in a ``str.translate`` table (:class:`CharacterTable`): the
Python rule runs once per distinct character, the loop over every character
of every identifier runs in C.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from anyascii import anyascii

from guard.identity.confusables import has_lookalike, latin_lookalike

WORD_JOINER = "-"
"""Stands for a hyphen or an apostrophe inside a word (``García-López``, ``O'Brien``)."""
FIELD_SEPARATOR = ","
"""Kept so that ``FAMILY, GIVEN`` typed into one field can be split."""

# Unicode's Default_Ignorable_Code_Point ranges (DerivedCoreProperties.txt),
# plus U+0640 ARABIC TATWEEL, which only lengthens a joined letter.
_INVISIBLE_RANGES = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x0640, 0x0640),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)

# Scripts whose letters are whole syllables: one CJK ideograph or Hangul
# block is one syllable of a name, and anyascii runs them together
# ("王伟" -> "WangWei"), so each becomes a word of its own.
_SYLLABIC_NAME_PREFIXES = (
    "CJK UNIFIED IDEOGRAPH",
    "CJK COMPATIBILITY IDEOGRAPH",
    "HANGUL SYLLABLE",
)

_ASCII_JOINERS = frozenset("'`-")
# The Arabic definite article written at the start of a word (ال): spelt out
# as the separate particle romanizations write (al-Rashid), so that it can
# be kept, dropped or run together like any other particle.
_ARABIC_ARTICLE = re.compile(r"(?<![\u0621-\u064A])\u0627\u0644(?=[\u0621-\u064A])")
_WORDS = re.compile(r"[a-z]+(?:-[a-z]+)*")


def is_invisible(char: str) -> bool:
    """True for a code point that renders as nothing (and so must match nothing)."""
    code = ord(char)
    return any(low <= code <= high for low, high in _INVISIBLE_RANGES)


class CharacterTable(dict[int, str | None]):
    """A ``str.translate`` table that decides each code point once, on first sight.

    The table holds characters, never identifiers, and can grow at most to
    the size of Unicode.
    """

    __slots__ = ("_rule",)

    def __init__(self, rule: Callable[[str], str | None]) -> None:
        super().__init__()
        self._rule = rule

    def __missing__(self, code_point: int) -> str | None:
        replacement = self._rule(chr(code_point))
        self[code_point] = replacement
        return replacement


def _name_character(char: str) -> str:
    """One character of a name as lowercase ASCII letters, a joiner, a comma or a space."""
    if is_invisible(char):
        return ""
    category = unicodedata.category(char)
    if category.startswith("M"):
        return ""
    ascii_form = anyascii(char)
    if category.startswith("L"):
        is_joiner = bool(ascii_form) and all(c in _ASCII_JOINERS for c in ascii_form)
        if is_joiner:
            # A modifier letter such as U+02BC (the apostrophe of O'Brien in
            # some feeds) joins a word; a letter such as the Arabic hamza or
            # ayin, which transliterates to an apostrophe, is left out, as
            # romanizations themselves often do (Sa'id, Said).
            return WORD_JOINER if category == "Lm" else ""
        letters = "".join(c for c in ascii_form.lower() if "a" <= c <= "z")
        if letters and unicodedata.name(char, "").startswith(_SYLLABIC_NAME_PREFIXES):
            return f" {letters} "
        return letters
    if ascii_form == FIELD_SEPARATOR:
        return FIELD_SEPARATOR
    if ascii_form and all(c in _ASCII_JOINERS for c in ascii_form):
        return WORD_JOINER
    return " "


_NAME_TABLE = CharacterTable(_name_character)
_LOOKALIKE_TABLE = CharacterTable(latin_lookalike)


def fold_name_text(value: str) -> str:
    """``value`` as lowercase ASCII letters, word joiners, commas and spaces.

    ``  Jos\u00e9 GARC\u00cdA-L\u00d3PEZ`` gives ``" jose garcia-lopez"``; ``\u738b\u4f1f`` gives
    ``" wang  wei "``. Callers split it with :func:`words_of`.
    """
    return _ARABIC_ARTICLE.sub("al-", unicodedata.normalize("NFKC", value)).translate(_NAME_TABLE)


def text_readings(value: str) -> tuple[str, ...]:
    """The folded text of ``value``, and a second reading with look-alikes made Latin.

    A word mixing scripts (``Maria`` typed with a Cyrillic a, U+0430), or written
    wholly in Cyrillic letters that look Latin, is either a spoof or a typing
    accident: its look-alike reading is the one a reader saw. A genuine
    Cyrillic or Greek name is meant to be transliterated. Both readings are
    given whenever they differ, so both spellings meet. Plain ASCII (the
    common case) has one reading and costs one lowercase.
    """
    if value.isascii():
        return (value.lower().translate(_NAME_TABLE),)
    composed = _ARABIC_ARTICLE.sub("al-", unicodedata.normalize("NFKC", value))
    transliterated = composed.translate(_NAME_TABLE)
    lookalike = " ".join(map(_lookalike_word, composed.split(" "))).translate(_NAME_TABLE)
    if lookalike == transliterated:
        return (transliterated,)
    return (transliterated, lookalike)


def _lookalike_word(word: str) -> str:
    """The word with look-alike letters made Latin, when it reads as a Latin word at all.

    It does when it already holds an ASCII letter (a mixed-script word), or
    when every letter in it has a Latin look-alike (a whole-script spoof).
    A genuine Cyrillic or Greek word is left to transliteration.
    """
    letters = [char for char in word if char.isalpha()]
    if not letters:
        return word
    if any(char.isascii() for char in letters) or all(map(has_lookalike, letters)):
        return word.translate(_LOOKALIKE_TABLE)
    return word


def words_of(folded: str) -> list[str]:
    """The words of folded text: runs of letters, possibly joined by hyphens or apostrophes."""
    return _WORDS.findall(folded)


def _identifier_character(char: str) -> str:
    """One character of an identifier: ASCII digit, upper-case ASCII letter(s), or a space.

    Digits of every script count (an Arabic-Indic three is a 3); letters are
    transliterated so that a Cyrillic capital O (U+041E) inside a number is
    still seen as the letter O that looks like a zero.
    """
    if is_invisible(char):
        return ""
    if char.isdecimal():
        return str(unicodedata.decimal(char))
    category = unicodedata.category(char)
    if category.startswith("M"):
        return ""
    if category.startswith("L"):
        letters = "".join(c for c in anyascii(latin_lookalike(char)).upper() if "A" <= c <= "Z")
        return letters or " "
    if char in "#:.,+-":
        return char
    return " "


_IDENTIFIER_TABLE = CharacterTable(_identifier_character)


def fold_identifier_text(value: str) -> str:
    """``value`` as upper-case ASCII letters, digits, spaces and the marks ``# : . , + -``.

    The marks are kept because they carry meaning a parser needs: a label
    (``A#``, ``FINS:``), a spreadsheet's decimal point or exponent
    (``12345678.0``, ``1.2345678E+07``).
    """
    return unicodedata.normalize("NFKC", value).translate(_IDENTIFIER_TABLE)
