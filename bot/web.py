"""HTTP mode: the ASGI app uvicorn serves (Slack events, OAuth install, health and metrics)."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt.adapter.asgi.async_handler import AsyncSlackRequestHandler
from slack_bolt.adapter.asgi.http_response import AsgiHttpResponse
from slack_bolt.async_app import AsyncApp
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_app, close_app
from bot.bolt_compat import FormSafeBoltRequest, read_checked_request
from bot.metrics import SlackMetrics
from bot.registry import FEATURE_MODULES, Feature
from bot.request_guard import (
    SIGNATURE_CHECKED,
    MalformedBody,
    first_header,
    is_signed,
    refusal,
    verifier_for,
)
from db.engine import create_engine, is_sqlite, tune_sqlite_for_serving
from db.replays import AcceptedSignatures
from db.settings import Settings
from db.startup import prepare
from db.token_cipher import cipher_from_settings, seal_plaintext_tokens

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
# Accepted signatures are cleaned up every this many requests (one indexed DELETE, and on
# SQLite a checkpoint of the write-ahead log off the event loop).
FORGET_EXPIRED_EVERY = 500

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class MissingSigningSecret(RuntimeError):
    """HTTP mode without a signing secret would accept forged requests."""


class RefusedRequest(Exception):
    """A request answered before Bolt sees it (too large, unverified, malformed)."""

    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.reason, self.detail = status, reason, detail

    def response(self) -> AsgiHttpResponse:
        if self.status == 200:  # a replay: acknowledged, and nothing else
            return AsgiHttpResponse(status=200, body="")
        refused = refusal(self.status, self.detail)
        return AsgiHttpResponse(status=refused.status, headers=refused.headers, body=refused.body)


def request_headers(scope: Scope) -> dict[str, str | Sequence[str]]:
    """Header names in lower case; values as latin-1 text, so no byte can make this fail."""
    return {
        bytes(name).decode("latin-1").lower(): bytes(value).decode("latin-1")
        for name, value in scope["headers"]
    }


async def read_body(
    receive: Receive, headers: Mapping[str, str | Sequence[str]], limit: int
) -> bytes:
    """The request body, refused (413) as soon as it is known to exceed `limit` bytes: from its
    Content-Length before reading anything, else while the chunks arrive."""
    declared = first_header(headers, "content-length") or ""
    if declared.isdigit() and int(declared) > limit:
        raise RefusedRequest(413, "too_large", "request body too large")
    chunks = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise RefusedRequest(400, "malformed", "the client went away mid-request")
        chunks += message.get("body", b"")
        if len(chunks) > limit:
            raise RefusedRequest(413, "too_large", "request body too large")
        if not message.get("more_body", False):
            return bytes(chunks)


class SkillGapWeb:
    """The ASGI application. Opens the store and the Slack app at startup (lifespan or first
    request) and closes them at shutdown."""

    def __init__(
        self,
        settings: Settings,
        *,
        engine: AsyncEngine | None = None,
        features: tuple[Feature, ...] = FEATURE_MODULES,
        prepare_store: bool | None = None,
        tune_gc: bool = False,
        run_digests: bool = False,
    ) -> None:
        if not settings.slack_signing_secret:
            raise MissingSigningSecret(
                "SLACK_SIGNING_SECRET is not set: HTTP mode verifies every request's signature "
                "with it. Copy it from your app's Basic Information page."
            )
        # OAuth mode refuses to start without the key that seals its stored tokens.
        self.token_cipher = cipher_from_settings(settings)
        self.settings = settings
        self.metrics = SlackMetrics()
        self._given_engine = engine
        self._features = features
        # The embedded store is prepared here; a shared PostgreSQL is migrated by the
        # release step, so a fleet of web processes never races on migrations.
        self._prepare_store = (
            is_sqlite(settings.database_url) if prepare_store is None else prepare_store
        )
        self._tune_gc = tune_gc
        # The embedded setup runs the digest clock and worker in this process (see serve).
        self._run_digests = run_digests
        self.digests: Any = None
        self.engine: AsyncEngine | None = None
        self.signatures: AcceptedSignatures | None = None
        self.app: AsyncApp | None = None
        self.handler: AsyncSlackRequestHandler | None = None
        self.verifier = verifier_for(settings.slack_signing_secret)
        self._accepted = 0
        self._start_lock = asyncio.Lock()

    async def startup(self) -> None:
        async with self._start_lock:
            if self.handler is not None:
                return
            engine = self._given_engine or create_engine(self.settings.database_url)
            if self._prepare_store:
                await prepare(engine)
            await seal_plaintext_tokens(engine, self.token_cipher)
            if self._given_engine is None:
                await tune_sqlite_for_serving(engine)
            self.engine = engine
            # The fast path writes through its own connection, tuned like the engine's.
            self.signatures = AcceptedSignatures(engine, direct=self._given_engine is None)
            self.app = build_app(
                self.settings, engine, metrics=self.metrics, features=self._features
            )
            # Bolt's handler serves the OAuth pages; Slack's requests go through slack_events.
            self.handler = AsyncSlackRequestHandler(self.app, path=EVENTS_PATH)
            if self._run_digests:
                from digests.runtime import start_in_process

                self.digests = start_in_process(self.settings, engine)
            if self._tune_gc:
                tune_garbage_collector()

    async def shutdown(self) -> None:
        """Called once the server has stopped accepting requests (uvicorn on SIGTERM): answers
        already acknowledged get `shutdown_grace_seconds` to go out before anything closes."""
        async with self._start_lock:
            if self.app is not None:
                await close_app(self.app, grace_seconds=self.settings.shutdown_grace_seconds)
            if self.digests is not None:
                await self.digests.stop()
                self.digests = None
            if self.signatures is not None:
                self.signatures.close()
                self.signatures = None
            if self.engine is not None and self._given_engine is None:
                await self.engine.dispose()
            self.app = self.handler = self.engine = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if self.handler is None:
            await self.startup()
        assert self.handler is not None
        method, path = scope["method"], scope["path"]
        if path == "/healthz" and method in ("GET", "HEAD"):
            response = await self._health()
        elif path == "/metrics" and method == "GET":
            response = AsgiHttpResponse(
                status=200,
                headers={"content-type": [CONTENT_TYPE_LATEST]},
                body=generate_latest(self.metrics.registry).decode("utf-8"),
            )
        elif path == EVENTS_PATH and method == "POST":
            response = await self.slack_events(scope, receive)
        else:
            # OAuth install and redirect, or 404: Bolt's ASGI handler answers them itself.
            await self.handler(scope, receive, send)  # type: ignore[arg-type]
            return
        await send(response.get_response_start())
        await send(response.get_response_body())

    async def slack_events(self, scope: Scope, receive: Receive) -> AsgiHttpResponse:
        """A request from Slack: size, signature and shape checked before Bolt sees it."""
        assert self.app is not None
        started = time.perf_counter()
        headers = request_headers(scope)
        try:
            request = await self.admit(scope, headers, receive)
        except RefusedRequest as refused:
            self.metrics.refused(refused.reason)
            # One line, never the body: it is anyone's text, and may be huge.
            log = logger.info if refused.status in (200, 401, 413) else logger.warning
            log("refused a request to %s: %s (%d)", EVENTS_PATH, refused.detail, refused.status)
            return refused.response()
        response = await self.app.async_dispatch(request)
        self.metrics.observe(request.body, time.perf_counter() - started, response.status)
        return AsgiHttpResponse(
            status=response.status, headers=response.headers, body=response.body
        )

    async def admit(
        self, scope: Scope, headers: dict[str, str | Sequence[str]], receive: Receive
    ) -> FormSafeBoltRequest:
        """The request for Bolt, once its body is small enough, signed, a payload Bolt can read
        and act on, and not a replay."""
        raw = await read_body(receive, headers, self.settings.max_body_bytes)
        if not is_signed(self.verifier, headers, raw):
            raise RefusedRequest(401, "unverified", "invalid request")
        try:
            request = read_checked_request(
                raw.decode("utf-8"),
                query=bytes(scope["query_string"]).decode("latin-1"),
                headers=headers,
                context={SIGNATURE_CHECKED: True},
            )
        except UnicodeDecodeError:
            raise RefusedRequest(400, "malformed", "the body is not UTF-8 text") from None
        except MalformedBody as problem:
            raise RefusedRequest(400, "malformed", str(problem)) from None
        await self.accept_once(headers)
        return request

    async def accept_once(self, headers: Mapping[str, str | Sequence[str]]) -> None:
        """Refuse a replay: a signature already accepted (by any web process on this store).

        Slack's own retries of an event are signed afresh, so they pass here and keep their
        handling (the event id is remembered by the app's middleware)."""
        assert self.engine is not None and self.signatures is not None
        signature = first_header(headers, "x-slack-signature") or ""
        signed_at = int(first_header(headers, "x-slack-request-timestamp") or "0")
        try:
            first_time = await self.signatures.accept_once(signature, signed_at)
            self._accepted += 1
            if self._accepted % FORGET_EXPIRED_EVERY == 0:
                await self.signatures.forget_expired()
        except SQLAlchemyError as error:
            # Without the store a replay cannot be told apart: refuse rather than risk it.
            logger.warning("could not check a request for replay, store unavailable: %s", error)
            raise RefusedRequest(503, "store_unavailable", "try again shortly") from None
        if not first_time:
            raise RefusedRequest(200, "replay", "replay of an accepted request: ignored")

    async def _health(self) -> AsgiHttpResponse:
        assert self.engine is not None
        try:
            async with asyncio.timeout(2):
                async with self.engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
            status, body = 200, {"ok": True, "store": "ok"}
        except Exception as error:
            logger.warning("health check: store unreachable: %s", error)
            status, body = 503, {"ok": False, "store": "unreachable"}
        return AsgiHttpResponse(
            status=status, headers={"content-type": ["application/json"]}, body=json.dumps(body)
        )

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as error:
                    logger.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return


def tune_garbage_collector() -> None:
    """Process-wide GC settings for a long-running server (measured with bench/bench_load.py)."""
    # Everything loaded at startup lives as long as the process: keep it out of the
    # collector's full passes, which otherwise show up as latency spikes.
    gc.collect()
    gc.freeze()
    # Each request allocates a few thousand short-lived objects (Bolt's context and kwargs,
    # Block Kit dicts); a larger young generation collects them in fewer passes.
    gc.set_threshold(20_000, 20, 20)


def serve(
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    run_digests: bool = False,
) -> None:
    """Run HTTP mode under uvicorn until interrupted.

    `run_digests` is for the embedded single-process setup (`skillgap run` on SQLite) only:
    web processes of a scaled-out deployment never run the scheduler; the Procfile's clock and
    worker processes do.
    """
    import uvicorn

    web = SkillGapWeb(settings, tune_gc=True, run_digests=run_digests)
    uvicorn.run(
        web,
        host=host or settings.host,
        port=port if port is not None else settings.port,
        lifespan="on",
        log_level=settings.log_level.lower(),
        access_log=False,
        # Slack retries what is not answered within 3 s; keep connections short and cheap.
        timeout_keep_alive=30,
        # On SIGTERM requests still being answered get the grace period too (then the work
        # they acknowledged does, in shutdown): both well inside Heroku's 30 s.
        timeout_graceful_shutdown=max(1, round(settings.shutdown_grace_seconds)),
    )
