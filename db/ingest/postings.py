"""One job ad or candidate profile row -> the facts SkillGap keeps about it."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from hashlib import blake2b
from typing import NamedTuple

from db.echo import clipped
from db.ingest.ad_text import extraction_text
from db.ingest.extract import SkillExtractor
from db.ingest.roles import RoleMapper
from db.ingest.salary import (
    SalaryReading,
    is_truthy,
    parse_salary_fields,
    parse_salary_text,
)
from db.names import normalize_name, slugify
from db.taxonomy import Taxonomy

# Column names accepted for each fact, first match wins (Adzuna's names are among them).
ID_COLUMNS = ("id", "ad_id", "job_id", "adref", "reference")
TITLE_COLUMNS = ("title", "job_title")
DESCRIPTION_COLUMNS = ("description", "job_description", "snippet", "text")
DATE_COLUMNS = ("created", "date", "posted", "posted_on", "date_posted", "published")
LOCATION_COLUMNS = ("location", "location.display_name", "city", "region", "location_name")
COMPANY_COLUMNS = ("company", "company.display_name", "employer", "company_name")
CANDIDATE_DATE_COLUMNS = ("date", "updated", "created", "seen_on", "available_from")
SKILLS_COLUMNS = ("skills", "skill_list", "skill")
ROLE_COLUMNS = ("role", "title", "job_title", "desired_role", "current_role")

_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
# Years an ad or a candidate record can be from; anything else is a typo in the export.
PLAUSIBLE_YEARS = (1990, 2100)
_SKILL_SEPARATORS = re.compile(r"\s*[;,|\n]\s*")


class BadRow(ValueError):
    """A row that cannot be used; the message says what is wrong."""


class ParsedAd(NamedTuple):
    """What SkillGap reads in one ad (a tuple: a million are made in a big ingest)."""

    ad_key: str
    content_key: str
    source_id: str | None
    posted_on: date
    title: str
    role: str | None  # role title
    is_london: bool
    salary: SalaryReading | None  # as stated (None for predicted salaries)
    salary_predicted: bool
    skills: tuple[str, ...]  # taxonomy slugs, sorted
    text: str  # what the skills were extracted from (stored compressed, for reextract)

    @property
    def pay_for_stats(self) -> SalaryReading | None:
        """The salary counted in figures: stated, and within sane bounds."""
        if self.salary is None or not self.salary.is_sane():
            return None
        return self.salary


@dataclass(frozen=True)
class ParsedCandidate:
    candidate_key: str
    seen_on: date
    role: str | None
    is_london: bool
    skills: tuple[str, ...]
    unknown_skills: tuple[str, ...]


def _first(fields: dict[str, object], names: tuple[str, ...]) -> object:
    for name in names:
        value = fields.get(name)
        if value is not None and value != "":
            return value
    return None


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value).strip()


_date_cache: dict[str, date] = {}


def parse_date(value: object) -> date:
    text = _text(value)
    cached = _date_cache.get(text)
    if cached is not None:
        return cached
    iso = _ISO_DATE.match(text)
    try:
        if iso is not None:
            parsed = date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        elif (uk := _UK_DATE.match(text)) is not None:
            parsed = date(int(uk.group(3)), int(uk.group(2)), int(uk.group(1)))
        else:
            parsed = datetime.fromisoformat(text).date()
    except ValueError:
        raise BadRow(f"date {clipped(text)!r} is not a date (use YYYY-MM-DD)") from None
    if not PLAUSIBLE_YEARS[0] <= parsed.year <= PLAUSIBLE_YEARS[1]:
        # "11111111" reads as 1111-11-11 (ISO's basic form): a typo, not an ad's date.
        raise BadRow(
            f"date {clipped(text)!r} reads as {parsed.isoformat()}, outside "
            f"{PLAUSIBLE_YEARS[0]}-{PLAUSIBLE_YEARS[1]} (use YYYY-MM-DD)"
        )
    if len(_date_cache) < 50_000:
        _date_cache[text] = parsed
    return parsed


def _is_london(fields: dict[str, object]) -> bool:
    area = fields.get("location.area")
    if isinstance(area, list) and any(str(a).lower() == "london" for a in area):
        return True
    location = _text(_first(fields, LOCATION_COLUMNS))
    return "london" in location.lower()


def single_spaced(text: str) -> str:
    """The text lower-cased, its runs of white space made one space, none at either end."""
    lowered = text.lower()
    # Most text is already so: printable ASCII (no tab or line break) without a double space
    # or a space at an end. Checking that is cheaper than splitting it into words.
    if (
        lowered.isascii()
        and lowered.isprintable()
        and "  " not in lowered
        and not lowered.startswith(" ")
        and not lowered.endswith(" ")
    ):
        return lowered
    return " ".join(lowered.split())


def content_key(title: str, company: str, description: str) -> str:
    """The same ad reposted (new id, same words) gets the same key."""
    canonical = (
        f"{single_spaced(title)}\x1f{single_spaced(company)}\x1f{single_spaced(description)}"
    )
    return blake2b(canonical.encode(), digest_size=16).hexdigest()


def _source_key(prefix: str, source_id: str) -> str:
    key = f"{prefix}:{source_id}"
    if len(key) <= 80:
        return key
    return f"{prefix}#" + hashlib.blake2b(source_id.encode(), digest_size=16).hexdigest()


_extractors: dict[int, tuple[Taxonomy, SkillExtractor]] = {}


def extractor_for(taxonomy: Taxonomy) -> SkillExtractor:
    """One extractor per taxonomy: compiling its patterns takes a few tenths of a second, and
    feeds parse ads in many small runs."""
    held = _extractors.get(id(taxonomy))
    if held is None or held[0] is not taxonomy:
        if len(_extractors) >= 4:
            _extractors.clear()
        held = (taxonomy, SkillExtractor(taxonomy))
        _extractors[id(taxonomy)] = held
    return held[1]


class AdParser:
    """Turns rows into ParsedAd; owns the extractor, the role mapper and their caches."""

    def __init__(self, taxonomy: Taxonomy, roles: RoleMapper) -> None:
        self.taxonomy = taxonomy
        self.extractor = extractor_for(taxonomy)
        self.roles = roles
        self._salary_cache: dict[tuple[str, bool], SalaryReading | None] = {}
        self._lookup = taxonomy.lookup_table()

    def parse_ad(self, fields: dict[str, object]) -> ParsedAd:
        return self._ad(
            _text(_first(fields, TITLE_COLUMNS)),
            _first(fields, DATE_COLUMNS),
            _text(_first(fields, DESCRIPTION_COLUMNS)),
            _text(_first(fields, COMPANY_COLUMNS)),
            _text(_first(fields, ID_COLUMNS)),
            _text(fields.get("contract_type")),
            _text(fields.get("salary")),
            fields.get("salary_min"),
            fields.get("salary_max"),
            fields.get("salary_is_predicted", ""),
            _is_london(fields),
        )

    def named_skills(self, fields: dict[str, object]) -> set[str]:
        """Slugs of the skills the ad names itself, without the families they imply."""
        title = _text(_first(fields, TITLE_COLUMNS))
        description = _text(_first(fields, DESCRIPTION_COLUMNS))
        return {
            match.skill.slug
            for match in self.extractor.matches(extraction_text(title, description))
        }

    def _ad(
        self,
        title: str,
        raw_date: object,
        description: str,
        company: str,
        source_id: str,
        contract_type: str,
        salary_text: str,
        salary_min: object,
        salary_max: object,
        salary_is_predicted: object,
        is_london: bool,
    ) -> ParsedAd:
        """An ad from the facts of its row, however they were looked up."""
        if not title:
            raise BadRow("has no title")
        if raw_date is None:
            raise BadRow("has no date (created)")
        posted_on = parse_date(raw_date)
        ckey = content_key(title, company, description)
        ad_key = _source_key("id", source_id) if source_id else f"c:{ckey}"
        contract = contract_type.lower() == "contract"
        salary, predicted = self._salary(
            salary_text, salary_min, salary_max, salary_is_predicted, contract
        )
        text = extraction_text(title, description)
        skills = self.extractor.skill_slugs(text)
        # Positional: a million of these in a big ingest (same order as the fields above).
        return ParsedAd(
            ad_key,
            ckey,
            source_id or None,
            posted_on,
            title[:200],
            self.roles.role_for(title),
            is_london,
            salary,
            predicted,
            skills,
            text,
        )

    def _salary(
        self,
        text: str,
        salary_min: object,
        salary_max: object,
        salary_is_predicted: object,
        contract: bool,
    ) -> tuple[SalaryReading | None, bool]:
        if text:
            key = (text, contract)
            if key in self._salary_cache:
                reading = self._salary_cache[key]
            else:
                reading = parse_salary_text(text, is_contract=contract)
                if len(self._salary_cache) < 100_000:
                    self._salary_cache[key] = reading
            if reading is not None:
                return reading, False
        reading = parse_salary_fields(salary_min, salary_max, is_contract=contract)
        if reading is not None and is_truthy(salary_is_predicted):
            # An estimate made by the job board, not a figure the employer stated.
            return None, True
        return reading, False

    def parse_candidate(self, fields: dict[str, object], default_date: date) -> ParsedCandidate:
        raw_skills = fields.get("skills", fields.get("skill_list", fields.get("skill")))
        if isinstance(raw_skills, list):
            items = [str(item).strip() for item in raw_skills]
        else:
            items = _SKILL_SEPARATORS.split(_text(raw_skills))
        items = [item for item in items if item]
        if not items:
            raise BadRow("lists no skills")
        found: set[str] = set()
        unknown: list[str] = []
        for item in items:
            slug = self._lookup.get(normalize_name(item))
            if slug is not None:
                found.add(slug)
                continue
            mentioned = self.extractor.skill_slugs(item)
            if mentioned:
                found.update(mentioned)
            else:
                unknown.append(item)
        raw_date = _first(fields, CANDIDATE_DATE_COLUMNS)
        seen_on = parse_date(raw_date) if raw_date is not None else default_date
        role_text = _text(_first(fields, ROLE_COLUMNS))
        source_id = _text(_first(fields, ID_COLUMNS)) or None
        # Without an id, the whole row is the identity: the same export twice counts once.
        canonical = json.dumps(fields, sort_keys=True, default=str)
        key = (
            _source_key("id", source_id)
            if source_id
            else "c:" + hashlib.blake2b(canonical.encode(), digest_size=16).hexdigest()
        )
        return ParsedCandidate(
            candidate_key=key,
            seen_on=seen_on,
            role=self.roles.role_for(role_text) if role_text else None,
            is_london=_is_london(fields),
            skills=tuple(sorted(found)),
            unknown_skills=tuple(unknown),
        )


class CsvAdColumns:
    """Where parse_ad's lookups land in one CSV header, worked out once for all its rows.

    Rows of a big export are parsed from their values straight away: the same facts as
    `AdParser.parse_ad` of the row's dict (the first non-empty of each fact's columns,
    stripped; a repeated column name means its last column), without making the dict.
    """

    def __init__(self, parser: AdParser, columns: list[str]) -> None:
        self.parser = parser
        where = {name: index for index, name in enumerate(columns)}

        def indexes(names: tuple[str, ...]) -> tuple[int, ...]:
            return tuple(where[name] for name in names if name in where)

        self._title = indexes(TITLE_COLUMNS)
        self._date = indexes(DATE_COLUMNS)
        self._description = indexes(DESCRIPTION_COLUMNS)
        self._company = indexes(COMPANY_COLUMNS)
        self._id = indexes(ID_COLUMNS)
        self._location = indexes(LOCATION_COLUMNS)
        self._contract = where.get("contract_type")
        self._salary = where.get("salary")
        self._salary_min = where.get("salary_min")
        self._salary_max = where.get("salary_max")
        self._predicted = where.get("salary_is_predicted")

    def parse(self, values: list[str]) -> ParsedAd:
        text = _first_text
        return self.parser._ad(
            text(values, self._title),
            _first_value(values, self._date),
            text(values, self._description),
            text(values, self._company),
            text(values, self._id),
            "" if self._contract is None else values[self._contract].strip(),
            "" if self._salary is None else values[self._salary].strip(),
            None if self._salary_min is None else values[self._salary_min],
            None if self._salary_max is None else values[self._salary_max],
            "" if self._predicted is None else values[self._predicted],
            # A CSV's location.area is text, never the list Adzuna's records hold.
            "london" in text(values, self._location).lower(),
        )


def _first_value(values: list[str], indexes: tuple[int, ...]) -> str | None:
    for index in indexes:
        value = values[index]
        if value != "":
            return value
    return None


def _first_text(values: list[str], indexes: tuple[int, ...]) -> str:
    for index in indexes:
        value = values[index]
        if value != "":
            return value.strip()
    return ""


@lru_cache(maxsize=1024)
def role_slug(title: str | None) -> str | None:
    """The slug of a role title (few distinct titles, asked for every ad: cached)."""
    return None if title is None else slugify(title)
