"""The delivery ledger: due slots become rows before anything is sent; workers claim them by lease.

Every function takes `now` so frozen-time tests and the clock agree on what time it is.
Rows are keyed `(subscription_id, period_key)`: a restart, a second clock or a DST
double-fire writes the same key again and the unique constraint turns it into nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, update
from sqlalchemy import select as sql_select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from db.digest_models import (
    Delivery,
    DeliveryStatus,
    Subscription,
    SubscriptionStatus,
)
from db.engine import insert_ignoring_duplicates, session_factory, transaction
from db.leases import take_leases
from digests.schedule import WeeklySchedule


def schedule_of(subscription: Subscription) -> WeeklySchedule:
    return WeeklySchedule(
        subscription.day_of_week, subscription.hour, subscription.minute, subscription.timezone
    )


# -- the clock's side ------------------------------------------------------------------------


@dataclass(frozen=True)
class TickResult:
    due: int  # deliveries written for workers
    stale: int  # slots older than the grace window, written as skipped_stale
    subscriptions: int  # subscriptions whose next_run_at moved on


async def tick(
    engine: AsyncEngine, now: datetime, *, grace: timedelta, batch: int = 500
) -> TickResult:
    """Write a delivery for every slot that has come round, and move each schedule on.

    Slots missed while the clock was down: the newest is still delivered if it is within
    `grace`; every older one (and the newest, if it is older than that) is `skipped_stale`.
    """
    due = stale = moved = 0
    while True:
        async with transaction(engine) as session:
            query = (
                select(Subscription)
                .where(
                    Subscription.status == SubscriptionStatus.ACTIVE,
                    col(Subscription.next_run_at) <= now,
                )
                .order_by(col(Subscription.next_run_at), col(Subscription.id))
                .limit(batch)
                # Two clocks at once (a deploy overlap) split the work instead of racing.
                .with_for_update(skip_locked=True)
            )
            subscriptions = (await session.exec(query)).all()
            rows: list[dict[str, Any]] = []
            moves: list[dict[str, Any]] = []
            for subscription in subscriptions:
                assert subscription.id is not None
                schedule = schedule_of(subscription)
                slots = [subscription.next_run_at]
                upcoming = schedule.next_slot(slots[-1])
                while upcoming <= now:
                    slots.append(upcoming)
                    upcoming = schedule.next_slot(upcoming)
                for slot in slots:
                    fresh = slot is slots[-1] and now - slot <= grace
                    status = DeliveryStatus.PENDING if fresh else DeliveryStatus.SKIPPED_STALE
                    rows.append(
                        {
                            "subscription_id": subscription.id,
                            "kind": subscription.kind,
                            "team_id": subscription.team_id,
                            "target": subscription.target,
                            "period_key": schedule.period_key(slot),
                            "scheduled_for": slot,
                            "status": status,
                            "attempts": 0,
                            "not_before": slot,
                            "parts_sent": 0,
                            "error": "" if fresh else "missed by more than the grace window",
                            "created_at": now,
                        }
                    )
                    due += fresh
                    stale += not fresh
                moves.append({"id": subscription.id, "next_run_at": upcoming, "updated_at": now})
                moved += 1
            if moves:
                # One executemany by primary key rather than an ORM flush per subscription.
                await session.execute(update(Subscription), moves)
            if rows:
                for start in range(0, len(rows), 200):
                    await session.execute(
                        insert_ignoring_duplicates(
                            Delivery.__table__,  # type: ignore[attr-defined]
                            session.get_bind().dialect.name,
                            "subscription_id",
                            "period_key",
                        ).values(rows[start : start + 200])
                    )
        if len(subscriptions) < batch:
            return TickResult(due, stale, moved)


# -- the workers' side -----------------------------------------------------------------------


def _claimable(now: datetime) -> Any:
    return or_(
        and_(col(Delivery.status) == DeliveryStatus.PENDING, col(Delivery.not_before) <= now),
        # A worker that died mid-delivery leaves its lease to run out.
        and_(col(Delivery.status) == DeliveryStatus.SENDING, col(Delivery.lease_expires_at) < now),
    )


async def claim(
    engine: AsyncEngine,
    worker: str,
    now: datetime,
    *,
    lease: timedelta,
    limit: int,
    per_team: int = 2,
    exclude_teams: Sequence[str] = (),
) -> list[Delivery]:
    """Take up to `limit` due deliveries for `worker`, at most `per_team` per workspace.

    Spreading a claim across workspaces keeps every workspace's rate limit busy instead of
    queueing one workspace's whole backlog behind its limiter. On PostgreSQL the rows are
    locked with SKIP LOCKED so concurrent workers take disjoint sets; SQLite runs one
    writer at a time, and the UPDATE re-checks claimability, so a row goes to one worker.
    """
    if limit <= 0:
        return []
    ranked = sql_select(
        col(Delivery.id).label("id"),
        col(Delivery.not_before).label("not_before"),
        func.row_number()
        .over(
            partition_by=col(Delivery.team_id),
            order_by=(col(Delivery.not_before), col(Delivery.id)),
        )
        .label("rank"),
    ).where(_claimable(now))
    if exclude_teams:
        ranked = ranked.where(col(Delivery.team_id).not_in(list(exclude_teams)))
    ranked_subquery = ranked.subquery()
    chosen = (
        sql_select(ranked_subquery.c.id)
        .where(ranked_subquery.c.rank <= per_team)
        .order_by(ranked_subquery.c.rank, ranked_subquery.c.not_before, ranked_subquery.c.id)
        .limit(limit)
    )
    locked = (
        sql_select(col(Delivery.id))
        .where(col(Delivery.id).in_(chosen.scalar_subquery()))
        .with_for_update(skip_locked=True)
    )
    return await take_leases(
        engine,
        Delivery,
        locked,
        _claimable(now),
        worker=worker,
        expires_at=now + lease,
        status=DeliveryStatus.SENDING,
        first_attempt_at=func.coalesce(col(Delivery.first_attempt_at), now),
    )


async def _update_leased(
    engine: AsyncEngine, delivery_id: int, worker: str, values: dict[str, Any]
) -> bool:
    """Apply `values` if `worker` still holds the lease; False when another worker took over."""
    statement = (
        update(Delivery)
        .where(
            col(Delivery.id) == delivery_id,
            col(Delivery.lease_owner) == worker,
            col(Delivery.status) == DeliveryStatus.SENDING,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    async with transaction(engine) as session:
        result: Any = await session.execute(statement)
        return bool(result.rowcount == 1)


async def renew_lease(
    engine: AsyncEngine, delivery_id: int, worker: str, now: datetime, lease: timedelta
) -> bool:
    return await _update_leased(engine, delivery_id, worker, {"lease_expires_at": now + lease})


async def record_progress(
    engine: AsyncEngine,
    delivery_id: int,
    worker: str,
    *,
    now: datetime,
    lease: timedelta,
    channel_id: str | None = None,
    message_ts: str | None = None,
    parts_sent: int | None = None,
    chart_file_id: str | None = None,
) -> bool:
    """Remember what has reached Slack so a retry resumes after it instead of repeating it."""
    values: dict[str, Any] = {"lease_expires_at": now + lease}
    if channel_id is not None:
        values["channel_id"] = channel_id
    if message_ts is not None:
        values["message_ts"] = message_ts
    if parts_sent is not None:
        values["parts_sent"] = parts_sent
    if chart_file_id is not None:
        values["chart_file_id"] = chart_file_id
    return await _update_leased(engine, delivery_id, worker, values)


# UPDATE statements that close a delivery, one per set of columns written, built once: a
# statement built per delivery cost more CPU than the rest of recording it.
_FINISH_STATEMENTS: dict[tuple[str, ...], Any] = {}


def _finish_statement(
    delivery_id: int,
    worker: str,
    status: DeliveryStatus,
    now: datetime,
    error: str,
    progress: dict[str, Any] | None,
) -> tuple[Any, dict[str, Any]]:
    """The statement that closes a delivery still leased to `worker`, and its parameters."""
    values: dict[str, Any] = dict(progress or {}) | {
        "status": status,
        "lease_owner": None,
        "lease_expires_at": None,
        "error": error[:1000],
    }
    if status is DeliveryStatus.SENT:
        values["sent_at"] = now
    columns = tuple(sorted(values))
    statement = _FINISH_STATEMENTS.get(columns)
    if statement is None:
        table = Delivery.__table__  # type: ignore[attr-defined]
        statement = (
            update(table)
            .where(
                table.c.id == bindparam("held_id"),
                table.c.lease_owner == bindparam("held_by"),
                table.c.status == bindparam("held_status"),
            )
            .values({column: bindparam(column) for column in columns})
        )
        _FINISH_STATEMENTS[columns] = statement
    parameters = values | {
        "held_id": delivery_id,
        "held_by": worker,
        "held_status": DeliveryStatus.SENDING,
    }
    return statement, parameters


class BatchedFinisher:
    """Closes deliveries in small groups, one commit per group instead of one per delivery.

    Each caller still waits for its own row's commit (and learns whether it still held the
    lease), so nothing counts as sent before the ledger says so. Rate limits spread a tick's
    deliveries out (50 a second over 100 workspaces): a window of 0.1 s still gathers several
    per commit, where a commit per delivery cost more CPU than the sending.
    """

    def __init__(self, engine: AsyncEngine, *, window: float = 0.1, limit: int = 200) -> None:
        self.engine = engine
        self.window = window
        self.limit = limit
        self._queue: list[tuple[tuple[Any, dict[str, Any]], asyncio.Future[bool]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def finish(
        self,
        delivery_id: int,
        worker: str,
        status: DeliveryStatus,
        *,
        now: datetime,
        error: str = "",
        progress: dict[str, Any] | None = None,
    ) -> bool:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        statement = _finish_statement(delivery_id, worker, status, now, error, progress)
        self._queue.append((statement, future))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush_soon())
        return await future

    async def _flush_soon(self) -> None:
        await asyncio.sleep(self.window)
        while self._queue:
            batch, self._queue = self._queue[: self.limit], self._queue[self.limit :]
            try:
                kept = await close_together(self.engine, [close for close, _ in batch])
            except Exception as problem:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(problem)
            else:
                for (_, future), held in zip(batch, kept, strict=True):
                    if not future.done():
                        future.set_result(held)
        self._flusher = None


class _LeaseLostInBatch(Exception):
    """Some close of a batch found its row no longer leased to its worker."""


async def close_together(
    engine: AsyncEngine, closes: Sequence[tuple[Any, dict[str, Any]]]
) -> list[bool]:
    """Run closes (from `_finish_statement`) in one transaction; whether each row was still held.

    Where the driver counts what an executemany changed, the closes sharing a statement go in
    one call: a statement and a thread hop per delivery cost more than the rest of closing
    it. Each close changes its own row or nothing, so when the count is full every row was
    held. When it is short (a lease lost meanwhile, rare) the transaction is undone and the
    closes run again one at a time, in order, each with its own count.
    """
    if len(closes) > 1 and engine.dialect.supports_sane_multi_rowcount:
        groups: dict[int, tuple[Any, list[dict[str, Any]]]] = {}
        for statement, parameters in closes:
            groups.setdefault(id(statement), (statement, []))[1].append(parameters)
        try:
            async with engine.begin() as connection:
                for statement, rows in groups.values():
                    if (await connection.execute(statement, rows)).rowcount != len(rows):
                        raise _LeaseLostInBatch
            return [True] * len(closes)
        except _LeaseLostInBatch:
            pass
    async with engine.begin() as connection:
        return [
            (await connection.execute(statement, parameters)).rowcount == 1
            for statement, parameters in closes
        ]


async def finish(
    engine: AsyncEngine,
    delivery_id: int,
    worker: str,
    status: DeliveryStatus,
    *,
    now: datetime,
    error: str = "",
    progress: dict[str, Any] | None = None,
) -> bool:
    """Close a delivery: sent, skipped as quiet, held or failed (with the last progress)."""
    statement, parameters = _finish_statement(delivery_id, worker, status, now, error, progress)
    async with engine.begin() as connection:
        result = await connection.execute(statement, parameters)
        return bool(result.rowcount == 1)


async def retry_later(
    engine: AsyncEngine,
    delivery_id: int,
    worker: str,
    *,
    not_before: datetime,
    error: str,
    refund_attempt: bool = False,
) -> bool:
    """Hand the delivery back to be tried again from `not_before`, keeping its progress.

    `refund_attempt` is for rate limits: waiting is not failing, so it costs no attempt.
    """
    values: dict[str, Any] = {}
    if refund_attempt:
        values["attempts"] = col(Delivery.attempts) - 1
    return await _update_leased(
        engine,
        delivery_id,
        worker,
        values
        | {
            "status": DeliveryStatus.PENDING,
            "not_before": not_before,
            "lease_owner": None,
            "lease_expires_at": None,
            "error": error[:1000],
        },
    )


@dataclass(frozen=True)
class ClaimContext:
    """What a worker needs beside the row, fetched for a whole claim at once."""

    subscriptions: dict[int, Subscription]
    previous_sent_at: dict[int, datetime]  # by subscription id


async def context_for(engine: AsyncEngine, deliveries: Sequence[Delivery]) -> ClaimContext:
    """Subscriptions of the claimed rows and when each last had a delivery sent."""
    ids = sorted({delivery.subscription_id for delivery in deliveries})
    if not ids:
        return ClaimContext({}, {})
    async with session_factory(engine)() as session:
        subscriptions = (
            await session.exec(select(Subscription).where(col(Subscription.id).in_(ids)))
        ).all()
        current = {delivery.id for delivery in deliveries}
        query = (
            sql_select(col(Delivery.subscription_id), func.max(col(Delivery.sent_at)))
            .where(
                col(Delivery.subscription_id).in_(ids),
                col(Delivery.status) == DeliveryStatus.SENT,
                col(Delivery.id).not_in(current),
            )
            .group_by(col(Delivery.subscription_id))
        )
        sent = {int(row[0]): row[1] for row in (await session.execute(query)).all()}
    return ClaimContext({s.id: s for s in subscriptions if s.id is not None}, sent)


# -- reading the ledger ----------------------------------------------------------------------


async def get_subscription(engine: AsyncEngine, subscription_id: int) -> Subscription | None:
    async with session_factory(engine)() as session:
        return await session.get(Subscription, subscription_id)


async def last_sent_before(
    engine: AsyncEngine, subscription_id: int, scheduled_for: datetime
) -> datetime | None:
    """When the previous delivery went out: what "new this week" is measured from."""
    async with session_factory(engine)() as session:
        query = sql_select(func.max(col(Delivery.sent_at))).where(
            col(Delivery.subscription_id) == subscription_id,
            col(Delivery.status) == DeliveryStatus.SENT,
            col(Delivery.scheduled_for) < scheduled_for,
        )
        value: datetime | None = (await session.execute(query)).scalar_one_or_none()
        return value


async def list_deliveries(
    engine: AsyncEngine,
    *,
    status: DeliveryStatus | None = None,
    team_id: str | None = None,
    limit: int = 50,
) -> list[Delivery]:
    """Newest first: what `skillgap deliveries` shows."""
    async with session_factory(engine)() as session:
        query = select(Delivery).order_by(
            col(Delivery.scheduled_for).desc(), col(Delivery.id).desc()
        )
        if status is not None:
            query = query.where(Delivery.status == status)
        if team_id is not None:
            query = query.where(Delivery.team_id == team_id)
        return list((await session.exec(query.limit(limit))).all())


async def count_by_status(engine: AsyncEngine) -> dict[str, int]:
    async with session_factory(engine)() as session:
        query = sql_select(col(Delivery.status), func.count()).group_by(col(Delivery.status))
        return {str(status): int(count) for status, count in (await session.execute(query)).all()}


async def outstanding(engine: AsyncEngine) -> int:
    """Deliveries not yet closed (pending, or being sent)."""
    async with session_factory(engine)() as session:
        query = sql_select(func.count()).where(
            col(Delivery.status).in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING])
        )
        return int((await session.execute(query)).scalar_one())


async def next_wakeup(engine: AsyncEngine) -> datetime | None:
    """The earliest `not_before` of a pending delivery (a retry waiting for its time)."""
    async with session_factory(engine)() as session:
        query = sql_select(func.min(col(Delivery.not_before))).where(
            col(Delivery.status) == DeliveryStatus.PENDING
        )
        value: datetime | None = (await session.execute(query)).scalar_one_or_none()
        return value
