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
    DAY_NAMES,
    DEFAULT_DAY,
    DEFAULT_HOUR,
    DEFAULT_MINUTE,
    ScheduleError,
    WeeklySchedule,
    parse_day,
    parse_time,
)
from digests.timezones import MAX_ZONE_WORDS, ZoneReading, read_timezone

MAX_ROLES = 5
_SKIP_QUIET = re.compile(
    r"\b(?:skip[-_ ]quiet(?:[-_ ]weeks?)?|skipping quiet weeks)\b", re.IGNORECASE
)
_KEEP_QUIET = re.compile(
    r"\b(?:(?:don'?t|do not|never) skip(?: quiet(?: weeks?)?)?|include quiet weeks?"
    r"|(?:send|post) (?:even )?(?:in )?quiet weeks?|every week)\b",
    re.IGNORECASE,
)
# Words around a schedule that name no role: "subscribe weekly please".
_FILLER = frozenset({"weekly", "digest", "please", "pls", "for", "the", "to"})
_ZONE_LEAD = frozenset({"in", "tz", "timezone", "time", "zone"})
_ZONE_LIKE = re.compile(r"^[A-Za-z_]+/[A-Za-z_/+\-0-9]+$", re.IGNORECASE)
_FULL_DAYS = frozenset(name for name in DAY_NAMES if len(name) > 4)


@dataclass(frozen=True)
class SubscribeRequest:
    """`/skillgap subscribe [ROLE, ROLE…] [on DAY] [at HH:MM] [TZ] [skip quiet weeks]`, parsed.

    A part left out is None: a new subscription takes the default, an existing one keeps
    what it had ("subscribe skip quiet weeks" changes nothing else).
    """

    role_names: tuple[str, ...] = ()
    day: str | None = None
    clock: tuple[int, int] | None = None
    timezone: str | None = None
    skip_quiet_weeks: bool | None = None
    # How a zone was written when it was not its IANA name ("BST"), to say how it was read.
    zone_typed: str = ""

    def schedule_over(
        self, existing: WeeklySchedule | None, default_timezone: str
    ) -> WeeklySchedule:
        base = existing or WeeklySchedule(
            DEFAULT_DAY, DEFAULT_HOUR, DEFAULT_MINUTE, default_timezone
        )
        hour, minute = self.clock if self.clock is not None else (base.hour, base.minute)
        return WeeklySchedule(
            self.day or base.day_of_week, hour, minute, self.timezone or base.timezone
        )

    def schedule_words(self) -> str:
        """The schedule parts that were given, as a command line carries them again."""
        parts = []
        if self.day:
            parts.append(f"on {self.day}")
        if self.clock is not None:
            parts.append(f"at {self.clock[0]:02d}:{self.clock[1]:02d}")
        if self.timezone:
            parts.append(self.timezone)
        if self.skip_quiet_weeks is True:
            parts.append("skip quiet weeks")
        elif self.skip_quiet_weeks is False:
            parts.append("include quiet weeks")
        return " ".join(parts)


@dataclass(frozen=True)
class SubscribeProblem:
    """What was wrong with a subscribe request, said so a person can fix it."""

    message: str
    suggestions: tuple[str, ...] = field(default=())


def parse_subscribe(text: str) -> SubscribeRequest:
    """Raises ScheduleError saying what was wrong."""
    skip_quiet: bool | None = None
    if _KEEP_QUIET.search(text):
        skip_quiet = False
        text = _KEEP_QUIET.sub(" ", text)
    elif _SKIP_QUIET.search(text):
        skip_quiet = True
    text = _SKIP_QUIET.sub(" ", text)
    tokens = text.replace(",", " , ").split()
    day: str | None = None
    clock: tuple[int, int] | None = None
    zone: ZoneReading | None = None
    role_words: list[str] = []
    index = 0

    def set_day(word: str) -> None:
        nonlocal day
        if day is not None:
            raise ScheduleError("give one day only, e.g. `on Monday`")
        day = parse_day(word)

    def set_clock(words: str) -> None:
        nonlocal clock
        if clock is not None:
            raise ScheduleError("give one time only, e.g. `at 09:00`")
        clock = parse_time(words)

    while index < len(tokens):
        token = tokens[index]
        lowered = token.lower()
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if lowered in ("on", "every", "each") and following is not None and following != ",":
            set_day(following)
            index += 2
            continue
        if lowered == "at" and following is not None:
            time_text = following
            index += 2
            if index < len(tokens) and tokens[index].lower() in ("am", "pm"):
                time_text += tokens[index]
                index += 1
            set_clock(time_text)
            continue
        if _looks_like_time(lowered):
            set_clock(token)
            index += 1
            continue
        if lowered.rstrip("s") in _FULL_DAYS or lowered in _FULL_DAYS:
            set_day(token)
            index += 1
            continue
        lead = 1 if lowered in _ZONE_LEAD and following is not None else 0
        reading = _zone_at(tokens, index + lead)
        if reading is None and lead:
            reading = _zone_at(tokens, index + 2) if lowered == "time" else None
            lead = 2 if reading is not None else lead
        if reading is not None:
            if zone is not None and zone.zone != reading.zone:
                raise ScheduleError("give one time zone only, e.g. `Europe/London`")
            zone = reading
            index += lead + reading.words
            continue
        if _ZONE_LIKE.match(token):
            raise ScheduleError(
                f"unknown time zone {token!r}; use an IANA name such as Europe/London, "
                "an offset such as UTC+1, or a city such as London"
            )
        if lowered not in _FILLER:
            role_words.append(token)
        index += 1
    names = tuple(name.strip() for name in " ".join(role_words).split(",") if name.strip())
    if len(names) > MAX_ROLES:
        raise ScheduleError(f"a digest covers at most {MAX_ROLES} roles; you named {len(names)}")
    typed = zone.typed if zone is not None and zone.typed.lower() != zone.zone.lower() else ""
    return SubscribeRequest(
        names, day, clock, zone.zone if zone else None, skip_quiet, zone_typed=typed
    )


def _looks_like_time(word: str) -> bool:
    """ "10:30", "9am", "5.30pm": a time even without "at"."""
    return bool(re.fullmatch(r"\d{1,2}(?::\d{2}|(?::\d{2})?\s*[ap]m)", word))


def _zone_at(tokens: list[str], index: int) -> ZoneReading | None:
    words: list[str] = []
    for token in tokens[index : index + MAX_ZONE_WORDS]:
        if token == ",":
            break
        words.append(token)
    return read_timezone(words) if words else None


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
