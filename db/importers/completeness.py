"""Which sections a published report lacks (pay, day rates, gaps, emerging, path, tenure).

An import lists them as warnings (errors with --strict), and `skillgap snapshots` shows them
for what is stored, so a report missing its salary paragraphs never imports unnoticed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Integer, cast, func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from db.constants import PayKind, SourceKind
from db.engine import session_factory
from db.importers.document import SnapshotDocument
from db.models import MarketSnapshot, PayFigure, RelationKind, Role, RoleRelation, SkillFigure

# Each section, and what its absence means for the cards.
SECTION_NOTES = {
    "pay": "no salary figures: cards will say 'not enough data' for salaries",
    "day rates": "no contractor day rates",
    "gaps": "no skills gaps (demand against supply)",
    "emerging": "no emerging skills",
    "path": "no progression ladder",
    "tenure": "no typical tenure",
}


@dataclass(frozen=True)
class Sections:
    """Which of a report's sections have figures."""

    pay: bool
    day_rates: bool
    gaps: bool
    emerging: bool
    path: bool
    tenure: bool

    def missing(self) -> list[str]:
        present = {
            "pay": self.pay,
            "day rates": self.day_rates,
            "gaps": self.gaps,
            "emerging": self.emerging,
            "path": self.path,
            "tenure": self.tenure,
        }
        return [name for name, there in present.items() if not there]


def is_published(kind: SourceKind) -> bool:
    """Only published reports are expected to have every section; job ads compute theirs."""
    return kind is not SourceKind.JOB_ADS


def document_sections(document: SnapshotDocument) -> Sections:
    return Sections(
        pay=any(p.kind is PayKind.ANNUAL and p.median is not None for p in document.pay),
        day_rates=any(p.kind is PayKind.DAILY and p.median is not None for p in document.pay),
        gaps=any(s.is_gap for s in document.skills),
        emerging=any(s.is_emerging for s in document.skills),
        path=bool(document.role.progression),
        tenure=document.role.typical_tenure_months is not None,
    )


def missing_in_document(document: SnapshotDocument) -> list[str]:
    """The sections a report file lacks; none for computed snapshots."""
    if not is_published(document.source_kind):
        return []
    return document_sections(document).missing()


async def missing_in_store(engine: AsyncEngine) -> dict[int, list[str]]:
    """The sections each stored published snapshot lacks, by snapshot id."""
    async with session_factory(engine)() as session:
        snapshots = (
            await session.exec(
                select(MarketSnapshot.id, MarketSnapshot.source_kind, Role).join(
                    Role, col(Role.id) == col(MarketSnapshot.role_id)
                )
            )
        ).all()
        pay_kinds = (
            await session.exec(
                select(PayFigure.snapshot_id, PayFigure.kind).where(
                    col(PayFigure.median).is_not(None)
                )
            )
        ).all()
        flags = (
            await session.exec(
                select(
                    SkillFigure.snapshot_id,
                    func.max(cast(col(SkillFigure.is_gap), Integer)),
                    func.max(cast(col(SkillFigure.is_emerging), Integer)),
                ).group_by(col(SkillFigure.snapshot_id))
            )
        ).all()
        laddered = set(
            (
                await session.exec(
                    select(RoleRelation.role_id).where(
                        RoleRelation.kind == RelationKind.PROGRESSION
                    )
                )
            ).all()
        )
    kinds: dict[int, set[str]] = {}
    for snapshot_id, kind in pay_kinds:
        kinds.setdefault(snapshot_id, set()).add(str(kind))
    by_snapshot = {snapshot_id: (bool(gap), bool(emerging)) for snapshot_id, gap, emerging in flags}
    missing: dict[int, list[str]] = {}
    for stored_id, source_kind, role in snapshots:
        if stored_id is None or not is_published(SourceKind(source_kind)):
            continue
        snapshot_id = stored_id
        gap, emerging = by_snapshot.get(snapshot_id, (False, False))
        sections = Sections(
            pay=PayKind.ANNUAL.value in kinds.get(snapshot_id, set()),
            day_rates=PayKind.DAILY.value in kinds.get(snapshot_id, set()),
            gaps=gap,
            emerging=emerging,
            path=role.id in laddered,
            tenure=role.typical_tenure_months is not None,
        )
        missing[snapshot_id] = sections.missing()
    return missing
