"""Salary reading: every stated format, kinds kept apart, IR35 never a range, any text is safe."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from db.ingest.salary import SalaryReading, parse_salary_fields, parse_salary_text
from db.models import PayKind

ANNUAL, DAILY, HOURLY = PayKind.ANNUAL, PayKind.DAILY, PayKind.HOURLY


@pytest.mark.parametrize(
    ("text", "contract", "expected"),
    [
        ("£75k", False, SalaryReading(ANNUAL, 75000, 75000)),
        ("£50,000 - £60,000 per annum", False, SalaryReading(ANNUAL, 50000, 60000)),
        ("£650/day", True, SalaryReading(DAILY, 650, 650)),
        ("£650/day", False, SalaryReading(DAILY, 650, 650)),
        ("£90 per hour", True, SalaryReading(HOURLY, 90, 90)),
        ("up to £120k + bonus", False, SalaryReading(ANNUAL, None, 120000)),
        ("£500 - £550 per day inside IR35", True, SalaryReading(DAILY, 500, 550)),
        ("£600 per day (Outside IR35)", True, SalaryReading(DAILY, 600, 600)),
        ("£50-60k", False, SalaryReading(ANNUAL, 50000, 60000)),
        ("£45k-£55k DOE", False, SalaryReading(ANNUAL, 45000, 55000)),
        ("£70,000 + £5k bonus", False, SalaryReading(ANNUAL, 70000, 70000)),
        ("£60k - 10% bonus", False, SalaryReading(ANNUAL, 60000, 60000)),
        ("From £60,000", False, SalaryReading(ANNUAL, 60000, None)),
        ("£550pd", True, SalaryReading(DAILY, 550, 550)),
        ("£40 - £45 p/h", True, SalaryReading(HOURLY, 40, 45)),
        ("£60kpa", False, SalaryReading(ANNUAL, 60000, 60000)),
        ("GBP 95,000", False, SalaryReading(ANNUAL, 95000, 95000)),
        # No unit: a careful reader takes a contract's three-figure rate as per day.
        ("£550", True, SalaryReading(DAILY, 550, 550)),
    ],
)
def test_stated_salaries(text: str, contract: bool, expected: SalaryReading) -> None:
    assert parse_salary_text(text, is_contract=contract) == expected


@pytest.mark.parametrize(
    "text",
    [
        "competitive",
        "Competitive salary + benefits",
        "inside IR35",
        "Outside IR35",
        "DOE",
        "",
        "£5,000 per month",
        "£550",
    ],
)
def test_no_figure_or_a_kind_not_kept(text: str) -> None:
    # "£550" alone in a permanent ad could be anything: not read.
    assert parse_salary_text(text, is_contract=False) is None


def test_ir35_is_never_read_as_a_figure() -> None:
    reading = parse_salary_text("£35 per hour, inside IR35", is_contract=True)
    assert reading == SalaryReading(HOURLY, 35, 35)
    assert parse_salary_text("IR35: inside", is_contract=True) is None


def test_adzuna_fields_by_size() -> None:
    assert parse_salary_fields("70000", "90000") == SalaryReading(ANNUAL, 70000, 90000)
    assert parse_salary_fields(600, 650, is_contract=True) == SalaryReading(DAILY, 600, 650)
    assert parse_salary_fields(None, "") is None
    assert parse_salary_fields("n/a", None) is None


def test_midpoints_and_sane_bounds() -> None:
    assert SalaryReading(ANNUAL, 50000, 60000).value == 55000
    assert SalaryReading(ANNUAL, None, 120000).value == 120000
    assert SalaryReading(DAILY, 650, 650).is_sane()
    assert not SalaryReading(ANNUAL, 1_500_000, 1_500_000).is_sane()
    assert not SalaryReading(DAILY, 20, 25).is_sane()


@given(st.text(max_size=200))
def test_any_text_gives_a_reading_or_none(text: str) -> None:
    reading = parse_salary_text(text, is_contract=True)
    if reading is not None:
        assert reading.low is not None or reading.high is not None
        assert reading.low is None or reading.high is None or reading.low <= reading.high


@given(
    st.integers(min_value=1, max_value=500_000),
    st.integers(min_value=0, max_value=100_000),
    st.sampled_from(["", " per annum", " per day", "/day", " per hour", " p/h", "pd", " DOE"]),
)
def test_generated_ranges_are_read_back(low: int, extra: int, unit: str) -> None:
    high = low + extra
    reading = parse_salary_text(f"£{low:,} - £{high:,}{unit}", is_contract=True)
    assert reading is not None
    assert (reading.low, reading.high) == (low, high)
