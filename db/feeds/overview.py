"""What `feeds list` and `/skillgap feeds` show of each feed: plain typed lines, no SQL leaks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from db.feed_models import FeedKind, FeedStatus
from db.feeds import store
from db.feeds.runs import describe_feed

TRUNCATION_NOTE = "Adzuna's search gives truncated descriptions, so fewer skills are found"


@dataclass(frozen=True)
class FeedOverview:
    feed_id: int
    title: str  # e.g. 'Feed 1: Adzuna "ai engineer" (gb), team T0…, daily at 04:30 …'
    last_run_at: datetime | None
    last_run: str  # "done: 10 new, 0 already known, 1 request(s)", or "never"
    ads_stored: int
    runs: int
    next_run_at: datetime | None  # None when stopped
    stopped_reason: str
    last_error: str
    note: str  # what the source itself limits, e.g. Adzuna's truncated descriptions


async def feed_overviews(engine: AsyncEngine, *, team_id: str | None = None) -> list[FeedOverview]:
    feeds = await store.list_feeds(engine, team_id=team_id)
    history = await store.histories(engine, [feed.id for feed in feeds if feed.id is not None])
    lines = []
    for feed in feeds:
        assert feed.id is not None
        seen = history[feed.id]
        last = seen.last_run
        stopped = feed.status == FeedStatus.STOPPED
        lines.append(
            FeedOverview(
                feed_id=feed.id,
                title=describe_feed(feed),
                last_run_at=None if last is None else last.finished_at,
                last_run="never"
                if last is None
                else f"{last.status}: {last.new_ads} new, {last.known_ads} already known, "
                f"{last.requests} request(s)",
                ads_stored=seen.ads_stored,
                runs=seen.runs,
                next_run_at=None if stopped else feed.next_run_at,
                stopped_reason=feed.stopped_reason if stopped else "",
                last_error="" if last is None or stopped else last.error,
                note=TRUNCATION_NOTE if feed.kind == FeedKind.ADZUNA else "",
            )
        )
    return lines


def overview_lines(overview: FeedOverview) -> list[str]:
    """The command line's lines for one feed."""
    lines = [overview.title]
    if overview.last_run_at is None:
        lines.append("    last run: never")
    else:
        lines.append(
            f"    last run: {overview.last_run_at:%Y-%m-%d %H:%M} UTC, {overview.last_run}"
        )
    lines.append(f"    ads stored: {overview.ads_stored} over {overview.runs} run(s)")
    if overview.next_run_at is None:
        lines.append(f"    next run: none, stopped: {overview.stopped_reason}")
    else:
        lines.append(f"    next run: {overview.next_run_at:%Y-%m-%d %H:%M} UTC")
    if overview.last_error:
        lines.append(f"    error: {overview.last_error}")
    if overview.note:
        lines.append(f"    note: {overview.note}")
    return lines
