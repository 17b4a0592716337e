"""The one /skillgap slash command: splits off the subcommand and routes it to its feature.

Feature modules add their subcommands from their own `register(app)`:

    from commands.router import Subcommand, router_for

    def register(app: AsyncApp) -> None:
        router_for(app).add(Subcommand("check", answer_check, usage="check SKILLS [for ROLE]",
                                       summary="Compare your skills with a role", group="You"))

A handler takes a `CommandRequest` and returns the `SlackMessage` to show the person
(ephemeral), or None when it answered some other way (opened a modal, sent a DM). The router
acks within Slack's 3 s: a quick answer travels in the ack body itself; one that takes longer
than `answer_within` seconds is acked with a short note and then sent through the
response_url. Set `ack_first=True` for handlers that need the trigger_id straight away (modals).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any
from weakref import WeakKeyDictionary

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from commands.parser import split_subcommand
from db.services import Services, services_from
from templates import SlackMessage, render_message

logger = logging.getLogger(__name__)

COMMAND = "/skillgap"
# Slack allows 3 s for the ack; an answer ready well within that goes in the ack body.
ANSWER_IN_ACK_SECONDS = 2.0


@dataclass(frozen=True)
class CommandRequest:
    """Who asked what, where: everything a subcommand handler needs."""

    name: str  # the subcommand as routed, e.g. "role"
    text: str  # what follows the subcommand word, cleaned of control characters
    team_id: str
    user_id: str
    channel_id: str
    services: Services
    client: AsyncWebClient
    trigger_id: str = ""
    response_url: str = ""
    # True when the answer will be posted publicly (the Share button): no personal data, and
    # no buttons that only make sense to the person who asked.
    shared: bool = False
    # True only when the person pressed a Confirm button SkillGap showed them: commands that
    # destroy something ask first and act on the confirmed re-run (typed text never sets it).
    confirmed: bool = False
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def command_text(self) -> str:
        """The subcommand and its arguments as one line, e.g. "role ai-engineer in London"."""
        return f"{self.name} {self.text}".strip()


Handler = Callable[[CommandRequest], Awaitable[SlackMessage | None]]


@dataclass(frozen=True)
class Subcommand:
    """One `/skillgap NAME …` feature and how help describes it."""

    name: str
    handler: Handler
    usage: str = ""  # e.g. "role [ROLE] [in REGION]"
    summary: str = ""
    examples: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    group: str = "Market"  # the help section it is listed under
    # Its answer is market data only, so the "Share in channel" button may re-run it publicly.
    shareable: bool = False
    # Ack (empty) before running the handler: for handlers that open a modal with trigger_id.
    ack_first: bool = False
    show_in_help: bool = True


class CommandRouter:
    """The subcommands one app knows, and how a request reaches one of them."""

    def __init__(self) -> None:
        self._subcommands: dict[str, Subcommand] = {}
        self._aliases: dict[str, str] = {}
        self.answer_within = ANSWER_IN_ACK_SECONDS
        # "Working on it" notes being sent; kept so they are not garbage-collected.
        self._pending: set[asyncio.Task[None]] = set()

    def add(self, subcommand: Subcommand) -> None:
        """Add a subcommand (a later one of the same name replaces the earlier)."""
        self._subcommands[subcommand.name] = subcommand
        for alias in subcommand.aliases:
            self._aliases[alias] = subcommand.name

    def find(self, name: str) -> Subcommand | None:
        name = name.lower()
        return self._subcommands.get(self._aliases.get(name, name))

    def subcommands(self) -> list[Subcommand]:
        return list(self._subcommands.values())

    @property
    def default(self) -> Subcommand | None:
        """What a bare `/skillgap` or an unknown word runs: help."""
        return self._subcommands.get("help")

    async def answer(self, request: CommandRequest) -> SlackMessage | None:
        """Run the request's subcommand and return its answer; never raises."""
        subcommand = self.find(request.name)
        try:
            if subcommand is None:
                return await self._fallback(request)
            if request.shared and not subcommand.shareable:
                return render_message("problem.j2", problem="not_shareable", command=request.name)
            return await subcommand.handler(request)
        except Exception:
            logger.exception("/skillgap %s failed", request.name)
            return render_message("problem.j2", problem="internal", command=request.name)

    async def _fallback(self, request: CommandRequest) -> SlackMessage | None:
        """Unknown subcommands get help about the word they typed."""
        help_command = self.default
        if help_command is None:
            return render_message("problem.j2", problem="unknown_command", command=request.name)
        return await help_command.handler(replace(request, name="help", text=request.name))

    async def dispatch(self, request: CommandRequest, ack: AsyncAck, respond: AsyncRespond) -> None:
        """Ack within Slack's limit, with the answer in the ack body when it is ready in time."""
        subcommand = self.find(request.name)
        if subcommand is not None and subcommand.ack_first:
            await ack()
            message = await self.answer(request)
            if message is not None:
                await _send(respond, message)
            return
        # The answer is computed right here, not in a task of its own: a timer acks with a
        # short note if it is not ready in time, and the answer then follows by response_url.
        deadline = _AckDeadline(ack, self.answer_within, self._pending)
        try:
            message = await self.answer(request)
        finally:
            deadline.cancel()
        if not deadline.passed:
            if message is None:
                await ack()
            else:
                await ack(text=message.text, blocks=message.blocks, response_type="ephemeral")
            return
        await deadline.acked()
        if message is not None:
            try:
                await _send(respond, message, replace_original=True)
            except Exception:
                logger.exception("could not deliver a late /skillgap answer")


class _AckDeadline:
    """Acks with "Working on it" when the answer is not ready within `seconds`."""

    def __init__(self, ack: AsyncAck, seconds: float, pending: set[asyncio.Task[None]]) -> None:
        self.passed = False
        self._ack = ack
        self._pending = pending
        self._sent: asyncio.Task[None] | None = None
        self._timer = asyncio.get_running_loop().call_later(seconds, self._pass)

    def _pass(self) -> None:
        self.passed = True
        self._sent = asyncio.ensure_future(self._send_note())
        # Kept until done: the loop holds tasks only weakly.
        self._pending.add(self._sent)
        self._sent.add_done_callback(self._pending.discard)

    async def _send_note(self) -> None:
        await self._ack(**render_message("working.j2").as_kwargs(), response_type="ephemeral")

    def cancel(self) -> None:
        self._timer.cancel()

    async def acked(self) -> None:
        """Wait until the note has gone (the answer replaces it)."""
        if self._sent is not None:
            await self._sent


async def _send(
    respond: AsyncRespond, message: SlackMessage, *, replace_original: bool | None = None
) -> None:
    await respond(
        text=message.text,
        blocks=message.blocks,
        response_type="ephemeral",
        replace_original=replace_original,
    )


_routers: WeakKeyDictionary[AsyncApp, CommandRouter] = WeakKeyDictionary()


def router_for(app: AsyncApp) -> CommandRouter:
    """The app's router, made on first use so modules can register in any order."""
    router = _routers.get(app)
    if router is None:
        router = _routers[app] = CommandRouter()
    return router


def register_subcommand(subcommand: Subcommand) -> Callable[[AsyncApp], None]:
    """The `register(app)` of a feature module whose listener is one /skillgap subcommand."""

    def register(app: AsyncApp) -> None:
        router_for(app).add(subcommand)

    return register


def command_request(
    command_text: str, body: dict[str, Any], context: Any, client: AsyncWebClient
) -> CommandRequest:
    """A CommandRequest running `command_text` for whoever sent this payload (a slash command,
    or a button that runs one again): who and where as Bolt's context gives them."""
    name, rest = split_subcommand(command_text)
    return CommandRequest(
        name=name,
        text=rest,
        team_id=team_id_of(body, context),
        user_id=str(context.get("user_id") or ""),
        channel_id=str(context.get("channel_id") or ""),
        services=services_from(context),
        client=client,
        trigger_id=str(body.get("trigger_id") or ""),
        response_url=str(body.get("response_url") or ""),
        body=body,
    )


def team_id_of(body: dict[str, Any], context: Any) -> str:
    """The asking workspace: Bolt's context first, then the payload's own fields."""
    team = context.get("team_id") if hasattr(context, "get") else None
    if not team:
        team_field = body.get("team")
        team = (
            team_field.get("id")
            if isinstance(team_field, dict)
            else body.get("team_id") or (body.get("user") or {}).get("team_id")
        )
    return str(team or "")


def register(app: AsyncApp) -> None:
    """Route every `/skillgap …` to the subcommand registered for it."""
    router = router_for(app)

    async def on_skillgap(
        ack: AsyncAck,
        body: dict[str, Any],
        context: Any,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        request = command_request(str(body.get("text") or ""), body, context, client)
        await router.dispatch(request, ack, respond)

    app.command(COMMAND)(on_skillgap)
