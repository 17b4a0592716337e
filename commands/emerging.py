"""`/skillgap emerging [ROLE]`: skills rising in job ads, and what changed since last time."""

from __future__ import annotations

from dataclasses import dataclass

from commands.lookup import (
    card_context,
    previous_comparison,
    region_note,
    role_with_stats,
)
from commands.router import CommandRequest, Subcommand, register_subcommand
from db.market_comparison import SkillChange, SkillMovement
from db.market_figures import SkillStat
from templates import SlackMessage, render_message


@dataclass(frozen=True)
class EmergingRow:
    stat: SkillStat
    change: SkillChange | None
    # No earlier mention at all: "new", never an infinite growth rate.
    is_new: bool
    newly_emerging: bool


async def answer_emerging(request: CommandRequest) -> SlackMessage:
    found = await role_with_stats(request)
    if isinstance(found, SlackMessage):
        return found
    chosen, stats = found
    comparison = await previous_comparison(request, chosen, stats.emerging_source)
    changes = {c.slug: c for c in comparison.skill_changes} if comparison else {}
    rows = []
    for stat in stats.emerging_skills():
        change = changes.get(stat.slug)
        rows.append(
            EmergingRow(
                stat,
                change,
                is_new=change is not None and change.movement is SkillMovement.ADDED,
                newly_emerging=change is not None and change.newly_emerging,
            )
        )
    return render_message(
        "emerging.j2",
        stats=stats,
        rows=rows,
        older=comparison.older if comparison else None,
        title=f"Emerging skills · {stats.role.title}",
        region_note=region_note(chosen, stats),
        **card_context(request, "emerging", chosen),
    )


register = register_subcommand(
    Subcommand(
        "emerging",
        answer_emerging,
        usage="emerging [ROLE]",
        summary="skills turning up more and more in job ads",
        examples=("emerging", "emerging ai engineer"),
        aliases=("trends", "rising"),
        shareable=True,
    )
)
