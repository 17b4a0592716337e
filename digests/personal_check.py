"""The opt-in weekly personal DM ("what changed for you"), delivered through the digest ledger."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from db.digest_models import Delivery, DeliveryKind, Subscription
from db.market import MarketReader
from db.personal import check_skills, personal_changes
from db.profiles import load_profile
from digests import ledger
from digests.schedule import WeeklySchedule, as_utc
from digests.sender import Composition
from digests.subscriptions import subscribe, unsubscribe
from templates import render_message

# Monday morning, like the channel digests; people can't pick yet (nobody asked).
PERSONAL_SCHEDULE = WeeklySchedule("mon", 9, 0, "Europe/London")


async def start_weekly_updates(
    engine: AsyncEngine, team_id: str, user_id: str, role_slug: str | None
) -> None:
    """Subscribe the person's DM; weeks with nothing new for them send nothing."""
    await subscribe(
        engine,
        team_id=team_id,
        target=user_id,
        subscriber_user_id=user_id,
        role_slugs=[role_slug] if role_slug else [],
        schedule=PERSONAL_SCHEDULE,
        now=datetime.now(UTC),
        kind=DeliveryKind.PERSONAL_CHECK,
        skip_quiet_weeks=True,
    )


async def stop_weekly_updates(engine: AsyncEngine, team_id: str, user_id: str) -> None:
    await unsubscribe(engine, team_id, user_id, kind=DeliveryKind.PERSONAL_CHECK)


class PersonalCheckComposer:
    """Builds one person's weekly DM from their saved skills and the newest snapshot."""

    def __init__(self, engine: AsyncEngine, market: MarketReader) -> None:
        self.engine = engine
        self.market = market

    async def __call__(self, delivery: Delivery, subscription: Subscription) -> Composition:
        profile = await load_profile(self.engine, subscription.team_id, subscription.target)
        role_slug = next(iter(subscription.roles), None) or (profile and profile.role_slug)
        if not role_slug:
            roles = await self.market.list_roles(subscription.team_id)
            role_slug = roles[0].slug if roles else None
        if profile is None or not role_slug:
            return Composition(
                parts=(render_message("profile_weekly.j2", changes=None),), quiet=True
            )
        comparison = await self.market.compare(role_slug, subscription.team_id)
        since = await ledger.last_sent_before(
            self.engine, subscription.id or 0, delivery.scheduled_for
        )
        check = await check_skills(self.market, profile.skills, role_slug, subscription.team_id)
        changes = None
        if comparison is not None and (
            since is None or as_utc(comparison.newer.imported_at) > as_utc(since)
        ):
            changes = personal_changes(
                comparison, (c.slug for c in profile.skills), await self.market.skill_graph()
            )
        message = render_message("profile_weekly.j2", changes=changes, check=check)
        return Composition(parts=(message,), quiet=changes is None or not changes.has_changes)
