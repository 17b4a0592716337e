"""Rounding of computed percentages: numpy's pace, Python's round's every result."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from db.ingest.stats import round_tenths, wilson_interval


def python_round(values: np.ndarray) -> list[str]:
    return [round(value, 1).hex() for value in values.tolist()]


def fast_round(values: np.ndarray) -> list[str]:
    return [value.hex() for value in round_tenths(values)]  # hex: -0.0 and 0.0 differ


def test_every_share_of_up_to_a_thousand_ads_rounds_as_python_does() -> None:
    shares = np.concatenate(
        [100 * np.arange(ads + 1) / ads for ads in range(1, 1001)]  # as 100 * part / whole
    )
    assert fast_round(shares) == python_round(shares)


def test_numpy_computes_shares_of_whole_numbers_as_python_does() -> None:
    for ads in (*range(1, 1001), 99_991, 1_000_003):
        parts = np.unique(np.linspace(0, ads, num=min(ads + 1, 2_000), dtype=np.int64))
        shares = (100 * parts / ads).tolist()
        assert [share.hex() for share in shares] == [
            (100 * part / ads).hex() for part in parts.tolist()
        ]


def test_wilson_bounds_round_as_python_does() -> None:
    bounds = np.array(
        [bound for n in range(1, 400) for k in range(n + 1) for bound in wilson_interval(k, n)]
    )
    assert fast_round(bounds) == python_round(bounds)


def test_values_at_and_next_to_halves_round_as_python_does() -> None:
    halves = np.arange(-20_001, 20_001) / 20  # ..., 0.05, 0.1, 0.15, ... (not all exact)
    around = [halves]
    for steps in (1, 2, 3):
        around += [halves + steps * np.spacing(halves), halves - steps * np.spacing(halves)]
    values = np.concatenate(around)
    assert fast_round(values) == python_round(values)


@given(
    arrays(
        np.float64,
        st.integers(0, 50),
        elements=st.floats(-1e12, 1e12, allow_nan=False, allow_infinity=False),
    )
)
def test_any_finite_values_round_as_python_does(values: np.ndarray) -> None:
    assert fast_round(values) == python_round(values)
