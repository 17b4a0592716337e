"""The `skillgap` command line: run modes, store administration and imports."""

from __future__ import annotations

import asyncio
import contextlib

import typer

from bot import cli_feeds, cli_ingest, store_cli
from db.engine import create_engine, is_sqlite, upgrade
from db.settings import Settings, load_settings
from db.startup import prepare
from db.token_cipher import TokenCipher, TokenKeyError, seal_plaintext_tokens
from digests import cli as digests_cli

app = typer.Typer(
    help="SkillGap: UK tech labour-market intelligence in Slack.", no_args_is_help=True
)
db_app = typer.Typer(help="Store administration.", no_args_is_help=True)
app.add_typer(db_app, name="db")
store_cli.register(app)
digests_cli.register(app)
cli_ingest.register(app)
cli_feeds.register(app)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the store to the newest schema (the Procfile's release step)."""

    settings = load_settings()

    async def run() -> None:
        engine = create_engine(settings.database_url)
        try:
            await upgrade(engine)
            # Tokens stored before the key was set are sealed once it is (no key: no change).
            if settings.token_key:
                await seal_plaintext_tokens(engine, TokenCipher(settings.token_key))
        finally:
            await engine.dispose()

    try:
        asyncio.run(run())
    except TokenKeyError as problem:
        typer.echo(str(problem), err=True)
        raise typer.Exit(2) from None
    typer.echo("Store is at the newest schema.")


@app.command("run")
def run_default() -> None:
    """Start what fits the environment: Slack when credentials are set, else the local shell."""
    from bot.modes import RunMode, choose_run_mode, describe_missing

    settings = load_settings()

    async def set_up() -> None:
        engine = create_engine(settings.database_url)
        try:
            await prepare(engine)
        finally:
            await engine.dispose()

    asyncio.run(set_up())
    typer.echo("Store ready.", err=True)
    mode = choose_run_mode(settings)
    if mode is RunMode.SHELL:
        hint = describe_missing(settings)
        if hint:
            typer.echo(f"{hint} Starting the local shell instead.", err=True)
        _run_shell(settings, as_json=False)
    else:
        # `make run` on the embedded store is the whole deployment in one process, so it also
        # runs the digest clock and worker; with PostgreSQL the Procfile's processes do.
        in_process_digests = is_sqlite(settings.database_url)
        if mode is RunMode.SOCKET:
            _run_socket_mode(settings, run_digests=in_process_digests)
        else:
            _serve(settings, run_digests=in_process_digests)


@app.command("serve")
def serve(
    host: str | None = typer.Option(
        None, help="Interface to listen on (default: HOST or 0.0.0.0)."
    ),
    port: int | None = typer.Option(None, help="Port to listen on (default: PORT or 3000)."),
) -> None:
    """HTTP mode: Slack posts to /slack/events; also /healthz, /metrics and OAuth install."""
    settings = load_settings()
    if settings.slack_app_token and not (host or port):
        typer.echo("SLACK_APP_TOKEN is set: `skillgap run` would use Socket Mode.", err=True)
    _serve(settings, host=host, port=port)


@app.command("shell")
def shell(
    as_json: bool = typer.Option(False, "--json", help="Print raw payloads, one JSON per line."),
    as_admin: bool = typer.Option(
        False, "--as-admin", help="Type as a workspace admin (e.g. to try settings role)."
    ),
) -> None:
    """Try SkillGap without Slack: type /skillgap lines (or pipe them in) and see the answers."""
    _run_shell(load_settings(), as_json=as_json, as_admin=as_admin)


def _serve(
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    run_digests: bool = False,
) -> None:
    from bot.web import MissingSigningSecret
    from bot.web import serve as serve_http

    try:
        serve_http(settings, host=host, port=port, run_digests=run_digests)
    except (MissingSigningSecret, TokenKeyError) as problem:
        typer.echo(str(problem), err=True)
        raise typer.Exit(2) from None


def _run_shell(settings: Settings, *, as_json: bool, as_admin: bool = False) -> None:
    from bot.shell import run_shell

    run_shell(settings, as_json=as_json, as_admin=as_admin)


def _run_socket_mode(settings: Settings, *, run_digests: bool) -> None:
    from bot.modes import SocketModeRefused, run_socket_mode

    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_socket_mode(settings, run_digests=run_digests))
    except (SocketModeRefused, TokenKeyError) as problem:
        typer.echo(str(problem), err=True)
        raise typer.Exit(2) from None


def main() -> None:
    app()
