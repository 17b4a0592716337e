"""`/skillgap feeds [run N]`: a workspace admin lists and runs the workspace's job-ad feeds."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from commands.router import CommandRequest, Subcommand, router_for
from commands.settings import is_workspace_admin
from db.feeds import store
from db.feeds.overview import feed_overviews
from db.feeds.runs import feed_config, run_feed
from templates import SlackMessage, render_message


async def answer_feeds(request: CommandRequest) -> SlackMessage:
    if not await is_workspace_admin(request):
        return render_message("problem.j2", problem="feeds_not_admin", command="feeds")
    words = request.text.lower().split()
    engine = request.services.engine
    if not words or words == ["list"]:
        feeds = await feed_overviews(engine, team_id=request.team_id)
        return render_message("feeds.j2", feeds=feeds, team_id=request.team_id)
    if len(words) != 2 or words[0] != "run" or not words[1].isdigit():
        return render_message("problem.j2", problem="feeds_usage", command="feeds")
    feed = await store.get_feed(engine, int(words[1]))
    # Another workspace's feeds (and public ones) are not this admin's to see or run.
    if feed is None or feed.team_id != request.team_id:
        return render_message("problem.j2", problem="feed_unknown", feed_id=words[1])
    try:
        outcome = await run_feed(
            engine, feed_config(request.services.settings), feed, worker=f"slack:{request.user_id}"
        )
    except store.FeedBusy as busy:
        return render_message("feed_ran.j2", ok=False, line=f"{busy}.", problems=[])
    return render_message(
        "feed_ran.j2", ok=outcome.ok, line=outcome.summary_line, problems=outcome.problems
    )


def register(app: AsyncApp) -> None:
    router_for(app).add(
        Subcommand(
            "feeds",
            answer_feeds,
            usage="feeds [run N]",
            summary="(admins) this workspace's job-ad feeds: last run, ads stored, next run",
            examples=("feeds", "feeds run 1"),
            group="Workspace",
        )
    )
