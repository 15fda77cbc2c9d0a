"""Reading identifier numbers: labels, look-alikes, spreadsheets, placeholders, refusals."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guard.identity.errors import InvalidIdentifier
from guard.identity.numbers import (
    IdentifierKind,
    IdentifierReading,
    canonical_a_number,
    read_identifier,
)

A = IdentifierKind.A_NUMBER
FBI = IdentifierKind.FBI
FINS = IdentifierKind.FINS


@pytest.mark.parametrize(
    "written",
    [
        "A-012-345-678", "a12345678", "A 12 345 678", "012345678", "12345678", "A#012345678",
        "A# 012-345-678", "A-Number: 12345678", "Alien No. 12345678", "ANUM 12345678",
        "ANUM12345678", "#012345678", "012.345.678", "12,345,678", "012345678.0",
        "1.2345678E+07", "1.2345678e7", "A0l2345678", "AO12345678",
        "A-O12-345-678", "0I2345678", "Ａ１２３４５６７８", "A٠١٢٣٤٥٦٧٨", "A\u200b12345678",
        "  A-012-345-678  ",
    ],
)  # fmt: skip
def test_spellings_of_one_a_number_agree(written: str) -> None:
    assert canonical_a_number(written) == "012345678"


@pytest.mark.parametrize(
    ("written", "canonical"),
    [("S12345678", "512345678"), ("8B7654321", "887654321"), ("A-OOO-123-456", "000123456")],
)
def test_letters_inside_a_number_are_read_as_the_digit_they_look_like(
    written: str, canonical: str
) -> None:
    assert canonical_a_number(written) == canonical


@pytest.mark.parametrize(
    "written",
    [None, "", "   ", "N/A", "n/a", "NONE", "UNKNOWN", "unk", "A-Number: unknown", "000000000",
     "A-000-000-000", "999999999", "111-111-111", "123456789", "-", "?", "No A-number"],
)  # fmt: skip
def test_placeholders_are_absent_not_numbers(written: str | None) -> None:
    assert canonical_a_number(written) is None


@pytest.mark.parametrize(
    "written",
    [
        "12345",  # too few digits
        "1234567890123",  # two numbers run together?
        "0012345678",  # a padding zero, or a stray digit after 001234567?
        "A-012-345-678-9",
        "1.23457E+07",  # a spreadsheet rounded digits away
        "1.2E+08",
        "A12X45678",  # a letter that looks like no digit
        "ABCDEFGHI",
        "OOOOOOO12",  # mostly letters
        "FBI 12345",  # labelled as another kind
    ],
)
def test_values_that_could_be_another_number_are_refused(written: str) -> None:
    with pytest.raises(InvalidIdentifier) as raised:
        canonical_a_number(written)
    assert raised.value.field == "a_number"
    assert written not in str(raised.value)


def test_a_spreadsheet_float_has_both_readings() -> None:
    reading = read_identifier("12345678.0", A)
    assert reading == IdentifierReading(A, ("012345678", "123456780"))
    assert reading.is_ambiguous
    assert read_identifier("223456789.0", A) == IdentifierReading(A, ("223456789",))
    with pytest.raises(InvalidIdentifier):
        canonical_a_number("12345678.0")  # one number was asked for


def test_a_label_for_another_kind_wins_over_the_field() -> None:
    assert read_identifier("FBI# 123456AB7", A) == IdentifierReading(FBI, ("123456A87",))
    assert read_identifier("A#012345678", FINS) == IdentifierReading(A, ("012345678",))
    assert read_identifier("FINS: 7712345", A) == IdentifierReading(FINS, ("7712345",))


@pytest.mark.parametrize(
    ("written", "canonical"),
    [("123456AB7", "123456A87"), ("123456-ab-7", "123456A87"), ("FBI No. 1234S6AB7", "123456A87"),
     ("12345O", "123450"), ("1234I5", "123415"), ("ucn 99 88 77", "998877")],
)  # fmt: skip
def test_document_numbers_fold_look_alikes_on_both_sides(written: str, canonical: str) -> None:
    reading = read_identifier(written, FBI)
    assert reading is not None
    assert reading.canonical == canonical


@pytest.mark.parametrize("written", ["0000000", "N/A", "UNKNOWN", "", "-"])
def test_document_number_placeholders_are_absent(written: str) -> None:
    assert read_identifier(written, FINS) is None


def test_the_loose_form_ignores_kind_and_leading_zeros() -> None:
    a_number = read_identifier("A-012-345-678", A)
    fbi = read_identifier("12345678", FBI)
    assert a_number is not None and fbi is not None
    assert a_number.loose_forms == fbi.loose_forms == ("12345678",)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=1_000_000, max_value=999_999_998),
    st.sampled_from(["A{}", "A-{}", "A# {}", "{}", "{}.0", "A {}"]),
)
def test_any_valid_a_number_survives_its_spellings(number: int, template: str) -> None:
    digits = f"{number:09d}"
    if len(set(digits)) == 1 or digits.lstrip("0") in {"123456789", "987654321"}:
        return
    if "." in template:  # a spreadsheet writes the number, not a spelling of it
        reading = read_identifier(template.format(number), A)
        assert reading is not None and reading.canonical == digits
        return
    spaced = f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    for written in (digits, spaced):
        assert canonical_a_number(template.format(written)) == digits


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_reading_never_fails_except_as_invalid_identifier(value: str) -> None:
    for kind in IdentifierKind:
        try:
            reading = read_identifier(value, kind)
        except InvalidIdentifier as problem:
            assert str(problem).startswith(f"invalid {kind.field}: ")
            assert len(value.strip()) < 4 or value.strip() not in str(problem)
            continue
        if reading is not None and reading.kind is A:
            assert len(reading.canonical) == 9 and reading.canonical.isdigit()
