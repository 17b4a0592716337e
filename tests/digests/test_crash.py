"""Workers killed mid-run, and workers racing: every due channel gets exactly one digest."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from bot.slack_stub import SlackStub
from bot.slack_stub_methods import StubReply, StubRequest
from db.digest_models import DeliveryStatus
from db.engine import create_engine
from db.importers.store import store_documents
from db.market import MarketReader
from digests import ledger
from tests.conftest import StoreTemplates
from tests.digests.conftest import TEAM, DigestHarness
from tests.digests.data import may
from tests.postgres import PostgresServer

SUBSCRIBED = datetime(2026, 5, 25, 12, tzinfo=UTC)
MONDAY = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def worker_environment(harness: DigestHarness, url: str, lease_seconds: int) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SKILLGAP_", "SLACK_", "DATABASE_URL"))
    }
    environment.update(
        SKILLGAP_DATABASE_URL=url,
        SLACK_BOT_TOKEN=harness.tokens[TEAM],
        SLACK_SIGNING_SECRET="unused-here",
        SLACK_API_URL=harness.stub.api_url,
        SKILLGAP_DIGEST_LEASE_SECONDS=str(lease_seconds),
        SKILLGAP_DIGEST_WORKSPACE_RATE="1000",
        SKILLGAP_DIGEST_BACKOFF_SECONDS="0",
        SKILLGAP_LOG_LEVEL="WARNING",
    )
    return environment


async def start_worker(
    harness: DigestHarness, url: str, directory: Path, *arguments: str, lease_seconds: int = 2
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from bot.cli import main; main()",
        "worker",
        *arguments,
        cwd=directory,
        env=worker_environment(harness, url, lease_seconds),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def start_and_kill_9(
    harness: DigestHarness, url: str, directory: Path, kill_now: asyncio.Event, *arguments: str
) -> None:
    """Start a worker and SIGKILL it the moment `kill_now` is set."""
    worker = await start_worker(harness, url, directory, *arguments)
    await asyncio.wait_for(kill_now.wait(), timeout=60)
    worker.send_signal(signal.SIGKILL)
    await worker.wait()
    assert worker.returncode == -signal.SIGKILL


async def subscribe_and_tick(harness: DigestHarness, channels: list[str]) -> None:
    with time_machine.travel(SUBSCRIBED, tick=False):
        for channel in channels:
            await harness.subscribe(channel)
    result = await harness.tick(MONDAY)
    assert result.due == len(channels)


def assert_exactly_one_each(harness: DigestHarness, channels: list[str]) -> None:
    counts = {channel: len(harness.digests_in(channel)) for channel in channels}
    assert counts == dict.fromkeys(channels, 1)


async def test_kill_9_mid_run_then_restart_delivers_each_channel_once(
    harness: DigestHarness, database_url: str, tmp_path: Path
) -> None:
    channels = [f"C0KILL{n:02d}" for n in range(8)]
    await subscribe_and_tick(harness, channels)
    arrived = 0
    kill_now = asyncio.Event()

    async def slow_posts(request: StubRequest) -> StubReply | None:
        nonlocal arrived
        if request.method == "chat.postMessage":
            arrived += 1
            if arrived == 5:
                kill_now.set()
            # Slack accepts the post even though the worker is dead before it hears back.
            await asyncio.sleep(0.4)
        return None

    harness.stub.add_rule(slow_posts)
    await start_and_kill_9(harness, database_url, tmp_path, kill_now, "--concurrency", "2")
    await asyncio.sleep(0.5)  # let the posts already in flight land in the channel
    before_restart = {channel: len(harness.digests_in(channel)) for channel in channels}
    assert 0 < sum(before_restart.values()) < len(channels)

    second = await start_worker(harness, database_url, tmp_path, "--until-idle")
    _, errors = await asyncio.wait_for(second.communicate(), timeout=120)
    assert second.returncode == 0, errors.decode()
    assert_exactly_one_each(harness, channels)
    # The restart looked in the channel for what the killed worker had posted.
    assert harness.stub.calls_to("conversations.history")
    assert await ledger.count_by_status(harness.engine) == {"sent": len(channels)}


@pytest.fixture
async def postgres_harness(
    store_templates: StoreTemplates, postgres_server: PostgresServer, stub: SlackStub
) -> AsyncIterator[tuple[DigestHarness, str]]:
    url = await store_templates.fresh_url("postgresql", True, postgres_server)
    engine = create_engine(url)
    await store_documents(engine, [may()])
    harness = DigestHarness(engine, stub, MarketReader(engine, recheck_seconds=0))
    harness.add_team(TEAM)
    yield harness, url
    await engine.dispose()


async def test_two_workers_on_postgresql_never_duplicate(
    postgres_harness: tuple[DigestHarness, str], tmp_path: Path
) -> None:
    harness, url = postgres_harness
    channels = [f"C0PAIR{n:02d}" for n in range(24)]
    await subscribe_and_tick(harness, channels)
    harness.stub.set_latency(0.05, "chat.postMessage")
    workers = [
        # A lease long enough that a busy machine does not make a live worker look dead.
        await start_worker(
            harness, url, tmp_path, "--until-idle", "--concurrency", "4", lease_seconds=20
        )
        for _ in range(2)
    ]
    results = await asyncio.wait_for(
        asyncio.gather(*(worker.communicate() for worker in workers)), timeout=120
    )
    for worker, (_, errors) in zip(workers, results, strict=True):
        assert worker.returncode == 0, errors.decode()
    assert_exactly_one_each(harness, channels)
    rows = await ledger.list_deliveries(harness.engine, limit=100)
    assert {row.status for row in rows} == {DeliveryStatus.SENT}
    assert all(row.attempts == 1 for row in rows)  # nobody had to take over anyone's row


async def test_two_workers_in_one_process_share_the_work_without_duplicates(
    harness: DigestHarness,
) -> None:
    channels = [f"C0SAME{n:02d}" for n in range(12)]
    await subscribe_and_tick(harness, channels)
    harness.stub.set_latency(0.02, "chat.postMessage")
    first, second = await asyncio.gather(harness.work(concurrency=3), harness.work(concurrency=3))
    assert_exactly_one_each(harness, channels)
    assert first.stats.handled + second.stats.handled == len(channels)


async def test_the_embedded_setup_runs_clock_and_worker_in_process(
    harness: DigestHarness, database_url: str
) -> None:
    from db.settings import Settings
    from digests.runtime import start_in_process

    with time_machine.travel(SUBSCRIBED, tick=False):
        await harness.subscribe("C0EMBED")  # its Monday slot is long past by now
    settings = Settings(
        database_url=database_url,
        slack_bot_token=harness.tokens[TEAM],
        slack_signing_secret="unused",
        slack_api_url=harness.stub.api_url,
        digest_grace_hours=24 * 365 * 10,  # the slot is in 2026; still deliver it
    )
    handle = start_in_process(settings, harness.engine)
    try:
        await harness.stub.wait_for(
            lambda call: call.method == "chat.postMessage" and call.ok, within=30
        )
    finally:
        await handle.stop()
    assert len(harness.digests_in("C0EMBED")) == 1
    # Only the newest of the weeks since then is sent; the older ones are skipped as stale.
    counts = await ledger.count_by_status(harness.engine)
    assert counts["sent"] == 1 and set(counts) <= {"sent", "skipped_stale"}


def charts_shared_in(harness: DigestHarness, channel: str) -> list[str]:
    """Ids of the files Slack shared in the channel (completed uploads)."""
    return [
        str(entry.get("id"))
        for call in harness.stub.calls_to("files.completeUploadExternal")
        if call.ok and call.args.get("channel_id") == channel
        for entry in call.response.get("files") or []
    ]


async def test_kill_9_while_the_chart_upload_completes_posts_neither_twice(
    harness: DigestHarness, database_url: str, tmp_path: Path
) -> None:
    channels = ["C0CHART01", "C0CHART02"]
    await subscribe_and_tick(harness, channels)
    kill_now = asyncio.Event()

    async def slow_completion(request: StubRequest) -> StubReply | None:
        if request.method == "files.completeUploadExternal":
            kill_now.set()
            # Slack shares the file even though the worker is dead before it hears back.
            await asyncio.sleep(0.4)
        return None

    harness.stub.add_rule(slow_completion)
    await start_and_kill_9(harness, database_url, tmp_path, kill_now, "--concurrency", "1")
    await asyncio.sleep(0.6)  # the completion in flight lands in the thread
    assert sum(len(charts_shared_in(harness, channel)) for channel in channels) == 1

    second = await start_worker(harness, database_url, tmp_path, "--until-idle")
    _, errors = await asyncio.wait_for(second.communicate(), timeout=120)
    assert second.returncode == 0, errors.decode()
    assert_exactly_one_each(harness, channels)
    shared = {channel: len(charts_shared_in(harness, channel)) for channel in channels}
    assert shared == dict.fromkeys(channels, 1)
    # The restart looked in the digest's thread for the chart the killed worker had shared.
    assert harness.stub.calls_to("conversations.replies")
    assert await ledger.count_by_status(harness.engine) == {"sent": len(channels)}
