"""Snapshots for digest tests: the bundled April 2026 figures, and a May 2026 one that differs."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from db.importers.bundled import bundled_snapshot_files
from db.importers.document import SkillDocument, SnapshotDocument
from db.importers.structured import parse_structured_file
from db.models import PayKind


def april() -> SnapshotDocument:
    [path] = [p for p in bundled_snapshot_files() if "2026-04" in p.name]
    return parse_structured_file(path)


def may(
    *, extra_skills: tuple[SkillDocument, ...] = (), role_title: str | None = None
) -> SnapshotDocument:
    """May 2026: salary and day rate up, one gap wider, one new emerging skill."""
    base = april()
    skills = []
    for skill in base.skills:
        if skill.name == "Production LLM Deployment":
            skill = replace(skill, demand_pct=80, supply_pct=26)
        elif skill.name == "AI Evaluation & Safety":
            skill = replace(skill, demand_pct=48, supply_pct=16)
        skills.append(skill)
    skills.append(
        SkillDocument(name="Model Context Protocol", demand_pct=18, supply_pct=4, is_emerging=True)
    )
    skills.extend(extra_skills)
    pay = []
    for figure in base.pay:
        if figure.kind is PayKind.ANNUAL and figure.region == "UK":
            figure = replace(figure, median=78000, sample_size=412)
        elif figure.kind is PayKind.DAILY and figure.region == "UK":
            figure = replace(figure, median=675)
        pay.append(figure)
    role = base.role if role_title is None else replace(base.role, title=role_title)
    return replace(
        base,
        role=role,
        published_on=date(2026, 5, 1),
        period_label="May 2026",
        period_start=date(2026, 5, 1),
        period_end=date(2026, 5, 31),
        sample_size=1200,
        pay=tuple(pay),
        skills=tuple(skills),
    )
