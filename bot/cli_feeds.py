"""`skillgap feeds add|list|run|remove`: live job-ad feeds from the command line.

What fetches (aiohttp and the feed sources) is imported by the commands that fetch: every
`skillgap` command loads this module to read its arguments, and most never fetch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli_ingest import team_id_value
from db.engine import create_engine
from db.feed_models import FeedKind, FeedStatus
from db.feeds import store
from db.feeds.schedule import FeedSchedule, FeedScheduleError
from db.settings import Settings, load_settings
from db.startup import prepare

feeds_app = typer.Typer(
    help="Job ads fetched on a schedule from Adzuna, Reed, a URL or a folder.",
    no_args_is_help=True,
)
add_app = typer.Typer(help="Add a feed (it runs daily at 04:30 UK time unless told otherwise).")
feeds_app.add_typer(add_app, name="add", no_args_is_help=True)

T = TypeVar("T")


def register(app: typer.Typer) -> None:
    app.add_typer(feeds_app, name="feeds")


TEAM = typer.Option(
    "",
    "--team",
    callback=team_id_value,
    help="Slack team the ads belong to; only it sees their figures (default: public).",
)
EVERY = typer.Option("daily", "--every", help="daily or weekly.")


def _user_id(value: str) -> str:
    if value and not (value[:1] in "UW" and value.isalnum() and len(value) <= 32):
        raise typer.BadParameter("expected a Slack user id such as U0123ABCD")
    return value


ADMIN = typer.Option(
    "",
    "--admin",
    callback=_user_id,
    help="Slack user id of the admin told by DM if the job board refuses the key.",
)


def _fail(message: str) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(1)


def _with_store(work: Callable[[AsyncEngine, Settings], Awaitable[T]]) -> T:
    settings = load_settings()

    async def go() -> T:
        engine = create_engine(settings.database_url)
        try:
            await prepare(engine)
            return await work(engine, settings)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _add(kind: FeedKind, params: dict[str, Any], team: str, every: str, added_by: str = "") -> None:
    try:
        schedule = FeedSchedule(every=every.strip().lower())
    except FeedScheduleError as problem:
        _fail(f"{problem}.")
        return

    async def work(engine: AsyncEngine, settings: Settings) -> str:
        from db.feeds.fetching import utc_now
        from db.feeds.runs import describe_feed

        now = utc_now()
        feed = await store.add_feed(
            engine, kind, params, team_id=team, schedule=schedule, now=now, added_by=added_by
        )
        return describe_feed(feed) + f"; first run {feed.next_run_at:%Y-%m-%d %H:%M} UTC"

    typer.echo(f"Added {_with_store(work)}.")
    missing = _missing_keys(kind, load_settings())
    if missing:
        typer.echo(f"{missing} not set: its runs will fail until it is.", err=True)
    typer.echo("Run it now with `skillgap feeds run --all`, or let the clock run it.")


def _missing_keys(kind: FeedKind, settings: Settings) -> str:
    if kind == FeedKind.ADZUNA and not (settings.adzuna_app_id and settings.adzuna_app_key):
        return "ADZUNA_APP_ID or ADZUNA_APP_KEY is"
    if kind == FeedKind.REED and not settings.reed_api_key:
        return "REED_API_KEY is"
    return ""


@add_app.command("adzuna")
def add_adzuna(
    what: str = typer.Option(..., "--what", help='Search words, e.g. "ai engineer".'),
    where: str = typer.Option("", "--where", help="A place, e.g. london."),
    country: str = typer.Option("gb", "--country", help="Adzuna's country code."),
    team: str = TEAM,
    every: str = EVERY,
    admin: str = ADMIN,
) -> None:
    """Adzuna's job search (keys from ADZUNA_APP_ID and ADZUNA_APP_KEY)."""
    if not what.strip():
        _fail('--what needs search words, e.g. --what "ai engineer".')
    if not (country.isalpha() and len(country) == 2):
        _fail(f"--country {country!r} is not a two-letter country code such as gb.")
    params = {"what": what.strip(), "where": where.strip(), "country": country.lower()}
    _add(FeedKind.ADZUNA, params, team, every, admin)


@add_app.command("reed")
def add_reed(
    keywords: str = typer.Option(..., "--keywords", help='Search words, e.g. "ai engineer".'),
    location: str = typer.Option("", "--location", help="A place, e.g. London."),
    team: str = TEAM,
    every: str = EVERY,
    admin: str = ADMIN,
) -> None:
    """Reed's jobseeker search (key from REED_API_KEY)."""
    if not keywords.strip():
        _fail('--keywords needs search words, e.g. --keywords "ai engineer".')
    params = {"keywords": keywords.strip(), "location": location.strip()}
    _add(FeedKind.REED, params, team, every, admin)


@add_app.command("url")
def add_url(url: str = typer.Argument(...), team: str = TEAM, every: str = EVERY) -> None:
    """A CSV or JSON Lines file at an HTTPS URL (fetched again only when it changed)."""
    from db.feeds.url import check_url

    _add(FeedKind.URL, {"url": _checked(check_url, url)}, team, every)


@add_app.command("folder")
def add_folder(path: str = typer.Argument(...), team: str = TEAM, every: str = EVERY) -> None:
    """A folder: every new CSV or JSON Lines file dropped in it is ingested once."""
    from db.feeds.folder import check_folder

    _add(FeedKind.FOLDER, {"path": _checked(check_folder, path)}, team, every)


def _checked(check: Callable[[str], str], value: str) -> str:
    """What the check makes of the value, or one line saying what is wrong with it."""
    from db.feeds.fetching import FeedError

    try:
        return check(value)
    except FeedError as problem:
        typer.echo(f"{problem}.", err=True)
        raise typer.Exit(1) from None


@feeds_app.command("list")
def list_feeds(team: str | None = typer.Option(None, "--team", help="Only this team's.")) -> None:
    """Every feed: last run, ads stored, next run, errors."""

    async def work(engine: AsyncEngine, settings: Settings) -> list[str]:
        from db.feeds.overview import feed_overviews, overview_lines

        overviews = await feed_overviews(engine, team_id=team)
        return [line for overview in overviews for line in overview_lines(overview)]

    lines = _with_store(work)
    if not lines:
        typer.echo('No feeds yet. Add one with `skillgap feeds add adzuna --what "ai engineer"`.')
    for line in lines:
        typer.echo(line)


@feeds_app.command("run")
def run(
    feed_id: int | None = typer.Argument(None, help="The feed's number (see `feeds list`)."),
    run_all: bool = typer.Option(False, "--all", help="Every feed that is not stopped."),
) -> None:
    """Run feeds now; prints "N new, M already known" for each, like `ingest`."""
    if (feed_id is None) == (not run_all):
        _fail("Give one feed number (`skillgap feeds run 3`) or --all.")

    async def work(engine: AsyncEngine, settings: Settings) -> list[tuple[bool, str]]:
        from db.feeds.runs import feed_config, run_feed

        lines: list[tuple[bool, str]] = []
        if feed_id is not None:
            feed = await store.get_feed(engine, feed_id)
            if feed is None:
                return [(False, f"No feed {feed_id}; `skillgap feeds list` shows them.")]
            feeds = [feed]
        else:
            every_feed = await store.list_feeds(engine)
            feeds = [f for f in every_feed if f.status == FeedStatus.ACTIVE]
            # A stopped feed waits for someone to fix its key and run it by number.
            lines += [
                (True, f"Feed {f.id}: stopped, not run ({f.stopped_reason})")
                for f in every_feed
                if f.status != FeedStatus.ACTIVE
            ]
            if not every_feed:
                return [(True, "No feeds to run.")]
        config = feed_config(settings)
        for feed in feeds:
            try:
                outcome = await run_feed(engine, config, feed, worker="cli")
            except store.FeedBusy as busy:
                lines.append((False, f"{busy}."))
                continue
            lines.append((outcome.ok, outcome.summary_line))
            lines += [(True, f"    {problem}") for problem in outcome.problems[:10]]
        return lines

    failed = False
    for ok, line in _with_store(work):
        typer.echo(line, err=not ok)
        failed = failed or not ok
    if failed:
        raise typer.Exit(1)


@feeds_app.command("remove")
def remove(feed_id: int = typer.Argument(..., help="The feed's number.")) -> None:
    """Remove a feed and its run history (the ads it stored stay)."""

    async def work(engine: AsyncEngine, settings: Settings) -> bool:
        return await store.remove_feed(engine, feed_id)

    if not _with_store(work):
        _fail(f"No feed {feed_id}; `skillgap feeds list` shows them.")
    typer.echo(f"Removed feed {feed_id}; the ads it stored stay in the figures.")
