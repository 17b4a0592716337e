"""Per-workspace choices: the role SkillGap answers about when a command names none."""

from __future__ import annotations

from db.resolve import MatchKind
from db.services import Services
from db.workspace import default_role_slug


async def workspace_default_role(services: Services, team_id: str) -> str:
    """The workspace's default role: its own setting, else the app-wide one."""
    slug = await default_role_slug(services.engine, team_id) if team_id else None
    if slug is not None:
        chosen = await services.market.resolve_role(slug)
        if chosen.match is not None and chosen.kind is MatchKind.EXACT:
            return chosen.match.name
    return services.settings.default_role
