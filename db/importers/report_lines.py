"""A published report read line by line: the layout's patterns, and the facts each line states."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date

from db.constants import PayKind, Region
from db.importers.aliases import NameTable, curated_aliases
from db.importers.document import (
    Problem,
)
from db.importers.structured import check_gap, check_pay_order
from db.names import normalize_name

# Report lines are at most a few thousand characters; longer ones are never matched
# against the patterns, which keeps parsing linear on hostile input.
MAX_LINE_CHARS = 10_000
MAX_WARNINGS = 50
MAX_NAME_CHARS = 120

_NUMBER = r"[0-9]{1,6}(?:\.[0-9]{1,4})?"
_SIGNED = r"[-−]?[0-9]{1,6}(?:\.[0-9]{1,4})?"
_MONEY = r"£\s?(?:[0-9]{1,3}(?:,[0-9]{3}){1,4}|[0-9]{1,9})(?:\.[0-9]{1,2})?(?:\s?[kKmM]\b)?"
_PER_DAY = r"\s?(?:/\s?day|per day|a day)"
_PLACE = r"[A-Z][\w.' -]{0,40}?"

_MONTHS = {
    name.lower(): number
    for names in (calendar.month_name, calendar.month_abbr)
    for number, name in enumerate(names)
    if name
} | {"sept": 9}

HEADER_DATE = re.compile(
    r"\bUpdated:?\s+(?:(?P<day>[0-9]{1,2})(?:st|nd|rd|th)?\s+)?"
    r"(?P<month>[A-Za-z]{3,9})\.?,?\s+(?P<year>[0-9]{4})\b"
)
HEADER_MARKET = re.compile(r"^(?P<market>[A-Z][\w&' -]{0,40}?)\s+Market\b")
GAP_LINE = re.compile(
    rf"^(?P<name>[^—–]{{1,150}}?)\s+[—–-]\s+(?P<demand>{_NUMBER})\s?%\s+demand\s+vs\.?\s+"
    rf"(?P<supply>{_NUMBER})\s?%\s+supply\s+\((?P<gap>{_SIGNED})[-\s]point\s+gap\)\s*$"
)
GAP_LIKE = re.compile(
    r"^[^—–]{1,150}?\s+[—–]\s+[0-9]{1,6}(?:\.[0-9]+)?\s?%|[0-9]\s?%\s+demand\s+vs\b", re.IGNORECASE
)
ESSENTIAL = re.compile(
    rf"most sought-after skills for (?P<role>.{{1,100}}?) roles in (?:the )?(?P<region>{_PLACE})"
    r" include "
)
EMERGING = re.compile(r"Emerging skills for (?P<role>.{1,100}?) roles include ")
TOP_GAPS = re.compile(r"top skills gaps in the (?P<role>.{1,100}?) market are ")
LARGEST_GAP = re.compile(
    rf"The largest is (?P<name>.{{1,150}}?) with (?P<demand>{_NUMBER})\s?% employer demand "
    rf"but only (?P<supply>{_NUMBER})\s?% of"
)
SALARY = re.compile(
    rf"median (?P<role>.{{1,100}}?) salary in (?:the )?(?P<region>{_PLACE}) is (?P<median>{_MONEY})"
    rf"(?:,? with a typical range of (?P<low>{_MONEY}) to (?P<high>{_MONEY}))?"
)
REGIONAL_SALARY = re.compile(
    rf"\bIn (?P<region>{_PLACE}), the median (?:\w+ )?(?:to |at |of |is )?(?P<median>{_MONEY})"
)
SALARY_LIKE = re.compile(r"\bmedian\b.{0,120}\bsalary in\b.{0,80}£")
DAY_RATES = re.compile(
    r"(?:^|(?<=[.!?] ))(?:(?i:freelance and contract|freelance|contract|contractor)\s+)?"
    rf"(?P<role>.{{1,100}}?) day rates in (?:the )?(?P<region>{_PLACE}) typically range from "
    rf"(?P<low>{_MONEY}) to (?P<high>{_MONEY})"
)
DAY_MEDIAN = re.compile(rf"median of (?P<median>{_MONEY}){_PER_DAY}")
REGIONAL_DAY_RATE = re.compile(
    rf"(?P<region>[A-Z][\w'-]{{0,40}})-based contractors can expect "
    rf"(?:(?P<qualifier>around|about|roughly) )?(?P<median>{_MONEY}){_PER_DAY}"
)
DAY_RATE_LIKE = re.compile(r"\bday rates?\b", re.IGNORECASE)
PROGRESSION = re.compile(r"^Typical progression:\s*(?P<steps>.*)$")
TENURE_LINE = re.compile(r"^Typical tenure in role:\s*(?P<value>.*)$")
TENURE = re.compile(
    r"^(?:~|about |around |approx(?:\.|imately)? |c\.\s?)?\s*(?P<number>[0-9]{1,3})\s*"
    r"(?P<unit>months?|years?)\b",
    re.IGNORECASE,
)
LATERAL = re.compile(r"^Common lateral moves:\s*(?P<moves>.*)$")
ENTRY = re.compile(r"^How people enter this role:\s*(?P<routes>.*)$")
SECTION = re.compile(r"^Where the (?P<role>.{1,100}?) role sits\b")
CALL_TO_ACTION = re.compile(r"^See how your skills compare\b|^.{1,60}→\s*$")
OPENING_ROLE = re.compile(r"^An?\s+(?P<role>(?:[A-Z][\w/&+.-]*\s+){0,5}?[A-Z][\w/&+.-]*)\s+[a-z]")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


@dataclass
class ListedSkill:
    name: str
    aliases: tuple[str, ...]
    line: int
    written: str  # as the report spells it, for messages
    # The examples in parentheses that are skills of their own ("AWS/GCP/Azure").
    members: tuple[str, ...] = ()


@dataclass
class GapSkill(ListedSkill):
    demand: float = 0.0
    supply: float = 0.0
    note: str = ""


@dataclass
class StatedPay:
    median: float | None = None
    low: float | None = None
    high: float | None = None
    line: int = 0
    qualifier: str = ""  # "around" when the report does not call the figure a median


@dataclass
class ReportFacts:
    """What has been read so far, line by line."""

    filename: str
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    header_line: int | None = None
    market: str | None = None
    published_on: date | None = None
    role_mentions: list[tuple[str, int]] = field(default_factory=list)
    opening_role: tuple[str, int] | None = None
    summary: str = ""
    gaps: list[GapSkill] = field(default_factory=list)
    essential: list[ListedSkill] = field(default_factory=list)
    emerging: list[ListedSkill] = field(default_factory=list)
    top_gap_names: list[tuple[str, int]] = field(default_factory=list)
    largest_gap: tuple[str, float, float, int] | None = None
    pay: dict[tuple[PayKind, str], StatedPay] = field(default_factory=dict)
    tenure_months: int | None = None
    progression: tuple[str, ...] = ()
    lateral_moves: tuple[str, ...] = ()
    entry_routes: tuple[str, ...] = ()
    seen_once: dict[str, int] = field(default_factory=dict)
    body_started: bool = False  # any line after the header; the first one is the opening

    def refuse(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(self.filename, line, message))

    def warn(self, line: int | None, message: str) -> None:
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(Problem(self.filename, line, message))
        elif len(self.warnings) == MAX_WARNINGS:
            self.warnings.append(Problem(self.filename, line, "more warnings left out"))

    def once(self, what: str, line: int) -> bool:
        """True the first time a one-off part of the report is seen; else refuse the line."""
        first = self.seen_once.setdefault(what, line)
        if first != line:
            self.refuse(line, f"the report gives its {what} twice (first on line {first})")
            return False
        return True


def preview(line: str) -> str:
    return repr(line if len(line) <= 60 else line[:57] + "...")


def read_line(report: ReportFacts, line: str, number: int) -> bool | GapSkill:
    """Read one line into the report; False when it is not one of the layout's lines."""
    if _read_header(report, line, number):
        return True
    match = GAP_LINE.match(line)
    if match:
        return _read_gap(report, match, number) or True
    if GAP_LIKE.search(line) and not LARGEST_GAP.search(line):
        report.refuse(
            number,
            "this looks like a skills-gap line but cannot be read; expected e.g. "
            "'Skill name — 75% demand vs 25% supply (50-point gap)'",
        )
        return True
    if match := ESSENTIAL.search(line):
        _mention_role(report, match["role"], number)
        if report.once("essential skills", number):
            report.essential = _read_skill_list(report, line[match.end() :], number)
        return True
    if match := EMERGING.search(line):
        _mention_role(report, match["role"], number)
        if report.once("emerging skills", number):
            report.emerging = _read_skill_list(report, line[match.end() :], number)
        return True
    if match := TOP_GAPS.search(line):
        _read_top_gaps(report, line, match, number)
        return True
    if SALARY_LIKE.search(line) or REGIONAL_SALARY.search(line):
        _read_salary(report, line, number)
        return True
    if DAY_RATES.search(line) or REGIONAL_DAY_RATE.search(line):
        _read_day_rates(report, line, number)
        return True
    if DAY_RATE_LIKE.search(line) and "£" in line:
        report.refuse(
            number,
            "this looks like a day-rate line but cannot be read; expected e.g. '… day rates in "
            "the UK typically range from £450 to £950 per day, with a median of £650/day.'",
        )
        return True
    return _read_role_facts(report, line, number)


def _read_header(report: ReportFacts, line: str, number: int) -> bool:
    market = HEADER_MARKET.match(line)
    dated = HEADER_DATE.search(line)
    if not dated or not (market or "•" in line or len(line) < 100):
        return False
    if not report.once("header (market and date)", number):
        return True
    report.header_line = number
    if market:
        report.market = market["market"].strip()
    month = _MONTHS.get(dated["month"].lower())
    year = int(dated["year"])
    if month is None:
        report.refuse(
            number, f"'{dated['month']}' is not a month; expected e.g. 'Updated April 2026'"
        )
        return True
    if not 1900 <= year <= 2999:
        report.refuse(number, f"{year} is not a plausible year for a market report")
        return True
    day = int(dated["day"]) if dated["day"] else 1
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        report.refuse(number, f"{calendar.month_name[month]} {year} has no day {day}")
        return True
    report.published_on = date(year, month, day)
    return True


def _read_gap(report: ReportFacts, match: re.Match[str], number: int) -> GapSkill | None:
    demand, supply = float(match["demand"]), float(match["supply"])
    gap = float(match["gap"].replace("−", "-"))
    written = match["name"].strip()
    failed = False
    for label, value in (("demand", demand), ("supply", supply)):
        if not 0 <= value <= 100:
            report.refuse(number, f"{label} of {value:g}% for '{written}' is not between 0 and 100")
            failed = True
    try:
        check_gap(demand, supply, gap)
    except ValueError as error:
        report.refuse(number, f"'{written}': {error}")
        failed = True
    skill = _skill_item(report, written, number)
    if failed or skill is None:
        return None
    gap_skill = GapSkill(
        skill.name, skill.aliases, number, written, skill.members, demand=demand, supply=supply
    )
    report.gaps.append(gap_skill)
    return gap_skill


def _skill_item(report: ReportFacts, written: str, number: int) -> ListedSkill | None:
    """One listed skill: "Name (Example, Example)" names a skill and what it covers: other
    names for it ("(LLMs)") or examples of the family ("(AWS/GCP/Azure)")."""
    written = written.strip().removeprefix("and ").removeprefix("or ").strip()
    name, aliases = written, tuple[str, ...]()
    match = re.fullmatch(r"(?P<name>[^()]+?)\s*\((?P<inner>[^()]*)\)", written)
    if match:
        name = match["name"].strip()
        parts = [part.strip() for part in match["inner"].split(",")]
        if len(parts) == 1 and all(len(part.strip()) >= 3 for part in parts[0].split("/")):
            parts = [part.strip() for part in parts[0].split("/")]  # "AWS/GCP/Azure", not "CI/CD"
        aliases = tuple(part for part in parts if part)
    if not normalize_name(name):
        report.refuse(number, f"'{written}' is not a skill name")
        return None
    if len(name) > MAX_NAME_CHARS or any(len(alias) > MAX_NAME_CHARS for alias in aliases):
        report.refuse(number, f"{preview(written)} is too long for a skill name")
        return None
    names = curated_aliases().skills
    canonical = names.resolve(name)[0]
    members = tuple(part for part in aliases if not _names_the_same(names, canonical, name, part))
    aliases = tuple(part for part in aliases if part not in members)
    canonical, all_aliases = names.resolve(name, aliases)
    members = tuple(dict.fromkeys(names.resolve(member)[0] for member in members))
    return ListedSkill(canonical, all_aliases, number, written, members)


def _names_the_same(names: NameTable, canonical: str, written: str, part: str) -> bool:
    """Whether a name in parentheses is the skill's own (a curated alias, or its initials as
    in "Large Language Models (LLMs)") rather than an example of it."""
    if normalize_name(part) == normalize_name(canonical) or names.resolve(part)[0] == canonical:
        return True
    initials = "".join(word[0] for word in normalize_name(written).split())
    letters = normalize_name(part).replace(" ", "")
    return len(initials) >= 2 and letters in (initials, initials + "s")


def _read_skill_list(report: ReportFacts, text: str, number: int) -> list[ListedSkill]:
    items = _split_list(_first_sentence(text))
    skills = [skill for item in items if (skill := _skill_item(report, item, number))]
    if not skills:
        report.refuse(number, "the skills list is empty")
    return skills


def _first_sentence(text: str) -> str:
    """Text up to the first full stop outside parentheses that ends a sentence."""
    depth = 0
    for position, character in enumerate(text):
        if character == "(":
            depth += 1
        elif character == ")":
            depth = max(0, depth - 1)
        elif character == "." and depth == 0:
            following = text[position + 1 : position + 2]
            if following in ("", " "):
                return text[:position]
    return text


def _split_list(text: str) -> list[str]:
    """Comma-separated items, ignoring commas inside parentheses."""
    items, depth, start = [], 0, 0
    for position, character in enumerate(text):
        if character == "(":
            depth += 1
        elif character == ")":
            depth = max(0, depth - 1)
        elif character in ",;" and depth == 0:
            items.append(text[start:position])
            start = position + 1
    items.append(text[start:])
    cleaned = (item.strip().removeprefix("and ").removeprefix("or ").strip() for item in items)
    return [item for item in cleaned if item]


def _read_top_gaps(report: ReportFacts, line: str, match: re.Match[str], number: int) -> None:
    _mention_role(report, match["role"], number)
    if not report.once("summary of the top skills gaps", number):
        return
    for item in _split_list(_first_sentence(line[match.end() :])):
        report.top_gap_names.append((item, number))
    largest = LARGEST_GAP.search(line)
    if largest:
        report.largest_gap = (
            largest["name"].strip(),
            float(largest["demand"]),
            float(largest["supply"]),
            number,
        )


def _read_salary(report: ReportFacts, line: str, number: int) -> None:
    found = False
    if match := SALARY.search(line):
        found = True
        _mention_role(report, match["role"], number)
        _add_pay(report, PayKind.ANNUAL, match, number)
    for regional in REGIONAL_SALARY.finditer(line):
        found = True
        _add_pay(report, PayKind.ANNUAL, regional, number)
    if not found:
        report.refuse(
            number,
            "this looks like a salary line but cannot be read; expected e.g. 'The median "
            "<Role> salary in the UK is £75,000, with a typical range of £50,000 to £120,000'",
        )


def _read_day_rates(report: ReportFacts, line: str, number: int) -> None:
    if match := DAY_RATES.search(line):
        _mention_role(report, match["role"], number)
        median = DAY_MEDIAN.search(line, match.end())
        figures = {
            "region": match["region"],
            "low": match["low"],
            "high": match["high"],
            "median": median["median"] if median else None,
        }
        _add_pay(report, PayKind.DAILY, figures, number)
    for regional in REGIONAL_DAY_RATE.finditer(line):
        _add_pay(report, PayKind.DAILY, regional, number)


def _add_pay(
    report: ReportFacts,
    kind: PayKind,
    figures: re.Match[str] | dict[str, str | None],
    number: int,
) -> None:
    def money(key: str) -> float | None:
        value = figures[key] if isinstance(figures, dict) else figures.groupdict().get(key)
        return None if value is None else _money(value)

    region = region_named(str(figures["region"]))
    label = "salary" if kind is PayKind.ANNUAL else "day rate"
    if not report.once(f"{label} for {region}", number):
        return
    qualifier = (
        figures.get("qualifier")
        if isinstance(figures, dict)
        else figures.groupdict().get("qualifier")
    )
    pay = StatedPay(money("median"), money("low"), money("high"), number, qualifier or "")
    try:
        check_pay_order({"low": pay.low, "median": pay.median, "high": pay.high})
    except ValueError as error:
        report.refuse(number, f"{label} for {region}: {error}")
        return
    report.pay[(kind, region)] = pay


def region_named(text: str) -> str:
    region = " ".join(text.split()).removeprefix("the ")
    return Region.UK if region.lower() in ("uk", "united kingdom") else region


def _money(text: str) -> float:
    digits = text.replace("£", "").replace(",", "").replace(" ", "")
    multiplier = 1.0
    if digits[-1] in "kK":
        digits, multiplier = digits[:-1], 1_000.0
    elif digits[-1] in "mM":
        digits, multiplier = digits[:-1], 1_000_000.0
    return float(digits) * multiplier


def _read_role_facts(report: ReportFacts, line: str, number: int) -> bool:
    """Tenure, progression, lateral moves, entry routes, and the page's own furniture."""
    if match := TENURE_LINE.match(line):
        if report.once("typical tenure", number):
            tenure = TENURE.match(match["value"])
            if tenure is None:
                report.refuse(number, "cannot read the tenure; expected e.g. '~24 months'")
            else:
                unit = 12 if tenure["unit"].lower().startswith("year") else 1
                months = int(tenure["number"]) * unit
                if not 1 <= months <= 600:
                    report.refuse(number, f"a typical tenure of {months} months is not plausible")
                else:
                    report.tenure_months = months
        return True
    if match := PROGRESSION.match(line):
        if report.once("progression", number):
            steps = re.split(r"\s*(?:→|->)\s*", match["steps"])
            report.progression = _titles(report, steps, number, "progression step")
        return True
    if match := LATERAL.match(line):
        if report.once("lateral moves", number):
            moves = _split_list(match["moves"].rstrip("."))
            report.lateral_moves = _titles(report, moves, number, "lateral move")
        return True
    if match := ENTRY.match(line):
        if report.once("entry routes", number):
            sentences = SENTENCE_END.split(match["routes"])
            report.entry_routes = tuple(
                route for sentence in sentences if (route := sentence.strip().rstrip("."))
            )
        return True
    if match := SECTION.match(line):
        _mention_role(report, match["role"], number)
        return True
    return bool(CALL_TO_ACTION.search(line))


def _titles(report: ReportFacts, parts: list[str], number: int, what: str) -> tuple[str, ...]:
    titles = tuple(title for part in parts if (title := part.strip()))
    for title in titles:
        if len(title) > 200:
            report.refuse(number, f"a {what} of {len(title)} characters is too long to be a title")
            return ()
    if not titles:
        report.warn(number, f"no {what}s listed")
    return titles


def read_opening(report: ReportFacts, line: str, number: int) -> None:
    """The paragraph under the header describes the role; it is kept as its summary."""
    report.summary = line
    if match := OPENING_ROLE.match(line):
        report.opening_role = (match["role"], number)


def _mention_role(report: ReportFacts, title: str, number: int) -> None:
    title = " ".join(title.split())
    if title:
        report.role_mentions.append((title, number))
