"""`/skillgap role [ROLE] [in REGION]`: the role card (pay, tenure, skills, gaps, emerging)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from commands.lookup import (
    places_for,
    render_card,
    rerun_command,
    role_with_stats,
)
from commands.router import CommandRequest, Subcommand, router_for
from templates import SlackMessage

TOP_SKILLS = 8
TOP_GAPS = 5


async def answer_role(request: CommandRequest) -> SlackMessage:
    found = await role_with_stats(request)
    if isinstance(found, SlackMessage):
        return found
    chosen, stats = found
    # Essential skills are what most employers require; demand % ranks them when known.
    top_skills = stats.essential_skills() or stats.most_demanded(TOP_SKILLS)
    places = places_for(chosen.region)
    return render_card(
        stats,
        (tuple(places), chosen.slug, chosen.typed, request.shared),
        "role_card.j2",
        stats=stats,
        places=places,
        tenure=stats.role.typical_tenure_months,
        top_skills=top_skills[:TOP_SKILLS],
        gaps=stats.top_gaps(TOP_GAPS),
        emerging=stats.emerging_skills(),
        typed=chosen.typed,
        shown=chosen.name,
        shared=request.shared,
        share_command=rerun_command("role", chosen.slug, chosen.region),
        check_role=chosen.slug,
    )


def register(app: AsyncApp) -> None:
    router_for(app).add(
        Subcommand(
            "role",
            answer_role,
            usage="role [ROLE] [in REGION]",
            summary="the role card: salary, day rate, tenure, skills wanted, gaps, emerging skills",
            examples=("role ai engineer", "role ai eng in London"),
            aliases=("card",),
            shareable=True,
        )
    )
