"""`/skillgap subscribe|unsubscribe|subscriptions|digest …`, and the Home tab's digest list.

Thin handlers: parsing, schedules and the ledger live in `digests/`; replies are templates.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from commands.home import HomeRequest, add_home_section
from commands.router import CommandRequest, Subcommand, router_for
from commands.settings import is_workspace_admin
from commands.workspace import workspace_default_role
from db.digest_models import Subscription, SubscriptionStatus
from digests import ledger
from digests.content import DigestBuilder
from digests.render import mention, render_digest
from digests.schedule import DAY_TITLES, ScheduleError
from digests.subscriptions import (
    find_subscription,
    list_subscriptions,
    parse_subscribe,
    pause_subscription,
    resolve_roles,
    resume_subscription,
    subscribe,
    unsubscribe,
)
from templates import SlackMessage, render_json, render_message

GROUP = "Channel digests"
# Slack's answers that mean the bot cannot post in the channel as things stand.
CANNOT_POST = {
    "channel_not_found": "I can't see this channel, so I can't post the digest here.",
    "not_in_channel": "I'm not a member of this channel, so I can't post the digest here.",
    "is_archived": "This channel is archived, so nothing can be posted here.",
}


def _now() -> datetime:
    return datetime.now(UTC)


def _notice(headline: str, detail: str = "") -> SlackMessage:
    return render_message("digest_notice.j2", headline=headline, detail=detail)


async def _can_post(request: CommandRequest) -> str | None:
    """None when the bot can post in the request's channel, else what stops it."""
    if request.channel_id.startswith("D"):
        return "Digests go to channels. Type this in the channel that should get the digest."
    try:
        answer = await request.client.conversations_info(channel=request.channel_id)
    except SlackApiError as problem:
        error = str(problem.response.get("error") or "")
        return CANNOT_POST.get(error, f"Slack would not tell me about this channel ({error}).")
    channel = answer.get("channel") or {}
    if channel.get("is_archived"):
        return CANNOT_POST["is_archived"]
    # Public channels accept posts without joining (chat:write.public); private ones do not.
    if channel.get("is_private") and not channel.get("is_member"):
        return CANNOT_POST["not_in_channel"]
    return None


async def answer_subscribe(request: CommandRequest) -> SlackMessage:
    try:
        parsed = parse_subscribe(request.text)
    except ScheduleError as problem:
        return _notice(
            f"That schedule didn't work: {problem}.",
            "Try `/skillgap subscribe AI Engineer on Monday at 09:00 Europe/London`.",
        )
    names = parsed.role_names or (await workspace_default_role(request.services, request.team_id),)
    slugs = await resolve_roles(request.services.market, names)
    if not isinstance(slugs, list):
        detail = "Type `/skillgap roles` to see the roles I know."
        if slugs.suggestions:
            detail = "Did you mean " + " or ".join(slugs.suggestions[:3]) + "? " + detail
        return _notice(slugs.message, detail)
    blocked = await _can_post(request)
    if blocked is not None:
        return _notice(
            blocked, "Invite me with `/invite @SkillGap` and subscribe again. Nothing was saved."
        )
    outcome = await subscribe(
        request.services.engine,
        team_id=request.team_id,
        target=request.channel_id,
        subscriber_user_id=request.user_id,
        role_slugs=slugs,
        schedule=parsed.schedule,
        now=_now(),
        skip_quiet_weeks=parsed.skip_quiet_weeks,
    )
    titles = await _role_titles(request, outcome.subscription.roles)
    verb = "Subscribed" if outcome.created else "Updated the subscription of"
    return _notice(
        f"{verb} this channel: a weekly digest for {titles}, {parsed.schedule.describe()}.",
        f"First one: {_when(outcome.subscription)}."
        + (" Quiet weeks are skipped." if parsed.skip_quiet_weeks else "")
        + " `/skillgap digest preview` shows it now.",
    )


async def answer_unsubscribe(request: CommandRequest) -> SlackMessage:
    engine = request.services.engine
    existing = await find_subscription(engine, request.team_id, request.channel_id)
    if existing is None:
        return _notice("This channel has no digest subscription.")
    if request.text.strip():
        slugs = await resolve_roles(request.services.market, (request.text.strip(),))
        if not isinstance(slugs, list):
            return _notice(slugs.message)
        remaining = [slug for slug in existing.roles if slug not in slugs]
        if remaining == existing.roles:
            return _notice("This channel's digest does not cover that role.")
        if remaining:
            await subscribe(
                engine,
                team_id=request.team_id,
                target=request.channel_id,
                subscriber_user_id=existing.subscriber_user_id,
                role_slugs=remaining,
                schedule=ledger.schedule_of(existing),
                now=_now(),
                skip_quiet_weeks=existing.skip_quiet_weeks,
            )
            titles = await _role_titles(request, remaining)
            return _notice(f"Removed. The digest here now covers {titles}.")
    await unsubscribe(engine, request.team_id, request.channel_id)
    return _notice("Unsubscribed: this channel gets no more digests.")


async def answer_subscriptions(request: CommandRequest) -> SlackMessage:
    engine = request.services.engine
    everywhere = await is_workspace_admin(request)
    subscriptions = await list_subscriptions(
        engine, request.team_id, target=None if everywhere else request.channel_id
    )
    items = [await _item(request, subscription) for subscription in subscriptions]
    scope = "in this workspace" if everywhere else "in this channel"
    return render_message("digest_subscriptions.j2", subscriptions=items, scope=scope)


async def answer_digest(request: CommandRequest) -> SlackMessage:
    action = request.text.strip().lower().split(" ")[0] if request.text.strip() else "preview"
    engine = request.services.engine
    existing = await find_subscription(engine, request.team_id, request.channel_id)
    if action == "preview":
        return await _preview(request, existing)
    if action not in ("pause", "resume"):
        return _notice(
            f"`digest {action}` is not something I can do.",
            "Use `/skillgap digest preview`, `digest pause` or `digest resume`.",
        )
    if existing is None or existing.id is None:
        return _notice(
            "This channel has no digest subscription.",
            "Type `/skillgap subscribe` to get one.",
        )
    if action == "pause":
        await pause_subscription(
            engine, existing.id, reason="paused with /skillgap digest pause", now=_now()
        )
        return _notice("Paused: no digests here until `/skillgap digest resume`.")
    blocked = await _can_post(request)
    if blocked is not None:
        return _notice(blocked, "Invite me with `/invite @SkillGap`, then resume again.")
    resumed = await resume_subscription(engine, existing.id, now=_now())
    assert resumed is not None
    return _notice(f"Resumed. Next digest: {_when(resumed)}.")


async def _preview(request: CommandRequest, existing: Subscription | None) -> SlackMessage:
    roles = existing.roles if existing is not None else []
    if not roles:
        names = (await workspace_default_role(request.services, request.team_id),)
        slugs = await resolve_roles(request.services.market, names)
        roles = slugs if isinstance(slugs, list) else []
    since = None
    if existing is not None and existing.id is not None:
        since = await ledger.last_sent_before(request.services.engine, existing.id, _now())
    digest = await DigestBuilder(request.services.market).build(request.team_id, roles, since=since)
    rendered = render_digest(digest, week_of=_now().date())
    message = rendered.message
    if rendered.thread:
        note = render_json(
            "digest_notice.j2",
            headline=f"…and {len(rendered.thread)} more part(s) in the posted digest's thread.",
            detail="",
        )["blocks"]
        blocks = [*message.blocks[: 50 - len(note)], *note]
        return SlackMessage(text=message.text, blocks=blocks)
    return message


async def _role_titles(request: CommandRequest, slugs: list[str]) -> str:
    titles = []
    for slug in slugs:
        path = await request.services.market.role_path(slug)
        titles.append(path.role_title if path is not None else slug)
    return ", ".join(titles)


def _when(subscription: Subscription) -> str:
    schedule = ledger.schedule_of(subscription)
    local = subscription.next_run_at.astimezone(schedule.zone)
    day = DAY_TITLES[schedule.day_of_week]
    return f"{day} {local:%-d %b %Y, %H:%M} {schedule.timezone}"


async def _item(
    request: CommandRequest | HomeRequest, subscription: Subscription
) -> dict[str, Any]:
    market = request.services.market
    titles = []
    for slug in subscription.roles:
        path = await market.role_path(slug)
        titles.append(path.role_title if path is not None else slug)
    return {
        "where": mention(subscription.target),
        "roles": ", ".join(titles) or "no roles",
        "schedule": ledger.schedule_of(subscription).describe(),
        "paused": subscription.status != SubscriptionStatus.ACTIVE,
        "reason": subscription.paused_reason,
        "next_run": _when(subscription),
        "skip_quiet": subscription.skip_quiet_weeks,
    }


async def home_section(request: HomeRequest) -> list[dict[str, Any]]:
    """The digests this person set up, with their next run time."""
    subscriptions = await list_subscriptions(
        request.services.engine, request.team_id, subscriber_user_id=request.user_id
    )
    if not subscriptions:
        return []
    items = [await _item(request, subscription) for subscription in subscriptions]
    blocks: list[dict[str, Any]] = render_json(
        "digest_subscriptions.j2", subscriptions=items, scope="you set up"
    )["blocks"]
    return blocks


def register(app: AsyncApp) -> None:
    router = router_for(app)
    router.add(
        Subcommand(
            "subscribe",
            answer_subscribe,
            usage="subscribe [ROLE, ROLE…] [on DAY] [at HH:MM] [TIME ZONE] [skip quiet weeks]",
            summary="a weekly digest of emerging skills and pay changes in this channel",
            examples=("subscribe ai engineer on monday at 09:00 Europe/London",),
            group=GROUP,
        )
    )
    router.add(
        Subcommand(
            "unsubscribe",
            answer_unsubscribe,
            usage="unsubscribe [ROLE]",
            summary="stop this channel's digest (or drop one role from it)",
            group=GROUP,
        )
    )
    router.add(
        Subcommand(
            "subscriptions",
            answer_subscriptions,
            usage="subscriptions",
            summary="the digests this channel receives (admins: the whole workspace's)",
            group=GROUP,
        )
    )
    router.add(
        Subcommand(
            "digest",
            answer_digest,
            usage="digest preview|pause|resume",
            summary="preview this week's digest now, or pause and resume it",
            examples=("digest preview",),
            group=GROUP,
        )
    )
    add_home_section(app, "digest_subscriptions", home_section, order=300)
