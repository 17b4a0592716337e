"""`/skillgap path [ROLE]`: the progression ladder, tenure, lateral moves and entry routes."""

from __future__ import annotations

from commands.lookup import card_context, choose_role, no_data
from commands.router import CommandRequest, Subcommand, register_subcommand
from db.market_figures import RolePath
from templates import SlackMessage, render_message


def current_step(path: RolePath) -> str | None:
    """The ladder rung that is the role itself ("AI Engineer"), to highlight it."""
    for step in path.ladder:
        if path.role_title.lower() in (part.strip().lower() for part in step.split("/")):
            return step
    return None


async def answer_path(request: CommandRequest) -> SlackMessage:
    chosen = await choose_role(request)
    if isinstance(chosen, SlackMessage):
        return chosen
    market = request.services.market
    path = await market.role_path(chosen.slug)
    if path is None:
        return await no_data(request, chosen)
    roles = await market.list_roles(request.team_id)
    known_roles = {role.title for role in roles}
    latest = next((role.latest for role in roles if role.slug == chosen.slug), None)
    # The path comes from the newest published report, not from a team's ads.
    snapshot = path.source or latest
    return render_message(
        "path.j2",
        path=path,
        current_step=current_step(path),
        known_roles=known_roles,
        snapshot=snapshot,
        title=f"Career path · {path.role_title}",
        region_note="",
        **card_context(request, "path", chosen, regional=False),
    )


register = register_subcommand(
    Subcommand(
        "path",
        answer_path,
        usage="path [ROLE]",
        summary="career ladder, typical tenure, lateral moves and ways in",
        examples=("path", "path ai engineer"),
        aliases=("career", "ladder", "progression"),
        shareable=True,
    )
)
