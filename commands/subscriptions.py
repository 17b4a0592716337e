"""`/skillgap subscribe|unsubscribe|subscriptions|digest …`, and the Home tab's digest list.

Thin handlers: parsing, schedules and the ledger live in `digests/`; replies are templates.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from commands.home import HomeRequest, add_home_section
from commands.lookup import no_figures_message
from commands.parser import echo
from commands.router import CommandRequest, Subcommand, router_for
from commands.settings import is_workspace_admin
from commands.workspace import workspace_default_role
from db.digest_models import Subscription, SubscriptionStatus
from db.resolve import Candidate, MatchKind, Resolution
from digests import ledger
from digests.content import DigestBuilder
from digests.render import mention, render_digest
from digests.schedule import (
    DAY_TITLES,
    DEFAULT_TIMEZONE,
    ScheduleError,
    WeeklySchedule,
    zone_label,
)
from digests.subscriptions import (
    SubscribeRequest,
    find_subscription,
    list_subscriptions,
    parse_subscribe,
    pause_subscription,
    resolve_roles,
    resume_subscription,
    subscribe,
    unsubscribe,
)
from templates import SlackMessage, as_typed, render_json, render_message

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
            "Try `/skillgap subscribe AI Engineer on Monday at 09:00 Europe/London`. "
            "Nothing changed.",
        )
    engine = request.services.engine
    existing = await find_subscription(engine, request.team_id, request.channel_id)
    if parsed.role_names:
        slugs = await _exact_roles(request, parsed.role_names, parsed)
        if isinstance(slugs, SlackMessage):
            return slugs
    elif existing is not None:
        slugs = existing.roles
    else:
        default = await resolve_roles(
            request.services.market,
            (await workspace_default_role(request.services, request.team_id),),
        )
        slugs = default if isinstance(default, list) else []
    blocked = await _can_post(request)
    if blocked is not None:
        return _notice(
            blocked, "Invite me with `/invite @SkillGap` and subscribe again. Nothing was saved."
        )
    before = ledger.schedule_of(existing) if existing is not None else None
    schedule = parsed.schedule_over(before, DEFAULT_TIMEZONE)
    skip_quiet = (
        parsed.skip_quiet_weeks
        if parsed.skip_quiet_weeks is not None
        else bool(existing and existing.skip_quiet_weeks)
    )
    outcome = await subscribe(
        engine,
        team_id=request.team_id,
        target=request.channel_id,
        subscriber_user_id=request.user_id,
        role_slugs=slugs,
        schedule=schedule,
        now=_now(),
        skip_quiet_weeks=skip_quiet,
    )
    titles = await _role_titles(request, outcome.subscription.roles)
    read_as = (
        f" (I read {as_typed(echo(parsed.zone_typed))} as {zone_label(schedule.timezone)}.)"
        if parsed.zone_typed
        else ""
    )
    detail = (
        f"First one: {_when(outcome.subscription)}."
        + (" Quiet weeks are skipped." if skip_quiet else "")
        + read_as
        + " `/skillgap digest preview` shows it now."
    )
    if existing is None or outcome.created:
        return _notice(
            f"Subscribed this channel: a weekly digest for {titles}, {schedule.describe()}.",
            detail,
        )
    changes = await _changes(request, existing, slugs, schedule, skip_quiet)
    if not changes:
        return _notice(
            f"Nothing to change: this channel already gets {titles}, {schedule.describe()}.",
            detail,
        )
    return _notice("Updated this channel's digest: " + "; ".join(changes) + ".", detail)


async def _changes(
    request: CommandRequest,
    existing: Subscription,
    slugs: list[str],
    schedule: WeeklySchedule,
    skip_quiet: bool,
) -> list[str]:
    """What an edit changed, each as "what: before → after"."""
    before = ledger.schedule_of(existing)
    changes = []
    if list(existing.roles) != list(slugs):
        old, new = await _role_titles(request, existing.roles), await _role_titles(request, slugs)
        changes.append(f"roles {old} → {new}")
    if before.day_of_week != schedule.day_of_week:
        changes.append(f"day {DAY_TITLES[before.day_of_week]} → {DAY_TITLES[schedule.day_of_week]}")
    if (before.hour, before.minute) != (schedule.hour, schedule.minute):
        old_time = f"{before.hour:02d}:{before.minute:02d}"
        changes.append(f"time {old_time} → {schedule.hour:02d}:{schedule.minute:02d}")
    if before.timezone != schedule.timezone:
        changes.append(f"time zone {zone_label(before.timezone)} → {zone_label(schedule.timezone)}")
    if bool(existing.skip_quiet_weeks) != skip_quiet:
        changes.append("quiet weeks now skipped" if skip_quiet else "quiet weeks now sent too")
    if changes:
        changes.append(f"now {schedule.describe()}")
    return changes


async def _exact_roles(
    request: CommandRequest, names: tuple[str, ...], parsed: SubscribeRequest
) -> list[str] | SlackMessage:
    """Slugs for names that are exact names or aliases of roles with figures; otherwise the
    question or refusal to send (a change acts only on a name the person confirmed)."""
    market = request.services.market
    slugs: list[str] = []
    for position, name in enumerate(names):
        resolution = await market.resolve_role(name)
        if resolution.match is not None and resolution.kind in (MatchKind.EXACT, MatchKind.ALIAS):
            if await market.role_stats(resolution.match.slug, request.team_id) is None:
                return await no_figures_message(request, resolution.match.name, "subscribe")
            if resolution.match.slug not in slugs:
                slugs.append(resolution.match.slug)
            continue
        options = _ask_about(resolution)
        known = await market.list_roles(request.team_id)
        with_figures = {role.slug for role in known}
        options = [c for c in options if c.slug in with_figures]
        typed = resolution.query

        def rerun(slug: str, position: int = position) -> str:
            chosen = [*slugs, slug, *(n for n in names[position + 1 :])]
            return f"subscribe {', '.join(chosen)} {parsed.schedule_words()}".strip()

        return _ask_role(typed, options, [r.title for r in known], rerun, resolution.kind)
    return slugs


def _ask_about(resolution: Resolution) -> list[Candidate]:
    found = [resolution.match] if resolution.match is not None else []
    return [*found, *(c for c in resolution.suggestions if c not in found)][:3]


def _ask_role(
    typed: str,
    options: list[Candidate],
    known: list[str],
    rerun: Callable[[str], str],
    kind: MatchKind,
) -> SlackMessage:
    return render_message(
        "did_you_mean.j2",
        kind="role",
        typed=echo(typed),
        ambiguous=kind is MatchKind.AMBIGUOUS,
        suggestions=[{"name": c.name, "command": rerun(c.slug)} for c in options],
        known=[name for name in known if name not in {c.name for c in options}],
        command="subscribe",
    )


async def answer_unsubscribe(request: CommandRequest) -> SlackMessage:
    engine = request.services.engine
    existing = await find_subscription(engine, request.team_id, request.channel_id)
    if existing is None:
        return _notice("This channel has no digest subscription.")
    titles = await _role_titles(request, existing.roles)
    if request.text.strip():
        resolution = await request.services.market.resolve_role(request.text.strip())
        if resolution.match is None or resolution.kind not in (MatchKind.EXACT, MatchKind.ALIAS):
            # Never a guess here: the digest's own roles are the ones offered.
            covered = [
                Candidate(slug, await _role_titles(request, [slug])) for slug in existing.roles
            ]
            return _ask_role(
                resolution.query,
                covered,
                [],
                lambda slug: f"unsubscribe {slug}",
                resolution.kind,
            )
        slug = resolution.match.slug
        if slug not in existing.roles:
            return _notice(
                f"This channel's digest covers {titles}, not {resolution.match.name}. "
                "Nothing changed.",
                "`/skillgap unsubscribe` with no role stops the whole digest.",
            )
        remaining = [role for role in existing.roles if role != slug]
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
            return _notice(
                f"Removed {resolution.match.name}. The digest here now covers "
                f"{await _role_titles(request, remaining)}."
            )
    if not request.confirmed:
        return render_message(
            "confirm.j2",
            question=f"Stop this channel's weekly digest ({titles})?",
            detail="Its schedule and delivery history are deleted; you can subscribe again later.",
            confirm_label="Unsubscribe this channel",
            confirm_command="unsubscribe",
        )
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
        if existing.status != SubscriptionStatus.ACTIVE:
            return _notice(
                "This channel's digest is already paused.",
                "`/skillgap digest resume` starts it again.",
            )
        await pause_subscription(
            engine, existing.id, reason="paused with /skillgap digest pause", now=_now()
        )
        return _notice("Paused: no digests here until `/skillgap digest resume`.")
    if existing.status == SubscriptionStatus.ACTIVE:
        return _notice(f"This channel's digest is already running. Next one: {_when(existing)}.")
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
    return f"{day} {local:%-d %b %Y, %H:%M} {zone_label(schedule.timezone)}"


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
