"""The curated YAML snapshot format (`format: skillgap-snapshot`, version 1), read and checked."""

from __future__ import annotations

from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from db.importers.aliases import curated_aliases, merge_aliases
from db.importers.document import (
    InvalidImport,
    PayDocument,
    Problem,
    RoleDocument,
    SkillDocument,
    SnapshotDocument,
)
from db.importers.text_files import read_text
from db.models import PayKind, SourceKind
from db.names import normalize_name, slugify

FORMAT_NAME = "skillgap-snapshot"
SUPPORTED_VERSIONS = (1,)
MAX_PROBLEMS = 50

# Paths into the YAML tree (keys and list positions) and the 1-based line each starts on.
YamlPath = tuple[str | int, ...]

Name = Annotated[str, Field(min_length=1, max_length=200)]
Percent = Annotated[float, Field(ge=0, le=100)]
Money = Annotated[float, Field(ge=0)]
Count = Annotated[int, Field(ge=0)]
SkillFlag = Literal["essential", "emerging", "gap"]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


class RoleEntry(_Entry):
    title: Name
    aliases: list[Name] = []
    summary: str = ""
    typical_tenure_months: Annotated[int, Field(ge=1, le=600)] | None = None
    entry_routes: list[Annotated[str, Field(min_length=1)]] = []
    progression: list[Name] = []
    lateral_moves: list[Name] = []


class PeriodEntry(_Entry):
    label: Annotated[str, Field(min_length=1, max_length=60)]
    start: date
    end: date

    @model_validator(mode="after")
    def start_before_end(self) -> PeriodEntry:
        if self.start > self.end:
            raise ValueError(f"period starts ({self.start}) after it ends ({self.end})")
        return self


class SnapshotEntry(_Entry):
    region: Annotated[str, Field(min_length=1, max_length=60)] = "UK"
    published_on: date
    period: PeriodEntry
    source: Name
    sample_size: Count | None = None
    supply_sample_size: Count | None = None


class PayEntry(_Entry):
    kind: PayKind
    region: Annotated[str, Field(min_length=1, max_length=60)]
    median: Money | None = None
    low: Money | None = None
    high: Money | None = None
    p10: Money | None = None
    p25: Money | None = None
    p75: Money | None = None
    p90: Money | None = None
    sample_size: Count | None = None
    # The report's own word when its figure is not a plain median ("around £750/day").
    qualifier: Literal["", "around", "about", "roughly", "approximately"] = ""

    @model_validator(mode="after")
    def figures_in_order(self) -> PayEntry:
        if self.median is None and self.low is None and self.high is None:
            raise ValueError("a pay entry needs at least a median or a range (low/high)")
        check_pay_order(
            {
                "low": self.low,
                "p10": self.p10,
                "p25": self.p25,
                "median": self.median,
                "p75": self.p75,
                "p90": self.p90,
                "high": self.high,
            }
        )
        return self


class SkillEntry(_Entry):
    name: Name
    aliases: list[Name] = []
    # Skills the source gives as examples of this one, a family: "AWS", "GCP", "Azure".
    members: list[Name] = []
    demand_pct: Percent | None = None
    supply_pct: Percent | None = None
    # The gap as the source states it, in percentage points; checked against the figures.
    gap: float | None = None
    demand_low_pct: Percent | None = None
    demand_high_pct: Percent | None = None
    flags: list[SkillFlag] = []
    rank: Annotated[int, Field(ge=1)] | None = None
    sample_size: Count | None = None
    note: str = ""

    @model_validator(mode="after")
    def gap_adds_up(self) -> SkillEntry:
        if self.gap is not None:
            if self.demand_pct is None or self.supply_pct is None:
                raise ValueError("a stated gap needs both demand_pct and supply_pct")
            check_gap(self.demand_pct, self.supply_pct, self.gap)
        if "gap" in self.flags and (self.demand_pct is None or self.supply_pct is None):
            raise ValueError("a skill flagged as a gap needs demand_pct and supply_pct")
        if len(set(self.flags)) != len(self.flags):
            raise ValueError("a flag is listed twice")
        low, demand, high = self.demand_low_pct, self.demand_pct, self.demand_high_pct
        if (low is None) != (high is None):
            raise ValueError("demand_low_pct and demand_high_pct go together")
        if low is not None and high is not None:
            if low > high:
                raise ValueError("demand_low_pct is above demand_high_pct")
            if demand is not None and not low <= demand <= high:
                raise ValueError("demand_pct lies outside demand_low_pct..demand_high_pct")
        return self


class SnapshotFile(_Entry):
    format: Literal["skillgap-snapshot"]
    version: int
    role: RoleEntry
    snapshot: SnapshotEntry
    pay: list[PayEntry] = []
    skills: list[SkillEntry] = []


def check_gap(demand: float, supply: float, stated_gap: float) -> None:
    """Refuse a stated gap that is not demand minus supply."""
    if abs((demand - supply) - stated_gap) > 1e-6:
        raise ValueError(
            f"the stated gap of {_number(stated_gap)} points is not demand minus supply "
            f"({_number(demand)} − {_number(supply)} = {_number(demand - supply)})"
        )


def check_pay_order(figures: dict[str, float | None]) -> None:
    """Refuse pay figures out of order, e.g. a median below the bottom of the range."""
    known = [(name, value) for name, value in figures.items() if value is not None]
    for (lower_name, lower), (upper_name, upper) in pairwise(known):
        if lower > upper:
            raise ValueError(
                f"{lower_name} ({_number(lower)}) is above {upper_name} ({_number(upper)})"
            )


def _number(value: float) -> str:
    return f"{value:g}"


class _NoAnchorsLoader(yaml.SafeLoader):
    """Safe YAML without anchors/aliases: they would let a small file expand enormously."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(
                problem="anchors and aliases (*name) are not supported; write the value out",
                problem_mark=event.start_mark,
            )
        return super().compose_node(parent, index)


def parse_structured_file(path: Path) -> SnapshotDocument:
    """Read and check one YAML snapshot file (UTF-8)."""
    return parse_structured(read_text(path), str(path))


def parse_structured(text: str, filename: str) -> SnapshotDocument:
    """Check a YAML snapshot and turn it into a document; only InvalidImport escapes."""
    data, lines = _load_yaml(text, filename)

    def line_of(path: YamlPath) -> int | None:
        for end in range(len(path), -1, -1):
            if path[:end] in lines:
                return lines[path[:end]]
        return None

    def refuse(path: YamlPath, message: str) -> InvalidImport:
        return InvalidImport([Problem(filename, line_of(path), message)])

    if not isinstance(data, dict):
        raise refuse((), f"expected a '{FORMAT_NAME}' mapping at the top of the file")
    if data.get("format") != FORMAT_NAME:
        raise refuse(("format",), f"not a SkillGap snapshot: expected 'format: {FORMAT_NAME}'")
    version = data.get("version")
    if version not in SUPPORTED_VERSIONS or isinstance(version, bool):
        supported = ", ".join(str(number) for number in SUPPORTED_VERSIONS)
        raise refuse(
            ("version",),
            f"unknown format version {version!r}; this SkillGap reads version {supported}",
        )
    try:
        parsed = SnapshotFile.model_validate(data)
    except ValidationError as error:
        problems = [
            Problem(filename, line_of(tuple(item["loc"])), _describe(item))
            for item in error.errors(include_url=False)[:MAX_PROBLEMS]
        ]
        if error.error_count() > MAX_PROBLEMS:
            hidden = error.error_count() - MAX_PROBLEMS
            problems.append(Problem(filename, None, f"{hidden} more problems"))
        raise InvalidImport(problems) from None
    return _document(parsed, filename, line_of)


def _describe(item: Any) -> str:
    where = "".join(
        f"[{part}]" if isinstance(part, int) else f".{part}" for part in item["loc"]
    ).lstrip(".")
    message = str(item["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def _load_yaml(text: str, filename: str) -> tuple[Any, dict[YamlPath, int]]:
    loader: _NoAnchorsLoader | None = None
    try:
        loader = _NoAnchorsLoader(text)
        node = loader.get_single_node()
        if node is None:
            raise InvalidImport([Problem(filename, None, "the YAML file holds no document")])
        lines: dict[YamlPath, int] = {}
        _index_lines(node, (), lines, filename)
        data = loader.construct_document(node)
    except InvalidImport:
        raise
    except yaml.reader.ReaderError as error:
        at = text.count("\n", 0, error.position) + 1
        message = "malformed YAML: it holds a control character that YAML does not allow"
        raise InvalidImport([Problem(filename, at, message)]) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = None if mark is None else mark.line + 1
        problem = " ".join(part for part in (error.context, error.problem) if part)
        raise InvalidImport([Problem(filename, line, f"malformed YAML: {problem}")]) from None
    except RecursionError:
        raise InvalidImport([Problem(filename, None, "the YAML is nested too deeply")]) from None
    except Exception as error:  # the YAML library's own errors (bad dates, odd tags, …)
        raise InvalidImport([Problem(filename, None, f"malformed YAML: {error}")]) from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, lines


def _index_lines(
    node: yaml.Node, path: YamlPath, lines: dict[YamlPath, int], filename: str
) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[object, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is None:
                continue
            line = key_node.start_mark.line + 1
            if key in seen:
                raise InvalidImport(
                    [Problem(filename, line, f"'{key}' is given twice (first on line {seen[key]})")]
                )
            seen[key] = line
            lines[(*path, key)] = line
            _index_lines(value_node, (*path, key), lines, filename)
            lines[(*path, key)] = line
    elif isinstance(node, yaml.SequenceNode):
        for position, item in enumerate(node.value):
            _index_lines(item, (*path, position), lines, filename)


def _document(parsed: SnapshotFile, filename: str, line_of: Any) -> SnapshotDocument:
    names = curated_aliases()
    problems: list[Problem] = []

    role_title, role_aliases = names.roles.resolve(parsed.role.title, parsed.role.aliases)
    role = RoleDocument(
        title=role_title,
        aliases=role_aliases,
        summary=parsed.role.summary,
        typical_tenure_months=parsed.role.typical_tenure_months,
        entry_routes=tuple(parsed.role.entry_routes),
        progression=tuple(parsed.role.progression),
        lateral_moves=tuple(parsed.role.lateral_moves),
    )

    pay_lines: dict[tuple[str, str], int | None] = {}
    pay: list[PayDocument] = []
    for position, entry in enumerate(parsed.pay):
        key = (entry.kind.value, normalize_name(entry.region))
        line = line_of(("pay", position))
        if key in pay_lines:
            problems.append(
                Problem(
                    filename,
                    line,
                    f"{entry.kind.value} pay for {entry.region} is given twice "
                    f"(first on line {pay_lines[key]})",
                )
            )
            continue
        pay_lines[key] = line
        pay.append(PayDocument(**entry.model_dump()))

    skill_lines: dict[str, int | None] = {}
    skills: list[SkillDocument] = []
    for position, skill_entry in enumerate(parsed.skills):
        name, aliases = names.skills.resolve(skill_entry.name, skill_entry.aliases)
        line = line_of(("skills", position))
        if slugify(name) in skill_lines:
            problems.append(
                Problem(
                    filename,
                    line,
                    f"skill '{skill_entry.name}' is listed twice "
                    f"(first on line {skill_lines[slugify(name)]})",
                )
            )
            continue
        skill_lines[slugify(name)] = line
        skills.append(
            SkillDocument(
                name=name,
                aliases=merge_aliases(name, aliases),
                demand_pct=skill_entry.demand_pct,
                supply_pct=skill_entry.supply_pct,
                demand_low_pct=skill_entry.demand_low_pct,
                demand_high_pct=skill_entry.demand_high_pct,
                is_essential="essential" in skill_entry.flags,
                is_emerging="emerging" in skill_entry.flags,
                is_gap="gap" in skill_entry.flags,
                rank=skill_entry.rank,
                sample_size=skill_entry.sample_size,
                note=skill_entry.note,
                members=tuple(
                    dict.fromkeys(names.skills.resolve(member)[0] for member in skill_entry.members)
                ),
            )
        )
    if problems:
        raise InvalidImport(problems)

    snapshot = parsed.snapshot
    return SnapshotDocument(
        role=role,
        published_on=snapshot.published_on,
        period_label=snapshot.period.label,
        period_start=snapshot.period.start,
        period_end=snapshot.period.end,
        source=snapshot.source,
        source_kind=SourceKind.CURATED,
        region=snapshot.region,
        sample_size=snapshot.sample_size,
        supply_sample_size=snapshot.supply_sample_size,
        pay=tuple(pay),
        skills=tuple(skills),
    )
