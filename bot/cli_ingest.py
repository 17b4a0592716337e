"""`skillgap ingest postings|candidates FILE...` and `skillgap postings explain FILE`."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from db.echo import clipped
from db.engine import create_engine, session_factory, upgrade
from db.importers.bundled import load_bundled_data
from db.importers.document import InvalidImport, Problem
from db.ingest.aggregate import SnapshotRules
from db.ingest.parsing import ParsingFailed
from db.ingest.pipeline import Ingestor, explain_postings, known_roles
from db.ingest.postings import AdParser
from db.ingest.reextract import ReextractSummary, reextract_stored_ads
from db.ingest.roles import RoleMapper
from db.ingest.store_errors import IngestFailed
from db.ingest.summary import IngestSummary
from db.settings import load_settings
from db.startup import prepare
from db.taxonomy import load_taxonomy

ingest_app = typer.Typer(
    help="Compute weekly market figures from your own job ads and candidates.",
    no_args_is_help=True,
)
postings_app = typer.Typer(help="Look inside job-ad exports.", no_args_is_help=True)

FILES = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="CSV or JSON Lines")


def team_id_value(value: str) -> str:
    # Empty means public; otherwise what Slack hands out ("T0123ABCD"), which fits the column.
    if value and (len(value) > 32 or not value.replace("_", "").isalnum()):
        raise typer.BadParameter("expected a Slack team id such as T0123ABCD")
    return value


TEAM = typer.Option(
    "",
    "--team",
    callback=team_id_value,
    help="Slack team id the data belongs to (default: public to this install).",
)
_DEFAULTS = SnapshotRules()


def register(app: typer.Typer) -> None:
    app.add_typer(ingest_app, name="ingest")
    app.add_typer(postings_app, name="postings")


def _option(default: object, name: str, env: str, text: str) -> Any:
    return typer.Option(default, name, envvar=env, help=text)


ROLLING = _option(
    _DEFAULTS.rolling_weeks, "--rolling-weeks", "SKILLGAP_ROLLING_WEEKS", "Rolling window."
)
MIN_ADS = _option(
    _DEFAULTS.min_ads, "--min-ads", "SKILLGAP_MIN_ADS", "Fewest ads for a window's snapshot."
)
EMERGING_MIN = _option(
    _DEFAULTS.emerging_min_ads,
    "--emerging-min-ads",
    "SKILLGAP_EMERGING_MIN_ADS",
    "Fewest ads mentioning a skill before it can be emerging.",
)
RISING_POINTS = _option(
    _DEFAULTS.rising_points,
    "--rising-points",
    "SKILLGAP_RISING_POINTS",
    "Share gained (percentage points) for a skill to be rising.",
)
MIN_BASE = _option(
    _DEFAULTS.min_base_ads,
    "--min-base-ads",
    "SKILLGAP_MIN_BASE_ADS",
    "Fewest ads in the earlier window a rise or a new skill is judged against.",
)


def _progress_console() -> Console | None:
    """Where the progress bar goes: standard error when it is a terminal, else nowhere."""
    console = Console(stderr=True)
    return console if console.is_terminal else None


class IngestProgress:
    """The bar a long ingest shows on a terminal: per file, ads read, MB, MB/s, time left."""

    def __init__(self, console: Console, *, auto_refresh: bool = True) -> None:
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[ads]:,} ads"),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            auto_refresh=auto_refresh,
        )
        self._tasks: dict[Path, TaskID] = {}

    def __call__(self, path: Path, done: int, total: int, ads: int) -> None:
        task = self._tasks.get(path)
        if task is None:
            task = self._tasks[path] = self.bar.add_task(path.name, total=total, ads=ads)
        self.bar.update(task, completed=done, ads=ads)


def _run(kind: str, files: list[Path], team: str, rules: SnapshotRules) -> IngestSummary:
    console = _progress_console()
    settings = load_settings()
    # The report is the command's output; the log adds warnings, or at DEBUG everything,
    # such as the traceback behind a one-paragraph database error.
    debug = settings.log_level.upper() == "DEBUG"
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )

    async def go() -> IngestSummary:
        engine = create_engine(settings.database_url)
        try:
            await prepare(engine)
            if console is None:
                ingestor = Ingestor(engine, team_id=team, rules=rules)
                return await _ingest(ingestor, kind, files)
            progress = IngestProgress(console)
            with progress.bar:
                ingestor = Ingestor(engine, team_id=team, rules=rules, on_progress=progress)
                return await _ingest(ingestor, kind, files)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(go())
    except InvalidImport as refused:
        for problem in refused.problems:
            typer.echo(f"Refused: {problem}", err=True)
        typer.echo("Nothing was stored.", err=True)
        raise typer.Exit(1) from None
    except IngestFailed as failed:
        typer.echo(str(failed), err=True)
        raise typer.Exit(1) from None
    except ParsingFailed as failed:
        typer.echo(
            f"The ingest stopped: {failed}. Nothing was stored; run it again, and if it fails "
            "again, SKILLGAP_LOG_LEVEL=DEBUG shows what the worker said.",
            err=True,
        )
        raise typer.Exit(1) from None


async def _ingest(ingestor: Ingestor, kind: str, files: list[Path]) -> IngestSummary:
    if kind == "postings":
        return await ingestor.ingest_postings(files)
    return await ingestor.ingest_candidates(files)


def _report(summary: IngestSummary) -> None:
    noun = "ads" if summary.kind == "postings" else "candidate profiles"
    typer.echo(
        f"Read {summary.rows} {noun} from {len(summary.files)} file(s): "
        f"{summary.stored} new, {summary.duplicates} already known, "
        f"{summary.bad_rows} bad row(s) skipped."
    )
    for problem in summary.problems[:20]:
        typer.echo(f"  {problem}", err=True)
    if summary.problem_count > 20:
        typer.echo(f"  ... and {summary.problem_count - 20} more problem(s)", err=True)
    if summary.kind == "postings":
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(summary.pay_kinds.items()))
        typer.echo(
            f"Pay figures kept: {kinds or 'none'}; predicted salaries excluded: "
            f"{summary.predicted_salaries}; outside sane bounds, dropped: "
            f"{summary.outliers_dropped}."
        )
        if summary.unmapped_titles:
            total = sum(summary.unmapped_titles.values())
            typer.echo(f"Titles mapped to no role ({total} ads), most frequent first:")
            for title, count in summary.unmapped_titles.most_common(15):
                typer.echo(f"  {count:>6}  {clipped(title)}")
    if summary.unknown_skills:
        typer.echo("Skills not in the taxonomy, most frequent first:")
        for name, count in summary.unknown_skills.most_common(15):
            typer.echo(f"  {count:>6}  {clipped(name)}")
    counts = summary.snapshot_counts()
    typer.echo(
        "Snapshots: "
        + ", ".join(f"{counts.get(outcome, 0)} {outcome.value}" for outcome in sorted(counts))
        if counts
        else "Snapshots: none (no window has enough ads yet)."
    )


def _ingest_command(kind: str) -> Any:
    """`skillgap ingest KIND FILE...`: the same options for job ads and candidates."""

    def ingest(
        files: list[Path] = FILES,
        team: str = TEAM,
        rolling_weeks: int = ROLLING,
        min_ads: int = MIN_ADS,
        emerging_min_ads: int = EMERGING_MIN,
        rising_points: float = RISING_POINTS,
        min_base_ads: int = MIN_BASE,
    ) -> None:
        rules = SnapshotRules(
            rolling_weeks=rolling_weeks,
            min_ads=min_ads,
            emerging_min_ads=emerging_min_ads,
            rising_points=rising_points,
            min_base_ads=min_base_ads,
        )
        _report(_run(kind, files, team, rules))

    return ingest


ingest_app.command(
    "postings",
    help="Ingest job ads (CSV or JSON Lines) and recompute the weekly snapshots they touch.",
)(_ingest_command("postings"))
ingest_app.command(
    "candidates",
    help="Ingest candidate profiles (a skills list each) for the supply side of the figures.",
)(_ingest_command("candidates"))


@ingest_app.command("reextract")
def reextract(
    rolling_weeks: int = ROLLING,
    min_ads: int = MIN_ADS,
    emerging_min_ads: int = EMERGING_MIN,
    rising_points: float = RISING_POINTS,
    min_base_ads: int = MIN_BASE,
) -> None:
    """Extract every stored ad's skills again from its stored text under the current taxonomy
    and recompute the snapshots of the ads that changed (done by itself on start when the
    taxonomy's version changed)."""
    console = _progress_console()
    rules = SnapshotRules(
        rolling_weeks=rolling_weeks,
        min_ads=min_ads,
        emerging_min_ads=emerging_min_ads,
        rising_points=rising_points,
        min_base_ads=min_base_ads,
    )

    async def go() -> ReextractSummary:
        engine = create_engine(load_settings().database_url)
        try:
            # Migrated and loaded by hand, not by prepare(): it would re-read the ads silently.
            await upgrade(engine)
            await load_bundled_data(engine)
            if console is None:
                return await reextract_stored_ads(engine, rules=rules)
            bar = Progress(
                TextColumn("stored ads"),
                BarColumn(),
                TextColumn("{task.completed:,}/{task.total:,}"),
                TimeRemainingColumn(),
                console=console,
                transient=True,
            )
            with bar:
                task = bar.add_task("ads", total=None)
                return await reextract_stored_ads(
                    engine,
                    rules=rules,
                    on_progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
        finally:
            await engine.dispose()

    try:
        summary = asyncio.run(go())
    except IngestFailed as failed:
        typer.echo(str(failed), err=True)
        raise typer.Exit(1) from None
    counts = Counter(result.outcome.value for result in summary.snapshots)
    typer.echo(f"Read {summary.ads_read} stored ads again: {summary.ads_changed} changed.")
    for note in summary.notes():
        typer.echo(note)
    typer.echo(
        "Snapshots: " + ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
        if counts
        else "Snapshots: none recomputed."
    )


@postings_app.command("explain")
def explain(files: list[Path] = FILES) -> None:
    """Print what SkillGap reads in each ad, one JSON line per ad, to audit extraction."""

    async def roles() -> RoleMapper:
        engine = create_engine(load_settings().database_url)
        try:
            await prepare(engine)
            async with session_factory(engine)() as session:
                return RoleMapper(load_taxonomy(), await known_roles(session))
        finally:
            await engine.dispose()

    mapper = asyncio.run(roles())
    parser = AdParser(load_taxonomy(), mapper)

    def on_problem(problem: Problem) -> None:
        typer.echo(str(problem), err=True)

    try:
        for record in explain_postings(files, parser, on_problem):
            typer.echo(json.dumps(record, ensure_ascii=False, default=_json_default))
    except InvalidImport as refused:
        for problem in refused.problems:
            typer.echo(f"Refused: {problem}", err=True)
        raise typer.Exit(1) from None


def _json_default(value: object) -> object:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value).__name__)
