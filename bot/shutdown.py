"""What a stopping process does with work it has already acknowledged: lets it finish for a
grace period, then cancels what is left and says so in the log."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)


async def finish_in_flight(
    in_flight: Callable[[], set[asyncio.Task[Any]]], grace_seconds: float
) -> list[str]:
    """Wait up to `grace_seconds` for the tasks `in_flight()` names, then cancel what is left;
    returns the names of what was abandoned (also logged as a warning)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace_seconds
    pending = {task for task in in_flight() if not task.done()}
    if pending:
        logger.info("shutting down: waiting for %d acknowledged answers", len(pending))
    while pending and (remaining := deadline - loop.time()) > 0:
        await asyncio.wait(pending, timeout=remaining)
        # Requests still being answered when the stop came may have started more work.
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
