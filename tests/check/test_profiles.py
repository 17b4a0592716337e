"""Saved profiles: opt-in save, `me`, `forget` (every row gone, both backends), Home, weekly DM."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.slack_stub import RESPONSE_URL_METHOD, RecordedCall, SlackStub
from db.digest_models import DeliveryKind, DeliveryStatus
from db.importers.store import store_documents
from db.market import MarketReader
from db.profiles import load_profile, rows_about, save_profile
from db.resolve import Candidate
from db.workspace import default_role_slug, set_default_role
from digests import ledger
from digests.content import DigestBuilder
from digests.personal_check import PersonalCheckComposer, start_weekly_updates
from digests.schedule import WeeklySchedule
from digests.sender import DigestSender, SenderConfig
from digests.subscriptions import subscribe
from digests.worker import Worker
from tests.digests.data import may
from tests.slack_helpers import SlackAppHarness, SlackUser, running_app

ME = SlackUser()
SOMEONE_ELSE = SlackUser(user_id="U0OTHER", user_name="other")
ME_ELSEWHERE = SlackUser(team_id="T0ELSEWHERE", team_domain="elsewhere")
PYTHON = Candidate("python", "Python")
FINE_TUNING = Candidate("model-fine-tuning-at-scale", "Model Fine-Tuning at Scale")
MONDAY = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # 09:00 in London


def _replied(calls: list[RecordedCall]) -> bool:
    return any(c.method == RESPONSE_URL_METHOD for c in calls)


async def test_save_button_keeps_the_skills_and_me_shows_them_only_to_me(
    slack_app: SlackAppHarness,
) -> None:
    answer = await slack_app.press(
        "save_skills", "ai-engineer|python,model-fine-tuning-at-scale,not-a-skill", until=_replied
    )
    [reply] = answer.response_url_posts
    assert reply.args["response_type"] == "ephemeral"
    assert "Saved 2 skills" in reply.text_content()
    profile = await load_profile(slack_app.engine, ME.team_id, ME.user_id)
    assert profile is not None
    assert [s.slug for s in profile.skills] == ["python", "model-fine-tuning-at-scale"]
    assert profile.role_slug == "ai-engineer"

    me = await slack_app.command("me")
    assert me.ack_body is not None and me.ack_body["response_type"] == "ephemeral"
    assert "Python · Model Fine-Tuning at Scale" in me.text
    assert "AI Engineer" in me.text
    assert not me.calls_to("chat.postMessage")

    # Another person in the same workspace sees nothing of mine.
    theirs = await slack_app.command("me", user=SOMEONE_ELSE)
    assert "no saved skills" in theirs.text and "Python" not in theirs.text


async def test_a_profile_never_crosses_workspaces(slack_app: SlackAppHarness) -> None:
    await save_profile(slack_app.engine, ME.team_id, ME.user_id, [PYTHON], "ai-engineer")
    elsewhere = await slack_app.command("me", user=ME_ELSEWHERE)  # same user id, other team
    assert "no saved skills" in elsewhere.text and "Python" not in elsewhere.text
    assert await load_profile(slack_app.engine, ME_ELSEWHERE.team_id, ME.user_id) is None


async def test_a_check_after_saving_pre_fills_nothing_new_but_records_feedback(
    slack_app: SlackAppHarness,
) -> None:
    await save_profile(slack_app.engine, ME.team_id, ME.user_id, [PYTHON], "ai-engineer")
    answer = await slack_app.command("check python", until=_replied)
    [dm] = answer.calls_to("chat.postMessage")
    assert "save_skills" not in dm.text_content()  # already saved: no Save button
    profile = await load_profile(slack_app.engine, ME.team_id, ME.user_id)
    assert profile is not None and profile.last_feedback["role_title"] == "AI Engineer"
    assert profile.last_feedback["essential_lacking"][0] == "Machine Learning"


async def test_home_tab_shows_my_profile_and_latest_feedback(slack_app: SlackAppHarness) -> None:
    await save_profile(
        slack_app.engine,
        ME.team_id,
        ME.user_id,
        [PYTHON, FINE_TUNING],
        "ai-engineer",
        feedback={"role_title": "AI Engineer", "coverage": 44, "next_skills": ["MLOps for GenAI"]},
    )
    answer = await slack_app.event({"type": "app_home_opened", "user": ME.user_id, "tab": "home"})
    [published] = answer.calls_to("views.publish")
    assert published.args["user_id"] == ME.user_id
    home = published.text_content()
    assert "Your skills" in home and "Python · Model Fine-Tuning at Scale" in home
    assert "coverage *44%* for AI Engineer" in home and "MLOps for GenAI" in home
    assert "open_skills_check" in home

    other = await slack_app.event(
        {"type": "app_home_opened", "user": SOMEONE_ELSE.user_id, "tab": "home"}
    )
    [theirs] = other.calls_to("views.publish")
    assert "Model Fine-Tuning at Scale ·" not in theirs.text_content()
    assert "Check my skills" in theirs.text_content()


async def _count(engine: AsyncEngine, table: str, where: str, **values: str) -> int:
    async with engine.connect() as connection:
        result = await connection.execute(
            text(f"SELECT COUNT(*) FROM {table} WHERE {where}"), values
        )
        return int(result.scalar_one())


async def test_forget_deletes_every_row_about_me_on_both_backends(engine: AsyncEngine) -> None:
    async with running_app(engine) as app:
        await app.press("save_skills", "ai-engineer|python,model-fine-tuning-at-scale")
        await app.press("weekly_updates_on", "on")
        await app.press("save_skills", "ai-engineer|python", user=SOMEONE_ELSE)
        await save_profile(engine, ME_ELSEWHERE.team_id, ME.user_id, [PYTHON], None)
        await set_default_role(engine, ME.team_id, "ai-engineer", ME.user_id)  # as an admin
        # A weekly DM falls due and waits in the delivery ledger.
        result = await ledger.tick(
            engine, datetime.now(UTC) + timedelta(days=8), grace=timedelta(days=30)
        )
        assert result.due == 1
        # A channel digest they set up (after the tick, so it has nothing due yet).
        await subscribe(
            engine,
            team_id=ME.team_id,
            target="C0DIGEST",
            subscriber_user_id=ME.user_id,
            role_slugs=["ai-engineer"],
            schedule=WeeklySchedule(),
            now=datetime.now(UTC),
        )
        assert await rows_about(engine, ME.team_id, ME.user_id) == 5  # profile, 2 skills, sub, DM

        asked = await app.command("forget")
        assert asked.ack_body is not None and asked.ack_body["response_type"] == "ephemeral"
        assert "Delete everything SkillGap keeps about you" in asked.text
        assert "saved skills (2)" in asked.text and "<#C0DIGEST>" in asked.text
        assert await rows_about(engine, ME.team_id, ME.user_id) == 5  # asking deletes nothing
        answer = await app.press("confirm_command", "forget", until=_replied)
        assert "deleted everything it kept about you" in answer.text
        assert "saved skills: 2" in answer.text and "weekly DM subscription: 1" in answer.text
        assert "channel digests you set up: 2" in answer.text

    assert await rows_about(engine, ME.team_id, ME.user_id) == 0
    person = {"team": ME.team_id, "user": ME.user_id}
    profiles = "team_id = :team AND user_id = :user"
    assert await _count(engine, "skill_profiles", profiles, **person) == 0
    assert (
        await _count(engine, "subscriptions", "team_id = :team AND target = :user", **person) == 0
    )
    assert await _count(engine, "deliveries", "team_id = :team AND target = :user", **person) == 0
    settings = "team_id = :team AND updated_by = :user"
    assert await _count(engine, "workspace_settings", settings, **person) == 0
    set_up = "team_id = :team AND subscriber_user_id = :user"
    assert await _count(engine, "subscriptions", set_up, **person) == 0
    assert await _count(engine, "subscriptions", "target = 'C0DIGEST'") == 1  # digest stays
    assert await default_role_slug(engine, ME.team_id) == "ai-engineer"  # the setting stays
    # Nobody else's rows went with mine.
    assert await load_profile(engine, ME.team_id, SOMEONE_ELSE.user_id) is not None
    assert await load_profile(engine, ME_ELSEWHERE.team_id, ME.user_id) is not None


async def test_forget_with_nothing_kept_says_so(slack_app: SlackAppHarness) -> None:
    asked = await slack_app.command("forget")
    assert "It keeps nothing about you right now" in asked.text
    answer = await slack_app.press("confirm_command", "forget", until=_replied)
    assert "kept nothing about you" in answer.text


async def test_weekly_updates_need_a_saved_profile(slack_app: SlackAppHarness) -> None:
    answer = await slack_app.press("weekly_updates_on", "on", until=_replied)
    assert "Save your skills first" in answer.text


async def test_weekly_personal_dm_says_what_changed_for_me(sqlite_engine: AsyncEngine) -> None:
    engine = sqlite_engine
    await store_documents(engine, [may()])
    market = MarketReader(engine, recheck_seconds=0)
    await save_profile(engine, ME.team_id, ME.user_id, [PYTHON, FINE_TUNING], "ai-engineer")
    with time_machine.travel(datetime(2026, 5, 25, 12, tzinfo=UTC), tick=False):
        await start_weekly_updates(engine, ME.team_id, ME.user_id, "ai-engineer")
    async with SlackStub(team_id=ME.team_id) as stub:
        stub.add_workspace(ME.team_id, "xoxb-weekly")

        async def token_for(team_id: str) -> str | None:
            return "xoxb-weekly" if team_id == ME.team_id else None

        sender = DigestSender(
            engine,
            DigestBuilder(market, ttl_seconds=0),
            token_for,
            api_url=stub.api_url,
            config=SenderConfig(backoff_base=0.0, workspace_rate=1000.0, charts=False),
        )
        sender.add_composer(DeliveryKind.PERSONAL_CHECK, PersonalCheckComposer(engine, market))
        try:
            await ledger.tick(engine, MONDAY, grace=timedelta(hours=12))
            await Worker(engine, sender, poll_seconds=0.05).run(until_idle=True)
            [post] = [c for c in stub.calls_to("chat.postMessage") if c.ok]
            assert post.args["channel"] == stub.dm_channel_for(ME.user_id)
            weekly = post.text_content()
            assert "What changed for you" in weekly
            assert "Production LLM Deployment: demand 75% → 80% (+5 pts)" in weekly
            assert "Model Context Protocol" in weekly  # newly emerging
            assert "median £75,000 → £78,000 (+4.0%)" in weekly
            assert "£650/day → £675/day" in weekly

            # The week after: no new snapshot, nothing new for me, so no DM at all.
            await ledger.tick(engine, MONDAY + timedelta(days=7), grace=timedelta(hours=12))
            await Worker(engine, sender, poll_seconds=0.05).run(until_idle=True)
            assert len([c for c in stub.calls_to("chat.postMessage") if c.ok]) == 1
            statuses = [d.status for d in await ledger.list_deliveries(engine)]
            assert sorted(statuses) == sorted([DeliveryStatus.SENT, DeliveryStatus.SKIPPED_QUIET])
        finally:
            await sender.close()
