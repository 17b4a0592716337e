"""Closing deliveries in batches: one statement per kind of close, each lease still checked."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import event

from db.digest_models import Delivery, DeliveryStatus
from digests import ledger
from tests.digests.conftest import DigestHarness
from tests.digests.test_delivery import MONDAY, due_now

LEASE = timedelta(minutes=5)


def count_statements(harness: DigestHarness) -> list[tuple[str, bool]]:
    """Every UPDATE sent to the database, and whether it went as one executemany."""
    seen: list[tuple[str, bool]] = []

    def before(_conn: Any, _cursor: Any, statement: str, _p: Any, _c: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("UPDATE"):
            seen.append((statement, many))

    event.listen(harness.engine.sync_engine, "before_cursor_execute", before)
    return seen


async def claimed(harness: DigestHarness, count: int) -> list[Delivery]:
    await due_now(harness, *[f"C0BATCH{n}" for n in range(count)])
    rows = await ledger.claim(
        harness.engine, "w1", MONDAY, lease=LEASE, limit=count, per_team=count
    )
    assert len(rows) == count
    return rows


async def finish_all(
    finisher: ledger.BatchedFinisher, rows: list[Delivery], progress: list[dict[str, Any]]
) -> list[bool]:
    return list(
        await asyncio.gather(
            *(
                finisher.finish(row.id or 0, "w1", DeliveryStatus.SENT, now=MONDAY, progress=extra)
                for row, extra in zip(rows, progress, strict=True)
            )
        )
    )


async def test_a_batch_of_held_rows_closes_with_one_statement_per_kind(
    harness: DigestHarness,
) -> None:
    rows = await claimed(harness, 4)
    updates = count_statements(harness)
    progress: list[dict[str, Any]] = [
        {"parts_sent": 1},
        {"parts_sent": 1},
        {"parts_sent": 2, "message_ts": "1.2"},
        {"parts_sent": 1},
    ]
    kept = await finish_all(ledger.BatchedFinisher(harness.engine, window=0.01), rows, progress)
    assert kept == [True, True, True, True]
    closed = {row.id: row for row in await ledger.list_deliveries(harness.engine)}
    assert all(row.status == DeliveryStatus.SENT and row.sent_at for row in closed.values())
    assert all(row.lease_owner is None for row in closed.values())
    assert closed[rows[2].id].message_ts == "1.2" and closed[rows[2].id].parts_sent == 2
    if harness.engine.dialect.supports_sane_multi_rowcount:
        # Two kinds of close (with and without a message ts): two statements, not four.
        assert sorted(many for _, many in updates) == [False, True]
    else:
        assert len(updates) == 4


async def test_a_row_taken_over_in_a_batch_is_left_to_its_new_holder(
    harness: DigestHarness,
) -> None:
    rows = await claimed(harness, 3)
    # The first row's lease ran out and another worker took it over.
    later = MONDAY + LEASE + timedelta(seconds=1)
    [taken] = await ledger.claim(harness.engine, "w2", later, lease=LEASE, limit=1, per_team=1)
    assert taken.id == rows[0].id
    progress: list[dict[str, Any]] = [{"parts_sent": 1}] * 3
    kept = await finish_all(ledger.BatchedFinisher(harness.engine, window=0.01), rows, progress)
    assert kept == [False, True, True]
    closed = {row.id: row for row in await ledger.list_deliveries(harness.engine)}
    first = closed[rows[0].id]
    assert first.status == DeliveryStatus.SENDING and first.lease_owner == "w2"
    assert first.sent_at is None and first.parts_sent == 0
    assert all(closed[row.id].status == DeliveryStatus.SENT for row in rows[1:])


async def test_a_claim_hands_back_each_row_as_the_claim_left_it(harness: DigestHarness) -> None:
    rows = await claimed(harness, 2)
    stored = {row.id: row for row in await ledger.list_deliveries(harness.engine)}
    for row in rows:
        assert row.status == DeliveryStatus.SENDING and row.lease_owner == "w1"
        assert row.attempts == 1 and row.first_attempt_at is not None
        assert row.lease_expires_at is not None
        kept = stored[row.id]
        assert (row.attempts, row.lease_expires_at, row.first_attempt_at) == (
            kept.attempts,
            kept.lease_expires_at,
            kept.first_attempt_at,
        )
    # Taken over after the lease ran out: the second claim counts a second attempt.
    later = MONDAY + LEASE + timedelta(seconds=1)
    again = await ledger.claim(harness.engine, "w2", later, lease=LEASE, limit=2, per_team=2)
    assert [row.id for row in again] == [row.id for row in rows]
    assert all(row.attempts == 2 and row.lease_owner == "w2" for row in again)
    assert [row.first_attempt_at for row in again] == [row.first_attempt_at for row in rows]
