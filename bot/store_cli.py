"""Operator commands on the market store: `skillgap import`, `roles` and `snapshots` (with
`snapshots withdraw` and `snapshots restore`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from db.engine import create_engine, session_factory
from db.importers.completeness import SECTION_NOTES, missing_in_document, missing_in_store
from db.importers.document import InvalidImport
from db.importers.files import load_files, store_loaded
from db.models import MarketSnapshot, Role, RoleAlias, SkillFigure
from db.settings import load_settings
from db.snapshots import StoreResult
from db.startup import prepare
from db.withdrawals import (
    WithdrawalRefused,
    describe_snapshot,
    restore_snapshot,
    withdraw_snapshot,
)

T = TypeVar("T")


def _console() -> Console:
    console = Console()
    if not console.is_terminal:
        console.width = 200  # piped or captured output: no truncated cells
    return console


def _with_store(work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """Run `work` against the configured store, migrated and seeded first."""

    async def run() -> T:
        engine = create_engine(load_settings().database_url)
        try:
            await prepare(engine)
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def import_command(
    files: Annotated[
        list[Path], typer.Argument(help="Market reports (text) or snapshot files (.yaml).")
    ],
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="Refuse reports lacking a section (pay, day rates, gaps, …)."
        ),
    ] = False,
) -> None:
    """Import market reports and YAML snapshots: all of them, or (on any problem) none."""
    try:
        documents = load_files(files)
    except InvalidImport as refused:
        _print_refusal(refused)
        raise typer.Exit(1) from None
    lacking = [missing_in_document(document) for document in documents]
    if strict and any(lacking):
        for path, missing in zip(files, lacking, strict=True):
            for section in missing:
                typer.echo(f"error: {path}: {SECTION_NOTES[section]} ({section})", err=True)
        typer.echo(
            "Nothing was imported (--strict); the store is unchanged. Import without "
            "--strict to accept the reports as they are.",
            err=True,
        )
        raise typer.Exit(1)
    try:
        results: list[StoreResult] = _with_store(lambda engine: store_loaded(engine, documents))
    except InvalidImport as refused:
        _print_refusal(refused)
        raise typer.Exit(1) from None
    for path, document, result in zip(files, documents, results, strict=True):
        typer.echo(
            f"{path}: {result.outcome.value} — {result.role_title}, {document.region}, "
            f"{result.period_label} (snapshot {result.snapshot_id})"
        )
        for warning in document.warnings:
            typer.echo(f"  warning: {warning}")
    for path, missing in zip(files, lacking, strict=True):
        for section in missing:
            typer.echo(f"  warning: {path}: {SECTION_NOTES[section]} ({section})")


def _print_refusal(refused: InvalidImport) -> None:
    for problem in refused.problems:
        typer.echo(f"error: {problem}", err=True)
    typer.echo("Nothing was imported; the store is unchanged.", err=True)


def roles_command() -> None:
    """List the roles in the store with their aliases and snapshot counts."""

    async def read(engine: AsyncEngine) -> list[tuple[Role, list[str], int]]:
        async with session_factory(engine)() as session:
            roles = (await session.exec(select(Role).order_by(col(Role.title)))).all()
            rows = []
            for role in roles:
                aliases = (
                    await session.exec(
                        select(RoleAlias.alias)
                        .where(RoleAlias.role_id == role.id)
                        .order_by(col(RoleAlias.alias))
                    )
                ).all()
                snapshots = (
                    await session.exec(
                        select(func.count())
                        .select_from(MarketSnapshot)
                        .where(MarketSnapshot.role_id == role.id)
                    )
                ).one()
                others = [alias for alias in aliases if alias != role.title]
                rows.append((role, others, int(snapshots)))
            return rows

    table = Table("Role", "Slug", "Aliases", "Tenure", "Snapshots", title="Roles")
    for role, aliases, snapshots in _with_store(read):
        tenure = "" if role.typical_tenure_months is None else f"{role.typical_tenure_months} mo"
        table.add_row(role.title, role.slug, ", ".join(aliases), tenure, str(snapshots))
    _console().print(table)


def snapshots_command(context: typer.Context) -> None:
    """List the stored market snapshots, newest first, with the sections a report lacks."""
    if context.invoked_subcommand is not None:
        return

    async def read(
        engine: AsyncEngine,
    ) -> tuple[list[tuple[MarketSnapshot, str, int]], dict[int, list[str]]]:
        missing = await missing_in_store(engine)
        async with session_factory(engine)() as session:
            skill_counts = (
                select(SkillFigure.snapshot_id, func.count().label("skills"))
                .group_by(col(SkillFigure.snapshot_id))
                .subquery()
            )
            statement = (
                select(MarketSnapshot, Role.title, skill_counts.c.skills)
                .join(Role, col(Role.id) == col(MarketSnapshot.role_id))
                .outerjoin(skill_counts, skill_counts.c.snapshot_id == col(MarketSnapshot.id))
                .order_by(col(MarketSnapshot.published_on).desc(), col(MarketSnapshot.id))
            )
            rows = (await session.exec(statement)).all()
            listed = [(snapshot, title, int(skills or 0)) for snapshot, title, skills in rows]
            return listed, missing

    table = Table(
        "Id", "Role", "Region", "Period", "Source", "Kind", "Team", "Skills", "Checksum",
        "Status", "Lacks", title="Market snapshots",
    )  # fmt: skip
    listed, missing = _with_store(read)
    for snapshot, title, skills in listed:
        table.add_row(
            str(snapshot.id),
            title,
            snapshot.region,
            snapshot.period_label,
            snapshot.source,
            str(snapshot.source_kind),
            snapshot.team_id or "public",
            str(skills),
            snapshot.checksum[:12],
            "withdrawn" if snapshot.withdrawn_at is not None else "in use",
            ", ".join(missing.get(snapshot.id or 0, [])),
        )
    _console().print(table)


def withdraw_command(
    snapshot_id: Annotated[int, typer.Argument(help="The id `skillgap snapshots` lists.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    reason: Annotated[str, typer.Option(help="Why, kept in the audit trail.")] = "",
) -> None:
    """Take a snapshot out of every answer; cards fall back to the next best figures."""
    _change_withdrawal(snapshot_id, withdraw=True, yes=yes, reason=reason)


def restore_command(
    snapshot_id: Annotated[int, typer.Argument(help="The id `skillgap snapshots` lists.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    reason: Annotated[str, typer.Option(help="Why, kept in the audit trail.")] = "",
) -> None:
    """Undo a withdrawal: the snapshot answers again."""
    _change_withdrawal(snapshot_id, withdraw=False, yes=yes, reason=reason)


def _change_withdrawal(snapshot_id: int, *, withdraw: bool, yes: bool, reason: str) -> None:
    verb = "Withdraw" if withdraw else "Restore"

    async def change(engine: AsyncEngine) -> str:
        summary = await describe_snapshot(engine, snapshot_id)
        question = f"{verb} snapshot {snapshot_id}: {summary.description}?"
        if not yes and not typer.confirm(question, default=False):
            return "Nothing changed."
        if withdraw:
            await withdraw_snapshot(engine, snapshot_id, reason)
            return (
                f"Withdrew snapshot {snapshot_id}; every answer now uses the next best figures. "
                f"`skillgap snapshots restore {snapshot_id}` undoes it."
            )
        await restore_snapshot(engine, snapshot_id, reason)
        return f"Restored snapshot {snapshot_id}; answers use it again."

    try:
        typer.echo(_with_store(change))
    except WithdrawalRefused as refused:
        typer.echo(f"error: {refused}", err=True)
        raise typer.Exit(1) from None


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)
    app.command("roles")(roles_command)
    snapshots = typer.Typer(help="List, withdraw and restore market snapshots.")
    snapshots.callback(invoke_without_command=True)(snapshots_command)
    snapshots.command("withdraw")(withdraw_command)
    snapshots.command("restore")(restore_command)
    app.add_typer(snapshots, name="snapshots")
