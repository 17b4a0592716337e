"""Tables of personal data: a person's saved skills and their latest feedback, by workspace."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class SkillProfile(SQLModel, table=True):
    """One person's saved skills check, stored only after they pressed "Save my skills".

    Keyed by workspace and user: the same Slack user id in another workspace is another
    person as far as SkillGap is concerned, and never sees this row.
    """

    __tablename__ = "skill_profiles"
    __table_args__ = (UniqueConstraint("team_id", "user_id", name="uq_skill_profiles_person"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    user_id: str = Field(max_length=32)
    # The role they check against, when they chose one (a role slug).
    role_slug: str | None = Field(default=None, max_length=120)
    # Opted in to the weekly "what changed for you" DM.
    weekly_updates: bool = False
    # The newest feedback, as a small JSON summary for the Home tab (not the full message).
    last_feedback: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    last_checked_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class ProfileSkill(SQLModel, table=True):
    """One skill of a saved profile, in the order the person gave them."""

    __tablename__ = "profile_skills"
    __table_args__ = (UniqueConstraint("profile_id", "skill_slug", name="uq_profile_skills_skill"),)

    id: int | None = Field(default=None, primary_key=True)
    profile_id: int = Field(foreign_key="skill_profiles.id", index=True, ondelete="CASCADE")
    # By slug, not skill id: re-importing the taxonomy keeps slugs, so profiles survive it.
    skill_slug: str = Field(max_length=160)
    skill_name: str = Field(max_length=200)
    position: int = 0
