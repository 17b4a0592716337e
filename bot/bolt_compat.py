"""The one place SkillGap changes Bolt's behaviour, each change for a measured reason.

Checked against the Bolt versions in CHECKED_BOLT_VERSIONS (tests/bot/test_bolt_compat.py
fails on any other: re-check these against the new Bolt, then add its version).

The listener runner answers Slack the moment a listener acks, without Bolt's 10 ms polling.
Bolt's own asyncio runner, when listeners run after the response (the safe mode: slow work
cannot hold up the 3-second ack), waits for `ack()` by sleeping 10 ms at a time, which puts a
10 ms floor under every answer. This runner keeps that mode's behaviour (the listener carries on
in the background after acking) but wakes up on the ack itself.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import Sequence
from functools import cached_property
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.listener.async_listener import AsyncListener
from slack_bolt.listener.asyncio_runner import AsyncioListenerRunner
from slack_bolt.logger.messages import warning_did_not_call_ack
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient, WebhookResponse

from bot.request_guard import MalformedBody, check_payload, is_allowed_response_url


class SignallingAck(AsyncAck):
    """Bolt's ack, which also resolves a future when called (or when the listener ends).

    A card answered again and again is the same message object each time: its JSON body is
    kept and reused rather than encoded anew for every ack.
    """

    def __init__(self) -> None:
        super().__init__()
        self.answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        response = None if args else _encoded_ack(kwargs)
        if response is None:
            response = await super().__call__(*args, **kwargs)
            if not args:
                _remember_encoded_ack(kwargs, response)
        else:
            self.response = response
        self.settle()
        return response

    def settle(self, *_: object) -> None:
        """Wake the runner: the ack was given, or the listener ended without one."""
        if not self.answered.done():
            self.answered.set_result(None)

    def __deepcopy__(self, memo: dict[int, Any]) -> AsyncAck:
        # Bolt deep-copies the request for lazy listeners; a future cannot be.
        copied = AsyncAck()
        copied.response = self.response
        return copied


# The ack bodies of message objects acked before: id(blocks) -> (blocks, text, response
# type, JSON body). The blocks are kept so that their id is not reused while cached.
_ENCODED_ACKS: dict[int, tuple[object, object, object, str]] = {}
_MAX_ENCODED_ACKS = 256
_MESSAGE_ACK = frozenset({"text", "blocks", "response_type"})


def _encoded_ack(kwargs: dict[str, Any]) -> BoltResponse | None:
    if kwargs.keys() != _MESSAGE_ACK:
        return None
    blocks = kwargs["blocks"]
    known = _ENCODED_ACKS.get(id(blocks))
    if (
        known is None
        or known[0] is not blocks
        or known[1] != kwargs["text"]
        or known[2] != kwargs["response_type"]
    ):
        return None
    return BoltResponse(status=200, body=known[3])


def _remember_encoded_ack(kwargs: dict[str, Any], response: BoltResponse) -> None:
    if kwargs.keys() != _MESSAGE_ACK or not isinstance(kwargs["blocks"], list):
        return
    if len(_ENCODED_ACKS) >= _MAX_ENCODED_ACKS:
        _ENCODED_ACKS.clear()
    blocks = kwargs["blocks"]
    _ENCODED_ACKS[id(blocks)] = (blocks, kwargs["text"], kwargs["response_type"], response.body)


class PromptAckRunner(AsyncioListenerRunner):
    """Runs listeners in the background and returns their ack as soon as it is given."""

    def __init__(self, base: AsyncioListenerRunner) -> None:
        super().__init__(
            logger=base.logger,
            process_before_response=base.process_before_response,
            listener_error_handler=base.listener_error_handler,
            listener_start_handler=base.listener_start_handler,
            listener_completion_handler=base.listener_completion_handler,
            lazy_listener_runner=base.lazy_listener_runner,
        )
        # Strong references: a task only weakly referenced by the loop can vanish mid-run.
        self.background: set[asyncio.Task[None]] = set()

    async def run(
        self,
        request: AsyncBoltRequest,
        response: BoltResponse,
        listener_name: str,
        listener: AsyncListener,
        starting_time: float | None = None,
    ) -> BoltResponse | None:
        if self.process_before_response or request.lazy_only:
            return await super().run(request, response, listener_name, listener, starting_time)
        starting_time = starting_time if starting_time is not None else time.time()

        ack = SignallingAck()
        request.context["ack"] = ack
        if listener.auto_acknowledgement:
            await ack()

        # Named for the shutdown log, should it have to abandon the task.
        task = asyncio.create_task(
            self._run_listener(ack, request, response, listener),
            name=f"{listener_name} for {describe(request)}",
        )
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        for lazy_function in listener.lazy_functions:
            self._start_lazy_function(lazy_function, request)

        if not ack.answered.done():
            task.add_done_callback(ack.settle)
            remaining = max(0.0, listener.ack_timeout - (time.time() - starting_time))
            try:
                async with asyncio.timeout(remaining):
                    await ack.answered
            except TimeoutError:
                pass

        if response is None and ack.response is None:
            self.logger.warning(warning_did_not_call_ack(listener_name))
            return None
        if response is None:
            self._debug_log_completion(starting_time, ack.response)
            return ack.response
        return response

    def _build_lazy_request(
        self, request: AsyncBoltRequest, lazy_func_name: str
    ) -> AsyncBoltRequest:
        """Bolt's copy of the request for a lazy listener, sharing the app's HTTP session.

        Bolt deep-copies the whole request; an aiohttp session cannot be copied (nor should
        it be), so the copy is told to reuse it.
        """
        shared: dict[int, Any] = {}
        session = getattr(request.context.get("client"), "session", None)
        if session is not None:
            shared[id(session)] = session
        copied: AsyncBoltRequest = copy.deepcopy(request.to_copyable(), shared)
        copied.lazy_only = True
        copied.lazy_function_name = lazy_func_name
        copied.context["listener_runner"] = self
        if request.context.get_thread_context is not None:
            copied.context["get_thread_context"] = request.context.get_thread_context
        if request.context.save_thread_context is not None:
            copied.context["save_thread_context"] = request.context.save_thread_context
        return copied

    async def _run_listener(
        self,
        ack: AsyncAck,
        request: AsyncBoltRequest,
        response: BoltResponse | None,
        listener: AsyncListener,
    ) -> None:
        # The same steps, in the same order, as Bolt's runner in this mode.
        try:
            await self.listener_start_handler.handle(request=request, response=response)
            await listener.run_ack_function(request=request, response=response)  # type: ignore[arg-type]
        except Exception as error:
            if response is None:
                response = BoltResponse(status=500)
            response.status = 500
            if ack.response is not None:
                response = None  # already answered: the error handler must not replace it
            await self.listener_error_handler.handle(
                error=error, request=request, response=response
            )
            if ack.response is None:
                ack.response = response
            if isinstance(ack, SignallingAck):
                ack.settle()
        finally:
            await self.listener_completion_handler.handle(request=request, response=response)


CHECKED_BOLT_VERSIONS = ("1.30.0",)


def use_prompt_ack_runner(app: AsyncApp) -> None:
    """Give the app the PromptAckRunner: Bolt takes no runner of ours, so its own is swapped."""
    app._async_listener_runner = PromptAckRunner(app._async_listener_runner)


def acknowledged_work(app: AsyncApp) -> set[asyncio.Task[None]]:
    """The listeners still running after their ack (what a shutdown waits for)."""
    runner = app._async_listener_runner
    return set(runner.background) if isinstance(runner, PromptAckRunner) else set()


def describe(request: AsyncBoltRequest) -> str:
    """What a request asked for in a few words (a command and its first word, a payload type)."""
    body = request.body
    command = body.get("command")
    if command:
        words = str(body.get("text") or "").split(maxsplit=1)
        return f"{command} {words[0] if words else ''}".strip()
    return str(body.get("type") or "request")


class RefusedResponseUrl(ValueError):
    """A response_url that is not Slack's: nothing is ever posted to it."""


class SharedSessionRespond(AsyncRespond):
    """`respond()` over the app's HTTP session (Bolt's opens a new session per call), to Slack's
    response URLs only (or to the base the settings allow, the tests' and the shell's stub)."""

    def __init__(
        self,
        *,
        response_url: str | None,
        session: aiohttp.ClientSession,
        extra_base: str | None = None,
    ) -> None:
        super().__init__(response_url=response_url)
        self.session = session
        self.extra_base = extra_base

    @cached_property
    def may_post(self) -> bool:
        """Whether the response URL is Slack's (worked out when first needed: most requests
        are answered in the ack and never post to it)."""
        url = self.response_url
        return url is not None and is_allowed_response_url(url, self.extra_base)

    def __deepcopy__(self, memo: dict[int, Any]) -> SharedSessionRespond:
        # Lazy listeners get a deep copy of the request; the session must stay shared.
        return self

    async def __call__(  # type: ignore[override]
        self,
        text: str | dict[str, Any] = "",
        blocks: list[Any] | None = None,
        attachments: list[Any] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        delete_original: bool | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> WebhookResponse:
        if self.response_url is None:
            raise ValueError("respond is unavailable: this request has no response_url")
        if not self.may_post:
            raise RefusedResponseUrl("refusing to post to a response_url that is not Slack's")
        client = AsyncWebhookClient(url=self.response_url, session=self.session)
        if isinstance(text, dict):
            return await client.send_dict(text)
        message: dict[str, Any] = {"text": text}
        optional = {
            "blocks": [b if isinstance(b, dict) else b.to_dict() for b in blocks or []] or None,
            "attachments": [a if isinstance(a, dict) else a.to_dict() for a in attachments or []]
            or None,
            "response_type": response_type,
            "replace_original": replace_original,
            "delete_original": delete_original,
            "unfurl_links": unfurl_links,
            "unfurl_media": unfurl_media,
            "thread_ts": thread_ts,
            "metadata": metadata,
        }
        message.update({key: value for key, value in optional.items() if value is not None})
        return await client.send_dict(message)


class FormSafeBoltRequest(AsyncBoltRequest):
    """Bolt's request, reading a form body that merely contains the word "payload" as the form
    it is: Bolt 1.30 looks for the substring, finds no `payload` field and reads the body as
    empty, so `/skillgap skill payload design` would reach no listener at all."""

    def __init__(
        self,
        *,
        body: str,
        query: str | dict[str, str] | None = None,
        headers: dict[str, str | Sequence[str]] | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(body=body, query=query, headers=headers, context=context)
        is_form = self.content_type != "application/json" and not body.startswith("{")
        if self.body == {} and body and is_form:
            form = dict(parse_qsl(body, keep_blank_values=True))
            if "payload" not in form:
                self.body = form
                self.context = build_async_context(AsyncBoltContext(context or {}), form)

    def to_copyable(self) -> FormSafeBoltRequest:
        # Lazy listeners get a copy built from the raw body: it must be read the same way.
        return FormSafeBoltRequest(
            body=self.raw_body,
            query=self.query,  # type: ignore[arg-type]
            headers=self.headers,
            context=self.context.to_copyable(),
        )


def read_checked_request(
    text: str,
    *,
    query: str,
    headers: dict[str, str | Sequence[str]],
    context: dict[str, Any] | None = None,
) -> FormSafeBoltRequest:
    """A body read the way Bolt reads it (once: the same dict serves the check and the app),
    or MalformedBody when Bolt cannot read it or could not act on what it read."""
    try:
        request = FormSafeBoltRequest(body=text, query=query, headers=headers, context=context)
    except (json.JSONDecodeError, RecursionError):  # not JSON, or nested thousands of levels deep
        raise MalformedBody("the body, or its payload field, is not valid JSON") from None
    except Exception as error:  # Bolt indexed a field of the wrong shape while reading it
        raise MalformedBody(f"a payload Bolt cannot read ({type(error).__name__})") from None
    check_payload(request.body)
    return request
