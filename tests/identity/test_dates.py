"""Dates of birth: sentinels are absent, January 1 may be a year, slips are nearby readings."""

from __future__ import annotations

from datetime import date

import pytest

from guard.identity.dates import SENTINEL_DATES, nearby_readings, usable_birth_date


@pytest.mark.parametrize("sentinel", sorted(SENTINEL_DATES))
def test_sentinel_dates_are_absent(sentinel: date) -> None:
    assert usable_birth_date(sentinel) is None


def test_dates_before_1900_are_absent_and_real_dates_are_kept() -> None:
    assert usable_birth_date(date(1850, 6, 1)) is None
    birth = usable_birth_date(date(1987, 3, 14))
    assert birth is not None and birth.key == "1987-03-14"
    assert not birth.may_be_year_only


def test_january_first_may_be_a_year_only() -> None:
    birth = usable_birth_date(date(1987, 1, 1))
    assert birth is not None and birth.may_be_year_only


def test_nearby_readings_swap_day_and_month_and_shift_one_day() -> None:
    birth = usable_birth_date(date(1987, 3, 4))
    assert birth is not None
    assert nearby_readings(birth) == ("1987-04-03", "1987-03-03", "1987-03-05")


def test_no_swap_when_the_day_cannot_be_a_month_or_equals_it() -> None:
    for value in (date(1987, 3, 14), date(1987, 3, 3)):
        birth = usable_birth_date(value)
        assert birth is not None
        assert len(nearby_readings(birth)) == 2


def test_one_day_off_crosses_month_and_year_ends() -> None:
    birth = usable_birth_date(date(1987, 12, 31))
    assert birth is not None
    assert "1988-01-01" in nearby_readings(birth)
