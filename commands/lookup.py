"""Turns the role or skill someone typed into one SkillGap knows, or a "Did you mean …?" reply."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from commands.parser import echo, parse_role_query, without_region
from commands.router import CommandRequest
from commands.workspace import workspace_default_role
from db.constants import Region
from db.market_comparison import SnapshotComparison
from db.market_figures import RoleStats, SnapshotInfo
from db.resolve import Candidate, MatchKind, Resolution
from templates import SlackMessage, render_message


@dataclass(frozen=True)
class Chosen:
    """A role or skill the words resolved to, and how sure we are."""

    slug: str
    name: str
    region: str = Region.UK
    # Set when the match was fuzzy: the words as typed, so the answer can say what it matched.
    typed: str = ""


async def default_role_name(request: CommandRequest) -> str:
    """The role a command answers about when it names none: the workspace's default."""
    return await workspace_default_role(request.services, request.team_id)


async def choose_role(
    request: CommandRequest, *, command: str | None = None, changes: bool = False
) -> Chosen | SlackMessage:
    """The role (and region) the request's text names, or the reply to send instead.

    The resolution policy (docs/conversations.md): an exact name or alias answers; a single
    clear fuzzy match answers a read-only command ("Showing X for 'y'"), while a command that
    `changes` something asks "Did you mean …?" instead; anything ambiguous always asks.
    """
    command = command or request.name
    query = parse_role_query(request.text)
    market = request.services.market
    if query.unknown_region:
        # "Engineer in Test" is a role, not a region: try the words whole before refusing.
        whole = await market.resolve_role(query.role)
        if whole.kind in (MatchKind.EXACT, MatchKind.ALIAS):
            return _chosen(whole, Region.UK)
        return render_message(
            "problem.j2",
            problem="unknown_region",
            command=command,
            region=echo(query.unknown_region),
            role=echo(without_region(query)),
        )
    words = query.role or await default_role_name(request)
    resolution = await market.resolve_role(words)
    if resolution.match is not None and (
        resolution.kind in (MatchKind.EXACT, MatchKind.ALIAS)
        or (resolution.kind is MatchKind.FUZZY and not changes)
    ):
        return _chosen(resolution, query.region)
    known = await market.list_roles(request.team_id)
    if changes:
        # Asked, not acted on: the fuzzy match first, and only roles a change can use.
        with_figures = {role.slug for role in known}
        lead = (resolution.match,) if resolution.match is not None else ()
        rest = tuple(c for c in resolution.suggestions if c not in lead)
        offered = tuple(c for c in (*lead, *rest) if c.slug in with_figures)
        resolution = replace(resolution, suggestions=offered[:3])
    return did_you_mean(
        resolution,
        kind="role",
        command=command,
        region=query.region,
        known=[Candidate(role.slug, role.title) for role in known],
    )


async def choose_skill(
    request: CommandRequest, *, command: str | None = None
) -> Chosen | SlackMessage:
    """The skill the request's text names, or the reply to send instead."""
    command = command or request.name
    words = echo(request.text) if request.text else ""
    if not words:
        return render_message("problem.j2", problem="skill_missing", command=command)
    resolution = await request.services.market.resolve_skill(request.text)
    if resolution.match is not None and resolution.kind is not MatchKind.AMBIGUOUS:
        return _chosen(resolution, Region.UK)
    return did_you_mean(resolution, kind="skill", command=command, region=Region.UK, known=[])


def _chosen(resolution: Resolution, region: str) -> Chosen:
    assert resolution.match is not None
    typed = echo(resolution.query) if resolution.kind is MatchKind.FUZZY else ""
    return Chosen(resolution.match.slug, resolution.match.name, region, typed)


def card_context(
    request: CommandRequest,
    command: str,
    chosen: Chosen,
    *,
    regional: bool = True,
    about_role: bool = True,
) -> dict[str, Any]:
    """What every market card shows around its figures: the name as typed and as shown, and
    its buttons (share: the command again, in the chosen region when `regional`; check your
    skills against the role, when the card is `about_role`)."""
    region = chosen.region if regional else Region.UK
    context: dict[str, Any] = {
        "typed": chosen.typed,
        "shown": chosen.name,
        "shared": request.shared,
        "share_command": rerun_command(command, chosen.slug, region),
    }
    if about_role:
        context["check_role"] = chosen.slug
    return context


def rerun_command(command: str, slug: str, region: str = Region.UK) -> str:
    """The command line a button runs again: slugs only, so it never carries free text."""
    suffix = "" if region == Region.UK else f" in {region}"
    return f"{command} {slug}{suffix}"


def did_you_mean(
    resolution: Resolution,
    *,
    kind: str,
    command: str,
    region: str,
    known: list[Candidate],
) -> SlackMessage:
    """ "Did you mean …?" with a button per suggestion; the known names when nothing is close."""
    suggestions = [
        {"name": candidate.name, "command": rerun_command(command, candidate.slug, region)}
        for candidate in resolution.suggestions
    ]
    return render_message(
        "did_you_mean.j2",
        kind=kind,
        typed=echo(resolution.query),
        ambiguous=resolution.kind is MatchKind.AMBIGUOUS,
        suggestions=suggestions,
        known=[candidate.name for candidate in known if candidate not in resolution.suggestions],
        command=command,
    )


async def stats_for(request: CommandRequest, chosen: Chosen) -> RoleStats | None:
    """The chosen role's newest figures for the asking workspace.

    A region without snapshots of its own (London) is answered from the UK snapshot, which
    carries London's pay figures.
    """
    market = request.services.market
    stats = await market.role_stats(chosen.slug, request.team_id, region=chosen.region)
    if stats is None and chosen.region != Region.UK:
        stats = await market.role_stats(chosen.slug, request.team_id, region=Region.UK)
    return stats


async def role_with_stats(request: CommandRequest) -> tuple[Chosen, RoleStats] | SlackMessage:
    """The role a command is about and its newest figures, or the message saying why not
    (an unknown or ambiguous name, or no figures yet)."""
    chosen = await choose_role(request)
    if isinstance(chosen, SlackMessage):
        return chosen
    stats = await stats_for(request, chosen)
    if stats is None:
        return await no_data(request, chosen)
    return chosen, stats


async def previous_comparison(
    request: CommandRequest, chosen: Chosen, newer: SnapshotInfo
) -> SnapshotComparison | None:
    """Changes since the snapshot before `newer` in its own series (never across series)."""
    return await request.services.market.compare(
        chosen.slug, request.team_id, region=newer.region, newer_id=newer.id
    )


async def no_data(
    request: CommandRequest, chosen: Chosen, *, command: str | None = None
) -> SlackMessage:
    """A known role without figures says so and names the roles that have them; it is never
    answered with another role's figures."""
    region = "" if chosen.region == Region.UK else chosen.region
    return await no_figures_message(request, chosen.name, command or request.name, region)


async def no_figures_message(
    request: CommandRequest, role_name: str, command: str, region: str = ""
) -> SlackMessage:
    with_figures = [
        role.title for role in await request.services.market.list_roles(request.team_id)
    ]
    return render_message(
        "problem.j2",
        problem="no_data",
        command=command,
        role=role_name,
        region=region,
        with_figures=with_figures,
    )


def places_for(region: str) -> list[str]:
    """The regions a card shows, the one asked for first."""
    return [region, *(place for place in (Region.UK, Region.LONDON) if place != region)]


def region_note(chosen: Chosen, stats: RoleStats) -> str:
    """Says so when skills figures come from a wider region than the one asked for."""
    if chosen.region == stats.snapshot.region:
        return ""
    return (
        f"Skills figures are for the whole {stats.snapshot.region}; none are {chosen.region}-only."
    )


# Rendered cards, keyed by the figures object they were made from. The read model hands out
# the same object until the store's data changes, so identity is an exact freshness check;
# the object is kept with the card so its id cannot be reused by another while cached.
_MAX_CACHED_CARDS = 512
_cards: dict[tuple[object, ...], tuple[object, SlackMessage]] = {}


def render_card(
    source: object,
    key: tuple[object, ...],
    name: str,
    context: Callable[[], dict[str, Any]],
) -> SlackMessage:
    """`render_message(name, **context())`, reused while `source` and `key` are unchanged.

    The context is only worked out for a card not rendered yet: ranking skills and gaps
    costs more than the rest of answering a cached card.
    """
    cache_key = (name, id(source), *key)
    hit = _cards.get(cache_key)
    if hit is not None and hit[0] is source:
        return hit[1]
    message = render_message(name, **context())
    if len(_cards) >= _MAX_CACHED_CARDS:
        _cards.clear()
    _cards[cache_key] = (source, message)
    return message
