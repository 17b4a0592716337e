"""`/skillgap skill SKILL`: one skill's demand and supply across roles and over time."""

from __future__ import annotations

from dataclasses import dataclass

from commands.lookup import card_context, choose_skill
from commands.router import CommandRequest, Subcommand, register_subcommand
from db.market import MarketReader
from db.market_comparison import Change
from db.market_figures import SkillAcrossMarket, SkillObservation, SkillStat, SnapshotInfo
from templates import SlackMessage, render_message

# Members listed under a family: enough to compare AWS, GCP and Azure, not a catalogue.
MAX_RELATED = 12


@dataclass(frozen=True)
class SkillPoint:
    snapshot: SnapshotInfo
    stat: SkillStat
    # Demand against the next older snapshot of the same role, region and source.
    demand_change: Change | None


@dataclass(frozen=True)
class RelatedSkill:
    """A family of the skill, or one of its members, with its newest demand where known."""

    name: str
    slug: str
    latest: SkillObservation | None  # the newest observation with a demand figure


@dataclass(frozen=True)
class SkillHistory:
    role_title: str
    region: str
    source: str
    points: tuple[SkillPoint, ...]  # newest first


def skill_histories(across: SkillAcrossMarket) -> list[SkillHistory]:
    """Observations grouped by role, region and source, each group newest first."""
    grouped: dict[tuple[str, str, str], list[tuple[SnapshotInfo, SkillStat]]] = {}
    for observation in across.observations:
        snapshot = observation.snapshot
        key = (snapshot.role_title, snapshot.region, snapshot.source)
        grouped.setdefault(key, []).append((snapshot, observation.stat))
    histories = []
    for (role_title, region, source), observations in grouped.items():
        ordered = sorted(observations, key=lambda item: item[0].period_end, reverse=True)
        points = tuple(
            SkillPoint(
                snapshot,
                stat,
                Change(ordered[index + 1][1].demand_pct, stat.demand_pct)
                if index + 1 < len(ordered)
                else None,
            )
            for index, (snapshot, stat) in enumerate(ordered)
        )
        histories.append(SkillHistory(role_title, region, source, points))
    return histories


def latest_demand(across: SkillAcrossMarket | None) -> SkillObservation | None:
    """The newest observation that gives a demand percentage, if any."""
    if across is None:
        return None
    measured = [o for o in across.observations if o.stat.demand_pct is not None]
    return max(measured, key=lambda o: o.snapshot.period_end, default=None)


async def _related(
    market: MarketReader, slugs: tuple[str, ...], team_id: str
) -> list[RelatedSkill]:
    graph = await market.skill_graph()
    related = []
    for slug in slugs[:MAX_RELATED]:
        across = await market.skill_across(slug, team_id)
        related.append(RelatedSkill(graph.names.get(slug) or slug, slug, latest_demand(across)))
    # Members with figures first, most wanted first; the rest by name.
    related.sort(
        key=lambda r: (r.latest is None, -(r.latest.stat.demand_pct or 0) if r.latest else 0)
    )
    return related


async def answer_skill(request: CommandRequest) -> SlackMessage:
    chosen = await choose_skill(request)
    if isinstance(chosen, SlackMessage):
        return chosen
    market = request.services.market
    across = await market.skill_across(chosen.slug, request.team_id)
    graph = await market.skill_graph()
    families = await _related(market, graph.parents.get(chosen.slug, ()), request.team_id)
    members = await _related(market, graph.members(chosen.slug), request.team_id)
    if across is None and not families and not members:
        return render_message("problem.j2", problem="no_skill_data", skill=chosen.name)
    if across is None:
        # No figures of its own yet, but its family or members have some: show those.
        across = SkillAcrossMarket(chosen.name, chosen.slug, ())
    together = await market.asked_together(chosen.slug, request.team_id)
    return render_message(
        "skill.j2",
        skill=across,
        together=together,
        families=families,
        members=members,
        more_members=max(0, len(graph.members(chosen.slug)) - MAX_RELATED),
        groups=skill_histories(across),
        title=f"Skill · {across.name}",
        region_note="",
        **card_context(request, "skill", chosen, regional=False, about_role=False),
    )


register = register_subcommand(
    Subcommand(
        "skill",
        answer_skill,
        usage="skill SKILL",
        summary="one skill's demand and supply across roles and over time",
        examples=("skill production llm deployment", "skill rag"),
        aliases=("skills",),
        shareable=True,
    )
)
