"""`/skillgap skill SKILL`: one skill's demand and supply across roles and over time."""

from __future__ import annotations

from dataclasses import dataclass

from slack_bolt.async_app import AsyncApp

from commands.lookup import choose_skill
from commands.router import CommandRequest, Subcommand, router_for
from db.market_comparison import Change
from db.market_figures import SkillAcrossMarket, SkillStat, SnapshotInfo
from templates import SlackMessage, render_message


@dataclass(frozen=True)
class SkillPoint:
    snapshot: SnapshotInfo
    stat: SkillStat
    # Demand against the next older snapshot of the same role, region and source.
    demand_change: Change | None


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


async def answer_skill(request: CommandRequest) -> SlackMessage:
    chosen = await choose_skill(request)
    if isinstance(chosen, SlackMessage):
        return chosen
    across = await request.services.market.skill_across(chosen.slug, request.team_id)
    if across is None:
        return render_message("problem.j2", problem="no_skill_data", skill=chosen.name)
    together = await request.services.market.asked_together(chosen.slug, request.team_id)
    return render_message(
        "skill.j2",
        skill=across,
        together=together,
        groups=skill_histories(across),
        title=f"Skill · {across.name}",
        typed=chosen.typed,
        shown=chosen.name,
        region_note="",
        shared=request.shared,
        share_command=f"skill {chosen.slug}",
    )


def register(app: AsyncApp) -> None:
    router_for(app).add(
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
