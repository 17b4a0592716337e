"""A local stand-in for Slack's Web API, response URLs and Socket Mode: tests, benchmarks, shell."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSCloseCode, WSMsgType, web

from bot.slack_stub_methods import (
    StubReply,
    StubRequest,
    Workspace,
    answer_method,
    dm_channel_for,
)

# Arguments Slack accepts as JSON text inside form posts; decoded so tests can look inside.
_JSON_ARGUMENTS = ("blocks", "attachments", "view", "metadata", "files", "unfurls")

# Methods authenticated by the app's client id and secret rather than a token.
_CLIENT_AUTHENTICATED = frozenset({"oauth.v2.access"})

RESPONSE_URL_METHOD = "response_url"
UPLOAD_METHOD = "file_upload"

# Socket Mode: apps.connections.open hands out a one-use WebSocket URL on this path.
SOCKET_MODE_PATH = "/socket-mode"


@dataclass
class RecordedCall:
    """One request the stub received, and what it answered."""

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    token: str | None
    team_id: str | None
    at: float  # time.time() when it arrived
    monotonic: float  # time.monotonic() when it arrived, for latency figures
    status: int = 200
    response: Any = None
    response_url_id: str | None = None
    body: bytes = b""

    @property
    def ok(self) -> bool:
        return self.status == 200 and not (
            isinstance(self.response, dict) and self.response.get("ok") is False
        )

    def text_content(self) -> str:
        """Every piece of text the call carries (text, blocks, view), for asserting on content."""
        return json.dumps(self.args, ensure_ascii=False)


# A rule may answer a call itself (a fault, a rate limit) or return None to let it through.
Rule = Callable[[StubRequest], Awaitable[StubReply | None]]
Responder = Callable[[StubRequest], Awaitable[dict[str, Any]]]


@dataclass
class _Fault:
    method: str
    reply: StubReply
    times: int

    async def __call__(self, request: StubRequest) -> StubReply | None:
        if self.times <= 0 or request.method != self.method:
            return None
        self.times -= 1
        return self.reply


@dataclass
class SocketAck:
    """What the app sent back over the WebSocket for one envelope."""

    envelope_id: str
    payload: dict[str, Any] | None  # the response payload (an ack's body); None when empty
    message: dict[str, Any]  # the whole message as sent
    at: float
    monotonic: float


@dataclass
class SocketConnection:
    """One Socket Mode WebSocket an app opened with a ticket from apps.connections.open."""

    number: int
    ticket: str
    websocket: web.WebSocketResponse
    received: list[dict[str, Any]] = field(default_factory=list)
    # Frames that were not a JSON object (Slack drops them; a test may want to know).
    unreadable: list[str] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return not self.websocket.closed


class SlackStub:
    """Slack's Web API on 127.0.0.1: records every call, answers like Slack, fails on request.

    Extend it with `add_rule` (answer or refuse a call before the normal answer, e.g. a
    per-channel rate limit) and `on` (answer a method the stub does not know yet).

    Socket Mode: apps.connections.open (with an `xapp-` token) returns a `ws://` URL served
    here; the stub greets each connection with `hello`, a test pushes envelopes with
    `socket_push` (or `socket_send_command` / `_event` / `_interaction`) and awaits the app's
    ack with `socket_ack`; `socket_disconnect` and `socket_drop` make the app reconnect.
    """

    DEFAULT_TOKEN = "xoxb-stub-token"

    def __init__(self, *, team_id: str = "T0STUB", team_name: str = "SkillGap Test") -> None:
        self.calls: list[RecordedCall] = []
        self.uploads: dict[str, bytes] = {}
        self.latency: float = 0.0
        self.method_latency: dict[str, float] = {}
        self.workspaces: dict[str, Workspace] = {}
        self.default_workspace = Workspace(team_id, team_name, "U0SKILLBOT", "B0SKILLBOT")
        self.users: dict[str, dict[str, Any]] = {}
        # The workspace an OAuth install (oauth.v2.access) belongs to.
        self.oauth_team_id = "T0OAUTH"
        self.channels: dict[str, dict[str, Any]] = {}
        self._rules: list[Rule] = []
        self._responders: dict[str, Responder] = {}
        self._ts_counter = itertools.count(1)
        self._id_counter = itertools.count(1)
        self._arrived = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        # Socket Mode: unused tickets, connections in the order they opened, acks by envelope.
        self.socket_connections: list[SocketConnection] = []
        self.socket_envelopes: dict[str, dict[str, Any]] = {}
        self.socket_acks: dict[str, SocketAck] = {}
        self._socket_tickets: set[str] = set()

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> SlackStub:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_post("/api/{method}", self._handle_api)
        app.router.add_get("/api/{method}", self._handle_api)
        app.router.add_post("/response/{response_id}", self._handle_response_url)
        app.router.add_post("/upload/{file_id}", self._handle_upload)
        app.router.add_get(SOCKET_MODE_PATH, self._handle_socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        # Open WebSockets would hold the server's shutdown until its timeout.
        for connection in self.socket_connections:
            if connection.open:
                await connection.websocket.close(code=WSCloseCode.GOING_AWAY)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SlackStub:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def root_url(self) -> str:
        if self._port is None:
            raise RuntimeError("the Slack stub is not started; await stub.start() first")
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_url(self) -> str:
        """The base URL for `AsyncWebClient(base_url=...)`."""
        return f"{self.root_url}/api/"

    @property
    def socket_url(self) -> str:
        """The Socket Mode WebSocket URL (without the ticket apps.connections.open adds)."""
        return "ws" + self.root_url.removeprefix("http") + SOCKET_MODE_PATH

    def response_url(self, response_id: str | None = None) -> str:
        """A response URL served by the stub; what is POSTed to it is recorded."""
        return f"{self.root_url}/response/{response_id or uuid.uuid4().hex}"

    # -- scripting ---------------------------------------------------------------------------

    def add_workspace(self, team_id: str, token: str, *, team_name: str | None = None) -> Workspace:
        """Make `token` a bot token of workspace `team_id` (for multi-workspace tests)."""
        suffix = team_id.removeprefix("T")
        workspace = Workspace(
            team_id, team_name or f"Team {team_id}", f"U0BOT{suffix}", f"B0{suffix}"
        )
        self.workspaces[token] = workspace
        return workspace

    def add_rule(self, rule: Rule) -> None:
        """Consult `rule` before answering any Web API call (first rule that answers wins)."""
        self._rules.append(rule)

    def on(self, method: str, responder: Responder) -> None:
        """Answer `method` with `responder` instead of the built-in answer."""
        self._responders[method] = responder

    def fail(self, method: str, error: str = "not_in_channel", *, times: int = 1) -> None:
        """The next `times` calls to `method` answer {"ok": false, "error": error}."""
        self.add_rule(_Fault(method, StubReply(200, {"ok": False, "error": error}), times))

    def rate_limit(self, method: str, retry_after: int = 1, *, times: int = 1) -> None:
        """The next `times` calls to `method` answer HTTP 429 with Retry-After."""
        reply = StubReply(
            429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)}
        )
        self.add_rule(_Fault(method, reply, times))

    def server_error(self, method: str, status: int = 500, *, times: int = 1) -> None:
        """The next `times` calls to `method` answer HTTP `status` (5xx)."""
        self.add_rule(
            _Fault(method, StubReply(status, {"ok": False, "error": "fatal_error"}), times)
        )

    def set_latency(self, seconds: float, method: str | None = None) -> None:
        """Delay answers (all, or one method's) by `seconds`."""
        if method is None:
            self.latency = seconds
        else:
            self.method_latency[method] = seconds

    def reset(self) -> None:
        """Forget recorded calls and scripted faults."""
        self.calls.clear()
        self._rules.clear()

    # -- Socket Mode ---------------------------------------------------------------------------

    async def wait_for_socket(self, *, count: int = 1, within: float = 5.0) -> SocketConnection:
        """Wait until `count` connections have opened and the newest is open; return it."""

        def newest_open() -> bool:
            return len(self.socket_connections) >= count and self.socket_connections[-1].open

        async with asyncio.timeout(within), self._arrived:
            await self._arrived.wait_for(newest_open)
        return self.socket_connections[-1]

    async def wait_for_socket_closed(
        self, connection: SocketConnection, *, within: float = 5.0
    ) -> None:
        """Wait until `connection` is closed (by the app, or by the stub)."""
        async with asyncio.timeout(within), self._arrived:
            await self._arrived.wait_for(lambda: not connection.open)

    async def socket_push(
        self,
        envelope_type: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool = False,
        retry_attempt: int | None = None,
        retry_reason: str | None = None,
        connection: SocketConnection | None = None,
    ) -> str:
        """Send one envelope down the newest open connection (or `connection`); its id."""
        target = connection or self._live_socket()
        envelope_id = str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": envelope_type,
            "accepts_response_payload": accepts_response_payload,
        }
        if retry_attempt is not None:
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = retry_reason or ""
        self.socket_envelopes[envelope_id] = envelope
        await target.websocket.send_json(envelope)
        return envelope_id

    async def socket_send_command(self, payload: dict[str, Any]) -> str:
        """A slash command (its fields as a JSON object); the ack may carry the answer."""
        return await self.socket_push("slash_commands", payload, accepts_response_payload=True)

    async def socket_send_event(
        self, payload: dict[str, Any], *, retry_attempt: int = 0, retry_reason: str = ""
    ) -> str:
        """An Events API delivery (an event_callback); Slack wants an empty ack."""
        return await self.socket_push(
            "events_api",
            payload,
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
        )

    async def socket_send_interaction(self, payload: dict[str, Any]) -> str:
        """A button press, modal submission, shortcut or options request."""
        # Only answers Slack reads from the ack (modal errors, options) get a response payload.
        accepts = payload.get("type") in ("view_submission", "block_suggestion")
        return await self.socket_push("interactive", payload, accepts_response_payload=accepts)

    async def socket_ack(self, envelope_id: str, *, within: float = 5.0) -> SocketAck:
        """Wait for the app's ack of one envelope."""
        async with asyncio.timeout(within), self._arrived:
            await self._arrived.wait_for(lambda: envelope_id in self.socket_acks)
        return self.socket_acks[envelope_id]

    async def socket_disconnect(
        self, reason: str = "refresh_requested", connection: SocketConnection | None = None
    ) -> None:
        """Ask the app to reconnect, as Slack does before it retires a connection."""
        target = connection or self._live_socket()
        await target.websocket.send_json(
            {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-stub"}}
        )

    async def socket_drop(self, connection: SocketConnection | None = None) -> None:
        """Close a connection without warning (a network blip or a server restart)."""
        target = connection or self._live_socket()
        await target.websocket.close(code=WSCloseCode.GOING_AWAY)

    def _live_socket(self) -> SocketConnection:
        for connection in reversed(self.socket_connections):
            if connection.open:
                return connection
        raise RuntimeError("no app is connected over Socket Mode; await stub.wait_for_socket()")

    def issue_socket_url(self) -> str:
        ticket = uuid.uuid4().hex
        self._socket_tickets.add(ticket)
        return f"{self.socket_url}?ticket={ticket}"

    # -- reading what happened ---------------------------------------------------------------

    def calls_to(self, method: str) -> list[RecordedCall]:
        return [call for call in self.calls if call.method == method]

    def responses_to(self, response_id: str | None = None) -> list[RecordedCall]:
        """What was POSTed to response URLs (one, or all)."""
        return [
            call
            for call in self.calls
            if call.method == RESPONSE_URL_METHOD
            and (response_id is None or call.response_url_id == response_id)
        ]

    async def wait_for(
        self,
        predicate: Callable[[RecordedCall], bool] | str,
        *,
        count: int = 1,
        within: float = 5.0,
    ) -> list[RecordedCall]:
        """Wait until `count` recorded calls match (a method name or a predicate)."""
        matches = (
            (lambda call: call.method == predicate) if isinstance(predicate, str) else predicate
        )

        def found() -> list[RecordedCall]:
            return [call for call in self.calls if matches(call)]

        async with asyncio.timeout(within), self._arrived:
            await self._arrived.wait_for(lambda: len(found()) >= count)
        return found()

    # -- serving -----------------------------------------------------------------------------

    async def _record(self, call: RecordedCall) -> None:
        self.calls.append(call)
        async with self._arrived:
            self._arrived.notify_all()

    def _workspace_for(self, token: str | None) -> Workspace:
        if token is not None and token in self.workspaces:
            return self.workspaces[token]
        return self.default_workspace

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        arrived, arrived_monotonic = time.time(), time.monotonic()
        method = request.match_info["method"]
        args = await _read_args(request)
        headers = dict(request.headers)
        token = _token_of(headers, args)
        workspace = self._workspace_for(token)
        stub_request = StubRequest(method, args, headers, token, workspace.team_id)
        call = RecordedCall(
            method, args, headers, token, workspace.team_id, arrived, arrived_monotonic
        )

        delay = self.method_latency.get(method, self.latency)
        if delay:
            await asyncio.sleep(delay)

        reply = await self._apply_rules(stub_request)
        if reply is None:
            if method in self._responders or method in _CLIENT_AUTHENTICATED:
                reply = StubReply(200, await self._answer(stub_request, workspace))
            elif token is None:
                reply = StubReply(200, {"ok": False, "error": "not_authed"})
            else:
                reply = StubReply(200, await self._answer(stub_request, workspace))
        call.status, call.response = reply.status, reply.body
        await self._record(call)
        return web.json_response(reply.body, status=reply.status, headers=reply.headers)

    async def _apply_rules(self, request: StubRequest) -> StubReply | None:
        for rule in list(self._rules):
            reply = await rule(request)
            if reply is not None:
                return reply
        return None

    async def _handle_response_url(self, request: web.Request) -> web.StreamResponse:
        arrived, arrived_monotonic = time.time(), time.monotonic()
        body = await request.read()
        try:
            args = json.loads(body) if body else {}
        except ValueError:
            args = {"_raw": body.decode("utf-8", "replace")}
        call = RecordedCall(
            RESPONSE_URL_METHOD,
            args if isinstance(args, dict) else {"_value": args},
            dict(request.headers),
            None,
            None,
            arrived,
            arrived_monotonic,
            response="ok",
            response_url_id=request.match_info["response_id"],
            body=body,
        )
        await self._record(call)
        return web.Response(text="ok")

    async def _handle_upload(self, request: web.Request) -> web.StreamResponse:
        arrived, arrived_monotonic = time.time(), time.monotonic()
        file_id = request.match_info["file_id"]
        body = await request.read()
        self.uploads[file_id] = body
        call = RecordedCall(
            UPLOAD_METHOD,
            {"file_id": file_id, "size": len(body)},
            dict(request.headers),
            None,
            None,
            arrived,
            arrived_monotonic,
            response=f"OK - {len(body)}",
            body=body,
        )
        await self._record(call)
        return web.Response(text=f"OK - {len(body)}")

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._socket_tickets:
            # Slack refuses a URL that apps.connections.open did not just hand out.
            return web.Response(status=401, text="invalid or used ticket")
        self._socket_tickets.discard(ticket)
        # autoping answers the client's pings with pongs carrying the same data, as Slack does.
        websocket = web.WebSocketResponse(autoping=True)
        await websocket.prepare(request)
        connection = SocketConnection(len(self.socket_connections) + 1, ticket, websocket)
        self.socket_connections.append(connection)
        await websocket.send_json(
            {
                "type": "hello",
                "num_connections": sum(1 for c in self.socket_connections if c.open),
                "debug_info": {
                    "host": "applink-stub",
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": self.default_workspace.app_id},
            }
        )
        await self._notify()
        try:
            async for frame in websocket:
                if frame.type == WSMsgType.TEXT:
                    await self._socket_received(connection, frame.data)
        finally:
            await self._notify()
        return websocket

    async def _socket_received(self, connection: SocketConnection, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            message = None
        if not isinstance(message, dict):
            connection.unreadable.append(text)
            await self._notify()
            return
        connection.received.append(message)
        envelope_id = message.get("envelope_id")
        if isinstance(envelope_id, str) and envelope_id:
            payload = message.get("payload")
            self.socket_acks[envelope_id] = SocketAck(
                envelope_id,
                payload if isinstance(payload, dict) else None,
                message,
                time.time(),
                time.monotonic(),
            )
        await self._notify()

    async def _notify(self) -> None:
        async with self._arrived:
            self._arrived.notify_all()

    # -- Slack's answers ---------------------------------------------------------------------

    def next_number(self) -> int:
        return next(self._id_counter)

    def next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts_counter):06d}"

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{self.next_number():08d}"

    dm_channel_for = staticmethod(dm_channel_for)

    async def _answer(self, request: StubRequest, workspace: Workspace) -> dict[str, Any]:
        responder = self._responders.get(request.method)
        if responder is not None:
            return await responder(request)
        return answer_method(self, request, workspace)


async def _read_args(request: web.Request) -> dict[str, Any]:
    """Query string, form fields and a JSON body merged, JSON-in-form arguments decoded."""
    args: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        content_type = request.content_type
        if content_type == "multipart/form-data":
            form = await request.post()
            args.update({key: value for key, value in form.items() if isinstance(value, str)})
        else:
            body = await request.read()
            if content_type == "application/json":
                try:
                    parsed = json.loads(body)
                except ValueError:
                    parsed = None
                if isinstance(parsed, dict):
                    args.update(parsed)
            else:
                args.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    for key in _JSON_ARGUMENTS:
        value = args.get(key)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                args[key] = json.loads(value)
    return args


def _token_of(headers: dict[str, str], args: dict[str, Any]) -> str | None:
    authorization = headers.get("Authorization", "")
    if authorization.startswith("Bearer "):
        return authorization.removeprefix("Bearer ").strip() or None
    token = args.pop("token", None)
    return str(token) if token else None
