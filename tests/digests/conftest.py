"""Digest fixtures: a Slack stub with workspaces and history, and a sender/worker on a store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.slack_stub import SlackStub
from db.digest_models import DeliveryKind, Subscription
from db.importers.store import store_documents
from db.market import MarketReader
from digests import ledger
from digests.content import DigestBuilder
from digests.schedule import WeeklySchedule, utc_now
from digests.sender import METADATA_EVENT, DigestSender, SenderConfig
from digests.subscriptions import subscribe
from digests.worker import Worker
from tests.digests.data import may
from tests.slack_stub_extras import enable_history, posted_messages

TEAM = "T0STUB"
TOKEN = "xoxb-digest-test"


@dataclass
class DigestHarness:
    engine: AsyncEngine
    stub: SlackStub
    market: MarketReader
    tokens: dict[str, str] = field(default_factory=dict)
    config: SenderConfig = field(
        default_factory=lambda: SenderConfig(
            backoff_base=0.0, workspace_rate=1000.0, channel_rate=1000.0, charts=False
        )
    )

    def add_team(self, team_id: str) -> str:
        token = f"xoxb-{team_id.lower()}"
        self.stub.add_workspace(team_id, token)
        self.tokens[team_id] = token
        return token

    async def token_for(self, team_id: str) -> str | None:
        return self.tokens.get(team_id)

    def sender(self, **overrides: Any) -> DigestSender:
        config = SenderConfig(**{**self.config.__dict__, **overrides})
        return DigestSender(
            self.engine,
            DigestBuilder(self.market, ttl_seconds=0),
            self.token_for,
            api_url=self.stub.api_url,
            config=config,
        )

    async def subscribe(
        self,
        channel: str,
        *,
        team_id: str = TEAM,
        roles: tuple[str, ...] = ("ai-engineer",),
        schedule: WeeklySchedule | None = None,
        now: datetime | None = None,
        user: str = "U0SUBSCRIBER",
        skip_quiet_weeks: bool = False,
        kind: DeliveryKind = DeliveryKind.CHANNEL_DIGEST,
    ) -> Subscription:
        outcome = await subscribe(
            self.engine,
            team_id=team_id,
            target=channel,
            subscriber_user_id=user,
            role_slugs=list(roles),
            schedule=schedule or WeeklySchedule(),
            now=now or utc_now(),
            kind=kind,
            skip_quiet_weeks=skip_quiet_weeks,
        )
        return outcome.subscription

    async def tick(self, now: datetime | None = None, grace_hours: float = 12) -> ledger.TickResult:
        return await ledger.tick(self.engine, now or utc_now(), grace=timedelta(hours=grace_hours))

    async def work(self, sender: DigestSender | None = None, **worker_options: Any) -> Worker:
        """Run one worker until nothing is left to deliver."""
        sender = sender or self.sender()
        worker = Worker(self.engine, sender, poll_seconds=0.05, **worker_options)
        try:
            await worker.run(until_idle=True)
        finally:
            await sender.close()
        return worker

    def digests_in(self, channel: str) -> list[dict[str, Any]]:
        """Channel messages (not thread replies) that are digest deliveries."""
        return [
            m
            for m in posted_messages(self.stub, channel)
            if "thread_ts" not in m
            and (m.get("metadata") or {}).get("event_type") == METADATA_EVENT
        ]


@pytest.fixture
async def stub() -> AsyncIterator[SlackStub]:
    async with SlackStub(team_id=TEAM) as running:
        enable_history(running)
        yield running


@pytest.fixture
async def harness(engine: AsyncEngine, stub: SlackStub) -> DigestHarness:
    """Bundled April 2026 data plus a May 2026 snapshot, so there is a change to report."""
    await store_documents(engine, [may()])
    made = DigestHarness(engine, stub, MarketReader(engine, recheck_seconds=0))
    made.add_team(TEAM)
    return made
