"""The `skillgap` command line: run modes, store administration and imports."""

from __future__ import annotations

import asyncio

import typer

from bot import cli_ingest, store_cli
from digests import cli as digests_cli
from bot.settings import load_settings
from db.engine import create_engine, prepare, upgrade

app = typer.Typer(
    help="SkillGap: UK tech labour-market intelligence in Slack.", no_args_is_help=True
)
db_app = typer.Typer(help="Store administration.", no_args_is_help=True)
app.add_typer(db_app, name="db")
store_cli.register(app)
digests_cli.register(app)
cli_ingest.register(app)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the store to the newest schema (the Procfile's release step)."""

    async def run() -> None:
        engine = create_engine(load_settings().database_url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())
    typer.echo("Store is at the newest schema.")


@app.command("run")
def run_default() -> None:
    """Start what fits the environment: Slack when credentials are set, else the local shell."""

    async def set_up() -> None:
        engine = create_engine(load_settings().database_url)
        try:
            await prepare(engine)
        finally:
            await engine.dispose()

    asyncio.run(set_up())
    typer.echo("Store ready.")


def main() -> None:
    app()
