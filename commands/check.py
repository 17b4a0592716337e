"""`/skillgap check`: a person's skills against a role, answered by DM; its modal and type-ahead."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from commands.lookup import no_figures_message
from commands.parser import echo
from commands.router import CommandRequest, Subcommand, router_for, team_id_of
from commands.workspace import workspace_default_role
from db.personal import SkillCheck, check_skills, feedback_summary
from db.profiles import SavedProfile, load_profile, record_feedback, save_profile
from db.resolve import MAX_TERMS, Candidate, MatchKind, Resolution, TermsResolution
from db.services import Services, services_from
from templates import SlackMessage, fit_escaped, render_message, render_view

logger = logging.getLogger(__name__)

OPEN_ACTION = "open_skills_check"
SAVE_ACTION = "save_skills"
MODAL_CALLBACK = "skills_check"
SKILLS_FIELD = "check_skills"
ROLE_FIELD = "check_role"
SAVE_FIELD = "check_save"
# The modal must open while the trigger is alive (3 s); the saved profile that pre-fills it
# gets this long, and the modal opens empty rather than late.
PREFILL_SECONDS = 0.8
MAX_OPTIONS = 50
# Slack caps a button's value at 2,000 characters.
MAX_BUTTON_VALUE = 2000

_FOR_ROLE = re.compile(r"^(?P<skills>.*?)\s*\bfor\s+(?P<role>[^,;]+?)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class RoleChoice:
    slug: str
    title: str


def split_role(text: str) -> tuple[str, str]:
    """ "python, aws for ai engineer" -> ("python, aws", "ai engineer"); no "for": no role."""
    match = _FOR_ROLE.match(text)
    if match is None:
        return text, ""
    return match.group("skills"), match.group("role")


# The slash command -------------------------------------------------------------------------


async def answer_check(request: CommandRequest) -> SlackMessage | None:
    services = request.services
    if not request.text.strip():
        await open_check_modal(
            request.client, request.trigger_id, services, request.team_id, request.user_id
        )
        return None
    skills_text, role_words = split_role(request.text)
    profile = await load_profile(services.engine, request.team_id, request.user_id)
    role = await _choose_role(services, request.team_id, role_words, profile)
    if isinstance(role, SlackMessage):
        return role
    index = await services.market.skill_index()
    terms = index.resolve_terms(skills_text)
    not_read = _not_read(terms, skills_text)
    if not terms.matches:
        return render_message(
            "check_nothing.j2",
            ambiguous=_ambiguous(terms),
            suggestions=_nearest(terms),
            **not_read,
        )
    outcome = await run_check(
        services,
        request.client,
        request.team_id,
        request.user_id,
        terms,
        role,
        profile,
        emoji=not_read["emoji"],
    )
    if outcome is None:
        return await no_figures_message(request, role.title, "check")
    check, dm_sent, feedback = outcome
    if not dm_sent:
        # Slack refused the DM (DMs with apps turned off): the answer is still the person's
        # own, so it comes back here, where only they can see it.
        return feedback
    return render_message(
        "check_sent.j2",
        role_title=check.role_title,
        coverage=check.coverage.percent,
        ambiguous=_ambiguous(terms),
        **not_read,
    )


# Emoji and pictographs: read past (skills are words), but said so.
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U00002b00-\U00002bff\U0001f1e6-\U0001f1ff]"
)


def emoji_in(text: str) -> list[str]:
    """The distinct emoji in what someone typed, in order (at most ten)."""
    return list(dict.fromkeys(_EMOJI.findall(text)))[:10]


def _not_read(terms: TermsResolution, text: str) -> dict[str, Any]:
    """What of a typed list was not used, for `_not_read.j2`."""
    return {
        "unknown": [echo(r.query) for r in terms.unknown],
        "left_out": len(terms.left_out),
        "term_limit": MAX_TERMS,
        "emoji": emoji_in(text),
    }


async def _choose_role(
    services: Services, team_id: str, words: str, profile: SavedProfile | None
) -> RoleChoice | SlackMessage:
    """The role named after "for"; else the saved profile's; else the workspace default."""
    market = services.market
    if not words and profile is not None and profile.role_slug:
        for role in await market.list_roles(team_id):
            if role.slug == profile.role_slug:
                return RoleChoice(role.slug, role.title)
    typed = words or await workspace_default_role(services, team_id)
    resolution = await market.resolve_role(typed)
    if resolution.match is not None and resolution.kind is not MatchKind.AMBIGUOUS:
        return RoleChoice(resolution.match.slug, resolution.match.name)
    known = await market.list_roles(team_id)
    return render_message(
        "check_role_unknown.j2",
        typed=echo(typed),
        ambiguous=resolution.kind is MatchKind.AMBIGUOUS,
        suggestions=[c.name for c in resolution.suggestions],
        known=[role.title for role in known],
    )


def _ambiguous(terms: TermsResolution) -> list[dict[str, Any]]:
    return [
        {"typed": echo(r.query), "names": [c.name for c in r.suggestions[:4]]}
        for r in terms.ambiguous
    ]


def _nearest(terms: TermsResolution) -> list[str]:
    names: dict[str, None] = {}
    for resolution in terms.unknown:
        for candidate in resolution.suggestions[:2]:
            names[candidate.name] = None
    return list(names)[:10]


# The check itself, and its DM --------------------------------------------------------------


async def run_check(
    services: Services,
    client: AsyncWebClient,
    team_id: str,
    user_id: str,
    terms: TermsResolution | list[Candidate],
    role: RoleChoice,
    profile: SavedProfile | None,
    *,
    save: bool = False,
    emoji: list[str] | None = None,
) -> tuple[SkillCheck, bool, SlackMessage] | None:
    """Assess, DM the feedback to the person (only them), and keep it if they saved a profile.

    Returns the check, whether the DM went out, and the feedback; None when the role has no
    figures.
    """
    held = list(terms.matches) if isinstance(terms, TermsResolution) else terms
    check = await check_skills(services.market, held, role.slug, team_id)
    if check is None:
        return None
    if save:
        profile = await save_profile(
            services.engine, team_id, user_id, held, role.slug, feedback=feedback_summary(check)
        )
    elif profile is not None:
        await record_feedback(services.engine, team_id, user_id, feedback_summary(check))
    saved = profile is not None and {c.slug for c in profile.skills} == {c.slug for c in held}
    message = feedback_message(
        check,
        terms if isinstance(terms, TermsResolution) else None,
        saved=saved and profile is not None and profile.role_slug == role.slug,
        emoji=emoji or [],
    )
    return check, await send_dm(client, user_id, message), message


def feedback_message(
    check: SkillCheck, terms: TermsResolution | None, *, saved: bool, emoji: list[str] | None = None
) -> SlackMessage:
    read_as = []
    unknown: list[str] = []
    ambiguous: list[dict[str, Any]] = []
    left_out = 0
    if terms is not None:
        read_as = [
            {"typed": echo(r.query), "name": r.match.name}
            for r in terms.resolutions
            if r.kind is MatchKind.FUZZY and r.match is not None
        ]
        unknown = [echo(r.query) for r in terms.unknown]
        ambiguous = _ambiguous(terms)
        left_out = len(terms.left_out)
    return render_message(
        "check_feedback.j2",
        check=check,
        read_as=read_as,
        unknown=unknown,
        ambiguous=ambiguous,
        left_out=left_out,
        term_limit=MAX_TERMS,
        emoji=emoji or [],
        save_value="" if saved else save_value(check.role_slug, check.held),
        saved=saved,
        # "Check again" opens the form with what was checked: the role and the skills read.
        again_value=save_value(check.role_slug, check.held) or check.role_slug,
    )


def save_value(role_slug: str, skills: tuple[Candidate, ...] | list[Candidate]) -> str:
    """What "Save my skills" stores: slugs only, cut to fit a button."""
    value = role_slug
    for position, candidate in enumerate(skills):
        part = ("|" if position == 0 else ",") + candidate.slug
        if len(value) + len(part) > MAX_BUTTON_VALUE:
            break
        value += part
    return value if skills else ""


def parse_save_value(value: str) -> tuple[str, list[str]]:
    role_slug, _, slugs = value.partition("|")
    return role_slug, [slug for slug in slugs.split(",") if slug]


async def send_dm(client: AsyncWebClient, user_id: str, message: SlackMessage) -> bool:
    """Post to the person's DM with SkillGap; never to a channel. False when Slack refuses."""
    try:
        opened = await client.conversations_open(users=user_id)
        channel = (opened.get("channel") or {}).get("id")
        if not channel:
            return False
        await client.chat_postMessage(channel=channel, **message.as_kwargs())
        return True
    except SlackApiError as problem:
        logger.warning("could not DM %s: %s", user_id, problem.response.get("error"))
        return False


# The modal -----------------------------------------------------------------------------------


async def open_check_modal(
    client: AsyncWebClient,
    trigger_id: str,
    services: Services,
    team_id: str,
    user_id: str,
    role_slug: str = "",
    skill_slugs: list[str] | None = None,
) -> None:
    """Open the skills check modal now; pre-filled only if the store answers in time.

    `skill_slugs` (from a "Check again" button) pre-fill the skills instead of the saved ones.
    """
    prefill = asyncio.ensure_future(_prefill(services, team_id, user_id, role_slug, skill_slugs))
    done, _ = await asyncio.wait({prefill}, timeout=PREFILL_SECONDS)
    skills: list[dict[str, str]] = []
    role: dict[str, str] | None = None
    saved = False
    if prefill in done and prefill.exception() is None:
        skills, role, saved = prefill.result()
    else:
        prefill.cancel()
        logger.warning("skills check modal opened without pre-fill: the store was slow")
    view = render_view("check_modal.j2", skills=skills, role=role, save=saved)
    await client.views_open(trigger_id=trigger_id, view=view)


async def _prefill(
    services: Services,
    team_id: str,
    user_id: str,
    role_slug: str,
    skill_slugs: list[str] | None = None,
) -> tuple[list[dict[str, str]], dict[str, str] | None, bool]:
    profile = await load_profile(services.engine, team_id, user_id)
    roles = {role.slug: role.title for role in await services.market.list_roles(team_id)}
    wanted = role_slug or (profile.role_slug if profile else None) or ""
    if wanted not in roles:
        default = await services.market.resolve_role(
            await workspace_default_role(services, team_id)
        )
        wanted = default.match.slug if default.match else ""
    role = {"slug": wanted, "title": roles[wanted]} if wanted in roles else None
    held: list[Candidate] = list(profile.skills) if profile else []
    if skill_slugs:
        index = await services.market.skill_index()
        held = [c for c in (index.by_slug(slug) for slug in skill_slugs) if c is not None]
    skills = [{"slug": s.slug, "name": s.name} for s in held]
    return skills, role, profile is not None


def _options(pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    return [
        {"text": {"type": "plain_text", "text": fit_escaped(name, 75)}, "value": value}
        for value, name in pairs[:MAX_OPTIONS]
    ]


async def skill_options(text: str, services: Services) -> list[dict[str, Any]]:
    """Type-ahead for the skills field: names starting with the text, then close matches."""
    index = await services.market.skill_index()
    return _options([(c.slug, c.name) for c in index.suggest(text, limit=MAX_OPTIONS)])


async def role_options(text: str, services: Services, team_id: str) -> list[dict[str, Any]]:
    roles = await services.market.list_roles(team_id)
    typed = text.strip().lower()
    chosen = [(r.slug, r.title) for r in roles if not typed or typed in r.title.lower()]
    if not chosen and typed:
        resolution: Resolution = await services.market.resolve_role(text)
        known = {r.slug for r in roles}
        chosen = [
            (c.slug, c.name)
            for c in ((resolution.match,) if resolution.match else resolution.suggestions)
            if c.slug in known
        ]
    return _options(chosen)


def _submitted(view: dict[str, Any]) -> tuple[list[str], str, bool]:
    values = (view.get("state") or {}).get("values") or {}
    skills = (values.get(SKILLS_FIELD) or {}).get(SKILLS_FIELD) or {}
    role = (values.get(ROLE_FIELD) or {}).get(ROLE_FIELD) or {}
    save = (values.get(SAVE_FIELD) or {}).get(SAVE_FIELD) or {}
    slugs = [str(o.get("value") or "") for o in skills.get("selected_options") or []]
    role_slug = str((role.get("selected_option") or {}).get("value") or "")
    return [s for s in slugs if s], role_slug, bool(save.get("selected_options"))


def register(app: AsyncApp) -> None:
    router_for(app).add(
        Subcommand(
            "check",
            answer_check,
            usage="check [SKILLS] [for ROLE]",
            summary="compare your skills with what employers want (the answer comes by DM)",
            examples=("check python, pytorch, k8s, rag, aws for ai engineer", "check"),
            group="You",
            # The modal needs the trigger_id at once; the DM note follows via response_url.
            ack_first=True,
        )
    )

    async def open_from_button(
        ack: AsyncAck,
        action: dict[str, Any],
        body: dict[str, Any],
        context: Any,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        role_slug, skill_slugs = parse_save_value(str(action.get("value") or ""))
        await open_check_modal(
            client,
            str(body.get("trigger_id") or ""),
            services_from(context),
            team_id_of(body, context),
            str(context.get("user_id") or ""),
            role_slug,
            skill_slugs or None,
        )

    async def on_skill_options(ack: AsyncAck, body: dict[str, Any], context: Any) -> None:
        await ack(options=await skill_options(str(body.get("value") or ""), services_from(context)))

    async def on_role_options(ack: AsyncAck, body: dict[str, Any], context: Any) -> None:
        options = await role_options(
            str(body.get("value") or ""), services_from(context), team_id_of(body, context)
        )
        await ack(options=options)

    async def on_submit(
        ack: AsyncAck,
        view: dict[str, Any],
        body: dict[str, Any],
        context: Any,
        client: AsyncWebClient,
    ) -> None:
        slugs, role_slug, save = _submitted(view)
        if not slugs:
            await ack(response_action="errors", errors={SKILLS_FIELD: "Pick at least one skill."})
            return
        if not role_slug:
            await ack(response_action="errors", errors={ROLE_FIELD: "Pick a role."})
            return
        await ack()
        services = services_from(context)
        team_id = team_id_of(body, context)
        user_id = str(context.get("user_id") or "")
        index = await services.market.skill_index()
        held = [c for c in (index.by_slug(slug) for slug in slugs) if c is not None]
        roles = {r.slug: r.title for r in await services.market.list_roles(team_id)}
        if not held or role_slug not in roles:
            await send_dm(
                client,
                user_id,
                render_message(
                    "check_nothing.j2",
                    unknown=[],
                    ambiguous=[],
                    suggestions=[],
                    left_out=0,
                    term_limit=MAX_TERMS,
                    emoji=[],
                ),
            )
            return
        profile = await load_profile(services.engine, team_id, user_id)
        await run_check(
            services,
            client,
            team_id,
            user_id,
            held,
            RoleChoice(role_slug, roles[role_slug]),
            profile,
            save=save,
        )

    app.action(OPEN_ACTION)(open_from_button)
    app.options(SKILLS_FIELD)(on_skill_options)
    app.options(ROLE_FIELD)(on_role_options)
    app.view(MODAL_CALLBACK)(on_submit)
