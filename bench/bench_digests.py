"""Benchmark: 10,000 digest subscriptions over 100 workspaces, delivered to the local Slack stub.

The stub enforces Slack's 1 message/s per channel and a per-workspace limit on chat.postMessage
(token buckets with a burst of 2, answering 429 with Retry-After beyond them). The sender is
configured with the same per-workspace rate. Prints: CPU ms to build and render one digest,
the total delivery time, the rate-limit floor for this load (the fastest any sender could go
within the stub's limits), their ratio (target: within 1.05x), and duplicates and losses
(target: 0 and 0).

Slack's real per-workspace limit would make this run take hours of idle waiting, so the
per-workspace rate is a parameter (default 0.5 message/s, which puts the floor near 200 s);
the floor is computed from the same numbers the stub enforces.

Run: .venv/bin/python bench/bench_digests.py [--subscriptions 10000 --workspaces 100
     --workspace-rate 0.5 --charts] (add --database-url postgresql://… for PostgreSQL)
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import multiprocessing
import os
import pstats
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from bot.slack_stub import SlackStub
from db.digest_models import DeliveryKind, Subscription, SubscriptionStatus
from db.engine import create_engine, tune_sqlite_for_serving
from db.importers.bundled import bundled_snapshot_files
from db.importers.store import store_documents
from db.importers.structured import parse_structured_file
from db.market import MarketReader
from db.models import PayKind
from db.startup import prepare
from digests import ledger
from digests.content import DigestBuilder
from digests.render import render_digest
from digests.schedule import WeeklySchedule
from digests.sender import METADATA_EVENT, DigestSender, SenderConfig
from digests.worker import Worker
from tests.slack_stub_extras import SlackRateLimits, enable_history, posted_messages

# Issue 15: within 1.05x of the rate-limit floor, and at most 2 ms of sender CPU per delivery.
TARGET_RATIO = 1.05
TARGET_CPU_MS_PER_DELIVERY = 2.0
BURST = 2.0


def may_snapshot() -> object:
    """A May 2026 snapshot with changed figures, so every digest has something to say."""
    [path] = [p for p in bundled_snapshot_files() if "2026-04" in p.name]
    april = parse_structured_file(path)
    pay = tuple(
        replace(p, median=(p.median or 0) * 1.04) if p.kind is PayKind.ANNUAL and p.median else p
        for p in april.pay
    )
    skills = tuple(
        replace(s, demand_pct=min(100.0, (s.demand_pct or 0) + 5)) if s.demand_pct else s
        for s in april.skills
    )
    return replace(
        april,
        published_on=date(2026, 5, 1),
        period_label="May 2026",
        period_start=date(2026, 5, 1),
        period_end=date(2026, 5, 31),
        pay=pay,
        skills=skills,
    )


async def measure_cpu(market: MarketReader, rounds: int) -> tuple[float, float, int]:
    """CPU ms per digest: built from the store each time, and built from the role cache."""
    builder = DigestBuilder(market, ttl_seconds=0)
    await builder.build("T0BENCH", ["ai-engineer"])  # warm imports and templates
    start = time.process_time()
    for _ in range(rounds):
        market.invalidate()
        digest = await builder.build("T0BENCH", ["ai-engineer"])
        rendered = render_digest(digest)
    uncached = (time.process_time() - start) * 1000 / rounds
    cached_builder = DigestBuilder(market)
    await cached_builder.build("T0BENCH", ["ai-engineer"])
    start = time.process_time()
    for _ in range(rounds * 10):
        digest = await cached_builder.build("T0BENCH", ["ai-engineer"])
        rendered = render_digest(digest)
    cached = (time.process_time() - start) * 1000 / (rounds * 10)
    return uncached, cached, len(rendered.parts)


def serve_stub(
    connection: Connection, teams: list[str], channel_rate: float, workspace_rate: float
) -> None:
    """The stub's process: serve until asked for the report, then send it and stop."""

    async def serve() -> None:
        async with SlackStub() as stub:
            enable_history(stub)
            limits = SlackRateLimits(
                per_channel=channel_rate, per_workspace=workspace_rate, burst=BURST
            ).install(stub)
            for team in teams:
                stub.add_workspace(team, f"xoxb-{team.lower()}")
            connection.send(stub.api_url)
            await asyncio.get_running_loop().run_in_executor(None, connection.recv)
            digests = Counter(
                m["channel"]
                for m in posted_messages(stub)
                if "thread_ts" not in m
                and (m.get("metadata") or {}).get("event_type") == METADATA_EVENT
            )
            connection.send((digests, sum(limits.refused.values())))

    asyncio.run(serve())


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--workspaces", type=int, default=100)
    parser.add_argument("--workspace-rate", type=float, default=0.5, help="messages/s")
    parser.add_argument("--channel-rate", type=float, default=1.0, help="messages/s")
    parser.add_argument("--concurrency", type=int, default=300)
    parser.add_argument("--charts", action="store_true", help="also upload a chart per digest")
    parser.add_argument("--database-url", default=None)
    options = parser.parse_args()

    directory = tempfile.mkdtemp(prefix="skillgap-bench-")
    url = options.database_url or f"sqlite+aiosqlite:///{directory}/bench.db"
    engine = create_engine(url)
    await prepare(engine)
    await tune_sqlite_for_serving(engine)  # as `skillgap worker` and the embedded setup do
    await store_documents(engine, [may_snapshot()])  # type: ignore[list-item]
    market = MarketReader(engine)

    uncached_ms, cached_ms, parts = await measure_cpu(market, 30)

    teams = [f"T{n:05d}" for n in range(options.workspaces)]
    per_team = options.subscriptions // options.workspaces
    slot = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    now = slot + timedelta(minutes=1)
    schedule = WeeklySchedule()
    rows = [
        {
            "kind": DeliveryKind.CHANNEL_DIGEST,
            "team_id": team,
            "target": f"C{team[1:]}{channel:04d}",
            "subscriber_user_id": "U0BENCH",
            "role_slugs": "ai-engineer",
            "day_of_week": schedule.day_of_week,
            "hour": schedule.hour,
            "minute": schedule.minute,
            "timezone": schedule.timezone,
            "skip_quiet_weeks": False,
            "status": SubscriptionStatus.ACTIVE,
            "paused_reason": "",
            "next_run_at": slot,
            "created_at": slot - timedelta(days=7),
            "updated_at": slot - timedelta(days=7),
        }
        for team in teams
        for channel in range(per_team)
    ]
    async with engine.begin() as connection:
        for start in range(0, len(rows), 1000):
            await connection.execute(insert(Subscription), rows[start : start + 1000])
    tick_started = time.perf_counter()
    result = await ledger.tick(engine, now, grace=timedelta(hours=12))
    tick_seconds = time.perf_counter() - tick_started
    assert result.due == len(rows), result

    # Slack is another machine: the stub runs in its own process, so its work does not
    # compete with the sender's event loop (it reports what it received when told to stop).
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    stub_process = context.Process(
        target=serve_stub,
        args=(theirs, teams, options.channel_rate, options.workspace_rate),
        daemon=True,
    )
    stub_process.start()
    loop = asyncio.get_running_loop()
    api_url = await loop.run_in_executor(None, ours.recv)
    tokens = {team: f"xoxb-{team.lower()}" for team in teams}

    async def token_for(team: str) -> str | None:
        return tokens.get(team)

    sender = DigestSender(
        engine,
        DigestBuilder(market),
        token_for,
        api_url=api_url,
        config=SenderConfig(
            workspace_rate=options.workspace_rate,
            channel_rate=options.channel_rate,
            charts=options.charts,
            lease=timedelta(minutes=30),
        ),
        clock=lambda: now,
    )
    worker = Worker(
        engine,
        sender,
        concurrency=options.concurrency,
        per_team=3,
        poll_seconds=0.2,
        clock=lambda: now,
    )
    profiler = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
    if profiler is not None:
        profiler.enable()
    cpu_started, wall_started = time.process_time(), time.perf_counter()
    await worker.run(until_idle=True)
    total = time.perf_counter() - wall_started
    if profiler is not None:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    cpu_total = time.process_time() - cpu_started
    await sender.close()
    ours.send("report")
    digests, refused = await loop.run_in_executor(None, ours.recv)
    stub_process.join(timeout=30)
    expected = {row["target"] for row in rows}
    duplicates = sum(count - 1 for count in digests.values() if count > 1)
    losses = len(expected - set(digests))
    statuses = await ledger.count_by_status(engine)
    await engine.dispose()

    # The fastest any sender could go: each workspace's messages through its token bucket
    # (a full burst, then the rate), and each channel's thread parts one a second.
    messages_per_workspace = per_team * parts
    workspace_floor = max(0.0, messages_per_workspace - BURST) / options.workspace_rate
    channel_floor = max(0.0, parts - BURST) / options.channel_rate
    floor = max(workspace_floor, channel_floor)
    ratio = total / floor if floor else float("inf")

    print(f"Digest delivery: {len(rows):,} subscriptions over {len(teams)} workspaces")
    print(
        f"  stub limits: chat.postMessage {options.channel_rate:g}/s per channel, "
        f"{options.workspace_rate:g}/s per workspace (scaled down from Slack's for a "
        f"minutes-long run; floor uses the same numbers), burst {BURST:g}"
    )
    print(
        f"  store: {url.split('://')[0]}, charts: {'on' if options.charts else 'off'}, "
        "stub in its own process"
    )
    print(
        f"  CPU to build and render one digest: {uncached_ms:.2f} ms from the store, "
        f"{cached_ms:.2f} ms with the role cache ({parts} message(s) per digest)"
    )
    print(f"  clock tick writing {result.due:,} deliveries: {tick_seconds:.2f} s")
    cpu_ms = cpu_total * 1000 / len(rows)
    print(
        f"  total delivery time: {total:.1f} s (CPU {cpu_total:.1f} s, {cpu_ms:.2f} ms per "
        f"delivery in the sender process; target <= {TARGET_CPU_MS_PER_DELIVERY:g} ms) "
        + ("OK" if cpu_ms <= TARGET_CPU_MS_PER_DELIVERY else "ABOVE TARGET")
    )
    print(f"  rate-limit floor: {floor:.1f} s")
    verdict = "OK" if ratio <= TARGET_RATIO else "ABOVE TARGET"
    print(f"  ratio to floor: {ratio:.3f}x (target <= {TARGET_RATIO}x) {verdict}")
    print(f"  429s answered by the stub: {refused}")
    print(
        f"  duplicates: {duplicates}, losses: {losses} (target 0 and 0); ledger: {dict(statuses)}"
    )
    if duplicates or losses:
        sys.exit(1)


if __name__ == "__main__":
    asyncio.run(main())
