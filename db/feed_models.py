"""Tables of live job-ad feeds: what each feed fetches and when, its runs, and API hits spent."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from db.constants import PUBLIC_TEAM


class FeedKind(StrEnum):
    ADZUNA = "adzuna"  # Adzuna's job search API
    REED = "reed"  # Reed's jobseeker API
    URL = "url"  # a CSV or JSON Lines file at an HTTPS URL
    FOLDER = "folder"  # files dropped in a directory


class FeedStatus(StrEnum):
    ACTIVE = "active"
    STOPPED = "stopped"  # the provider refused the key: runs wait until someone fixes it


class FeedRunStatus(StrEnum):
    PENDING = "pending"  # due; waiting for a worker (or for `not_before` after a retry)
    RUNNING = "running"  # claimed by a worker until `lease_expires_at`
    DONE = "done"
    FAILED = "failed"  # the source refused or kept failing; the error says why
    SKIPPED_STALE = "skipped_stale"  # a slot missed while the clock was down, already caught up


class Feed(SQLModel, table=True):
    """One source of job ads, fetched on a schedule into one owner's (team's or public) ads."""

    __tablename__ = "feeds"
    __table_args__ = (Index("ix_feeds_due", "status", "next_run_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: FeedKind = Field(sa_column=Column(String(10), nullable=False))
    # Whose ads they become: a Slack team id, or PUBLIC_TEAM for every workspace.
    team_id: str = Field(default=PUBLIC_TEAM, max_length=32, index=True)
    # What to fetch, as JSON: search terms for the APIs, the URL, or the folder.
    params: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    every: str = Field(default="daily", max_length=10)  # daily or weekly
    day_of_week: str = Field(default="mon", max_length=3)  # for weekly feeds
    hour: int = 4
    minute: int = 30
    timezone: str = Field(default="Europe/London", max_length=64)
    status: FeedStatus = Field(
        default=FeedStatus.ACTIVE, sa_column=Column(String(10), nullable=False)
    )
    stopped_reason: str = Field(default="", max_length=500)
    # Who added it (a Slack user id, or "" from the command line): told when its key is refused.
    added_by: str = Field(default="", max_length=32)
    # Where the last complete run got to, and a run in progress (JSON): a killed run resumes.
    checkpoint: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    next_run_at: datetime
    created_at: datetime
    updated_at: datetime


class FeedRun(SQLModel, table=True):
    """One slot's run of one feed (or a run asked for by hand): written before it starts."""

    __tablename__ = "feed_runs"
    __table_args__ = (
        UniqueConstraint("feed_id", "period_key", name="uq_feed_runs_period"),
        Index("ix_feed_runs_claimable", "status", "not_before"),
    )

    id: int | None = Field(default=None, primary_key=True)
    feed_id: int = Field(foreign_key="feeds.id", index=True, ondelete="CASCADE")
    team_id: str = Field(max_length=32)
    # The slot's local day ("2026-12-02") or ISO week ("2026-W49"); "manual-…" when asked for.
    period_key: str = Field(max_length=40)
    scheduled_for: datetime
    status: FeedRunStatus = Field(
        default=FeedRunStatus.PENDING, sa_column=Column(String(20), nullable=False)
    )
    attempts: int = 0
    not_before: datetime
    lease_owner: str | None = Field(default=None, max_length=80)
    lease_expires_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    new_ads: int = 0
    known_ads: int = 0
    requests: int = 0
    error: str = Field(default="", max_length=1000)
    created_at: datetime


class FeedApiCall(SQLModel, table=True):
    """One request spent against a provider's limits, kept a month to plan within them."""

    __tablename__ = "feed_api_calls"
    __table_args__ = (Index("ix_feed_api_calls_account_time", "account", "called_at"),)

    id: int | None = Field(default=None, primary_key=True)
    # The provider and a digest of the key: limits are per key, shared by its feeds.
    account: str = Field(max_length=80)
    called_at: datetime
