"""A listener runner that answers Slack the moment a listener acks, without Bolt's 10 ms polling.

Bolt's own asyncio runner, when listeners run after the response (the safe mode: slow work
cannot hold up the 3-second ack), waits for `ack()` by sleeping 10 ms at a time, which puts a
10 ms floor under every answer. This runner keeps that mode's behaviour (the listener carries on
in the background after acking) but wakes up on the ack itself.
"""

from __future__ import annotations

import asyncio
import copy
import time
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.listener.async_listener import AsyncListener
from slack_bolt.listener.asyncio_runner import AsyncioListenerRunner
from slack_bolt.logger.messages import warning_did_not_call_ack
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse


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
        self.background: set[asyncio.Future[None]] = set()

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

        task = asyncio.ensure_future(self._run_listener(ack, request, response, listener))
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
