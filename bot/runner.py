"""A listener runner that answers Slack the moment a listener acks, without Bolt's 10 ms polling.

Bolt's own asyncio runner, when listeners run after the response (the safe mode: slow work
cannot hold up the 3-second ack), waits for `ack()` by sleeping 10 ms at a time, which puts a
10 ms floor under every answer. This runner keeps that mode's behaviour (the listener carries on
in the background after acking) but wakes up on the ack itself.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.listener.async_listener import AsyncListener
from slack_bolt.listener.asyncio_runner import AsyncioListenerRunner
from slack_bolt.logger.messages import warning_did_not_call_ack
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

logger = logging.getLogger(__name__)


def describe(request: AsyncBoltRequest) -> str:
    """What a request asked for, in a few words, for the log (a command, a payload type)."""
    body = request.body
    command = body.get("command")
    if command:
        words = str(body.get("text") or "").split(maxsplit=1)
        return f"{command} {words[0] if words else ''}".strip()
    return str(body.get("type") or "request")


async def finish_in_flight(
    in_flight: Callable[[], set[asyncio.Task[Any]]], grace_seconds: float
) -> list[str]:
    """Wait up to `grace_seconds` for work already acknowledged to finish, then cancel what is
    left; returns the names of what was abandoned (logged as a warning)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace_seconds
    pending = {task for task in in_flight() if not task.done()}
    if pending:
        logger.info("shutting down: waiting for %d acknowledged answers", len(pending))
    while pending and (remaining := deadline - loop.time()) > 0:
        await asyncio.wait(pending, timeout=remaining)
        # A finished listener may have handed its answer to a follow-up task: look again.
        pending = {task for task in in_flight() if not task.done()}
    abandoned = sorted(task.get_name() for task in pending)
    if pending:
        logger.warning(
            "shutting down: abandoned %d acknowledged answers still running after %.1f s: %s",
            len(pending),
            grace_seconds,
            "; ".join(abandoned),
        )
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    return abandoned


class SignallingAck(AsyncAck):
    """Bolt's ack, which also sets an event when called."""

    def __init__(self) -> None:
        super().__init__()
        self.called = asyncio.Event()

    async def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        response = await super().__call__(*args, **kwargs)
        self.called.set()
        return response

    def __deepcopy__(self, memo: dict[int, Any]) -> AsyncAck:
        # Bolt deep-copies the request for lazy listeners; an event with waiters cannot be.
        copied = AsyncAck()
        copied.response = self.response
        return copied


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

        task = asyncio.create_task(
            self._run_listener(ack, request, response, listener),
            name=f"{listener_name} for {describe(request)}",
        )
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        for lazy_function in listener.lazy_functions:
            self._start_lazy_function(lazy_function, request)

        if not ack.called.is_set() and not task.done():
            acked = asyncio.ensure_future(ack.called.wait())
            remaining = max(0.0, listener.ack_timeout - (time.time() - starting_time))
            try:
                await asyncio.wait(
                    {acked, task}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                acked.cancel()

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
                ack.called.set()
        finally:
            await self.listener_completion_handler.handle(request=request, response=response)
