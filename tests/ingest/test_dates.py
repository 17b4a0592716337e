"""Dates in exports: the forms exports write are read; a date no export could hold is a bad row."""

from __future__ import annotations

from datetime import date

import pytest

from db.ingest.postings import BadRow, parse_date


@pytest.mark.parametrize("typed", ["11111111", "0001-01-01", "3026-04-07", "07/04/1066"])
def test_a_date_no_export_could_hold_is_a_bad_row_saying_how_it_read(typed: str) -> None:
    with pytest.raises(BadRow, match="outside 1990-2100"):
        parse_date(typed)


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("2026-04-07", date(2026, 4, 7)),
        ("20260407", date(2026, 4, 7)),
        ("7/4/2026", date(2026, 4, 7)),
    ],
)
def test_dates_as_exports_write_them_still_read(typed: str, day: date) -> None:
    assert parse_date(typed) == day
