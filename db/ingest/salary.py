"""Reading pay from job ads: free-text salaries and Adzuna-style numeric fields, never converted."""

from __future__ import annotations

import re
from dataclasses import dataclass

from db.constants import PayKind

# Figures outside these bounds are typos or other units (monthly, thousands) and are dropped.
SANE_BOUNDS: dict[PayKind, tuple[float, float]] = {
    PayKind.ANNUAL: (12_000.0, 1_000_000.0),
    PayKind.DAILY: (80.0, 5_000.0),
    PayKind.HOURLY: (10.0, 600.0),
}


@dataclass(frozen=True)
class SalaryReading:
    """Pay as the ad states it: one kind, a low and/or high figure in GBP."""

    kind: PayKind
    low: float | None
    high: float | None

    @property
    def value(self) -> float:
        """The figure counted in statistics: a range's midpoint, else the one figure given."""
        if self.low is not None and self.high is not None:
            return (self.low + self.high) / 2
        figure = self.low if self.low is not None else self.high
        assert figure is not None
        return figure

    def is_sane(self) -> bool:
        floor, ceiling = SANE_BOUNDS[self.kind]
        return all(floor <= f <= ceiling for f in (self.low, self.high) if f is not None)


# "£650pd" and "£60kpa" glue units to figures; a k or m suffix must not start a word.
_FIGURE = r"(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
_SUFFIX_END = r"(?=pa\b|p\.a|[^A-Za-z]|$)"
_AMOUNT = r"(?:£|GBP\s?)\s?" + _FIGURE + r"(?:(k|K|m|M)" + _SUFFIX_END + r")?(?![\d,])"
_BARE = _FIGURE + r"(?:(k|K)" + _SUFFIX_END + r")?(?![\d,%])"
_RANGE = re.compile(
    _AMOUNT + r"\s*(?:-|–|—|to)\s*(?:£|GBP\s?)?\s?" + _BARE,
)
_SINGLE = re.compile(_AMOUNT)
_UP_TO = re.compile(r"(?i)\b(?:up\s+to|max(?:imum)?|to)\s*$")
_FROM = re.compile(r"(?i)\b(?:from|starting\s+(?:at|from)|min(?:imum)?|at\s+least)\s*$")

_DAILY = re.compile(
    r"(?i)(?:per\s+day|/\s*day|a\s+day|p\s*/\s*d\b|(?<![A-Za-z])pd\b|(?<![A-Za-z])p\.d\.|daily|day\s+rate|per\s+diem|/\s*d\b)"
)
_HOURLY = re.compile(
    r"(?i)(?:per\s+h(?:ou)?r\b|/\s*h(?:ou)?r\b|an\s+hour|p\s*/\s*h\b|(?<![A-Za-z])ph\b|(?<![A-Za-z])p\.h\.|hourly|/\s*h\b)"
)
_ANNUAL = re.compile(
    r"(?i)(?:per\s+annum|(?:(?<![A-Za-z])|(?<=\dk))p\.?\s?a\b\.?|a\s+year|per\s+year|/\s*y(?:ea)?r|annual|annum|salary)"
)
_MONTHLY = re.compile(r"(?i)(?:per\s+month|/\s*month|a\s+month|monthly|\bpcm\b|p\.c\.m)")
# Said of a contract's tax status, never a pay figure: "inside IR35", "outside IR35".
_IR35 = re.compile(r"(?i)\bIR\s?35\b")


def _number(digits: str, suffix: str | None) -> float:
    value = float(digits.replace(",", ""))
    if suffix in ("k", "K"):
        value *= 1_000
    elif suffix in ("m", "M"):
        value *= 1_000_000
    return value


def _kind_from_words(text: str) -> PayKind | None:
    if _HOURLY.search(text):
        return PayKind.HOURLY
    if _DAILY.search(text):
        return PayKind.DAILY
    if _ANNUAL.search(text):
        return PayKind.ANNUAL
    return None


def _kind_from_size(value: float, is_contract: bool) -> PayKind | None:
    """Units a careful reader would assume when the ad gives none."""
    if value >= 10_000:
        return PayKind.ANNUAL
    if is_contract and value >= 100:
        return PayKind.DAILY
    if is_contract and value < 100:
        return PayKind.HOURLY
    return None


def parse_salary_text(text: str | None, *, is_contract: bool = False) -> SalaryReading | None:
    """Pay stated in free text ("£50,000 - £60,000 per annum", "£650/day"), or None."""
    if not text:
        return None
    cleaned = _IR35.sub(" ", text)
    if _MONTHLY.search(cleaned):
        return None  # monthly pay is a kind SkillGap does not keep, and is never converted
    low: float | None
    high: float | None
    ranged = _RANGE.search(cleaned)
    if ranged is not None:
        first_suffix = ranged.group(2)
        second_suffix = ranged.group(4)
        # "£50-60k": the thousands apply to both ends.
        low = _number(ranged.group(1), first_suffix or second_suffix)
        high = _number(ranged.group(3), second_suffix or first_suffix)
        if low > high:
            low, high = high, low
        start = ranged.start()
    else:
        single = _SINGLE.search(cleaned)
        if single is None:
            return None
        figure = _number(single.group(1), single.group(2))
        start = single.start()
        before = cleaned[:start]
        if _UP_TO.search(before):
            low, high = None, figure
        elif _FROM.search(before):
            low, high = figure, None
        else:
            low, high = figure, figure
    kind = _kind_from_words(cleaned[start:]) or _kind_from_words(cleaned[:start])
    if kind is None:
        reference = high if high is not None else low
        assert reference is not None
        kind = _kind_from_size(reference, is_contract)
    if kind is None:
        return None
    return SalaryReading(kind, low, high)


def _as_float(value: object) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(str(value).replace(",", "").replace("£", "").strip())
    except ValueError:
        return None
    return number if number > 0 else None


def parse_salary_fields(
    salary_min: object, salary_max: object, *, is_contract: bool = False
) -> SalaryReading | None:
    """Adzuna-style salary_min / salary_max numbers; the unit follows from their size."""
    low = _as_float(salary_min)
    high = _as_float(salary_max)
    if low is None and high is None:
        return None
    if low is not None and high is not None and low > high:
        low, high = high, low
    reference = high if high is not None else low
    assert reference is not None
    kind = _kind_from_size(reference, is_contract)
    if kind is None:
        return None
    return SalaryReading(kind, low, high)


def is_truthy(value: object) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "y", "t")
