"""Tables of ingested job ads and candidate profiles, and the co-occurring skills of snapshots."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Column, Index, LargeBinary, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from db.models import PUBLIC_TEAM


class IngestedAd(SQLModel, table=True):
    """What one job ad contributes to the figures: enough to recompute every window."""

    __tablename__ = "ingested_ads"
    __table_args__ = (
        # A source id seen twice, or the same ad reposted under a new id, counts once.
        UniqueConstraint("team_id", "ad_key", name="uq_ingested_ads_key"),
        UniqueConstraint("team_id", "content_key", name="uq_ingested_ads_content"),
        Index("ix_ingested_ads_team_posted", "team_id", "posted_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(default=PUBLIC_TEAM, max_length=32)
    ad_key: str = Field(max_length=80)
    content_key: str = Field(max_length=32)
    posted_on: date
    title: str = Field(max_length=200)
    # The role the title maps to (a role slug), or None when it maps to none.
    role_slug: str | None = Field(default=None, max_length=120)
    is_london: bool = False
    # Pay as the ad states it, one kind only; None when absent, predicted or out of bounds.
    pay_kind: str | None = Field(default=None, sa_column=Column(String(10), nullable=True))
    pay_value: float | None = None
    # Taxonomy skill slugs found in the ad, sorted, joined by "|".
    skills: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # What the skills were extracted from (title, line break, description), compressed
    # (db/ingest/ad_text.py), so a taxonomy edit can re-read it; None for ads stored before
    # the text was kept.
    packed_text: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


class IngestedCandidate(SQLModel, table=True):
    """One candidate profile's skills, for the supply side of the figures."""

    __tablename__ = "ingested_candidates"
    __table_args__ = (
        UniqueConstraint("team_id", "candidate_key", name="uq_ingested_candidates_key"),
        Index("ix_ingested_candidates_team_seen", "team_id", "seen_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(default=PUBLIC_TEAM, max_length=32)
    candidate_key: str = Field(max_length=80)
    seen_on: date
    # None: the profile names no role, so it counts towards every role's supply.
    role_slug: str | None = Field(default=None, max_length=120)
    is_london: bool = False
    skills: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class SkillCooccurrence(SQLModel, table=True):
    """How often another skill appears in the ads of a snapshot that ask for a skill."""

    __tablename__ = "skill_cooccurrences"
    __table_args__ = (
        UniqueConstraint(
            "snapshot_id", "skill_id", "other_skill_id", name="uq_skill_cooccurrences_pair"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    snapshot_id: int = Field(foreign_key="market_snapshots.id", index=True, ondelete="CASCADE")
    skill_id: int = Field(foreign_key="skills.id", ondelete="CASCADE")
    other_skill_id: int = Field(foreign_key="skills.id", ondelete="CASCADE")
    ads: int  # ads in the snapshot mentioning both skills
    share_pct: float  # of the ads mentioning skill_id, the share also mentioning the other
