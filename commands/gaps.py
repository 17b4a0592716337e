"""`/skillgap gaps [ROLE]`: skills ranked by gap, employer demand beside candidate supply."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from commands.lookup import (
    region_note,
    render_card,
    rerun_command,
    role_with_stats,
)
from commands.router import CommandRequest, Subcommand, router_for
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
        stats=stats,
        gaps=stats.skills_by_gap(),
        title=f"Skills gaps · {stats.role.title}",
        typed=chosen.typed,
        shown=chosen.name,
        region_note=region_note(chosen, stats),
        shared=request.shared,
        share_command=rerun_command("gaps", chosen.slug, chosen.region),
        check_role=chosen.slug,
    )


def register(app: AsyncApp) -> None:
    router_for(app).add(
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
