"""SQLModel tables of the market store; every change to their shape is an Alembic migration."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

# Defined where modules that must not import SQLAlchemy can reach them; still known here.
from db.constants import PUBLIC_TEAM as PUBLIC_TEAM
from db.constants import PayKind as PayKind
from db.constants import SourceKind as SourceKind


class RelationKind(StrEnum):
    PROGRESSION = "progression"  # one step of the career ladder, in order
    LATERAL = "lateral"  # a common sideways move


class Role(SQLModel, table=True):
    __tablename__ = "roles"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(sa_column=Column(String(120), unique=True, nullable=False, index=True))
    title: str = Field(max_length=200)
    summary: str = Field(default="")
    typical_tenure_months: int | None = None
    # One route per line: how people usually come into the role.
    entry_routes: str = Field(default="")


class RoleAlias(SQLModel, table=True):
    __tablename__ = "role_aliases"
    __table_args__ = (UniqueConstraint("normalized", name="uq_role_aliases_normalized"),)

    id: int | None = Field(default=None, primary_key=True)
    role_id: int = Field(foreign_key="roles.id", index=True, ondelete="CASCADE")
    alias: str = Field(max_length=200)
    normalized: str = Field(max_length=200)


class RoleRelation(SQLModel, table=True):
    """A step on a role's progression ladder, or a lateral move from it."""

    __tablename__ = "role_relations"
    __table_args__ = (
        UniqueConstraint("role_id", "kind", "position", name="uq_role_relations_position"),
    )

    id: int | None = Field(default=None, primary_key=True)
    role_id: int = Field(foreign_key="roles.id", index=True, ondelete="CASCADE")
    kind: RelationKind = Field(sa_column=Column(String(20), nullable=False))
    position: int
    title: str = Field(max_length=200)
    # Set when the step or move names a role SkillGap also knows.
    related_role_id: int | None = Field(default=None, foreign_key="roles.id", ondelete="SET NULL")


class Skill(SQLModel, table=True):
    __tablename__ = "skills"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(sa_column=Column(String(160), unique=True, nullable=False, index=True))
    name: str = Field(max_length=200)
    description: str = Field(default="")


class SkillAlias(SQLModel, table=True):
    __tablename__ = "skill_aliases"
    __table_args__ = (UniqueConstraint("normalized", name="uq_skill_aliases_normalized"),)

    id: int | None = Field(default=None, primary_key=True)
    skill_id: int = Field(foreign_key="skills.id", index=True, ondelete="CASCADE")
    alias: str = Field(max_length=200)
    normalized: str = Field(max_length=200)


class StoreState(SQLModel, table=True):
    """Facts about the store itself, by name: e.g. the taxonomy version its ads were read with."""

    __tablename__ = "store_state"

    name: str = Field(sa_column=Column(String(60), primary_key=True))
    value: str = Field(max_length=200)


class SkillParent(SQLModel, table=True):
    """A skill's family: holding or asking for the skill counts for the family too.

    The links form a DAG (a skill may sit in two families); the taxonomy and reports that
    list a family's examples write them.
    """

    __tablename__ = "skill_parents"

    skill_id: int = Field(foreign_key="skills.id", primary_key=True, ondelete="CASCADE")
    parent_id: int = Field(
        foreign_key="skills.id", primary_key=True, index=True, ondelete="CASCADE"
    )
    # Where a source gives the skill as an example of the family ("Cloud Platforms
    # (AWS/GCP/Azure)"), its place in that list: examples are what answers name.
    example_rank: int | None = None


class MarketSnapshot(SQLModel, table=True):
    """The market for one role in one region as one source saw it at one time."""

    __tablename__ = "market_snapshots"
    __table_args__ = (
        UniqueConstraint(
            "team_id",
            "role_id",
            "region",
            "source",
            "period_start",
            "period_end",
            name="uq_market_snapshots_identity",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(default=PUBLIC_TEAM, max_length=32, index=True)
    role_id: int = Field(foreign_key="roles.id", index=True, ondelete="CASCADE")
    region: str = Field(default="UK", max_length=60)
    published_on: date
    # Human label of the period the figures describe, e.g. "April 2026" or "2026-W14".
    period_label: str = Field(max_length=60)
    # The dates the figures describe: a report's month, or a window of job ads.
    period_start: date
    period_end: date
    # Who produced the figures, e.g. "UK market report" or "job ads, 4-week window".
    source: str = Field(max_length=200)
    source_kind: SourceKind = Field(sa_column=Column(String(20), nullable=False))
    # SHA-256 of the canonical figures: the same facts imported twice collapse into one.
    checksum: str = Field(max_length=64, index=True)
    imported_at: datetime
    # Ads or respondents behind the snapshot, when the source says.
    sample_size: int | None = None
    # Candidate profiles behind the supply figures, when known.
    supply_sample_size: int | None = None
    # Set while an operator has withdrawn the snapshot: no answer uses it until restored.
    withdrawn_at: datetime | None = None


class PayFigure(SQLModel, table=True):
    """Pay of one kind (annual, daily, hourly) in one region of a snapshot."""

    __tablename__ = "pay_figures"
    __table_args__ = (
        UniqueConstraint("snapshot_id", "kind", "region", name="uq_pay_figures_kind_region"),
    )

    id: int | None = Field(default=None, primary_key=True)
    snapshot_id: int = Field(foreign_key="market_snapshots.id", index=True, ondelete="CASCADE")
    kind: PayKind = Field(sa_column=Column(String(10), nullable=False))
    region: str = Field(max_length=60)
    median: float | None = None
    low: float | None = None  # bottom of the typical range
    high: float | None = None  # top of the typical range
    p10: float | None = None
    p25: float | None = None
    p75: float | None = None
    p90: float | None = None
    sample_size: int | None = None
    # How the source words its figure when it is not a plain median: "around" £750/day.
    qualifier: str = Field(
        default="", sa_column=Column(String(40), nullable=False, server_default="")
    )


class SkillFigure(SQLModel, table=True):
    """One skill's demand and supply in a snapshot, and how the source classed it."""

    __tablename__ = "skill_figures"
    __table_args__ = (
        UniqueConstraint("snapshot_id", "skill_id", name="uq_skill_figures_snapshot_skill"),
    )

    id: int | None = Field(default=None, primary_key=True)
    snapshot_id: int = Field(foreign_key="market_snapshots.id", index=True, ondelete="CASCADE")
    skill_id: int = Field(foreign_key="skills.id", index=True, ondelete="CASCADE")
    demand_pct: float | None = None  # share of employers / ads asking for it
    supply_pct: float | None = None  # share of candidates listing it
    demand_low_pct: float | None = None  # Wilson 95% interval, when computed from ads
    demand_high_pct: float | None = None
    is_essential: bool = False
    is_emerging: bool = False
    is_gap: bool = False  # named by the source as one of the top skills gaps
    # Position in the source's own list (gap list for gaps, else essential/emerging list).
    rank: int | None = None
    sample_size: int | None = None
    note: str = Field(default="")


class SnapshotAudit(SQLModel, table=True):
    """Every withdrawal and restoration of a snapshot, kept for the record."""

    __tablename__ = "snapshot_audit"

    id: int | None = Field(default=None, primary_key=True)
    snapshot_id: int = Field(foreign_key="market_snapshots.id", index=True, ondelete="CASCADE")
    action: str = Field(max_length=20)  # "withdrawn" or "restored"
    at: datetime
    reason: str = Field(default="", max_length=500)
