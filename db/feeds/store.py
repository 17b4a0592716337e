"""Feeds in the store: adding, listing and removing them, and the ledger of their runs.

A run is a `feed_runs` row keyed `(feed_id, period_key)`, written by the clock before any
worker starts it, so a restart, a second clock or a repeated autumn hour runs a slot once.
Workers claim rows with a lease, as they claim digest deliveries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, update
from sqlalchemy import select as sql_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from db.engine import session_factory, transaction
from db.feed_models import Feed, FeedKind, FeedRun, FeedRunStatus, FeedStatus
from db.feeds.schedule import FeedSchedule
from db.leases import take_leases

# A worker that died mid-run leaves its lease to run out; after this many tries, it fails.
MAX_ATTEMPTS = 3
# A run renews its lease after every page or file it stores, so this is the most one page
# may take; a dead worker's run is taken over this long after its last sign of life.
LEASE = timedelta(minutes=30)


class FeedBusy(Exception):
    """The feed is being run right now; the message says since when."""


def schedule_of(feed: Feed) -> FeedSchedule:
    return FeedSchedule(feed.every, feed.day_of_week, feed.hour, feed.minute, feed.timezone)


def params_of(feed: Feed) -> dict[str, Any]:
    value = json.loads(feed.params or "{}")
    return value if isinstance(value, dict) else {}


def checkpoint_of(feed: Feed) -> dict[str, Any]:
    value = json.loads(feed.checkpoint or "{}")
    return value if isinstance(value, dict) else {}


async def add_feed(
    engine: AsyncEngine,
    kind: FeedKind,
    params: dict[str, Any],
    *,
    team_id: str,
    schedule: FeedSchedule,
    now: datetime,
    added_by: str = "",
) -> Feed:
    feed = Feed(
        kind=kind,
        team_id=team_id,
        params=json.dumps(params, sort_keys=True),
        every=schedule.every,
        day_of_week=schedule.day_of_week,
        hour=schedule.hour,
        minute=schedule.minute,
        timezone=schedule.timezone,
        added_by=added_by,
        next_run_at=schedule.first_slot_after(now),
        created_at=now,
        updated_at=now,
    )
    async with transaction(engine) as session:
        session.add(feed)
    return feed


async def get_feed(engine: AsyncEngine, feed_id: int) -> Feed | None:
    async with session_factory(engine)() as session:
        return await session.get(Feed, feed_id)


async def list_feeds(engine: AsyncEngine, *, team_id: str | None = None) -> list[Feed]:
    async with session_factory(engine)() as session:
        query = select(Feed).order_by(col(Feed.id))
        if team_id is not None:
            query = query.where(Feed.team_id == team_id)
        return list((await session.exec(query)).all())


async def remove_feed(engine: AsyncEngine, feed_id: int) -> bool:
    """The feed and its run history go; the ads it stored stay (they are the team's figures)."""
    async with transaction(engine) as session:
        feed = await session.get(Feed, feed_id)
        if feed is None:
            return False
        runs = (await session.exec(select(FeedRun).where(FeedRun.feed_id == feed_id))).all()
        for run in runs:
            await session.delete(run)
        await session.delete(feed)
    return True


async def save_checkpoint(
    engine: AsyncEngine, feed_id: int, checkpoint: dict[str, Any], now: datetime
) -> None:
    async with transaction(engine) as session:
        await session.execute(
            update(Feed)
            .where(col(Feed.id) == feed_id)
            .values(checkpoint=json.dumps(checkpoint, sort_keys=True), updated_at=now)
        )


async def set_status(
    engine: AsyncEngine, feed_id: int, status: FeedStatus, reason: str, now: datetime
) -> None:
    async with transaction(engine) as session:
        await session.execute(
            update(Feed)
            .where(col(Feed.id) == feed_id)
            .values(status=status, stopped_reason=reason[:500], updated_at=now)
        )


@dataclass(frozen=True)
class FeedHistory:
    """What `feeds list` shows beside a feed: its last run and what all runs stored."""

    last_run: FeedRun | None
    ads_stored: int
    runs: int


async def histories(engine: AsyncEngine, feed_ids: list[int]) -> dict[int, FeedHistory]:
    if not feed_ids:
        return {}
    async with session_factory(engine)() as session:
        totals = (
            await session.execute(
                sql_select(col(FeedRun.feed_id), func.sum(col(FeedRun.new_ads)), func.count())
                .where(col(FeedRun.feed_id).in_(feed_ids))
                .where(col(FeedRun.status).in_([FeedRunStatus.DONE, FeedRunStatus.FAILED]))
                .group_by(col(FeedRun.feed_id))
            )
        ).all()
        finished = (
            await session.exec(
                select(FeedRun)
                .where(col(FeedRun.feed_id).in_(feed_ids), col(FeedRun.finished_at).is_not(None))
                .order_by(col(FeedRun.finished_at).desc(), col(FeedRun.id).desc())
            )
        ).all()
    last: dict[int, FeedRun] = {}
    for run in finished:
        last.setdefault(run.feed_id, run)
    counted = {int(row[0]): (int(row[1] or 0), int(row[2])) for row in totals}
    return {
        feed_id: FeedHistory(last.get(feed_id), *counted.get(feed_id, (0, 0)))
        for feed_id in feed_ids
    }


# -- the clock's side ------------------------------------------------------------------------


def _insert_runs(dialect: str, rows: list[dict[str, Any]]) -> Any:
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return (
        module.insert(FeedRun)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["feed_id", "period_key"])
    )


async def tick(engine: AsyncEngine, now: datetime, *, batch: int = 200) -> int:
    """Write a run for every feed whose slot has come round; returns how many are due.

    After downtime only the newest missed slot runs: it fetches everything since the
    feed's checkpoint, which is the catch-up; older slots are recorded as skipped.
    """
    due = 0
    while True:
        async with transaction(engine) as session:
            feeds = (
                await session.exec(
                    select(Feed)
                    .where(Feed.status == FeedStatus.ACTIVE, col(Feed.next_run_at) <= now)
                    .order_by(col(Feed.next_run_at), col(Feed.id))
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            rows: list[dict[str, Any]] = []
            moves: list[dict[str, Any]] = []
            for feed in feeds:
                schedule = schedule_of(feed)
                slots = [feed.next_run_at]
                upcoming = schedule.next_slot(slots[-1])
                while upcoming <= now:
                    slots.append(upcoming)
                    upcoming = schedule.next_slot(upcoming)
                for slot in slots:
                    newest = slot is slots[-1]
                    rows.append(
                        {
                            "feed_id": feed.id,
                            "team_id": feed.team_id,
                            "period_key": schedule.period_key(slot),
                            "scheduled_for": slot,
                            "status": FeedRunStatus.PENDING
                            if newest
                            else FeedRunStatus.SKIPPED_STALE,
                            "attempts": 0,
                            "not_before": slot,
                            "new_ads": 0,
                            "known_ads": 0,
                            "requests": 0,
                            "error": "" if newest else "caught up by a later run",
                            "created_at": now,
                        }
                    )
                    due += newest
                moves.append({"id": feed.id, "next_run_at": upcoming, "updated_at": now})
            if moves:
                await session.execute(update(Feed), moves)
            if rows:
                await session.execute(_insert_runs(session.get_bind().dialect.name, rows))
        if len(feeds) < batch:
            return due


# -- the workers' side -----------------------------------------------------------------------


def _claimable(now: datetime) -> Any:
    return or_(
        and_(col(FeedRun.status) == FeedRunStatus.PENDING, col(FeedRun.not_before) <= now),
        and_(
            col(FeedRun.status) == FeedRunStatus.RUNNING,
            col(FeedRun.lease_expires_at) < now,
            col(FeedRun.attempts) < MAX_ATTEMPTS,
        ),
    )


def _running_now(now: datetime) -> Any:
    """Feeds a live lease is running: a second run at once would race the first's checkpoint."""
    return sql_select(col(FeedRun.feed_id)).where(
        col(FeedRun.status) == FeedRunStatus.RUNNING, col(FeedRun.lease_expires_at) >= now
    )


async def claim(
    engine: AsyncEngine, worker: str, now: datetime, *, lease: timedelta, limit: int
) -> list[FeedRun]:
    """Take up to `limit` due runs for `worker` (SKIP LOCKED on PostgreSQL, as deliveries)."""
    if limit <= 0:
        return []
    chosen = (
        sql_select(col(FeedRun.id))
        .where(_claimable(now), col(FeedRun.feed_id).not_in(_running_now(now)))
        .order_by(col(FeedRun.not_before), col(FeedRun.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return await take_leases(
        engine,
        FeedRun,
        chosen,
        _claimable(now),
        worker=worker,
        expires_at=now + lease,
        status=FeedRunStatus.RUNNING,
        started_at=func.coalesce(col(FeedRun.started_at), now),
    )


async def fail_worn_out(engine: AsyncEngine, now: datetime) -> int:
    """Runs whose workers died MAX_ATTEMPTS times are failed rather than tried for ever."""
    async with transaction(engine) as session:
        result: Any = await session.execute(
            update(FeedRun)
            .where(
                col(FeedRun.status) == FeedRunStatus.RUNNING,
                col(FeedRun.lease_expires_at) < now,
                col(FeedRun.attempts) >= MAX_ATTEMPTS,
            )
            .values(
                status=FeedRunStatus.FAILED,
                finished_at=now,
                lease_owner=None,
                error="stopped unexpectedly on every attempt; see the worker's log",
            )
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)


async def start_manual_run(engine: AsyncEngine, feed: Feed, now: datetime, worker: str) -> FeedRun:
    """A run asked for by hand (`feeds run`), in the same history as scheduled runs."""
    run = FeedRun(
        feed_id=feed.id or 0,
        team_id=feed.team_id,
        period_key=f"manual-{now:%Y%m%dT%H%M%S.%f}",
        scheduled_for=now,
        status=FeedRunStatus.RUNNING,
        attempts=1,
        not_before=now,
        lease_owner=worker,
        lease_expires_at=now + LEASE,
        started_at=now,
        created_at=now,
    )
    async with transaction(engine) as session:
        running = (
            await session.exec(
                select(FeedRun).where(
                    FeedRun.feed_id == feed.id,
                    FeedRun.status == FeedRunStatus.RUNNING,
                    col(FeedRun.lease_expires_at) >= now,
                )
            )
        ).first()
        if running is not None:
            since = running.started_at or running.scheduled_for
            raise FeedBusy(
                f"Feed {feed.id} is being run now (since {since:%H:%M} UTC); "
                f"try again when it has finished"
            )
        session.add(run)
    return run


async def renew_lease(engine: AsyncEngine, run_id: int, worker: str, now: datetime) -> bool:
    """Keep a long run's lease while it makes progress; False if another worker took it."""
    async with transaction(engine) as session:
        result: Any = await session.execute(
            update(FeedRun)
            .where(
                col(FeedRun.id) == run_id,
                col(FeedRun.lease_owner) == worker,
                col(FeedRun.status) == FeedRunStatus.RUNNING,
            )
            .values(lease_expires_at=now + LEASE)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)


async def finish_run(
    engine: AsyncEngine,
    run_id: int,
    worker: str,
    status: FeedRunStatus,
    *,
    now: datetime,
    new_ads: int,
    known_ads: int,
    requests: int,
    error: str = "",
) -> bool:
    """Close a run if `worker` still holds it; False when its lease went to another worker."""
    async with transaction(engine) as session:
        result: Any = await session.execute(
            update(FeedRun)
            .where(
                col(FeedRun.id) == run_id,
                col(FeedRun.lease_owner) == worker,
                col(FeedRun.status) == FeedRunStatus.RUNNING,
            )
            .values(
                status=status,
                finished_at=now,
                lease_owner=None,
                lease_expires_at=None,
                new_ads=new_ads,
                known_ads=known_ads,
                requests=requests,
                error=error[:1000],
            )
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)


async def outstanding(engine: AsyncEngine) -> int:
    async with session_factory(engine)() as session:
        query = sql_select(func.count()).where(
            col(FeedRun.status).in_([FeedRunStatus.PENDING, FeedRunStatus.RUNNING])
        )
        return int((await session.execute(query)).scalar_one())


async def runs_of(engine: AsyncEngine, feed_id: int) -> list[FeedRun]:
    async with session_factory(engine)() as session:
        query = select(FeedRun).where(FeedRun.feed_id == feed_id).order_by(col(FeedRun.id))
        return list((await session.exec(query)).all())
