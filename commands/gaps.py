"""`/skillgap gaps [ROLE]`: skills ranked by gap, employer demand beside candidate supply."""

from __future__ import annotations

from commands.lookup import (
    card_context,
    region_note,
    render_card,
    role_with_stats,
)
from commands.router import CommandRequest, Subcommand, register_subcommand
from templates import SlackMessage


async def answer_gaps(request: CommandRequest) -> SlackMessage:
    found = await role_with_stats(request)
    if isinstance(found, SlackMessage):
        return found
    chosen, stats = found
    return render_card(
        stats,
        (chosen.slug, chosen.region, chosen.typed, request.shared),
        "gaps.j2",
        lambda: {
            "stats": stats,
            "gaps": stats.skills_by_gap(),
            "title": f"Skills gaps · {stats.role.title}",
            "region_note": region_note(chosen, stats),
            **card_context(request, "gaps", chosen),
        },
    )


register = register_subcommand(
    Subcommand(
        "gaps",
        answer_gaps,
        usage="gaps [ROLE]",
        summary="skills ranked by gap: what employers want beside what candidates list",
        examples=("gaps", "gaps ai eng"),
        aliases=("gap",),
        shareable=True,
    )
)
