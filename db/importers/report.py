"""Market reports as published (text copied from the report page), read into snapshots."""

from __future__ import annotations

import calendar

from db.importers.aliases import curated_aliases, merge_aliases
from db.importers.document import (
    InvalidImport,
    PayDocument,
    Problem,
    RoleDocument,
    SkillDocument,
    SnapshotDocument,
)
from db.importers.report_lines import (
    MAX_LINE_CHARS,
    GapSkill,
    ListedSkill,
    ReportFacts,
    preview,
    read_line,
    read_opening,
    region_named,
)
from db.models import SourceKind
from db.names import normalize_name, slugify

MAX_PROBLEMS = 50


def parse_report(text: str, filename: str) -> SnapshotDocument:
    """Read a market report in the published layout; only InvalidImport escapes."""
    if "\x00" in text:
        raise InvalidImport([Problem(filename, None, "the text holds NUL bytes: it looks binary")])
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidImport([Problem(filename, None, "the text is not valid Unicode")]) from None
    report = ReportFacts(filename)
    awaiting_note: GapSkill | None = None
    for number, raw in enumerate(text.removeprefix("\ufeff").split("\n"), start=1):
        line = " ".join(raw.split())
        if not line:
            continue
        if len(line) > MAX_LINE_CHARS:
            report.warn(number, f"line of {len(line)} characters is too long for a report line")
            awaiting_note = None
            continue
        opening = report.header_line is not None and not report.body_started
        recognised = read_line(report, line, number)
        if report.header_line is not None and report.header_line != number:
            report.body_started = True
        if isinstance(recognised, GapSkill):
            awaiting_note = recognised
            continue
        if recognised:
            awaiting_note = None
            continue
        if awaiting_note is not None:
            awaiting_note.note = line  # the explanation under a skills-gap line
            awaiting_note = None
        elif opening:
            read_opening(report, line, number)
        else:
            report.warn(number, f"line not recognised, ignored: {preview(line)}")
    return _document(report)


def _role_title(report: ReportFacts) -> str | None:
    if not report.role_mentions:
        return None if report.opening_role is None else report.opening_role[0]
    title, first_line = report.role_mentions[0]
    for other, number in report.role_mentions[1:]:
        if normalize_name(other) != normalize_name(title):
            report.refuse(
                number,
                f"this line is about '{other}' but line {first_line} is about '{title}'; "
                "one report describes one role",
            )
    return title


def _skills(report: ReportFacts) -> tuple[SkillDocument, ...]:
    """One document per skill, whichever lists (gaps, essential, emerging) name it."""
    for listed in (report.gaps, report.essential, report.emerging):
        first_seen: dict[str, ListedSkill] = {}
        for skill in listed:
            earlier = first_seen.setdefault(slugify(skill.name), skill)
            if earlier is not skill:
                report.refuse(
                    skill.line,
                    f"'{skill.written}' is listed twice (also as '{earlier.written}' "
                    f"on line {earlier.line})",
                )
    gaps = {slugify(skill.name): (rank, skill) for rank, skill in enumerate(report.gaps, 1)}
    essential = {slugify(s.name): (rank, s) for rank, s in enumerate(report.essential, 1)}
    emerging = {slugify(s.name): (rank, s) for rank, s in enumerate(report.emerging, 1)}
    _check_top_gaps(report, gaps)

    documents: list[SkillDocument] = []
    order = [*gaps, *(key for key in essential if key not in gaps)]
    order += [key for key in emerging if key not in gaps and key not in essential]
    for key in order:
        sources = [
            entry for entry in (gaps.get(key), essential.get(key), emerging.get(key)) if entry
        ]
        rank, first = sources[0]
        gap = gaps[key][1] if key in gaps else None
        documents.append(
            SkillDocument(
                name=first.name,
                aliases=merge_aliases(
                    first.name, (alias for _, skill in sources for alias in skill.aliases)
                ),
                demand_pct=None if gap is None else gap.demand,
                supply_pct=None if gap is None else gap.supply,
                is_essential=key in essential,
                is_emerging=key in emerging,
                is_gap=gap is not None,
                rank=rank,
                note="" if gap is None else gap.note,
                members=tuple(
                    dict.fromkeys(member for _, skill in sources for member in skill.members)
                ),
            )
        )
    return tuple(documents)


def _check_top_gaps(report: ReportFacts, gaps: dict[str, tuple[int, GapSkill]]) -> None:
    """The summary sentence must agree with the skills-gap lines it sums up."""
    skills = curated_aliases().skills
    for written, number in report.top_gap_names:
        if slugify(skills.resolve(written)[0]) not in gaps:
            report.warn(number, f"the top gaps name '{written}', which has no skills-gap line")
    if report.largest_gap is None:
        return
    written, demand, supply, number = report.largest_gap
    entry = gaps.get(slugify(skills.resolve(written)[0]))
    if entry is None:
        report.warn(number, f"the largest gap is said to be '{written}', which has no gap line")
        return
    gap = entry[1]
    if (gap.demand, gap.supply) != (demand, supply):
        report.refuse(
            number,
            f"the largest gap '{written}' is given as {demand:g}% demand and {supply:g}% supply, "
            f"but line {gap.line} says {gap.demand:g}% and {gap.supply:g}%",
        )


def _document(report: ReportFacts) -> SnapshotDocument:
    filename = report.filename
    title = _role_title(report)
    skills = _skills(report)
    missing: list[Problem] = []
    if title is None:
        missing.append(
            Problem(
                filename,
                None,
                "the report never names its role; expected e.g. 'The median <Role> salary "
                "in the UK is £…' or '… skills for <Role> roles in the UK include …'",
            )
        )
    if report.published_on is None and report.header_line is None:
        missing.append(
            Problem(
                filename,
                None,
                "the report has no date; expected a header line such as "
                "'UK Market • … • Updated April 2026'",
            )
        )
    problems = report.problems + missing
    if len(problems) > MAX_PROBLEMS:
        hidden = len(problems) - MAX_PROBLEMS
        problems = [*problems[:MAX_PROBLEMS], Problem(filename, None, f"{hidden} more problems")]
    if problems or title is None or report.published_on is None:
        raise InvalidImport(problems)

    warnings = list(report.warnings)
    market = report.market
    if market is None:
        market = "UK"
        warnings.append(
            Problem(filename, report.header_line, "no '<Region> Market' in the header; took UK")
        )
    role_title, role_aliases = curated_aliases().roles.resolve(title)
    if len(role_title) > 200:
        raise InvalidImport([Problem(filename, None, "the role title is too long")])
    published = report.published_on
    last_day = calendar.monthrange(published.year, published.month)[1]
    pay = tuple(
        PayDocument(
            kind=kind,
            region=region,
            median=pay.median,
            low=pay.low,
            high=pay.high,
            qualifier=pay.qualifier,
        )
        for (kind, region), pay in report.pay.items()
    )
    return SnapshotDocument(
        role=RoleDocument(
            title=role_title,
            aliases=role_aliases,
            summary=report.summary,
            typical_tenure_months=report.tenure_months,
            entry_routes=report.entry_routes,
            progression=report.progression,
            lateral_moves=report.lateral_moves,
        ),
        published_on=published,
        period_label=f"{calendar.month_name[published.month]} {published.year}",
        period_start=published.replace(day=1),
        period_end=published.replace(day=last_day),
        source=f"{market} market report",
        source_kind=SourceKind.REPORT,
        region=region_named(market),
        pay=pay,
        skills=skills,
        warnings=tuple(warnings),
    )
