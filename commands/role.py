"""`/skillgap role [ROLE] [in REGION]`: the role card (pay, tenure, skills, gaps, emerging)."""

from __future__ import annotations

from commands.lookup import (
    card_context,
    places_for,
    render_card,
    role_with_stats,
)
from commands.router import CommandRequest, Subcommand, register_subcommand
from templates import SlackMessage

TOP_SKILLS = 8
TOP_GAPS = 5


async def answer_role(request: CommandRequest) -> SlackMessage:
    found = await role_with_stats(request)
    if isinstance(found, SlackMessage):
        return found
    chosen, stats = found
    places = places_for(chosen.region)
    # A family's examples as the source gives them: "Cloud Platforms — AWS, GCP or Azure".
    examples = (await request.services.market.skill_graph()).examples
    return render_card(
        stats,
        (tuple(places), chosen.slug, chosen.typed, request.shared, id(examples)),
        "role_card.j2",
        lambda: {
            "stats": stats,
            "places": places,
            "tenure": stats.role.typical_tenure_months,
            # Essential skills are what most employers require; demand % ranks them if known.
            "top_skills": (stats.essential_skills() or stats.most_demanded(TOP_SKILLS))[
                :TOP_SKILLS
            ],
            "gaps": stats.top_gaps(TOP_GAPS),
            "emerging": stats.emerging_skills(),
            "examples": examples,
            **card_context(request, "role", chosen),
        },
    )


register = register_subcommand(
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
