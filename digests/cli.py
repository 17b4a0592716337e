"""`skillgap clock`, `skillgap worker`, `skillgap deliveries`: digest processes and ledger."""

from __future__ import annotations

import asyncio
import logging

import typer

from db.digest_models import DeliveryStatus
from db.engine import create_engine, tune_sqlite_for_serving
from db.settings import load_settings
from db.startup import prepare
from db.token_cipher import TokenKeyError, cipher_from_settings, seal_plaintext_tokens
from digests import ledger

STATUSES = ", ".join(status.value for status in DeliveryStatus)


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def clock() -> None:
    """Decide what is due: one tick a minute writes due deliveries (run exactly one)."""
    settings = load_settings()
    _configure_logging(settings.log_level)

    async def main() -> None:
        from digests.runtime import run_clock  # matplotlib & co. only for the processes

        engine = create_engine(settings.database_url)
        try:
            await prepare(engine)
            await tune_sqlite_for_serving(engine)
            await run_clock(settings, engine)
        finally:
            await engine.dispose()

    asyncio.run(main())


def worker(
    until_idle: bool = typer.Option(
        False, "--until-idle", help="Stop when nothing is left to deliver (for jobs and tests)."
    ),
    concurrency: int = typer.Option(50, min=1, help="Deliveries in flight at once."),
) -> None:
    """Deliver due digests (any number of workers may run at once)."""
    settings = load_settings()
    _configure_logging(settings.log_level)
    try:
        cipher = cipher_from_settings(settings)  # OAuth mode reads tokens sealed with the key
    except TokenKeyError as problem:
        typer.echo(str(problem), err=True)
        raise typer.Exit(2) from None

    async def main() -> None:
        from digests.runtime import run_worker

        engine = create_engine(settings.database_url)
        try:
            await prepare(engine)
            # Every delivery is a write: on SQLite, a commit appends to the WAL, unsynced.
            await tune_sqlite_for_serving(engine)
            await seal_plaintext_tokens(engine, cipher)
            done = await run_worker(
                settings, engine, until_idle=until_idle, concurrency=concurrency
            )
            outcomes = ", ".join(f"{k} {v}" for k, v in sorted(done.stats.outcomes.items()))
            typer.echo(f"worker {done.name} done: {outcomes or 'nothing to deliver'}")
        finally:
            await engine.dispose()

    asyncio.run(main())


def deliveries(
    status: str | None = typer.Option(None, help=f"Only this status: {STATUSES}."),
    team: str | None = typer.Option(None, help="Only this workspace (team id)."),
    limit: int = typer.Option(50, min=1, max=10_000),
) -> None:
    """The delivery ledger, newest first: what was sent, skipped (stale, quiet), held or failed."""
    chosen: DeliveryStatus | None = None
    if status is not None:
        try:
            chosen = DeliveryStatus(status.strip().lower())
        except ValueError:
            typer.echo(f"Unknown status {status!r}; use one of: {STATUSES}.", err=True)
            raise typer.Exit(2) from None

    async def main() -> None:
        engine = create_engine(load_settings().database_url)
        try:
            await prepare(engine, load_bundled=False)
            rows = await ledger.list_deliveries(engine, status=chosen, team_id=team, limit=limit)
            counts = await ledger.count_by_status(engine)
        finally:
            await engine.dispose()
        typer.echo(
            "Totals: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none")
        )
        for row in rows:
            line = (
                f"{row.id:>6}  {row.scheduled_for:%Y-%m-%d %H:%M}Z  {row.period_key}  "
                f"{row.status:<13}  {row.kind}  {row.team_id}/{row.target}  "
                f"attempts {row.attempts}"
            )
            if row.message_ts:
                line += f"  ts {row.message_ts}"
            if row.error:
                line += f"  ({row.error})"
            typer.echo(line)

    asyncio.run(main())


def register(app: typer.Typer) -> None:
    app.command("clock")(clock)
    app.command("worker")(worker)
    app.command("deliveries")(deliveries)
