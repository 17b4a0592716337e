"""Withdrawing a snapshot from every answer, and restoring it; each change kept in an audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import session_factory, transaction
from db.models import MarketSnapshot, Role, SnapshotAudit

WITHDRAWN = "withdrawn"
RESTORED = "restored"


class WithdrawalRefused(ValueError):
    """The snapshot is unknown, or already in the state asked for; the message says which."""


@dataclass(frozen=True)
class SnapshotSummary:
    id: int
    role_title: str
    region: str
    period_label: str
    source: str
    team_id: str
    withdrawn_at: datetime | None

    @property
    def description(self) -> str:
        owner = "public" if not self.team_id else f"team {self.team_id}"
        return f"{self.role_title}, {self.region}, {self.period_label}, {self.source} ({owner})"


async def describe_snapshot(engine: AsyncEngine, snapshot_id: int) -> SnapshotSummary:
    async with session_factory(engine)() as session:
        snapshot = await session.get(MarketSnapshot, snapshot_id)
        if snapshot is None or snapshot.id is None:
            raise WithdrawalRefused(
                f"There is no snapshot {snapshot_id}; `skillgap snapshots` lists their ids."
            )
        role = await session.get(Role, snapshot.role_id)
        return SnapshotSummary(
            snapshot.id,
            role.title if role is not None else "?",
            snapshot.region,
            snapshot.period_label,
            snapshot.source,
            snapshot.team_id,
            snapshot.withdrawn_at,
        )


async def withdraw_snapshot(engine: AsyncEngine, snapshot_id: int, reason: str = "") -> None:
    """Take the snapshot out of every answer at once (cards fall back to the next best)."""
    await _set_withdrawn(engine, snapshot_id, withdraw=True, reason=reason)


async def restore_snapshot(engine: AsyncEngine, snapshot_id: int, reason: str = "") -> None:
    """Undo a withdrawal: the snapshot answers again as before."""
    await _set_withdrawn(engine, snapshot_id, withdraw=False, reason=reason)


async def _set_withdrawn(
    engine: AsyncEngine, snapshot_id: int, *, withdraw: bool, reason: str
) -> None:
    now = datetime.now(UTC)
    async with transaction(engine) as session:
        snapshot = await session.get(MarketSnapshot, snapshot_id)
        if snapshot is None:
            raise WithdrawalRefused(
                f"There is no snapshot {snapshot_id}; `skillgap snapshots` lists their ids."
            )
        if withdraw and snapshot.withdrawn_at is not None:
            raise WithdrawalRefused(f"Snapshot {snapshot_id} is already withdrawn.")
        if not withdraw and snapshot.withdrawn_at is None:
            raise WithdrawalRefused(f"Snapshot {snapshot_id} is not withdrawn.")
        snapshot.withdrawn_at = now if withdraw else None
        session.add(snapshot)
        session.add(
            SnapshotAudit(
                snapshot_id=snapshot_id,
                action=WITHDRAWN if withdraw else RESTORED,
                at=now,
                reason=reason[:500],
            )
        )
