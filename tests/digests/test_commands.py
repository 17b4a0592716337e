"""`/skillgap subscribe …` and friends through the real app, with signed requests."""

from __future__ import annotations

import json
import re
from dataclasses import replace

from bot.slack_requests import SlackUser
from db.digest_models import SubscriptionStatus
from digests.subscriptions import find_subscription, list_subscriptions
from templates import validate_blocks
from tests.commands.helpers import texts_of
from tests.slack_helpers import Answer, SlackAppHarness

LIVE_MARKUP = re.compile(r"<[!@]|<https?:|<mailto:", re.IGNORECASE)


def reply_text(answer: Answer) -> str:
    """The reply's text, after checking it is valid and carries no live markup but mentions
    of channels (which the subscription list shows on purpose)."""
    messages = [answer.ack_body] if answer.ack_body else []
    messages += [call.args for call in answer.response_url_posts]
    assert messages
    for message in messages:
        validate_blocks(message.get("blocks", []))
        assert str(message.get("text", "")).strip()
        assert not LIVE_MARKUP.search(json.dumps(message, ensure_ascii=False)), message
    return "\n".join(texts_of(message) for message in messages)


async def test_subscribe_with_defaults_then_list_preview_pause_resume(
    slack_app: SlackAppHarness,
) -> None:
    answer = await slack_app.command("subscribe")
    text = reply_text(answer)
    assert "Subscribed this channel: a weekly digest for AI Engineer" in text
    assert "Mondays at 09:00 Europe/London" in text
    subscription = await find_subscription(slack_app.engine, "T0STUB", "C0GENERAL")
    assert subscription is not None and subscription.roles == ["ai-engineer"]
    assert subscription.subscriber_user_id == "U0TESTER"

    listed = reply_text(await slack_app.command("subscriptions"))
    assert "AI Engineer" in listed and "next Monday" in listed

    preview = reply_text(await slack_app.command("digest preview"))
    assert "Weekly market digest" in preview and "AI Engineer" in preview

    assert "Paused" in reply_text(await slack_app.command("digest pause"))
    paused = await find_subscription(slack_app.engine, "T0STUB", "C0GENERAL")
    assert paused is not None and paused.status == SubscriptionStatus.PAUSED
    assert "Resumed" in reply_text(await slack_app.command("digest resume"))

    asked = await slack_app.command("unsubscribe")
    assert "Stop this channel's weekly digest" in reply_text(asked)
    assert await find_subscription(slack_app.engine, "T0STUB", "C0GENERAL") is not None
    confirmed = await slack_app.press("confirm_command", "unsubscribe")
    assert "Unsubscribed" in reply_text(confirmed)
    assert await find_subscription(slack_app.engine, "T0STUB", "C0GENERAL") is None


async def test_subscribe_with_a_schedule_and_zone(slack_app: SlackAppHarness) -> None:
    text = reply_text(
        await slack_app.command("subscribe ai engineer on friday at 4:30pm America/New_York")
    )
    assert "Fridays at 16:30 America/New_York" in text
    [subscription] = await list_subscriptions(slack_app.engine, "T0STUB")
    assert (subscription.day_of_week, subscription.hour, subscription.minute) == ("fri", 16, 30)


async def test_bad_days_times_zones_and_roles_get_clear_messages_and_save_nothing(
    slack_app: SlackAppHarness,
) -> None:
    cases = {
        "subscribe on Caturday": "unknown day",
        "subscribe at 27:00": "unknown time",
        "subscribe ai engineer Europe/Atlantis": "unknown time zone",
        "subscribe Underwater Basket Weaver": "doesn't know the role",
        "subscribe <!channel> at 9": "doesn't know the role",
    }
    for command, says in cases.items():
        text = reply_text(await slack_app.command(command))
        assert says in text, command
    assert await list_subscriptions(slack_app.engine, "T0STUB") == []


async def test_the_bot_says_when_it_cannot_post_in_the_channel(
    slack_app: SlackAppHarness,
) -> None:
    slack_app.stub.channels["G0PRIVATE"] = {"is_private": True, "is_member": False}
    user = replace(SlackUser(), channel_id="G0PRIVATE")
    text = reply_text(await slack_app.command("subscribe", user=user))
    assert "not a member of this channel" in text and "/invite" in text
    slack_app.stub.fail("conversations.info", "channel_not_found")
    other = replace(SlackUser(), channel_id="C0HIDDEN")
    assert "can't see this channel" in reply_text(await slack_app.command("subscribe", user=other))
    assert await list_subscriptions(slack_app.engine, "T0STUB") == []


async def test_admins_see_every_channel_and_others_only_theirs(slack_app: SlackAppHarness) -> None:
    await slack_app.command("subscribe", user=replace(SlackUser(), channel_id="C0ONE"))
    await slack_app.command("subscribe", user=replace(SlackUser(), channel_id="C0TWO"))
    here = reply_text(
        await slack_app.command("subscriptions", user=replace(SlackUser(), channel_id="C0ONE"))
    )
    assert "<#C0ONE>" in here and "<#C0TWO>" not in here
    slack_app.stub.users["U0TESTER"] = {"is_admin": True}
    everywhere = reply_text(await slack_app.command("subscriptions"))
    assert "<#C0ONE>" in everywhere and "<#C0TWO>" in everywhere


async def test_the_home_tab_lists_my_subscriptions_with_their_next_run(
    slack_app: SlackAppHarness,
) -> None:
    await slack_app.command("subscribe on tuesday at 08:15")
    answer = await slack_app.event({"type": "app_home_opened", "user": "U0TESTER", "tab": "home"})
    [published] = answer.calls_to("views.publish")
    home = texts_of(published.args["view"])
    assert "<#C0GENERAL>" in home and "Tuesdays at 08:15 Europe/London" in home
    assert "next Tuesday" in home
