"""HTTP mode: the ASGI app uvicorn serves (Slack events, OAuth install, health and metrics)."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt.adapter.asgi.async_handler import AsyncSlackRequestHandler
from slack_bolt.adapter.asgi.http_request import AsgiHttpRequest
from slack_bolt.adapter.asgi.http_response import AsgiHttpResponse
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_app, close_app
from bot.metrics import SlackMetrics
from bot.registry import FEATURE_MODULES, Feature
from db.engine import create_engine, is_sqlite
from db.settings import Settings
from db.startup import prepare

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class MissingSigningSecret(RuntimeError):
    """HTTP mode without a signing secret would accept forged requests."""


class MeasuredSlackHandler(AsyncSlackRequestHandler):
    """Bolt's ASGI handler, timing each Slack request for the metrics."""

    def __init__(self, app: AsyncApp, metrics: SlackMetrics) -> None:
        super().__init__(app, path=EVENTS_PATH)
        self.metrics = metrics

    async def dispatch(self, request: AsgiHttpRequest) -> BoltResponse:
        started = time.perf_counter()
        bolt_request = AsyncBoltRequest(
            body=await request.get_raw_body(),
            query=request.query_string,
            headers=request.get_headers(),
        )
        response = await self.app.async_dispatch(bolt_request)
        self.metrics.observe(bolt_request.body, time.perf_counter() - started, response.status)
        return response


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
        self.app: AsyncApp | None = None
        self.handler: MeasuredSlackHandler | None = None
        self._start_lock = asyncio.Lock()

    async def startup(self) -> None:
        async with self._start_lock:
            if self.handler is not None:
                return
            engine = self._given_engine or create_engine(self.settings.database_url)
            if self._prepare_store:
                await prepare(engine)
            self.engine = engine
            self.app = build_app(
                self.settings, engine, metrics=self.metrics, features=self._features
            )
            self.handler = MeasuredSlackHandler(self.app, self.metrics)
            if self._run_digests:
                from digests.runtime import start_in_process

                self.digests = start_in_process(self.settings, engine)
            if self._tune_gc:
                tune_garbage_collector()

    async def shutdown(self) -> None:
        async with self._start_lock:
            if self.digests is not None:
                await self.digests.stop()
                self.digests = None
            if self.app is not None:
                await close_app(self.app)
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
        else:
            request = AsgiHttpRequest(scope, receive)  # type: ignore[arg-type]
            response = await self.handler._get_http_response(method, path, request)
        await send(response.get_response_start())
        await send(response.get_response_body())

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
    )
