"""Ads parsed in bulk: a block or chunk of an export -> the rows to store and the columns to count.

This is the work the parsing workers do (and the ingest does itself for small inputs). A
batch is plain data that pickles compactly: the rows as tuples in the table's column order,
the figures' inputs as typed arrays, and the notes the summary reports.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from db.constants import PayKind
from db.ingest.ad_text import UnreadableText, pack_text, unpack_text
from db.ingest.postings import AdParser, BadRow, CsvAdColumns, ParsedAd, role_slug
from db.ingest.readers import BlockRows, ReadStats, block_csv_values, block_jsonl_rows
from db.ingest.salary import SalaryReading

# Pay kinds by index, as the aggregator numbers them. Workers fill typed arrays only: numpy
# (db/ingest/counting.py turns a batch into columns) is the parent's.
PAY_KINDS = (PayKind.ANNUAL, PayKind.DAILY, PayKind.HOURLY)
PAY_KIND_INDEX = {kind: index for index, kind in enumerate(PAY_KINDS)}
_UNSEEN: Any = object()

# The stored columns of an ad, in the order of the tuples a batch holds.
AD_COLUMNS = (
    "team_id",
    "ad_key",
    "content_key",
    "posted_on",
    "title",
    "role_slug",
    "is_london",
    "pay_kind",
    "pay_value",
    "skills",
    "packed_text",
)


@dataclass
class ParsedBatch:
    """One block (or chunk of rows) of an export, parsed."""

    lines: int = 0  # lines of the block (blocks only)
    # The file's lines the batch came from, set by the reader that hands it on.
    first_line: int = 0
    last_line: int = 0
    clean: bool = True  # the block ended at a row boundary (blocks only)
    rows: int = 0
    bad_rows: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, message)
    ads: list[tuple[Any, ...]] = field(default_factory=list)  # AD_COLUMNS; posted_on ISO
    earliest: int = 0  # ordinal of the earliest date posted (0: no ads)
    # Per ad, for the figures: its Monday (ordinal), role (index into role_slugs, -1 for
    # none), London or not, pay kind (index into PAY_KINDS, -1 for none) and value, and its
    # skills as sorted indices of the aggregator's list (CSR: skill_ptr has len(ads) + 1).
    weeks: array[int] = field(default_factory=lambda: array("q"))
    roles: array[int] = field(default_factory=lambda: array("q"))
    london: array[int] = field(default_factory=lambda: array("b"))
    pay_kinds: array[int] = field(default_factory=lambda: array("b"))
    pay_values: array[float] = field(default_factory=lambda: array("d"))
    skill_ptr: array[int] = field(default_factory=lambda: array("q", [0]))
    skill_idx: array[int] = field(default_factory=lambda: array("q"))
    role_slugs: list[str] = field(default_factory=list)
    unmapped_titles: Counter[str] = field(default_factory=Counter)
    salary_notes: Counter[str] = field(default_factory=Counter)  # pay kinds, predicted, outlier


class BatchParser:
    """Parses rows into batches for one team, with the aggregator's skill indices."""

    def __init__(
        self,
        parser: AdParser,
        team_id: str,
        skill_slugs: list[str],
        merged: dict[str, str],
    ) -> None:
        self.parser = parser
        self.team_id = team_id
        # A merged slug counts as the skill it was merged into (see SkillCatalogue).
        index = {slug: i for i, slug in enumerate(skill_slugs)}
        self._skill_index = {
            slug: index[merged.get(slug, slug)]
            for slug in {*skill_slugs, *merged}
            if merged.get(slug, slug) in index
        }
        self._csv_columns: dict[tuple[str, ...], CsvAdColumns] = {}  # per CSV header
        self._weeks: dict[object, tuple[int, int, str]] = {}  # date -> (Monday, ordinal, ISO)
        # A stated salary -> (kind, figure counted, kind index), or None when out of bounds.
        self._pay_of: dict[SalaryReading, tuple[str, float, int] | None] = {}

    def parse_block(
        self, data: bytes, file_format: str, columns: list[str] | None, at_file_start: bool
    ) -> ParsedBatch:
        batch = ParsedBatch()
        stats = ReadStats()
        outcome = BlockRows()

        def problem(line: int, message: str) -> None:
            batch.problems.append((line, message))

        if file_format == "jsonl":
            rows = block_jsonl_rows(
                data,
                at_file_start=at_file_start,
                on_problem=problem,
                stats=stats,
                outcome=outcome,
            )
            self._parse(batch, rows, self.parser.parse_ad)
        else:
            assert columns is not None
            # CSV rows go to the parser as values: no dict per row (see CsvAdColumns).
            key = tuple(columns)
            reader = self._csv_columns.get(key)
            if reader is None:
                reader = self._csv_columns[key] = CsvAdColumns(self.parser, columns)
            values = block_csv_values(
                data,
                len(columns),
                at_file_start=at_file_start,
                on_problem=problem,
                stats=stats,
                outcome=outcome,
            )
            self._parse(batch, values, reader.parse)
        batch.rows = stats.rows
        batch.bad_rows += stats.bad_rows  # reading problems, besides the parsing ones
        batch.lines, batch.clean = outcome.lines, outcome.clean
        return batch

    def parse_rows(self, rows: Iterable[tuple[int, dict[str, object]]]) -> ParsedBatch:
        """Rows already read (lines as in the file): the reader counts rows and its problems;
        the batch counts only rows that could not be parsed."""
        batch = ParsedBatch()
        self._parse(batch, rows, self.parser.parse_ad)
        return batch

    def reread_texts(self, texts: list[bytes | None]) -> list[str | None]:
        """Stored ads' packed texts read again (`ingest reextract`): each one's skills in the
        stored form, or None where no text was kept or it cannot be read."""
        skill_slugs = self.parser.extractor.skill_slugs
        found: list[str | None] = []
        for packed in texts:
            try:
                found.append(None if packed is None else "|".join(skill_slugs(unpack_text(packed))))
            except UnreadableText:
                found.append(None)
        return found

    def _parse(
        self,
        batch: ParsedBatch,
        rows: Iterable[tuple[int, Any]],
        parse_ad: Callable[[Any], ParsedAd],
    ) -> None:
        """Parse each row (a dict of fields, or a CSV row's values for its parse_ad)."""
        # The hot loop of a big ingest: local names, appends to typed arrays.
        team_id = self.team_id
        skill_index = self._skill_index
        weeks_of = self._weeks
        ads = batch.ads
        weeks, roles, london = batch.weeks, batch.roles, batch.london
        pay_kinds, pay_values = batch.pay_kinds, batch.pay_values
        skill_ptr, skill_idx = batch.skill_ptr, batch.skill_idx
        role_at: dict[str | None, int] = {None: -1}
        notes = batch.salary_notes
        pay_of = self._pay_of
        earliest = 0
        for line, fields in rows:
            try:
                ad = parse_ad(fields)
            except BadRow as problem:
                batch.bad_rows += 1
                batch.problems.append((line, f"{problem}; skipped"))
                continue
            salary = ad.salary
            if salary is None:
                pay = None
                if ad.salary_predicted:
                    notes["predicted"] += 1
            else:
                pay = pay_of.get(salary, _UNSEEN)
                if pay is _UNSEEN:
                    # Readings repeat a lot ("£75k"): their sanity and figures once each.
                    pay = None
                    if salary.is_sane():
                        pay = (salary.kind.value, salary.value, PAY_KIND_INDEX[salary.kind])
                    if len(pay_of) < 100_000:
                        pay_of[salary] = pay
                notes["outlier" if pay is None else pay[0]] += 1
            if ad.role is None:
                batch.unmapped_titles[ad.title] += 1
            week = weeks_of.get(ad.posted_on)
            if week is None:
                day = ad.posted_on
                week = weeks_of[day] = (
                    day.toordinal() - day.weekday(),
                    day.toordinal(),
                    day.isoformat(),
                )
            slug = role_slug(ad.role)
            role = role_at.get(slug)
            if role is None:
                assert slug is not None
                role = role_at[slug] = len(batch.role_slugs)
                batch.role_slugs.append(slug)
            ads.append(
                (
                    team_id,
                    ad.ad_key,
                    ad.content_key,
                    week[2],
                    ad.title,
                    slug,
                    ad.is_london,
                    None if pay is None else pay[0],
                    None if pay is None else pay[1],
                    "|".join(ad.skills),
                    # Compressed here, in the parsing workers: the single writer only stores it.
                    pack_text(ad.text),
                )
            )
            if earliest == 0 or week[1] < earliest:
                earliest = week[1]
            weeks.append(week[0])
            roles.append(role)
            london.append(ad.is_london)
            if pay is None:
                pay_kinds.append(-1)
                pay_values.append(0.0)
            else:
                pay_kinds.append(pay[2])
                pay_values.append(pay[1])
            found = ad.skills
            if found:
                if len(found) == 1:
                    index = skill_index.get(found[0])
                    if index is not None:
                        skill_idx.append(index)
                else:
                    skill_idx.extend(sorted({skill_index[s] for s in found if s in skill_index}))
            skill_ptr.append(len(skill_idx))
        if earliest and (batch.earliest == 0 or earliest < batch.earliest):
            batch.earliest = earliest
