"""`/skillgap feeds`: admins list and run their own workspace's feeds, and nobody else's."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from db.feed_models import FeedKind
from db.feeds import store
from db.feeds.fetching import utc_now
from db.feeds.schedule import FeedSchedule
from tests.commands.helpers import assert_valid_message, texts_of
from tests.feeds.helpers import stored_ads
from tests.feeds.standins import APP_ID, APP_KEY, AdzunaStandIn
from tests.slack_helpers import running_app


async def _add(engine: AsyncEngine, team: str, what: str) -> int:
    feed = await store.add_feed(
        engine,
        FeedKind.ADZUNA,
        {"what": what, "country": "gb"},
        team_id=team,
        schedule=FeedSchedule(),
        now=utc_now(),
    )
    return feed.id or 0


async def test_admins_list_and_run_their_workspaces_feeds(sqlite_engine: AsyncEngine) -> None:
    async with (
        AdzunaStandIn() as adzuna,
        running_app(
            sqlite_engine,
            adzuna_api_url=adzuna.url,
            adzuna_app_id=APP_ID,
            adzuna_app_key=APP_KEY,
        ) as harness,
    ):
        team = harness.user.team_id
        adzuna.add_ads(0, 30)
        mine = await _add(sqlite_engine, team, "ai engineer <!channel>")
        theirs = await _add(sqlite_engine, "T0ELSE", "ml engineer")

        refused = await harness.command("feeds")
        assert "Only a workspace admin can see and run" in refused.text
        assert not adzuna.requests

        harness.stub.users[harness.user.user_id] = {"is_admin": True}
        listed = await harness.command("feeds")
        assert listed.ack_body is not None
        assert_valid_message(listed.ack_body)
        shown = texts_of(listed.ack_body)
        assert f'Feed {mine}: Adzuna "ai engineer &lt;!channel&gt;" (gb), team {team}' in shown
        assert "<!channel>" not in shown
        assert "Last run: never" in shown and "truncated descriptions" in shown
        assert "ml engineer" not in shown  # another workspace's feed

        ran = await harness.command(f"feeds run {mine}")
        assert f"Feed {mine}: 30 new, 0 already known (1 request(s))." in ran.text
        assert await stored_ads(sqlite_engine, team) == 30
        again = await harness.command("feeds")
        assert "ads stored: 30" in texts_of(again.ack_body or {})

        other = await harness.command(f"feeds run {theirs}")
        assert f"This workspace has no feed {theirs}." in other.text
        assert await stored_ads(sqlite_engine, "T0ELSE") == 0
        usage = await harness.command("feeds frobnicate")
        assert "`/skillgap feeds run N` runs feed N now" in usage.text
