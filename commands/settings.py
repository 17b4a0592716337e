"""`/skillgap settings role ROLE`: a workspace admin picks the role commands default to."""

from __future__ import annotations

from dataclasses import replace

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from commands.lookup import choose_role, no_data, stats_for
from commands.router import CommandRequest, Subcommand, router_for
from commands.workspace import workspace_default_role
from db.workspace import set_default_role
from templates import SlackMessage, render_message


async def is_workspace_admin(request: CommandRequest) -> bool:
    """Whether Slack says the person is an admin or owner of the workspace."""
    try:
        answer = await request.client.users_info(user=request.user_id)
    except SlackApiError:
        return False
    user = answer.get("user") or {}
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))


async def answer_settings(request: CommandRequest) -> SlackMessage:
    setting, _, value = request.text.partition(" ")
    if setting.lower() != "role":
        current = await workspace_default_role(request.services, request.team_id)
        return render_message("settings.j2", changed=False, role=current)
    if not await is_workspace_admin(request):
        return render_message("problem.j2", problem="not_admin", command="settings role")
    if not value.strip():
        return render_message("problem.j2", problem="settings_usage", command="settings")
    role_request = replace(request, text=value)
    chosen = await choose_role(role_request, command="settings role", changes=True)
    if isinstance(chosen, SlackMessage):
        return chosen
    if await stats_for(request, chosen) is None:
        # A default without figures would leave every plain command answering "no figures".
        return await no_data(request, chosen, command="settings role")
    await set_default_role(request.services.engine, request.team_id, chosen.slug, request.user_id)
    return render_message("settings.j2", changed=True, role=chosen.name)


def register(app: AsyncApp) -> None:
    router_for(app).add(
        Subcommand(
            "settings",
            answer_settings,
            usage="settings role ROLE",
            summary="(admins) the role commands answer about when none is named",
            examples=("settings role ai engineer",),
            group="Workspace",
        )
    )
