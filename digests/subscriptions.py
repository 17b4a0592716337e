"""Subscriptions: what `/skillgap subscribe …` means; creating, pausing, resuming, removing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from db.digest_models import (
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Subscription,
    SubscriptionStatus,
)
from db.engine import session_factory, transaction
from db.market import MarketReader
from db.resolve import MatchKind
from digests.schedule import (
    DEFAULT_DAY,
    DEFAULT_HOUR,
    DEFAULT_MINUTE,
    DEFAULT_TIMEZONE,
    ScheduleError,
    WeeklySchedule,
    find_timezone,
    parse_day,
    parse_time,
)

MAX_ROLES = 5
_SKIP_QUIET = re.compile(
    r"\b(?:skip[-_ ]quiet(?:[-_ ]weeks?)?|skipping quiet weeks)\b", re.IGNORECASE
)
_ZONE_LIKE = re.compile(r"^[A-Za-z_]+/[A-Za-z_/+\-0-9]+$|^(?:UTC|GMT|Etc/.+)$", re.IGNORECASE)


@dataclass(frozen=True)
class SubscribeRequest:
    """`/skillgap subscribe [ROLE, ROLE…] [on DAY] [at HH:MM] [TZ] [skip quiet weeks]`, parsed."""

    role_names: tuple[str, ...]
    schedule: WeeklySchedule
    skip_quiet_weeks: bool = False


@dataclass(frozen=True)
class SubscribeProblem:
    """What was wrong with a subscribe request, said so a person can fix it."""

    message: str
    suggestions: tuple[str, ...] = field(default=())


def parse_subscribe(text: str, *, default_timezone: str = DEFAULT_TIMEZONE) -> SubscribeRequest:
    """Raises ScheduleError saying what was wrong."""
    skip_quiet = bool(_SKIP_QUIET.search(text))
    text = _SKIP_QUIET.sub(" ", text)
    tokens = text.replace(",", " , ").split()
    day: str | None = None
    clock: tuple[int, int] | None = None
    timezone: str | None = None
    role_words: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        lowered = token.lower()
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if lowered in ("on", "every") and following is not None and following != ",":
            if day is not None:
                raise ScheduleError("give one day only, e.g. `on Monday`")
            day = parse_day(following)
            index += 2
            continue
        if lowered == "at" and following is not None:
            time_text = following
            index += 2
            if index < len(tokens) and tokens[index].lower() in ("am", "pm"):
                time_text += tokens[index]
                index += 1
            clock = parse_time(time_text)
            continue
        if lowered in ("in", "tz") and following is not None and _ZONE_LIKE.match(following):
            index += 1
            continue
        if _ZONE_LIKE.match(token):
            found = find_timezone(token)
            if found is None:
                raise ScheduleError(
                    f"unknown time zone {token!r}; use an IANA name such as Europe/London"
                )
            timezone = found
            index += 1
            continue
        role_words.append(token)
        index += 1
    names = tuple(name.strip() for name in " ".join(role_words).split(",") if name.strip())
    if len(names) > MAX_ROLES:
        raise ScheduleError(f"a digest covers at most {MAX_ROLES} roles; you named {len(names)}")
    hour, minute = clock if clock is not None else (DEFAULT_HOUR, DEFAULT_MINUTE)
    schedule = WeeklySchedule(day or DEFAULT_DAY, hour, minute, timezone or default_timezone)
    return SubscribeRequest(names, schedule, skip_quiet)


async def resolve_roles(
    market: MarketReader, names: tuple[str, ...]
) -> list[str] | SubscribeProblem:
    """Role slugs for the names, or the problem with the first name that is not a known role."""
    slugs: list[str] = []
    for name in names:
        resolution = await market.resolve_role(name)
        if resolution.match is None or resolution.kind is MatchKind.AMBIGUOUS:
            suggestions = tuple(candidate.name for candidate in resolution.suggestions)
            return SubscribeProblem(f"I don't know the role {name!r}.", suggestions)
        if resolution.match.slug not in slugs:
            slugs.append(resolution.match.slug)
    return slugs


@dataclass(frozen=True)
class SubscribeOutcome:
    subscription: Subscription
    created: bool  # False: the channel's existing subscription was changed


async def subscribe(
    engine: AsyncEngine,
    *,
    team_id: str,
    target: str,
    subscriber_user_id: str,
    role_slugs: list[str],
    schedule: WeeklySchedule,
    now: datetime,
    kind: DeliveryKind = DeliveryKind.CHANNEL_DIGEST,
    skip_quiet_weeks: bool = False,
) -> SubscribeOutcome:
    """Subscribe the target, or change its subscription (one per target and kind)."""
    next_run = schedule.first_slot_after(now)
    for _ in range(2):
        try:
            async with transaction(engine) as session:
                existing = (
                    await session.exec(
                        select(Subscription).where(
                            Subscription.team_id == team_id,
                            Subscription.kind == kind,
                            Subscription.target == target,
                        )
                    )
                ).first()
                subscription = existing or Subscription(
                    kind=kind,
                    team_id=team_id,
                    target=target,
                    subscriber_user_id=subscriber_user_id,
                    next_run_at=next_run,
                    created_at=now,
                    updated_at=now,
                )
                subscription.subscriber_user_id = subscriber_user_id
                subscription.role_slugs = ",".join(role_slugs)
                subscription.day_of_week = schedule.day_of_week
                subscription.hour = schedule.hour
                subscription.minute = schedule.minute
                subscription.timezone = schedule.timezone
                subscription.skip_quiet_weeks = skip_quiet_weeks
                subscription.status = SubscriptionStatus.ACTIVE
                subscription.paused_reason = ""
                subscription.next_run_at = next_run
                subscription.updated_at = now
                session.add(subscription)
                await session.flush()
                await session.refresh(subscription)
                return SubscribeOutcome(subscription, existing is None)
        except IntegrityError:
            continue  # the same channel subscribed twice at once: the second becomes an update
    raise RuntimeError("could not subscribe after a concurrent change; try again")


async def find_subscription(
    engine: AsyncEngine, team_id: str, target: str, kind: DeliveryKind = DeliveryKind.CHANNEL_DIGEST
) -> Subscription | None:
    async with session_factory(engine)() as session:
        return (
            await session.exec(
                select(Subscription).where(
                    Subscription.team_id == team_id,
                    Subscription.kind == kind,
                    Subscription.target == target,
                )
            )
        ).first()


async def list_subscriptions(
    engine: AsyncEngine,
    team_id: str,
    *,
    target: str | None = None,
    subscriber_user_id: str | None = None,
    kind: DeliveryKind | None = DeliveryKind.CHANNEL_DIGEST,
) -> list[Subscription]:
    async with session_factory(engine)() as session:
        query = select(Subscription).where(Subscription.team_id == team_id)
        if target is not None:
            query = query.where(Subscription.target == target)
        if subscriber_user_id is not None:
            query = query.where(Subscription.subscriber_user_id == subscriber_user_id)
        if kind is not None:
            query = query.where(Subscription.kind == kind)
        query = query.order_by(col(Subscription.next_run_at), col(Subscription.id))
        return list((await session.exec(query)).all())


async def unsubscribe(
    engine: AsyncEngine, team_id: str, target: str, kind: DeliveryKind = DeliveryKind.CHANNEL_DIGEST
) -> bool:
    """Remove the target's subscription (and its ledger rows); False when there was none."""
    async with transaction(engine) as session:
        existing = (
            await session.exec(
                select(Subscription).where(
                    Subscription.team_id == team_id,
                    Subscription.kind == kind,
                    Subscription.target == target,
                )
            )
        ).first()
        if existing is None:
            return False
        # Deleted explicitly: SQLite enforces ON DELETE CASCADE only with foreign keys on.
        await session.execute(delete(Delivery).where(col(Delivery.subscription_id) == existing.id))
        await session.delete(existing)
        return True


async def pause_subscription(
    engine: AsyncEngine, subscription_id: int, *, reason: str, now: datetime
) -> None:
    """Stop deliveries: the clock skips it, and due rows not yet sent are held."""
    async with transaction(engine) as session:
        await session.execute(
            update(Subscription)
            .where(col(Subscription.id) == subscription_id)
            .values(status=SubscriptionStatus.PAUSED, paused_reason=reason[:500], updated_at=now)
        )
        await session.execute(
            update(Delivery)
            .where(
                col(Delivery.subscription_id) == subscription_id,
                col(Delivery.status) == DeliveryStatus.PENDING,
            )
            .values(status=DeliveryStatus.HELD, error="subscription paused")
        )


async def resume_subscription(
    engine: AsyncEngine, subscription_id: int, *, now: datetime
) -> Subscription | None:
    """Start again from the next slot after now; weeks missed while paused are not sent."""
    async with transaction(engine) as session:
        subscription = await session.get(Subscription, subscription_id)
        if subscription is None:
            return None
        schedule = WeeklySchedule(
            subscription.day_of_week, subscription.hour, subscription.minute, subscription.timezone
        )
        subscription.status = SubscriptionStatus.ACTIVE
        subscription.paused_reason = ""
        subscription.next_run_at = schedule.first_slot_after(now)
        subscription.updated_at = now
        session.add(subscription)
        await session.flush()
        await session.refresh(subscription)
        return subscription
