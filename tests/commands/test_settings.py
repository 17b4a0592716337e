"""A workspace admin changes the default role; nobody else can, and other workspaces keep theirs."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncEngine

from db.importers.document import PayDocument, RoleDocument, SnapshotDocument
from db.importers.store import store_documents
from db.models import PayKind, SourceKind
from db.workspace import default_role_slug, set_default_role
from tests.commands.helpers import assert_valid_message, texts_of
from tests.slack_helpers import SlackUser, running_app

ML_ENGINEER = SnapshotDocument(
    role=RoleDocument(title="Machine Learning Engineer", aliases=("ML Engineer",)),
    published_on=date(2026, 4, 1),
    period_label="April 2026",
    period_start=date(2026, 4, 1),
    period_end=date(2026, 4, 30),
    source="UK market report",
    source_kind=SourceKind.CURATED,
    pay=(PayDocument(PayKind.ANNUAL, "UK", median=70000),),
)


async def test_an_admin_changes_the_workspace_default_role(sqlite_engine: AsyncEngine):
    await store_documents(sqlite_engine, [ML_ENGINEER])
    async with running_app(sqlite_engine) as harness:
        harness.stub.users[harness.user.user_id] = {"is_admin": True}
        answer = await harness.command("settings role ml engineer")
        assert answer.ack_body is not None
        assert_valid_message(answer.ack_body)
        assert "now answer about *Machine Learning Engineer*" in texts_of(answer.ack_body)
        card = await harness.command("role")
        assert "Machine Learning Engineer · UK" in card.text
        assert "£70,000" in card.text
        shown = await harness.command("settings")
        assert "default role is *Machine Learning Engineer*" in shown.text
        # Another workspace still gets the app-wide default.
        other = await harness.command("role", user=SlackUser(team_id="T0ELSE"))
        assert "AI Engineer · UK" in other.text


async def test_only_admins_change_settings_and_bad_input_changes_nothing(
    sqlite_engine: AsyncEngine,
):
    await store_documents(sqlite_engine, [ML_ENGINEER])
    async with running_app(sqlite_engine) as harness:
        refused = await harness.command("settings role ml engineer")
        assert "Only a workspace admin" in refused.text
        harness.stub.users[harness.user.user_id] = {"is_owner": True}
        unknown = await harness.command("settings role underwater basket weaver")
        assert "doesn't know the role" in unknown.text
        empty = await harness.command("settings role")
        assert "/skillgap settings role ROLE" in empty.text
        assert await default_role_slug(sqlite_engine, harness.user.team_id) is None
        card = await harness.command("role")
        assert "AI Engineer · UK" in card.text


async def test_default_role_is_stored_per_workspace_on_both_backends(engine: AsyncEngine):
    assert await default_role_slug(engine, "T1") is None
    await set_default_role(engine, "T1", "ai-engineer", "U1")
    await set_default_role(engine, "T1", "machine-learning-engineer", "U2")
    await set_default_role(engine, "T2", "ai-engineer", "U3")
    assert await default_role_slug(engine, "T1") == "machine-learning-engineer"
    assert await default_role_slug(engine, "T2") == "ai-engineer"
