"""The table-driven normalizers agree with a plain per-character reference.

The normalizers decide each code point once through ``str.translate``
tables (for speed). These references spell the rules out the slow way, one
character at a time; hypothesis looks for any string where the two differ.
"""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from guard.identity.errors import InvalidIdentifier
from guard.identity.normalize import (
    _UNDECOMPOSED_LETTERS,
    canonical_a_number,
    canonical_document_number,
    name_tokens,
)

ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)


def _ascii_digit(char: str) -> str:
    return str(unicodedata.decimal(char))


def reference_name_tokens(value: str) -> tuple[str, ...]:
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", value).casefold())
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("M"))
    text = text.translate(_UNDECOMPOSED_LETTERS)
    return tuple("".join(ch if ch.isalpha() else " " for ch in text).split())


def reference_document_number(value: str) -> str | None:
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", value).upper())
    kept = "".join(_ascii_digit(ch) if ch.isdecimal() else ch for ch in folded if ch.isalnum())
    return kept or None


def reference_a_number_digits(value: str) -> str:
    compatible = unicodedata.normalize("NFKC", value)
    return "".join(_ascii_digit(ch) for ch in compatible if ch.isdecimal())


@settings(max_examples=400)
@given(ANY_TEXT)
def test_name_tokens_match_the_reference(value: str) -> None:
    assert name_tokens(value) == reference_name_tokens(value)


@settings(max_examples=400)
@given(ANY_TEXT)
def test_document_numbers_match_the_reference(value: str) -> None:
    assert canonical_document_number(value) == reference_document_number(value)


@settings(max_examples=400)
@given(ANY_TEXT)
def test_a_numbers_match_the_reference(value: str) -> None:
    digits = reference_a_number_digits(value)
    if not digits:
        assert canonical_a_number(value) is None
    elif 7 <= len(digits) <= 9:
        assert canonical_a_number(value) == digits.zfill(9)
    else:
        try:
            canonical_a_number(value)
        except InvalidIdentifier:
            return
        raise AssertionError("an A-number of the wrong length was accepted")


def test_every_code_point_alone_matches_the_reference() -> None:
    for code_point in range(0x3000):  # Latin, Greek, Cyrillic, Arabic, Indic... and marks
        char = chr(code_point)
        if unicodedata.category(char) == "Cs":
            continue
        assert name_tokens(f"a{char}b") == reference_name_tokens(f"a{char}b"), hex(code_point)
        assert canonical_document_number(char) == reference_document_number(char), hex(code_point)
