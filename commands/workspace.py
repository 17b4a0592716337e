"""Per-workspace choices: the role SkillGap answers about when a command names none."""

from __future__ import annotations

from bot.services import Services


async def workspace_default_role(services: Services, team_id: str) -> str:
    """The workspace's default role: its own setting, else the app-wide one."""
    return services.settings.default_role
