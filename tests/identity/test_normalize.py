"""Each normalization rule, on the spellings the issue names and a few it does not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guard.identity.errors import InvalidIdentifier
from guard.identity.normalize import (
    canonical_a_number,
    canonical_document_number,
    name_tokens,
)


@pytest.mark.parametrize(
    "written",
    ["A-012-345-678", "a12345678", "012345678", "A 12 345 678", "12345678", "A.012.345.678"],
)
def test_spellings_of_one_a_number_agree(written: str) -> None:
    assert canonical_a_number(written) == "012345678"


@pytest.mark.parametrize(
    ("written", "canonical"),
    [("1234567", "001234567"), ("A-1234567", "001234567"), ("987654321", "987654321")],
)
def test_a_number_is_left_padded_to_nine_digits(written: str, canonical: str) -> None:
    assert canonical_a_number(written) == canonical


def test_unicode_digits_count_as_digits() -> None:
    arabic_indic = "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668"  # 1..8
    full_width = "\uff21\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18"  # A012345678
    assert canonical_a_number(arabic_indic) == "012345678"
    assert canonical_a_number(full_width) == "012345678"


@pytest.mark.parametrize("written", [None, "", "A", "A--", "   ", "n/a"])
def test_a_number_without_digits_is_absent(written: str | None) -> None:
    assert canonical_a_number(written) is None


@pytest.mark.parametrize("written", ["123456", "A-1", "1234567890", "A-012-345-678-9", "12 / 34"])
def test_a_number_with_wrong_digit_count_is_invalid(written: str) -> None:
    with pytest.raises(InvalidIdentifier) as raised:
        canonical_a_number(written)
    assert raised.value.field == "a_number"
    assert "a_number" in str(raised.value)
    digits = "".join(ch for ch in written if ch.isdigit())
    assert digits not in str(raised.value)
    assert digits not in repr(raised.value)


@given(st.text(alphabet="0123456789", min_size=7, max_size=9), st.sampled_from(["", "A", "a"]))
def test_any_valid_a_number_survives_dashes(digits: str, prefix: str) -> None:
    dashed = prefix + "-".join(digits[i : i + 3] for i in range(0, len(digits), 3))
    assert canonical_a_number(dashed) == digits.zfill(9)


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("123456AB1", "123456AB1"),
        ("123456ab1", "123456AB1"),
        ("12-3456 ab.1", "123456AB1"),
        ("\uff41\uff42-12", "AB12"),  # full-width a b
    ],
)
def test_document_numbers_are_upper_case_without_separators(written: str, canonical: str) -> None:
    assert canonical_document_number(written) == canonical


@pytest.mark.parametrize("written", [None, "", " - ", "./"])
def test_empty_document_number_is_absent(written: str | None) -> None:
    assert canonical_document_number(written) is None


@pytest.mark.parametrize(
    ("written", "tokens"),
    [
        ("José GARCÍA-LÓPEZ", ("jose", "garcia", "lopez")),
        ("  maría   josé ", ("maria", "jose")),
        ("O'Brien", ("o", "brien")),
        ("Jean-Pierre2nd", ("jean", "pierre", "nd")),
        ("Nguyễn", ("nguyen",)),
        ("Çelik", ("celik",)),
    ],
)
def test_name_tokens(written: str, tokens: tuple[str, ...]) -> None:
    assert name_tokens(written) == tokens


@pytest.mark.parametrize(
    ("written", "plain"),
    [
        ("Straße", "strasse"),
        ("STRASSE", "strasse"),
        ("\u1e9e", "ss"),  # capital sharp s
        ("\ufb01scher", "fischer"),  # fi ligature
        ("Søren", "soren"),
        ("SØREN", "soren"),
        ("Łukasz", "lukasz"),
        ("Đorđe", "dorde"),
        ("Ægir", "aegir"),
        ("Œuvre", "oeuvre"),
        ("Þór", "thor"),
        ("Y\u0131ld\u0131z", "yildiz"),  # dotless i
        ("İlker", "ilker"),
        ("Jose\u0301", "jose"),  # decomposed accent
    ],
)
def test_letters_fold_to_plain_ascii(written: str, plain: str) -> None:
    assert name_tokens(written) == (plain,)


def test_other_scripts_are_kept_not_dropped() -> None:
    assert name_tokens("Иван Петров") == ("иван", "петров")
    assert name_tokens("ИВАН") == name_tokens("иван")


@pytest.mark.parametrize("written", [None, "", "--", "123", " . "])
def test_name_without_letters_has_no_tokens(written: str | None) -> None:
    assert name_tokens(written) == ()


@given(st.text())
def test_name_tokens_are_letters_only_and_stable(text: str) -> None:
    tokens = name_tokens(text)
    assert all(token and token.isalpha() for token in tokens)
    assert name_tokens(" ".join(tokens)) == tokens
