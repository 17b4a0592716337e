"""Tables of scheduled deliveries: subscriptions (what, where, when) and the delivery ledger."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel


class DeliveryKind(StrEnum):
    """What a subscription delivers; each kind has its own builder in the sender."""

    CHANNEL_DIGEST = "channel_digest"  # the weekly market digest, posted in a channel
    PERSONAL_CHECK = "personal_check"  # a person's weekly skills check, sent by DM


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"  # by a person, or by the sender when Slack refuses the target


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # due; waiting for a worker (or for `not_before` after a retry)
    SENDING = "sending"  # claimed by a worker until `lease_expires_at`
    SENT = "sent"
    SKIPPED_STALE = "skipped_stale"  # the slot was missed by more than the grace window
    SKIPPED_QUIET = "skipped_quiet"  # nothing changed and the subscription skips quiet weeks
    HELD = "held"  # the subscription was paused before this was sent
    FAILED = "failed"  # gave up after retries, or Slack refused the target


class Subscription(SQLModel, table=True):
    """A recurring delivery to one target (a channel, or a user's DM) on a weekly schedule."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("team_id", "kind", "target", name="uq_subscriptions_target"),
        Index("ix_subscriptions_due", "status", "next_run_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: DeliveryKind = Field(sa_column=Column(String(30), nullable=False))
    team_id: str = Field(max_length=32, index=True)
    # A channel id for channel digests, a user id for personal deliveries.
    target: str = Field(max_length=32)
    # Who subscribed: told by DM when the target stops accepting messages.
    subscriber_user_id: str = Field(max_length=32)
    # Comma-separated role slugs, in the order the subscriber gave them.
    role_slugs: str = Field(default="", max_length=2000)
    day_of_week: str = Field(default="mon", max_length=3)  # cron day name: mon … sun
    hour: int = 9
    minute: int = 0
    timezone: str = Field(default="Europe/London", max_length=64)
    skip_quiet_weeks: bool = False
    status: SubscriptionStatus = Field(
        default=SubscriptionStatus.ACTIVE, sa_column=Column(String(20), nullable=False)
    )
    paused_reason: str = Field(default="", max_length=500)
    # The next slot, in UTC; the clock writes a delivery when it has passed.
    next_run_at: datetime
    created_at: datetime
    updated_at: datetime

    @property
    def roles(self) -> list[str]:
        return [slug for slug in self.role_slugs.split(",") if slug]


class Delivery(SQLModel, table=True):
    """One period's delivery of one subscription: written before anything is sent."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "period_key", name="uq_deliveries_period"),
        Index("ix_deliveries_claimable", "status", "not_before"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="subscriptions.id", index=True, ondelete="CASCADE")
    kind: DeliveryKind = Field(sa_column=Column(String(30), nullable=False))
    team_id: str = Field(max_length=32, index=True)
    target: str = Field(max_length=32)
    # The local ISO week of the slot ("2026-W14"): a DST double-fire or a restart lands
    # on the same key, so the unique constraint keeps it to one delivery.
    period_key: str = Field(max_length=20)
    scheduled_for: datetime  # the slot, in UTC
    status: DeliveryStatus = Field(
        default=DeliveryStatus.PENDING, sa_column=Column(String(20), nullable=False)
    )
    attempts: int = 0
    not_before: datetime  # earliest time a worker may (re)try it
    lease_owner: str | None = Field(default=None, max_length=80)
    lease_expires_at: datetime | None = None
    first_attempt_at: datetime | None = None
    # Where the message went (a DM's channel id differs from the user id) and its ts.
    channel_id: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=40)
    # Thread parts already posted (the first is the message itself); a retry resumes here.
    parts_sent: int = 0
    chart_file_id: str | None = Field(default=None, max_length=40)
    error: str = Field(default="", max_length=1000)
    created_at: datetime
    sent_at: datetime | None = None
