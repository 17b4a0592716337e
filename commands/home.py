"""The App Home tab: known roles with their freshest figures, how to use SkillGap, and sections
other features add.

EXTENSION POINT: a feature adds its own Home section from its `register(app)`:

    from commands.home import HomeRequest, add_home_section

    async def my_profile_section(request: HomeRequest) -> list[dict[str, Any]]:
        return render_json("profile_home.j2", ...)["blocks"]   # [] to show nothing

    def register(app: AsyncApp) -> None:
        add_home_section(app, "profile", my_profile_section, order=200)

Sections appear between the roles and the usage guide, lowest `order` first. The blocks are
the viewer's own (views.publish shows the tab to that user only), so a section may hold that
person's data. A section that fails or returns invalid blocks is logged and left out; it never
takes the Home tab down.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from commands.help import help_groups
from commands.roles import role_rows
from commands.router import router_for, team_id_of
from commands.workspace import workspace_default_role
from db.services import Services, services_from
from templates import render_view, validate_blocks

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HomeRequest:
    """Whose Home tab is being drawn, in which workspace."""

    team_id: str
    user_id: str
    services: Services
    client: AsyncWebClient


HomeProvider = Callable[[HomeRequest], Awaitable[list[dict[str, Any]]]]


@dataclass(frozen=True)
class HomeSection:
    name: str
    provider: HomeProvider
    order: int = 500


_sections: WeakKeyDictionary[AsyncApp, dict[str, HomeSection]] = WeakKeyDictionary()


def add_home_section(app: AsyncApp, name: str, provider: HomeProvider, *, order: int = 500) -> None:
    """Show `provider`'s blocks on every Home tab of `app` (a later add with a name replaces)."""
    _sections.setdefault(app, {})[name] = HomeSection(name, provider, order)


async def gather_sections(app: AsyncApp, request: HomeRequest) -> list[list[dict[str, Any]]]:
    """Every registered section's blocks, in order; failing or invalid ones left out."""
    gathered = []
    for section in sorted(_sections.get(app, {}).values(), key=lambda s: (s.order, s.name)):
        try:
            blocks = await section.provider(request)
            validate_blocks(blocks)
        except Exception:
            logger.exception("Home section %r failed; leaving it out", section.name)
            continue
        if blocks:
            gathered.append(blocks)
    return gathered


async def build_home(app: AsyncApp, request: HomeRequest) -> dict[str, Any]:
    """The Home tab view for one person."""
    return render_view(
        "home.j2",
        rows=await role_rows(request.services.market, request.team_id),
        sections=await gather_sections(app, request),
        groups=help_groups(router_for(app)),
        default_role=await workspace_default_role(request.services, request.team_id),
    )


def register(app: AsyncApp) -> None:
    async def publish_home(
        event: dict[str, Any], body: dict[str, Any], context: Any, client: AsyncWebClient
    ) -> None:
        if event.get("tab", "home") != "home":
            return  # the Messages tab needs nothing from us
        user_id = str(event.get("user") or "")
        if not user_id:
            return
        request = HomeRequest(team_id_of(body, context), user_id, services_from(context), client)
        await client.views_publish(user_id=user_id, view=await build_home(app, request))

    app.event("app_home_opened")(publish_home)
