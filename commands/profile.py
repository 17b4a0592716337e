"""A person's own data: "Save my skills", `/skillgap me`, `/skillgap forget`, weekly DMs, Home."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from commands.check import SAVE_ACTION, parse_save_value
from commands.home import HomeRequest, add_home_section
from commands.router import CommandRequest, Subcommand, router_for, team_id_of
from db.personal import check_skills, feedback_summary
from db.profiles import (
    SavedProfile,
    forget_person,
    load_profile,
    save_profile,
    set_weekly_updates,
)
from db.services import Services, services_from
from digests.personal_check import start_weekly_updates, stop_weekly_updates
from digests.render import mention
from digests.subscriptions import list_subscriptions
from templates import SlackMessage, render_json, render_message

WEEKLY_ON_ACTION = "weekly_updates_on"
WEEKLY_OFF_ACTION = "weekly_updates_off"


async def _role_title(services: Services, team_id: str, role_slug: str | None) -> str:
    if not role_slug:
        return ""
    for role in await services.market.list_roles(team_id):
        if role.slug == role_slug:
            return role.title
    return ""


def feedback_of(profile: SavedProfile | None) -> dict[str, Any]:
    """The stored feedback summary with every field present (older rows may lack some)."""
    stored = profile.last_feedback if profile else {}
    return {
        "role_title": str(stored.get("role_title") or ""),
        "coverage": stored.get("coverage"),
        "essential_lacking": [str(n) for n in stored.get("essential_lacking") or []],
        "next_skills": [str(n) for n in stored.get("next_skills") or []],
        "best_fit": stored.get("best_fit"),
    }


async def answer_me(request: CommandRequest) -> SlackMessage:
    services = request.services
    profile = await load_profile(services.engine, request.team_id, request.user_id)
    return render_message(
        "profile_me.j2",
        profile=profile,
        role_title=await _role_title(
            services, request.team_id, profile.role_slug if profile else None
        ),
        feedback=feedback_of(profile),
        digests=await digests_set_up(services, request.team_id, request.user_id),
    )


async def digests_set_up(services: Services, team_id: str, user_id: str) -> list[dict[str, str]]:
    """The channel digests this person set up: SkillGap keeps their name on each."""
    found = await list_subscriptions(services.engine, team_id, subscriber_user_id=user_id)
    titles = {role.slug: role.title for role in await services.market.list_roles(team_id)}
    return [
        {
            "where": mention(subscription.target),
            "roles": ", ".join(titles.get(slug, slug) for slug in subscription.roles),
        }
        for subscription in found
    ]


async def answer_forget(request: CommandRequest) -> SlackMessage:
    services = request.services
    if not request.confirmed:
        profile = await load_profile(services.engine, request.team_id, request.user_id)
        digests = await digests_set_up(services, request.team_id, request.user_id)
        return render_message(
            "forget_confirm.j2",
            profile=profile,
            feedback=feedback_of(profile),
            digests=digests,
        )
    forgotten = await forget_person(services.engine, request.team_id, request.user_id)
    return render_message("profile_forgotten.j2", forgotten=forgotten)


async def save_from_button(
    services: Services, team_id: str, user_id: str, value: str
) -> SlackMessage:
    """Store the skills a feedback DM's button carries; only slugs SkillGap knows are kept."""
    role_slug, slugs = parse_save_value(value)
    index = await services.market.skill_index()
    skills = [c for c in (index.by_slug(slug) for slug in slugs) if c is not None]
    if not skills:
        return render_message("profile_notice.j2", notice="save_failed")
    role_title = await _role_title(services, team_id, role_slug)
    # The feedback of the check whose skills are saved, so `me` can show it.
    check = await check_skills(services.market, skills, role_slug, team_id) if role_title else None
    existing = await load_profile(services.engine, team_id, user_id)
    kept = existing.last_feedback if existing and existing.last_feedback else None
    profile = await save_profile(
        services.engine,
        team_id,
        user_id,
        skills,
        role_slug if role_title else None,
        feedback=feedback_summary(check) if check is not None else kept,
    )
    return render_message(
        "profile_saved.j2", profile=profile, role_title=role_title, weekly=profile.weekly_updates
    )


async def set_weekly(services: Services, team_id: str, user_id: str, on: bool) -> SlackMessage:
    """Turn the weekly "what changed for you" DM on or off (it needs a saved profile)."""
    profile = await load_profile(services.engine, team_id, user_id)
    if profile is None:
        return render_message("profile_notice.j2", notice="no_profile")
    if on:
        await start_weekly_updates(services.engine, team_id, user_id, profile.role_slug)
    else:
        await stop_weekly_updates(services.engine, team_id, user_id)
    await set_weekly_updates(services.engine, team_id, user_id, on)
    return render_message("profile_notice.j2", notice="weekly_on" if on else "weekly_off")


async def profile_home_section(request: HomeRequest) -> list[dict[str, Any]]:
    """The viewer's own saved skills and latest feedback (views.publish shows it to them only)."""
    services = request.services
    profile = await load_profile(services.engine, request.team_id, request.user_id)
    document = render_json(
        "profile_home.j2",
        profile=profile,
        role_title=await _role_title(
            services, request.team_id, profile.role_slug if profile else None
        ),
        feedback=feedback_of(profile),
    )
    blocks: list[dict[str, Any]] = document["blocks"]
    return blocks


def _person(body: dict[str, Any], context: Any) -> tuple[str, str]:
    return team_id_of(body, context), str(context.get("user_id") or "")


def register(app: AsyncApp) -> None:
    router = router_for(app)
    router.add(
        Subcommand(
            "me",
            answer_me,
            usage="me",
            summary="your saved skills and latest feedback (only you see them)",
            group="You",
        )
    )
    router.add(
        Subcommand(
            "forget",
            answer_forget,
            usage="forget",
            summary="delete everything SkillGap keeps about you",
            group="You",
        )
    )

    async def reply(respond: AsyncRespond, body: dict[str, Any], message: SlackMessage) -> None:
        if body.get("response_url"):
            await respond(**message.as_kwargs(), response_type="ephemeral", replace_original=False)

    async def on_save(
        ack: AsyncAck,
        action: dict[str, Any],
        body: dict[str, Any],
        context: Any,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        team_id, user_id = _person(body, context)
        value = str(action.get("value") or "")
        message = await save_from_button(services_from(context), team_id, user_id, value)
        await reply(respond, body, message)

    def weekly(on: bool) -> Any:
        async def on_weekly(
            ack: AsyncAck,
            body: dict[str, Any],
            context: Any,
            client: AsyncWebClient,
            respond: AsyncRespond,
        ) -> None:
            await ack()
            team_id, user_id = _person(body, context)
            message = await set_weekly(services_from(context), team_id, user_id, on)
            if body.get("response_url"):
                await reply(respond, body, message)
            else:  # pressed on the Home tab: say it where only they can see it, their DM
                opened = await client.conversations_open(users=user_id)
                channel = (opened.get("channel") or {}).get("id") or user_id
                await client.chat_postMessage(channel=channel, **message.as_kwargs())

        return on_weekly

    app.action(SAVE_ACTION)(on_save)
    app.action(WEEKLY_ON_ACTION)(weekly(True))
    app.action(WEEKLY_OFF_ACTION)(weekly(False))
    add_home_section(app, "profile", profile_home_section, order=200)
