"""Importing files into a store: safe reading, one transaction, idempotence, and the CLI."""

from __future__ import annotations

import shutil
import tracemalloc
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from db.engine import session_factory
from db.importers.document import InvalidImport, Problem
from db.importers.files import MAX_FILE_BYTES, import_files, load_file
from db.market import MarketReader
from db.models import MarketSnapshot, PayKind
from db.snapshots import StoreOutcome
from tests.db.import_helpers import (
    APRIL_REPORT,
    BUNDLED_APRIL,
    DATA_ENGINEER_REPORT,
    MAY_REPORT,
    row_counts,
)


def _only_problem(path: Path) -> Problem:
    with pytest.raises(InvalidImport) as refused:
        load_file(path)
    [problem] = refused.value.problems
    assert problem.file == str(path)
    return problem


def test_non_utf8_bytes_are_refused_with_line_and_offset(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    text = APRIL_REPORT.read_text(encoding="utf-8").replace("Updated", "Mis à jour")
    path.write_bytes(text.encode("latin-1", errors="replace"))
    problem = _only_problem(path)
    assert problem.line == 1
    offset = text.encode("latin-1", errors="replace").index(b"\xe0")
    assert f"byte 0xe0 at byte offset {offset}" in problem.message
    assert "UTF-8" in problem.message


def test_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"\n  \n")
    assert _only_problem(path).message == "the file is empty"


def test_missing_file_and_directory_are_refused(tmp_path: Path) -> None:
    assert _only_problem(tmp_path / "nope.txt").message == "no such file"
    assert "directory" in _only_problem(tmp_path).message


def test_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "blob.txt"
    path.write_bytes(b"UK Market\n\x00\x01\x02")
    problem = _only_problem(path)
    assert problem.line == 2 and "NUL" in problem.message


def test_50_mb_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        handle.write(APRIL_REPORT.read_bytes())
        handle.truncate(50 * 1024 * 1024)
    tracemalloc.start()
    try:
        problem = _only_problem(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "larger than 5 MB" in problem.message
    assert peak < MAX_FILE_BYTES, "the file must not be read into memory"


def test_dispatch_by_extension_and_content(tmp_path: Path) -> None:
    assert load_file(BUNDLED_APRIL).source_kind == "curated"
    assert load_file(APRIL_REPORT).source_kind == "report"
    renamed = tmp_path / "snapshot.txt"
    shutil.copy(BUNDLED_APRIL, renamed)
    assert load_file(renamed).source_kind == "curated"


async def test_same_file_twice_stores_one_snapshot(engine: AsyncEngine) -> None:
    before = await row_counts(engine)
    [first] = await import_files(engine, [APRIL_REPORT])
    [second] = await import_files(engine, [APRIL_REPORT])
    # The bundled YAML holds the same facts, so the report changes nothing at all.
    assert first.outcome is second.outcome is StoreOutcome.UNCHANGED
    assert await row_counts(engine) == before


async def test_new_reports_import_together(empty_engine: AsyncEngine) -> None:
    results = await import_files(empty_engine, [APRIL_REPORT, MAY_REPORT, DATA_ENGINEER_REPORT])
    assert [result.outcome for result in results] == [StoreOutcome.CREATED] * 3
    assert [result.role_title for result in results] == [
        "AI Engineer",
        "AI Engineer",
        "Data Engineer",
    ]
    counts = await row_counts(empty_engine)
    assert counts["market_snapshots"] == 3 and counts["roles"] == 2
    again = await import_files(empty_engine, [MAY_REPORT])
    assert again[0].outcome is StoreOutcome.UNCHANGED
    assert await row_counts(empty_engine) == counts


async def test_may_report_compares_with_april(engine: AsyncEngine) -> None:
    await import_files(engine, [MAY_REPORT])
    comparison = await MarketReader(engine).compare("ai-engineer")
    assert comparison is not None
    assert (comparison.older.period_label, comparison.newer.period_label) == (
        "April 2026",
        "May 2026",
    )
    pay = {(change.kind, change.region): change for change in comparison.pay_changes}
    salary = pay[(PayKind.ANNUAL, "UK")].median
    assert (salary.old, salary.new, salary.delta, salary.percent) == (75000, 78000, 3000, 4.0)
    assert [change.name for change in comparison.skills_added] == ["Model Context Protocol"]
    moved = {change.name: change for change in comparison.skills_moved}
    assert [change.name for change in comparison.skills_removed] == ["Prompt Engineering"]
    assert moved["AI Evaluation & Safety"].gap.delta == 9
    assert moved["MLOps for GenAI"].gap.delta == -5
    assert "Python" not in moved, "an essential skill with the same standing has not moved"


async def test_a_bad_file_in_a_batch_stores_nothing(
    empty_engine: AsyncEngine, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.txt"
    broken.write_text(
        MAY_REPORT.read_text(encoding="utf-8").replace("(51-point gap)", "(50-point gap)"),
        encoding="utf-8",
    )
    before = await row_counts(empty_engine)
    with pytest.raises(InvalidImport) as refused:
        await import_files(empty_engine, [APRIL_REPORT, broken, DATA_ENGINEER_REPORT])
    [problem] = refused.value.problems
    assert problem.file == str(broken) and problem.line == 3
    assert await row_counts(empty_engine) == before


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("gap.txt", lambda text: text.replace("(43-point gap)", "(44-point gap)")),
        ("percent.txt", lambda text: text.replace("65% demand", "165% demand")),
        ("undated.txt", lambda text: text.replace("Updated April 2026", "")),
        (
            "twice.txt",
            lambda text: text.replace("Vector Database Optimisation —", "MLOps for GenAI —"),
        ),
        ("bad.yaml", lambda text: "format: skillgap-snapshot\nversion: 1\nrole: [\n"),
        ("future.yaml", lambda text: "format: skillgap-snapshot\nversion: 2\n"),
    ],
)
async def test_malformed_files_leave_the_store_unchanged(
    engine: AsyncEngine, tmp_path: Path, name: str, content: object
) -> None:
    path = tmp_path / name
    path.write_text(content(APRIL_REPORT.read_text(encoding="utf-8")), encoding="utf-8")  # type: ignore[operator]
    before = await row_counts(engine)
    with pytest.raises(InvalidImport) as refused:
        await import_files(engine, [MAY_REPORT, path])
    assert all(problem.file == str(path) for problem in refused.value.problems)
    assert await row_counts(engine) == before


# The operator CLI, against a throwaway SQLite store.


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    database = tmp_path / "cli.db"
    monkeypatch.setenv("SKILLGAP_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return database


def test_cli_import_reports_outcomes_and_warnings(cli_env: Path, tmp_path: Path) -> None:
    noisy = tmp_path / "noisy.txt"
    noisy.write_text(MAY_REPORT.read_text(encoding="utf-8") + "\nStray footer\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["import", str(APRIL_REPORT), str(noisy)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"{APRIL_REPORT}: unchanged — AI Engineer, UK, April 2026")
    assert lines[1].startswith(f"{noisy}: created — AI Engineer, UK, May 2026")
    footer_line = len(MAY_REPORT.read_text(encoding="utf-8").splitlines()) + 2
    assert lines[2] == (
        f"  warning: {noisy}, line {footer_line}: line not recognised, ignored: 'Stray footer'"
    )

    again = CliRunner().invoke(app, ["import", str(noisy)])
    assert f"{noisy}: unchanged" in again.output

    snapshots = CliRunner().invoke(app, ["snapshots"])
    assert snapshots.exit_code == 0
    assert "May 2026" in snapshots.output and "April 2026" in snapshots.output
    roles = CliRunner().invoke(app, ["roles"])
    assert "AI Engineer" in roles.output and "GenAI Engineer" in roles.output


def test_cli_refusal_exits_1_and_stores_nothing(cli_env: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.txt"
    broken.write_text(
        DATA_ENGINEER_REPORT.read_text(encoding="utf-8").replace("58% demand", "158% demand"),
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["import", str(DATA_ENGINEER_REPORT), str(broken)])
    assert result.exit_code == 1
    assert f"error: {broken}, line 3: demand of 158%" in result.output
    assert "Nothing was imported" in result.output
    roles = CliRunner().invoke(app, ["roles"])
    assert "Data Engineer" not in roles.output and "AI Engineer" in roles.output


async def test_report_stores_the_bundled_checksum(empty_engine: AsyncEngine) -> None:
    await import_files(empty_engine, [APRIL_REPORT])
    async with session_factory(empty_engine)() as session:
        checksum = (await session.exec(select(MarketSnapshot.checksum))).one()
    assert checksum == load_file(BUNDLED_APRIL).checksum()
