"""Per-workspace settings, such as the role SkillGap answers about when a command names none."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, String
from sqlmodel import Field, SQLModel


class WorkspaceSettings(SQLModel, table=True):
    __tablename__ = "workspace_settings"

    team_id: str = Field(sa_column=Column(String(32), primary_key=True))
    # Slug of the default role; None falls back to the app-wide setting.
    default_role_slug: str | None = Field(default=None, max_length=160)
    updated_by: str = Field(default="", max_length=32)
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
