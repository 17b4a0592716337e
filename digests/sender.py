"""Delivers one claimed ledger row to Slack: compose, post (with thread and chart), record, recover.

Exactly once: every message carries the delivery id in its metadata, and progress (the
message ts, thread parts posted) is written to the ledger as soon as Slack confirms it; a
chart's file id is written before Slack is asked to share it. A delivery taken over after a
crash or an ambiguous failure (timeout, 5xx) first looks in the channel and the thread for
what the earlier attempt already posted, and resumes there.

Composers turn a (delivery, subscription) into messages. Channel digests have one here;
other kinds (a personal weekly DM) plug theirs in with `DigestSender.add_composer`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from db.digest_models import (
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Subscription,
    SubscriptionStatus,
)
from digests import ledger
from digests.charts import Chart, ChartCache
from digests.content import DigestBuilder
from digests.refusals import ADVICE, CHANNEL_GONE, DEFAULT_ADVICE, TOKEN_GONE
from digests.render import RenderedDigest, mention, render_digest
from digests.schedule import as_utc, utc_now
from digests.slack_calls import DeliveryFailed, RateLimiter, upload_file
from digests.subscriptions import pause_subscription
from templates import SlackMessage, render_message

logger = logging.getLogger(__name__)

METADATA_EVENT = "skillgap_delivery"

# Calls that leave something in Slack: made only while this worker holds the delivery's lease.
POSTING_METHODS = frozenset({"chat.postMessage", "files_upload_v2"})


@dataclass(frozen=True)
class Composition:
    """What to post for a delivery: the message, its thread replies, charts for the thread."""

    parts: tuple[SlackMessage, ...]
    charts: tuple[Chart, ...] = ()
    quiet: bool = False


class Composer(Protocol):
    async def __call__(self, delivery: Delivery, subscription: Subscription) -> Composition: ...


TokenSource = Callable[[str], Awaitable[str | None]]


@dataclass
class SenderConfig:
    lease: timedelta = timedelta(minutes=5)
    max_attempts: int = 6  # attempts that ended in a 5xx, timeout or connection error
    backoff_base: float = 30.0  # seconds before the first retry; doubles each time
    backoff_cap: float = 1800.0
    rate_limit_waits: int = 20  # 429s waited out inside one attempt before handing it back
    workspace_rate: float = 5.0  # chat.postMessage calls per second per workspace
    channel_rate: float = 1.0  # ... per channel (Slack's documented limit)
    timeout: float = 15.0
    charts: bool = True


@dataclass
class _Attempt:
    delivery: Delivery
    worker: str
    client: AsyncWebClient
    channel_id: str = ""
    message_ts: str | None = None
    parts_sent: int = 0
    rate_limited: int = field(default=0)
    # When this worker's lease runs out, as last written to the ledger.
    lease_until: datetime | None = None
    # Progress of the final step, written together with the delivery's close (one write).
    unrecorded: dict[str, Any] = field(default_factory=dict)


class DigestSender:
    def __init__(
        self,
        engine: Any,
        builder: DigestBuilder,
        tokens: TokenSource,
        *,
        api_url: str,
        config: SenderConfig | None = None,
        clock: Callable[[], datetime] = utc_now,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.engine = engine
        self.builder = builder
        self.tokens = tokens
        self.api_url = api_url
        self.config = config or SenderConfig()
        self.clock = clock
        self.charts = ChartCache()
        self.workspace_limiter = RateLimiter(self.config.workspace_rate)
        self.channel_limiter = RateLimiter(self.config.channel_rate)
        self._session = session
        self._own_session = session is None
        self._clients: dict[str, AsyncWebClient] = {}
        self.finisher = ledger.BatchedFinisher(engine)
        self._rendered: dict[tuple[object, ...], tuple[object, RenderedDigest]] = {}
        # When each claimed delivery's subscription last had one sent (prefetched per claim).
        self._previous_sent_at: dict[int, datetime | None] = {}
        self._composers: dict[DeliveryKind, Composer] = {
            DeliveryKind.CHANNEL_DIGEST: self.compose_channel_digest
        }

    def add_composer(self, kind: DeliveryKind, composer: Composer) -> None:
        self._composers[kind] = composer

    async def close(self) -> None:
        if self._own_session and self._session is not None and not self._session.closed:
            await self._session.close()

    def _client(self, token: str) -> AsyncWebClient:
        client = self._clients.get(token)
        if client is None:
            if self._session is None:
                # The client's own timeout does not apply to a session it is given.
                self._session = aiohttp.ClientSession(
                    timeout=aiohttp.ClientTimeout(total=self.config.timeout),
                    connector=aiohttp.TCPConnector(limit=200),
                )
            # No retry handlers: after a 5xx or a dropped connection the post may still have
            # gone through, so retries go through the ledger, which looks before posting again.
            client = AsyncWebClient(
                token=token,
                base_url=self.api_url,
                session=self._session,
                timeout=int(self.config.timeout),
                retry_handlers=[],
                logger=_web_api_logger(),
            )
            self._clients[token] = client
        return client

    # -- composing -----------------------------------------------------------------------

    async def compose_channel_digest(
        self, delivery: Delivery, subscription: Subscription
    ) -> Composition:
        if delivery.id in self._previous_sent_at:
            since = self._previous_sent_at.pop(delivery.id or 0)
        else:
            since = await ledger.last_sent_before(
                self.engine, subscription.id or 0, delivery.scheduled_for
            )
        digest = await self.builder.build(subscription.team_id, subscription.roles, since=since)
        week_of = delivery.scheduled_for.astimezone(ledger.schedule_of(subscription).zone).date()
        # Most subscriptions of a week render the very same digest: render each variant once.
        key = (
            tuple(id(role) for role in digest.roles),
            tuple(role.is_news_since(since) for role in digest.roles),
            since is None,
            week_of,
        )
        cached = self._rendered.get(key)
        if cached is None:
            # The entry holds the role parts themselves, so their ids stay theirs meanwhile.
            cached = (digest.roles, render_digest(digest, week_of=week_of))
            if len(self._rendered) >= 256:
                self._rendered.clear()
            self._rendered[key] = cached
        rendered = cached[1]
        charts: list[Chart] = []
        if self.config.charts and not rendered.quiet:
            for role in digest.chartable()[:3]:
                chart = self.charts.chart_for(role)
                if chart is not None:
                    charts.append(chart)
        return Composition(rendered.parts, tuple(charts), rendered.quiet)

    # -- delivering ----------------------------------------------------------------------

    async def deliver(
        self, delivery: Delivery, worker: str, context: ledger.ClaimContext | None = None
    ) -> DeliveryStatus:
        """Deliver a row this worker has claimed; returns the status it was left in."""
        assert delivery.id is not None
        now = self.clock()
        if context is not None:
            subscription = context.subscriptions.get(delivery.subscription_id)
            self._previous_sent_at[delivery.id] = context.previous_sent_at.get(
                delivery.subscription_id
            )
        else:
            subscription = await ledger.get_subscription(self.engine, delivery.subscription_id)
        if subscription is None:
            await ledger.finish(
                self.engine,
                delivery.id,
                worker,
                DeliveryStatus.FAILED,
                now=now,
                error="unsubscribed",
            )
            return DeliveryStatus.FAILED
        if subscription.status != SubscriptionStatus.ACTIVE:
            await ledger.finish(
                self.engine,
                delivery.id,
                worker,
                DeliveryStatus.HELD,
                now=now,
                error="subscription paused",
            )
            return DeliveryStatus.HELD
        token = await self.tokens(delivery.team_id)
        if not token:
            return await self._target_gone(delivery, subscription, worker, "no_token", None)
        attempt = _Attempt(
            delivery,
            worker,
            self._client(token),
            channel_id=delivery.channel_id or "",
            message_ts=delivery.message_ts,
            parts_sent=delivery.parts_sent,
            lease_until=(as_utc(delivery.lease_expires_at) if delivery.lease_expires_at else None),
        )
        try:
            composer = self._composers.get(DeliveryKind(delivery.kind))
            if composer is None:
                raise DeliveryFailed(f"no composer for {delivery.kind}", retryable=False)
            composition = await composer(delivery, subscription)
            if composition.quiet and subscription.skip_quiet_weeks:
                await ledger.finish(
                    self.engine, delivery.id, worker, DeliveryStatus.SKIPPED_QUIET, now=self.clock()
                )
                return DeliveryStatus.SKIPPED_QUIET
            await self._send(attempt, composition)
        except DeliveryFailed as failure:
            if failure.error in CHANNEL_GONE or failure.error in TOKEN_GONE:
                return await self._target_gone(
                    delivery, subscription, worker, failure.error, attempt.client
                )
            return await self._retry_or_fail(attempt, failure)
        finally:
            self._previous_sent_at.pop(delivery.id, None)
        if await self.finisher.finish(
            delivery.id,
            worker,
            DeliveryStatus.SENT,
            now=self.clock(),
            progress=attempt.unrecorded,
        ):
            return DeliveryStatus.SENT
        return DeliveryStatus.SENDING  # the lease was lost; the new holder finishes it

    async def _send(self, attempt: _Attempt, composition: Composition) -> None:
        delivery = attempt.delivery
        assert delivery.id is not None
        if not attempt.channel_id:
            # Not recorded on its own: a retry opens the same DM again, and the channel is
            # written with the first message's ts.
            attempt.channel_id = await self._open_channel(attempt)
        if delivery.attempts > 1 and attempt.parts_sent < len(composition.parts):
            await self._recover(attempt)
        for number in range(attempt.parts_sent, len(composition.parts)):
            part = composition.parts[number]
            answer = await self._call(
                attempt,
                "chat.postMessage",
                channel=attempt.channel_id,
                text=part.text,
                blocks=part.blocks,
                thread_ts=attempt.message_ts if number else None,
                unfurl_links=False,
                unfurl_media=False,
                metadata={
                    "event_type": METADATA_EVENT,
                    "event_payload": {"delivery_id": delivery.id, "part": number},
                },
            )
            if number == 0:
                attempt.message_ts = str(answer.get("ts") or "")
                attempt.channel_id = str(answer.get("channel") or attempt.channel_id)
            attempt.parts_sent = number + 1
            progress: dict[str, Any] = {"parts_sent": attempt.parts_sent}
            if number == 0:
                progress |= {"channel_id": attempt.channel_id, "message_ts": attempt.message_ts}
            last_step = number + 1 == len(composition.parts) and not composition.charts
            if last_step:
                attempt.unrecorded = progress
            else:
                await self._progress(attempt, **progress)
        if composition.charts and attempt.message_ts:
            await self._share_charts(attempt, composition.charts)

    async def _share_charts(self, attempt: _Attempt, charts: tuple[Chart, ...]) -> None:
        """Upload the charts and share them in the digest's thread, once.

        The upload's file id is in the ledger before Slack is asked to share it, so a worker
        killed while the share is in flight leaves the id behind, and the next attempt looks
        for that file in the thread instead of sharing the charts again.
        """
        earlier = attempt.delivery.chart_file_id
        if earlier is not None and await self._file_in_thread(attempt, earlier):
            return
        uploads: list[tuple[Chart, str]] = []
        for chart in charts:
            answer = await self._call(
                attempt,
                "files.getUploadURLExternal",
                filename=chart.filename,
                length=len(chart.png),
                alt_txt=chart.alt_text,
            )
            session = attempt.client.session
            assert session is not None  # every client here is built on the sender's session
            url = str(answer.get("upload_url") or "")
            await upload_file(session, url, chart.png, time_limit=self.config.timeout)
            uploads.append((chart, str(answer.get("file_id") or "")))
        # One completion shares every file of it, so any one id shows whether it happened.
        await self._progress(attempt, chart_file_id=uploads[0][1])
        await self._call(
            attempt,
            "files.completeUploadExternal",
            files=[{"id": file_id, "title": chart.title} for chart, file_id in uploads],
            channel_id=attempt.channel_id,
            thread_ts=attempt.message_ts,
        )

    async def _file_in_thread(self, attempt: _Attempt, file_id: str) -> bool:
        """Whether the digest's thread already shows the file an earlier attempt uploaded."""
        try:
            replies = await self._call(
                attempt,
                "conversations.replies",
                channel=attempt.channel_id,
                ts=attempt.message_ts,
                limit=200,
            )
        except DeliveryFailed as failure:
            if failure.retryable:
                raise
            logger.warning(
                "delivery %s: cannot look for an earlier chart (%s)",
                attempt.delivery.id,
                failure.error,
            )
            return False
        return any(
            entry.get("id") == file_id
            for message in replies.get("messages") or []
            for entry in message.get("files") or []
        )

    async def _open_channel(self, attempt: _Attempt) -> str:
        target = attempt.delivery.target
        if DeliveryKind(attempt.delivery.kind) is DeliveryKind.CHANNEL_DIGEST:
            return target
        answer = await self._call(attempt, "conversations.open", users=target)
        return str((answer.get("channel") or {}).get("id") or target)

    async def _recover(self, attempt: _Attempt) -> None:
        """Find what an earlier attempt of this delivery already posted, and skip it."""
        delivery = attempt.delivery
        since = (delivery.first_attempt_at or delivery.created_at) - timedelta(minutes=5)
        try:
            if attempt.message_ts is None:
                history = await self._call(
                    attempt,
                    "conversations.history",
                    channel=attempt.channel_id,
                    oldest=f"{since.timestamp():.6f}",
                    include_all_metadata=True,
                    limit=200,
                )
                for message in history.get("messages") or []:
                    if _part_of(message, delivery.id) == 0:
                        attempt.message_ts = str(message.get("ts"))
                        attempt.parts_sent = max(attempt.parts_sent, 1)
                        break
            if attempt.message_ts is not None:
                replies = await self._call(
                    attempt,
                    "conversations.replies",
                    channel=attempt.channel_id,
                    ts=attempt.message_ts,
                    include_all_metadata=True,
                    limit=200,
                )
                parts = [_part_of(m, delivery.id) for m in replies.get("messages") or []]
                posted = {p for p in parts if p is not None}
                while attempt.parts_sent in posted:
                    attempt.parts_sent += 1
        except DeliveryFailed as failure:
            if failure.retryable:
                raise
            # Without history access (a missing scope) the earlier attempt cannot be seen;
            # posting again is the only way the channel gets its digest.
            logger.warning(
                "delivery %s: cannot look for earlier posts (%s)", delivery.id, failure.error
            )
            return
        await self._progress(attempt, message_ts=attempt.message_ts, parts_sent=attempt.parts_sent)

    async def _progress(self, attempt: _Attempt, **values: Any) -> None:
        assert attempt.delivery.id is not None
        now = self.clock()
        kept = await ledger.record_progress(
            self.engine,
            attempt.delivery.id,
            attempt.worker,
            now=now,
            lease=self.config.lease,
            **values,
        )
        if not kept:
            # Another worker took over after our lease ran out: stop, it will finish the job.
            raise DeliveryFailed("lease lost", retryable=False)
        attempt.lease_until = now + self.config.lease

    async def _hold_lease(self, attempt: _Attempt) -> None:
        """Renew the lease before posting once half of it has gone.

        A row claimed in a batch can wait behind the rate limiters (or a busy machine) until
        its lease runs out and another worker claims it; posting then would post twice. The
        renewal is fenced on the lease owner, so a lost lease stops this attempt instead.
        """
        if attempt.lease_until is None:
            return
        if self.clock() >= attempt.lease_until - self.config.lease / 2:
            await self._progress(attempt)

    async def _call(self, attempt: _Attempt, method: str, **arguments: Any) -> Any:
        """One Web API call, paced by the rate limiters and waiting out 429s."""
        team = attempt.delivery.team_id
        channel_key = f"{team}/{attempt.channel_id}"
        arguments = {key: value for key, value in arguments.items() if value is not None}
        while True:
            if method == "chat.postMessage":
                wait = max(
                    self.workspace_limiter.reserve(team), self.channel_limiter.reserve(channel_key)
                )
                if wait > 0:
                    await asyncio.sleep(wait)
            if method in POSTING_METHODS:
                await self._hold_lease(attempt)
            try:
                call = getattr(attempt.client, method.replace(".", "_"))
                return await call(**arguments)
            except SlackApiError as problem:
                status = problem.response.status_code
                if status == 429:
                    retry_after = float(problem.response.headers.get("Retry-After", 1) or 1)
                    self.workspace_limiter.hold(team, retry_after)
                    attempt.rate_limited += 1
                    if attempt.rate_limited > self.config.rate_limit_waits:
                        raise DeliveryFailed(
                            "ratelimited", retryable=True, retry_after=retry_after
                        ) from problem
                    await asyncio.sleep(retry_after)
                    await self._progress(attempt)  # keep the lease while waiting
                    continue
                if status >= 500:
                    raise DeliveryFailed(
                        f"HTTP {status} from {method}", retryable=True
                    ) from problem
                error = str(problem.response.get("error") or "unknown_error")
                raise DeliveryFailed(error, retryable=False) from problem
            except (TimeoutError, aiohttp.ClientError, SlackClientError) as problem:
                raise DeliveryFailed(
                    f"{type(problem).__name__} calling {method}", retryable=True
                ) from problem

    async def _retry_or_fail(self, attempt: _Attempt, failure: DeliveryFailed) -> DeliveryStatus:
        delivery = attempt.delivery
        assert delivery.id is not None
        now = self.clock()
        if failure.error == "lease lost":
            return DeliveryStatus.SENDING
        if failure.retryable and failure.error == "ratelimited":
            # Slack asked us to slow down: not a failure of the delivery, so no attempt is spent.
            await ledger.retry_later(
                self.engine,
                delivery.id,
                attempt.worker,
                not_before=now + timedelta(seconds=failure.retry_after or 1),
                error=failure.error,
                refund_attempt=True,
            )
            return DeliveryStatus.PENDING
        if failure.retryable and delivery.attempts < self.config.max_attempts:
            delay = min(
                self.config.backoff_base * 2 ** (delivery.attempts - 1), self.config.backoff_cap
            )
            await ledger.retry_later(
                self.engine,
                delivery.id,
                attempt.worker,
                not_before=now + timedelta(seconds=delay),
                error=failure.error,
            )
            return DeliveryStatus.PENDING
        reason = (
            failure.error
            if not failure.retryable
            else f"gave up after {delivery.attempts} attempts: {failure.error}"
        )
        logger.warning("delivery %s failed: %s", delivery.id, reason)
        await ledger.finish(
            self.engine, delivery.id, attempt.worker, DeliveryStatus.FAILED, now=now, error=reason
        )
        return DeliveryStatus.FAILED

    async def _target_gone(
        self,
        delivery: Delivery,
        subscription: Subscription,
        worker: str,
        error: str,
        client: AsyncWebClient | None,
    ) -> DeliveryStatus:
        """Pause the subscription, close the delivery, and tell the person who subscribed."""
        assert delivery.id is not None and subscription.id is not None
        reason = CHANNEL_GONE.get(error) or TOKEN_GONE.get(error) or error
        now = self.clock()
        await pause_subscription(
            self.engine, subscription.id, reason=f"{reason} ({error})", now=now
        )
        await ledger.finish(
            self.engine, delivery.id, worker, DeliveryStatus.FAILED, now=now, error=error
        )
        # No one to tell when the token is gone or the subscriber asked to be forgotten.
        if client is not None and error not in TOKEN_GONE and subscription.subscriber_user_id:
            message = render_message(
                "digest_paused.j2",
                channel=_channel_of(delivery),
                reason=reason,
                advice=ADVICE.get(error, DEFAULT_ADVICE),
            )
            try:
                await client.chat_postMessage(
                    channel=subscription.subscriber_user_id, **message.as_kwargs()
                )
            except (SlackApiError, SlackClientError, aiohttp.ClientError, TimeoutError):
                logger.warning(
                    "could not tell %s their digest is paused", subscription.subscriber_user_id
                )
        return DeliveryStatus.FAILED


def _web_api_logger() -> logging.Logger:
    """slack_sdk's logger with a level of its own: the one slack_sdk's logging has now.

    slack_sdk formats a debug line of every request and answer, the whole message included,
    whenever its logger's own level is unset (it tests `logger.level <= DEBUG`, not whether
    debug is on), and then drops it. Set to the effective level, debug lines are still
    written when debug logging is on.
    """
    sdk_logger = logging.getLogger("slack_sdk.web.async_client")
    ours = sdk_logger.getChild("digests")
    ours.setLevel(sdk_logger.getEffectiveLevel())
    return ours


def _channel_of(delivery: Delivery) -> str | None:
    """The channel mention for a channel digest; None for a personal delivery."""
    if DeliveryKind(delivery.kind) is DeliveryKind.CHANNEL_DIGEST:
        return mention(delivery.target)
    return None


def _part_of(message: dict[str, Any], delivery_id: int | None) -> int | None:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != METADATA_EVENT:
        return None
    payload = metadata.get("event_payload") or {}
    if payload.get("delivery_id") != delivery_id:
        return None
    part = payload.get("part")
    return part if isinstance(part, int) else None
