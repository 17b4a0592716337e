"""`/skillgap roles`: every role SkillGap has figures for, with its headline pay."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from commands.lookup import default_role_name
from commands.router import CommandRequest, Subcommand, register_subcommand
from db.market import MarketReader
from db.market_figures import RoleStats, RoleSummary
from templates import SlackMessage, render_message


@dataclass(frozen=True)
class RoleRow:
    summary: RoleSummary
    stats: RoleStats | None


async def role_rows(market: MarketReader, team_id: str) -> list[RoleRow]:
    """Each known role beside its newest UK figures."""
    summaries = await market.list_roles(team_id)
    stats = await asyncio.gather(*(market.role_stats(s.slug, team_id) for s in summaries))
    return [RoleRow(summary, figures) for summary, figures in zip(summaries, stats, strict=True)]


async def answer_roles(request: CommandRequest) -> SlackMessage:
    return render_message(
        "roles.j2",
        rows=await role_rows(request.services.market, request.team_id),
        default_role=await default_role_name(request),
        shared=request.shared,
        share_command="roles",
    )


register = register_subcommand(
    Subcommand(
        "roles",
        answer_roles,
        usage="roles",
        summary="the roles SkillGap has figures for",
        examples=("roles",),
        aliases=("list",),
        shareable=True,
    )
)
