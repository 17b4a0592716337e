"""`/skillgap` and `/skillgap help [COMMAND]`: what SkillGap can do, with examples."""

from __future__ import annotations

from dataclasses import dataclass

from slack_bolt.async_app import AsyncApp

from commands.lookup import default_role_name
from commands.parser import echo
from commands.router import CommandRequest, CommandRouter, Handler, Subcommand, router_for
from templates import SlackMessage, render_message

# Help sections, in the order they are listed.
GROUPS = ("Market", "You", "Channel digests", "Workspace")


@dataclass(frozen=True)
class HelpGroup:
    title: str
    commands: tuple[Subcommand, ...]


def help_groups(router: CommandRouter) -> list[HelpGroup]:
    """Listed subcommands by section, each section in registration order."""
    listed = [s for s in router.subcommands() if s.show_in_help and s.name != "help"]
    titles = [*GROUPS, *sorted({s.group for s in listed} - set(GROUPS))]
    groups = [HelpGroup(title, tuple(s for s in listed if s.group == title)) for title in titles]
    return [group for group in groups if group.commands]


def answer_help_for(router: CommandRouter) -> Handler:
    async def answer_help(request: CommandRequest) -> SlackMessage:
        word = request.text.split(" ", 1)[0].lower() if request.text else ""
        asked = router.find(word) if word else None
        detail = asked if asked is not None and asked.name != "help" else None
        unknown = echo(word) if word and word != "help" and asked is None else ""
        return render_message(
            "help.j2",
            groups=help_groups(router),
            unknown=unknown,
            detail=detail,
            default_role=await default_role_name(request),
        )

    return answer_help


def register(app: AsyncApp) -> None:
    router = router_for(app)
    router.add(
        Subcommand(
            "help",
            answer_help_for(router),
            usage="help [COMMAND]",
            summary="what SkillGap can do",
            aliases=("?", "-h", "--help"),
            shareable=True,
        )
    )
