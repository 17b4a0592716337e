"""The personal skills check through signed requests and the local Slack stub."""

from __future__ import annotations

import json
import sqlite3
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.slack_stub import RESPONSE_URL_METHOD, RecordedCall
from db.profiles import load_profile, save_profile
from db.resolve import Candidate
from tests.slack_helpers import Answer, SlackAppHarness, SlackUser, running_app

ME = SlackUser()
PYTHON = Candidate("python", "Python")
FINE_TUNING = Candidate("model-fine-tuning-at-scale", "Model Fine-Tuning at Scale")


def _dms(answer: Answer, harness: SlackAppHarness, user: SlackUser = ME) -> list[RecordedCall]:
    """chat.postMessage calls that went to `user`'s DM with SkillGap."""
    dm = harness.stub.dm_channel_for(user.user_id)
    return [c for c in answer.calls_to("chat.postMessage") if c.args.get("channel") == dm]


def _noted(calls: list[RecordedCall]) -> bool:
    """The ephemeral note came back through the response URL (it follows the DM)."""
    return any(c.method == RESPONSE_URL_METHOD for c in calls)


def _modal_opened(calls: list[RecordedCall]) -> bool:
    return any(c.method == "views.open" for c in calls)


def _no_channel_posts(answer: Answer, harness: SlackAppHarness) -> None:
    """Personal feedback never goes to a channel: no public post, no in_channel response."""
    for call in answer.calls_to("chat.postMessage"):
        assert call.args["channel"] == harness.stub.dm_channel_for(ME.user_id)
    assert not answer.calls_to("chat.postEphemeral")
    for post in answer.response_url_posts:
        assert post.args.get("response_type") != "in_channel"


async def test_text_check_sends_feedback_by_dm_to_the_requester_only(
    slack_app: SlackAppHarness,
) -> None:
    answer = await slack_app.command(
        "check python, pytorch, k8s, RAG, some langchain, aws, LoRA, cobol for ai engineer",
        until=_noted,
    )
    assert answer.status == 200
    opened = answer.calls_to("conversations.open")
    assert [c.args["users"] for c in opened] == [ME.user_id]
    [dm] = _dms(answer, slack_app)
    feedback = dm.text_content()
    # essentials had and lacking, from the April 2026 report
    assert "Essential skills you have" in feedback and "✓ Python" in feedback
    # families are credited through the members held, and say which one earned them
    assert "✓ Cloud Platforms — via AWS" in feedback
    assert "✓ Machine Learning — via PyTorch" in feedback
    assert "✓ Large Language Models — via Retrieval-Augmented Generation" in feedback
    assert "✗ Machine Learning" not in feedback and "✗ Problem Solving" in feedback
    # a bare LoRA is not the scarce "Model Fine-Tuning at Scale": it stays among those lacking
    assert "None of this role's scarce skills yet" in feedback
    assert "Model Fine-Tuning at Scale*" in feedback  # in "learn next", so not listed twice
    assert "45% of employers want it, 12% of candidates" in feedback
    assert "Scarce skills you lack" not in feedback  # all five are in "learn next" already
    # a soft skill is a closing note, never something to learn next
    assert "Employers also ask for Problem Solving: not something a course teaches" in feedback
    assert "*Problem Solving*" not in feedback
    # what to learn next, with figures, emerging marked
    assert "Production LLM Deployment*: 75% of employers want it, 25%" in feedback
    assert "_emerging_" in feedback
    # coverage and its formula, pay context, the ladder
    assert "Coverage:" in feedback and "÷" in feedback
    assert "£75,000" in feedback and "£90,000" in feedback
    assert "£650/day" in feedback and "£750/day" in feedback
    assert "not a forecast of your own pay" in feedback
    assert "Senior AI Engineer" in feedback
    assert "`cobol`" in feedback
    assert "UK market report, April 2026" in feedback
    # the ephemeral note, with the term it didn't know
    [note] = answer.response_url_posts
    assert note.args["response_type"] == "ephemeral"
    assert "sent you a DM" in note.text_content() and "`cobol`" in note.text_content()
    _no_channel_posts(answer, slack_app)
    # nothing is kept without the person asking
    assert await load_profile(slack_app.engine, ME.team_id, ME.user_id) is None


async def test_unknown_terms_are_listed_back_never_dropped(slack_app: SlackAppHarness) -> None:
    answer = await slack_app.command("check fortran, underwater basket weaving, jav")
    assert not answer.calls_to("chat.postMessage")  # nothing recognised: no DM, no guess
    text = answer.text
    assert "couldn't recognise any skills" in text
    for term in ("fortran", "underwater basket weaving", "jav"):
        assert f"`{term}`" in text


async def test_hostile_terms_are_echoed_safely(slack_app: SlackAppHarness) -> None:
    answer = await slack_app.command("check python, <!channel> <@U999> <https://evil|x>")
    assert "<!channel>" not in answer.text and "<@U999>" not in answer.text
    assert "&lt;!channel&gt;" in answer.text


async def test_an_unknown_role_is_asked_back_and_nothing_is_checked(
    slack_app: SlackAppHarness,
) -> None:
    answer = await slack_app.command("check python, aws for underwater welder")
    assert not answer.calls_to("chat.postMessage")
    assert "doesn't know the role `underwater welder`" in answer.text


async def test_bare_check_opens_the_modal_prefilled_from_the_saved_profile(
    slack_app: SlackAppHarness,
) -> None:
    await save_profile(
        slack_app.engine, ME.team_id, ME.user_id, [PYTHON, FINE_TUNING], "ai-engineer"
    )
    answer = await slack_app.command("check", until=_modal_opened)
    [opened] = answer.calls_to("views.open")
    assert opened.args["trigger_id"]
    view = opened.args["view"]
    assert view["callback_id"] == "skills_check"
    skills = next(b for b in view["blocks"] if b.get("block_id") == "check_skills")["element"]
    assert skills["type"] == "multi_external_select"
    assert [o["value"] for o in skills["initial_options"]] == [PYTHON.slug, FINE_TUNING.slug]
    role = next(b for b in view["blocks"] if b.get("block_id") == "check_role")["element"]
    assert role["initial_option"]["value"] == "ai-engineer"
    save = next(b for b in view["blocks"] if b.get("block_id") == "check_save")["element"]
    assert save["initial_options"] == save["options"]  # ticked: they saved before
    assert answer.ack_body is None  # acked empty, at once


async def test_the_modal_opens_while_the_store_is_locked(
    sqlite_engine: AsyncEngine,
) -> None:
    database = sqlite_engine.url.database
    assert database is not None
    async with running_app(sqlite_engine) as harness:
        await harness.command("roles")  # warm up the app as a running one would be
        await save_profile(sqlite_engine, ME.team_id, ME.user_id, [PYTHON], "ai-engineer")
        blocker = sqlite3.connect(database, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")  # nobody can read the store until we let go
        try:
            answer = await harness.command("check", until=_modal_opened, within=8.0)
            [opened] = answer.calls_to("views.open")
            skills = next(
                b for b in opened.args["view"]["blocks"] if b.get("block_id") == "check_skills"
            )
            # Opened without waiting for the saved profile, which the lock keeps out of reach.
            assert "initial_options" not in skills["element"]
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        await harness.settled(within=15.0)


async def test_check_my_skills_button_opens_the_same_modal(slack_app: SlackAppHarness) -> None:
    answer = await slack_app.press("open_skills_check", "ai-engineer", until=_modal_opened)
    [opened] = answer.calls_to("views.open")
    assert opened.args["view"]["callback_id"] == "skills_check"
    role = next(b for b in opened.args["view"]["blocks"] if b.get("block_id") == "check_role")
    assert role["element"]["initial_option"]["text"]["text"] == "AI Engineer"


def _suggestion_body(action_id: str, value: str, user: SlackUser = ME) -> str:
    payload: dict[str, Any] = {
        "type": "block_suggestion",
        "action_id": action_id,
        "block_id": action_id,
        "value": value,
        "team": {"id": user.team_id, "domain": user.team_domain},
        "user": {"id": user.user_id, "name": user.user_name, "team_id": user.team_id},
        "api_app_id": "A0SKILLGAP",
        "view": {"id": "V0MODAL", "type": "modal", "callback_id": "skills_check"},
    }
    return urlencode({"payload": json.dumps(payload)})


async def test_type_ahead_serves_skills_as_the_person_types(slack_app: SlackAppHarness) -> None:
    response = await slack_app.dispatch(_suggestion_body("check_skills", "pyth"))
    assert response.status == 200
    options = json.loads(response.body)["options"]
    assert options[0] == {"text": {"type": "plain_text", "text": "Python"}, "value": "python"}
    misspelt = json.loads(
        (await slack_app.dispatch(_suggestion_body("check_skills", "pyhton"))).body
    )
    assert "python" in [o["value"] for o in misspelt["options"]]
    roles = json.loads((await slack_app.dispatch(_suggestion_body("check_role", ""))).body)
    assert {"text": {"type": "plain_text", "text": "AI Engineer"}, "value": "ai-engineer"} in (
        roles["options"]
    )


def _submitted_view(slugs: list[str], role: str | None, save: bool) -> dict[str, Any]:
    values: dict[str, Any] = {
        "check_skills": {
            "check_skills": {
                "type": "multi_external_select",
                "selected_options": [
                    {"value": s, "text": {"type": "plain_text", "text": s}} for s in slugs
                ],
            }
        },
        "check_role": {
            "check_role": {
                "type": "external_select",
                "selected_option": {"value": role, "text": {"type": "plain_text", "text": role}}
                if role
                else None,
            }
        },
        "check_save": {
            "check_save": {
                "type": "checkboxes",
                "selected_options": [{"value": "save"}] if save else [],
            }
        },
    }
    return {"callback_id": "skills_check", "state": {"values": values}}


async def test_modal_submit_sends_the_dm_and_saves_only_when_ticked(
    slack_app: SlackAppHarness,
) -> None:
    answer = await slack_app.submit(_submitted_view(["python", "bogus-slug"], "ai-engineer", False))
    [dm] = _dms(answer, slack_app)
    assert "✓ Python" in dm.text_content()
    assert await load_profile(slack_app.engine, ME.team_id, ME.user_id) is None
    _no_channel_posts(answer, slack_app)

    await slack_app.submit(_submitted_view(["python", FINE_TUNING.slug], "ai-engineer", True))
    profile = await load_profile(slack_app.engine, ME.team_id, ME.user_id)
    assert profile is not None
    assert [s.slug for s in profile.skills] == ["python", FINE_TUNING.slug]
    assert profile.last_feedback["role_title"] == "AI Engineer"


async def test_modal_submit_without_skills_shows_the_error_in_the_modal(
    slack_app: SlackAppHarness,
) -> None:
    answer = await slack_app.submit(_submitted_view([], "ai-engineer", False))
    assert answer.ack_body == {
        "response_action": "errors",
        "errors": {"check_skills": "Pick at least one skill."},
    }
    assert not answer.calls_to("chat.postMessage")


async def test_when_slack_refuses_the_dm_the_feedback_comes_back_ephemeral(
    slack_app: SlackAppHarness,
) -> None:
    slack_app.stub.fail("chat.postMessage", error="cannot_dm_bot")
    answer = await slack_app.command("check python, aws", until=_noted)
    assert not [c for c in answer.calls_to("chat.postMessage") if c.ok]
    [reply] = answer.response_url_posts
    assert reply.args["response_type"] == "ephemeral"
    assert "Coverage:" in reply.text_content() and "✓ Python" in reply.text_content()
