"""The local shell: type `/skillgap …` and see what the real app would send to Slack.

Each line becomes a signed slash-command request dispatched through the real app, whose Web
API is a local SlackStub; the ack body, response-URL posts and Web API calls it produces are
printed as text (or as JSON lines with --json) before the next line is read.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from rich.console import Console
from rich.rule import Rule
from rich.text import Text

from bot.app import build_app, close_app
from bot.registry import FEATURE_MODULES, Feature
from bot.slack_requests import SlackUser, block_actions_body, signed_request, slash_command_body
from bot.slack_stub import RESPONSE_URL_METHOD, SlackStub
from db.engine import create_engine
from db.settings import Settings
from db.startup import prepare

# Calls Bolt makes for itself, not part of any answer.
_PLUMBING = frozenset({"auth.test"})
# How long the app must stay silent, after its listeners finished, for a line to be done.
_QUIET_SECONDS = 0.15
_ANSWER_TIMEOUT_SECONDS = 30.0
# With no answer at all after this long (and nothing running), the line is done.
_SILENCE_SECONDS = 2.0

HELP = """Type a slash command, e.g. `/skillgap role ai engineer` (the `/skillgap` may be left out).
  :buttons          list the buttons of the last answer
  :press N          press button N of the last answer
  :quit             leave (or Ctrl-D)"""


@dataclass
class Reply:
    """One thing the app sent back: an ack, a response-URL post or a Web API call."""

    kind: str  # "ack", "response_url", "api"
    payload: dict[str, Any]
    method: str | None = None

    def as_json(self) -> dict[str, Any]:
        record: dict[str, Any] = {"kind": self.kind}
        if self.method:
            record["method"] = self.method
        record["payload"] = self.payload
        return record


@dataclass
class Button:
    label: str
    action_id: str
    value: str
    message: dict[str, Any]
    view: dict[str, Any] | None = None


@dataclass
class ShellSession:
    """A running app on a stub, and what the last answer offered to press."""

    settings: Settings
    stub: SlackStub
    user: SlackUser = field(default_factory=SlackUser)
    buttons: list[Button] = field(default_factory=list)


def _shell_settings(settings: Settings, stub: SlackStub) -> Settings:
    # Made-up credentials: nothing here ever reaches Slack.
    return settings.model_copy(
        update={
            "slack_bot_token": f"xoxb-shell-{secrets.token_hex(8)}",
            "slack_signing_secret": secrets.token_hex(16),
            "slack_app_token": None,
            "slack_client_id": None,
            "slack_client_secret": None,
            "slack_api_url": stub.api_url,
            # Answers to the stub's response URLs are the shell's output.
            "slack_response_url_base": stub.root_url,
        }
    )


def command_line_to_text(line: str) -> tuple[str, str] | None:
    """("/skillgap", "role ai engineer") from what was typed, or None for a blank line."""
    line = line.strip()
    if not line or line.startswith("#"):
        return None
    if line.startswith("/"):
        command, _, rest = line.partition(" ")
        return command, rest.strip()
    return "/skillgap", line


class Shell:
    def __init__(
        self,
        settings: Settings,
        *,
        as_json: bool = False,
        out: TextIO | None = None,
        features: tuple[Feature, ...] = FEATURE_MODULES,
    ) -> None:
        self.base_settings = settings
        self.as_json = as_json
        self.out = out or sys.stdout
        self.console = Console(file=self.out, highlight=False, soft_wrap=True, emoji=False)
        self.features = features

    async def run(self, read_line: Callable[[], str | None]) -> None:
        engine = create_engine(self.base_settings.database_url)
        try:
            await prepare(engine)
            async with SlackStub() as stub:
                settings = _shell_settings(self.base_settings, stub)
                app = build_app(settings, engine, features=self.features)
                session = ShellSession(settings, stub)
                try:
                    while True:
                        line = await asyncio.to_thread(read_line)
                        if line is None or line.strip() in (":quit", ":q", "exit", "quit"):
                            break
                        await self.handle_line(app, session, line)
                finally:
                    await close_app(app)
        finally:
            await engine.dispose()

    async def handle_line(self, app: Any, session: ShellSession, line: str) -> None:
        stripped = line.strip()
        if stripped in (":help", "?"):
            self._note(HELP)
            return
        if stripped == ":buttons":
            self._list_buttons(session)
            return
        if stripped.startswith(":press"):
            await self._press(app, session, stripped.removeprefix(":press").strip())
            return
        parsed = command_line_to_text(line)
        if parsed is None:
            return
        command, text = parsed
        response_id = uuid.uuid4().hex
        body = slash_command_body(
            text,
            user=session.user,
            command=command,
            response_url=session.stub.response_url(response_id),
        )
        if not self.as_json:
            self.console.print(Text(f"> {command} {text}".rstrip(), style="bold cyan"))
        await self._exchange(app, session, body)

    async def _exchange(self, app: Any, session: ShellSession, body: str) -> None:
        stub = session.stub
        first = len(stub.calls)
        baseline = asyncio.all_tasks()
        response = await app.async_dispatch(
            signed_request(session.settings.slack_signing_secret or "", body)
        )
        replies: list[Reply] = []
        if response.status != 200:
            replies.append(Reply("ack", {"status": response.status, "text": response.body}))
        elif response.body:
            replies.append(Reply("ack", _ack_payload(response.body)))
        await wait_until_answered(stub, first, baseline, answered=bool(response.body))
        for call in stub.calls[first:]:
            if call.method == RESPONSE_URL_METHOD:
                replies.append(Reply("response_url", call.args))
            elif call.method not in _PLUMBING:
                replies.append(Reply("api", call.args, call.method))
        session.buttons = _buttons_in(replies)
        self._show(replies, session.buttons)

    def _show(self, replies: list[Reply], buttons: list[Button]) -> None:
        if self.as_json:
            for reply in replies:
                self.out.write(json.dumps(reply.as_json(), ensure_ascii=False) + "\n")
            self.out.flush()
            return
        if not replies:
            self._note("(no answer)")
        for reply in replies:
            if reply.kind == "api" and not _carries_content(reply):
                # Plumbing such as conversations.open: one quiet line, not a card.
                self.console.print(Text(f"· {reply.method} {_brief(reply.payload)}", style="dim"))
                continue
            self.console.print(Rule(_title(reply), style="dim", align="left"))
            for line in render_payload(reply.payload):
                self.console.print(line)
        if buttons:
            choices = "  ".join(f":press {n} = {b.label}" for n, b in enumerate(buttons, 1))
            self.console.print(Text(choices, style="dim"))
        self.console.print()
        self.out.flush()

    def _list_buttons(self, session: ShellSession) -> None:
        if not session.buttons:
            self._note("The last answer has no buttons.")
        for number, button in enumerate(session.buttons, start=1):
            self._note(f"{number}. {button.label}  ({button.action_id})")

    async def _press(self, app: Any, session: ShellSession, argument: str) -> None:
        if not argument.isdigit() or not 1 <= int(argument) <= len(session.buttons):
            self._note(f"Say which button: :press 1 … :press {max(1, len(session.buttons))}")
            return
        button = session.buttons[int(argument) - 1]
        if not self.as_json:
            self.console.print(Text(f"> [press] {button.label}", style="bold cyan"))
        body = block_actions_body(
            [{"action_id": button.action_id, "type": "button", "value": button.value}],
            user=session.user,
            response_url=session.stub.response_url(uuid.uuid4().hex),
            message=button.message if button.view is None else None,
            view=button.view,
            container=(
                {"type": "view", "view_id": button.view.get("id", "V0")}
                if button.view is not None
                else {
                    "type": "message",
                    "message_ts": "0",
                    "channel_id": session.user.channel_id,
                    "is_ephemeral": True,
                }
            ),
        )
        await self._exchange(app, session, body)

    def _note(self, text: str) -> None:
        if self.as_json:
            sys.stderr.write(text + "\n")
        else:
            self.console.print(Text(text, style="dim"))


async def wait_until_answered(
    stub: SlackStub,
    first: int,
    baseline: set[asyncio.Task[Any]],
    *,
    answered: bool,
    quiet: float = _QUIET_SECONDS,
    silence: float = _SILENCE_SECONDS,
    give_up_after: float = _ANSWER_TIMEOUT_SECONDS,
) -> None:
    """Until the work a request started is done and the app has been quiet a moment.

    "Work" is every task created since `baseline` was taken (the listener, an answer a
    command finishes in the background, lazy listeners), except the stub's connection
    handlers, which live as long as their keep-alive connection. `first` is the number of
    stub calls before the request; `answered` says whether the ack already carried a reply.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    current = asyncio.current_task()
    while loop.time() - started < give_up_after:
        running = {
            task
            for task in asyncio.all_tasks()
            if task is not current and task not in baseline and not _serves_connections(task)
        }
        if running:
            await asyncio.wait(running, timeout=max(0.0, give_up_after - (loop.time() - started)))
            continue
        seen = len(stub.calls)
        await asyncio.sleep(quiet)
        if len(stub.calls) != seen:
            continue
        if answered or any(call.method not in _PLUMBING for call in stub.calls[first:]):
            return
        if loop.time() - started > silence:
            return  # the app chose to say nothing


def _serves_connections(task: asyncio.Task[Any]) -> bool:
    """aiohttp's per-connection server tasks (the stub's), which outlive any one answer."""
    coroutine = task.get_coro()
    module = getattr(getattr(coroutine, "cr_code", None), "co_filename", "")
    return "aiohttp" in module and "web_protocol" in module


def _ack_payload(body: str) -> dict[str, Any]:
    try:
        parsed = json.loads(body)
    except ValueError:
        return {"text": body}
    return parsed if isinstance(parsed, dict) else {"text": body}


def _title(reply: Reply) -> str:
    payload = reply.payload
    if reply.kind == "ack":
        return (
            f"reply ({payload.get('response_type', 'ephemeral')}, only you can see it)"
            if payload.get("response_type", "ephemeral") == "ephemeral"
            else "reply (in channel)"
        )
    if reply.kind == "response_url":
        visibility = "in channel" if payload.get("response_type") == "in_channel" else "only you"
        return f"reply via response_url ({visibility})"
    method = reply.method or ""
    if method == "chat.postMessage":
        channel = str(payload.get("channel", ""))
        where = "direct message" if channel.startswith(("D", "U")) else f"#{channel}"
        return f"chat.postMessage → {where}"
    if method.startswith("views."):
        view = payload.get("view")
        kind = view.get("type", "view") if isinstance(view, dict) else "view"
        return f"{method} ({kind})"
    return method


def _carries_content(reply: Reply) -> bool:
    payload = reply.payload
    return any(key in payload for key in ("text", "blocks", "view", "files", "attachments"))


def _brief(payload: dict[str, Any]) -> str:
    return " ".join(f"{key}={value}" for key, value in payload.items() if key != "team_id")[:200]


_MRKDWN_STYLE = re.compile(
    r"(?<![\w*])\*([^*\n]+)\*(?![\w*])"  # *bold*
    r"|(?<![\w_])_([^_\n]+)_(?![\w_])"  # _italic_
    r"|`([^`\n]+)`"  # `code`
)


def mrkdwn_to_rich(text: str) -> Text:
    """mrkdwn as styled terminal text: *bold*, _italic_ and `code` lose their markers."""
    plain = mrkdwn_to_text(text)
    rendered = Text()
    position = 0
    for match in _MRKDWN_STYLE.finditer(plain):
        rendered.append(plain[position : match.start()])
        bold, italic, code = match.groups()
        if bold is not None:
            rendered.append(bold, style="bold")
        elif italic is not None:
            rendered.append(italic, style="italic")
        else:
            rendered.append(code, style="cyan")
        position = match.end()
    rendered.append(plain[position:])
    return rendered


_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_BARE_LINK = re.compile(r"<(https?://[^|>]+)>")


def mrkdwn_to_text(text: str) -> str:
    """Slack mrkdwn made readable in a terminal (links shown as text (url), entities decoded)."""
    text = _LINK.sub(r"\2 (\1)", text)
    text = _BARE_LINK.sub(r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text_of(element: Any) -> str:
    if isinstance(element, dict):
        if "text" in element and isinstance(element["text"], str):
            return mrkdwn_to_text(element["text"])
        if "text" in element:
            return _text_of(element["text"])
        if element.get("type") == "image":
            return f"[image: {element.get('alt_text', '')}]"
        if "elements" in element:
            return "".join(_text_of(child) for child in element["elements"])
    if isinstance(element, str):
        return mrkdwn_to_text(element)
    return ""


def _raw_text(element: Any) -> str:
    """The mrkdwn of a text object, undecoded (mrkdwn_to_rich decodes it)."""
    if isinstance(element, dict) and isinstance(element.get("text"), str):
        return str(element["text"])
    return str(element) if isinstance(element, str) else ""


def render_blocks(blocks: list[Any]) -> list[Text]:
    lines: list[Text] = []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "header":
            lines.append(Text(_text_of(block.get("text")), style="bold"))
        elif kind == "section":
            if block.get("text"):
                lines.append(mrkdwn_to_rich(_raw_text(block["text"])))
            for field_object in block.get("fields") or []:
                # A field is "*Label*\nvalue\nmore": one line, "Label: value · more".
                label, *values = _raw_text(field_object).split("\n")
                line = f"  {label}: {' · '.join(values)}" if values else f"  {label}"
                lines.append(mrkdwn_to_rich(line))
            accessory = block.get("accessory")
            if isinstance(accessory, dict) and accessory.get("type") == "button":
                lines.append(Text(f"  [{_text_of(accessory.get('text'))}]", style="bold"))
        elif kind == "divider":
            lines.append(Text("─" * 40, style="dim"))
        elif kind == "context":
            parts = [_text_of(e) for e in block.get("elements") or []]
            lines.append(Text("  ".join(p for p in parts if p), style="dim"))
        elif kind == "actions":
            labels = []
            for element in block.get("elements") or []:
                if isinstance(element, dict) and element.get("type") == "button":
                    labels.append(f"[{_text_of(element.get('text'))}]")
                elif isinstance(element, dict):
                    labels.append(f"[{element.get('type', 'control')}]")
            lines.append(Text("  ".join(labels), style="bold"))
        elif kind == "image":
            lines.append(Text(f"[image: {block.get('alt_text', '')}]", style="dim"))
        elif kind in ("rich_text", "input"):
            label = _text_of(block.get("label")) if kind == "input" else ""
            lines.append(Text(label or _text_of(block)))
    return lines


def render_payload(payload: dict[str, Any]) -> list[Text]:
    """A message, view or other payload as terminal lines."""
    view = payload.get("view")
    if isinstance(view, dict):
        lines = []
        if view.get("title"):
            lines.append(Text(_text_of(view["title"]), style="bold underline"))
        return lines + render_blocks(view.get("blocks") or [])
    blocks = payload.get("blocks")
    if isinstance(blocks, list) and blocks:
        return render_blocks(blocks)
    if "text" in payload:
        return [mrkdwn_to_rich(str(payload["text"]))]
    if "files" in payload or "file_id" in payload:
        return [
            Text(f"[file upload: {json.dumps(payload, ensure_ascii=False)[:200]}]", style="dim")
        ]
    return [Text(json.dumps(payload, ensure_ascii=False)[:500], style="dim")]


def _buttons_in(replies: list[Reply]) -> list[Button]:
    found: list[Button] = []
    for reply in replies:
        view = reply.payload.get("view")
        container = view if isinstance(view, dict) else None
        blocks = (container or reply.payload).get("blocks") or []
        message = {"text": reply.payload.get("text", ""), "blocks": blocks, "ts": "0"}
        for block in blocks:
            if not isinstance(block, dict):
                continue
            candidates = list(block.get("elements") or []) if block.get("type") == "actions" else []
            if isinstance(block.get("accessory"), dict):
                candidates.append(block["accessory"])
            for element in candidates:
                if isinstance(element, dict) and element.get("type") == "button":
                    found.append(
                        Button(
                            _text_of(element.get("text")),
                            str(element.get("action_id", "")),
                            str(element.get("value", "")),
                            message,
                            container,
                        )
                    )
    return found


def stdin_reader(prompt: str) -> Callable[[], str | None]:
    """Lines from stdin: a prompt when a person is typing, none when input is piped."""
    interactive = sys.stdin.isatty()

    def read_line() -> str | None:
        if interactive:
            try:
                return input(prompt)
            except EOFError:
                return None
        line = sys.stdin.readline()
        return line if line else None

    return read_line


def run_shell(settings: Settings, *, as_json: bool = False) -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    shell = Shell(settings, as_json=as_json)
    if sys.stdin.isatty() and not as_json:
        shell.console.print(Text("SkillGap shell — no Slack needed. " + HELP, style="dim"))
    asyncio.run(shell.run(stdin_reader("skillgap> ")))
