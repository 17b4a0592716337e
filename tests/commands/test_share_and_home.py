"""The Share button, the dispatcher's timing and failure paths, and the App Home tab."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.slack_stub import RESPONSE_URL_METHOD
from commands.home import HomeRequest, add_home_section
from commands.router import CommandRequest, Subcommand, router_for
from templates import SlackMessage
from tests.commands.helpers import action_ids, assert_valid_message, buttons, texts_of
from tests.slack_helpers import SlackAppHarness

# -- Share in channel ---------------------------------------------------------------------


async def test_share_posts_the_same_card_publicly(slack_app: SlackAppHarness):
    card = (await slack_app.command("role ai eng in london")).ack_body
    assert card is not None
    share_value = action_ids(card)["share_in_channel"]
    shared = await slack_app.press("share_in_channel", share_value, message=card)
    [post] = shared.response_url_posts
    assert post.args["response_type"] == "in_channel"
    assert post.args["replace_original"] is False
    assert_valid_message(post.args)
    # The same figures as the private card, without a second Share button.
    assert texts_of(post.args) == texts_of(card).replace("\nShare in channel", "")
    assert "share_in_channel" not in action_ids(post.args)
    assert action_ids(post.args)["open_skills_check"] == "ai-engineer"


@pytest.mark.parametrize(
    "command", ["gaps ai-engineer", "salary ai-engineer", "path ai-engineer", "roles"]
)
async def test_every_market_card_can_be_shared(slack_app: SlackAppHarness, command: str):
    private = (await slack_app.command(command)).ack_body
    assert private is not None
    assert action_ids(private)["share_in_channel"] == command
    [post] = (await slack_app.press("share_in_channel", command)).response_url_posts
    assert post.args["response_type"] == "in_channel"
    assert_valid_message(post.args)
    assert "share_in_channel" not in action_ids(post.args)


async def test_only_market_cards_can_be_shared(slack_app: SlackAppHarness):
    async def personal(request: CommandRequest) -> SlackMessage:
        return SlackMessage(text=f"private to {request.user_id}")

    router_for(slack_app.app).add(Subcommand("mine", personal, shareable=False))
    [post] = (await slack_app.press("share_in_channel", "mine")).response_url_posts
    assert post.args["response_type"] == "ephemeral"
    assert "private to" not in json.dumps(post.args)
    assert "just for you" in texts_of(post.args)


# -- dispatcher: timing and failures ------------------------------------------------------


async def test_a_slow_answer_is_acked_at_once_and_follows_by_response_url(
    slack_app: SlackAppHarness,
):
    router_for(slack_app.app).answer_within = 0.0  # as if the store were slow

    def answered(calls):
        return any(call.method == RESPONSE_URL_METHOD for call in calls)

    answer = await slack_app.command("role ai engineer", until=answered)
    assert answer.ack_body is not None
    assert "Working on it" in answer.ack_body["text"]
    [post] = answer.response_url_posts
    assert post.args["replace_original"] is True
    assert post.args["response_type"] == "ephemeral"
    assert "£75,000" in texts_of(post.args)


async def test_a_failing_subcommand_gets_a_friendly_message_not_a_trace(
    slack_app: SlackAppHarness,
):
    async def broken(request: CommandRequest) -> SlackMessage:
        raise RuntimeError("secret internal detail")

    router_for(slack_app.app).add(Subcommand("broken", broken))
    answer = await slack_app.command("broken please")
    assert answer.ack_body is not None
    assert_valid_message(answer.ack_body)
    assert "hit a problem answering `/skillgap broken`" in answer.ack_body["text"]
    assert "secret internal detail" not in answer.text
    assert "Traceback" not in answer.text


async def test_a_subcommand_that_opens_a_modal_is_acked_first(slack_app: SlackAppHarness):
    seen: list[str] = []

    async def opens_modal(request: CommandRequest) -> None:
        seen.append(request.trigger_id)
        await asyncio.sleep(0)
        return None

    router_for(slack_app.app).add(Subcommand("modal", opens_modal, ack_first=True))
    answer = await slack_app.command("modal")
    assert answer.status == 200
    assert answer.ack_body is None  # an empty ack: the modal is the answer
    assert seen and seen[0]


# -- App Home -----------------------------------------------------------------------------


async def open_home(slack_app: SlackAppHarness, tab: str = "home") -> list:
    answer = await slack_app.event({"type": "app_home_opened", "user": "U0TESTER", "tab": tab})
    assert answer.status == 200
    return answer.calls_to("views.publish")


async def test_home_tab_shows_roles_figures_and_how_to_use(slack_app: SlackAppHarness):
    [publish] = await open_home(slack_app)
    assert publish.args["user_id"] == "U0TESTER"
    view = publish.args["view"]
    assert view["type"] == "home"
    assert_valid_message({"text": "home", **view})
    shown = texts_of(view)
    assert "*AI Engineer* _(your workspace's default)_" in shown
    assert "Salary £75,000 median (£50,000–£120,000) · London £90,000" in shown
    assert "Day rate £650/day median (£450–£950/day) · London £750/day" in shown
    assert "Largest gap: Production LLM Deployment, 75% demand vs 25% supply (50 pts)" in shown
    assert "_UK market report, April 2026" in shown  # and its age once old
    assert "`/skillgap role [ROLE] [in REGION]`" in shown
    assert "`/skillgap check [SKILLS] [for ROLE]`" in shown
    assert ("open_skills_check", "ai-engineer") in buttons(view)


async def test_home_tab_has_room_for_other_features_sections(slack_app: SlackAppHarness):
    async def profile(request: HomeRequest) -> list[dict]:
        text = f"Your profile, <@{request.user_id}>"  # raw on purpose: it must still render
        return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]

    async def broken(request: HomeRequest) -> list[dict]:
        raise RuntimeError("boom")

    async def invalid(request: HomeRequest) -> list[dict]:
        return [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 4000}}]

    add_home_section(slack_app.app, "profile", profile, order=200)
    add_home_section(slack_app.app, "broken", broken, order=100)
    add_home_section(slack_app.app, "invalid", invalid, order=300)
    [publish] = await open_home(slack_app)
    shown = texts_of(publish.args["view"])
    assert "Your profile, <@U0TESTER>" in shown
    assert "x" * 100 not in shown
    # The section sits between the roles and the usage guide.
    assert shown.index("AI Engineer") < shown.index("Your profile") < shown.index("How to use")


async def test_the_messages_tab_publishes_nothing(slack_app: SlackAppHarness):
    assert await open_home(slack_app, tab="messages") == []
