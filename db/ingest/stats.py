"""Small, exact statistics for computed snapshots: Wilson intervals, percentiles, pay summaries."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# No median from fewer figures than this, no 10th/25th/75th/90th percentiles from fewer than
# that: below them the figures say more about the few ads than about the market.
from db.constants import MIN_FIGURES_FOR_MEDIAN as MIN_FIGURES_FOR_MEDIAN
from db.constants import MIN_FIGURES_FOR_TAILS as MIN_FIGURES_FOR_TAILS

Z_95 = 1.959963984540054


def wilson_interval(successes: int, total: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a proportion, in percent (sound even near 0% and 100%)."""
    if total <= 0:
        return (0.0, 100.0)
    p = successes / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    margin = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return (max(0.0, centre - margin) * 100, min(1.0, centre + margin) * 100)


def round_tenths(values: np.ndarray) -> list[float]:
    """`[round(v, 1) for v in values]` for finite values, without a Python call per value.

    rint(10 v) / 10 is Python's answer unless 10 v, which is itself rounded, lies so near a
    half (within its own rounding error) that it may sit on the other side of it than the
    exact value does; those few values, ties among them, take Python's round.
    """
    tenths = values * 10
    rounded: list[float] = (np.rint(tenths) / 10).tolist()
    near_half = np.abs(tenths - np.floor(tenths) - 0.5) <= 2 * np.spacing(np.abs(tenths))
    for at in np.flatnonzero(near_half).tolist():
        rounded[at] = round(float(values[at]), 1)
    return rounded


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Linear interpolation between closest ranks (numpy's default) over sorted figures."""
    if not ordered:
        raise ValueError("no figures")
    position = (len(ordered) - 1) * fraction
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    weight = position - below
    return ordered[below] + (ordered[above] - ordered[below]) * weight


@dataclass(frozen=True)
class PaySummary:
    sample_size: int
    median: float | None
    p10: float | None
    p25: float | None
    p75: float | None
    p90: float | None


def summarise_pay(figures: Sequence[float]) -> PaySummary:
    return summarise_sorted_pay(sorted(figures))


def summarise_sorted_pay(ordered: Sequence[float]) -> PaySummary:
    """summarise_pay of figures already in ascending order."""
    n = len(ordered)
    median = round(percentile(ordered, 0.5), 2) if n >= MIN_FIGURES_FOR_MEDIAN else None
    if n < MIN_FIGURES_FOR_TAILS:
        return PaySummary(n, median, None, None, None, None)
    p10, p25, p75, p90 = (round(percentile(ordered, f), 2) for f in (0.1, 0.25, 0.75, 0.9))
    return PaySummary(n, median, p10, p25, p75, p90)
