"""`skillgap deliveries`: the ledger from the command line, and a clear word on bad input."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app


def test_deliveries_lists_totals_and_refuses_unknown_statuses(tmp_path: Path) -> None:
    environment = {"SKILLGAP_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    runner = CliRunner()
    listed = runner.invoke(app, ["deliveries"], env=environment)
    assert listed.exit_code == 0, listed.output
    assert "Totals: none" in listed.output
    refused = runner.invoke(app, ["deliveries", "--status", "lost"], env=environment)
    assert refused.exit_code == 2
    assert "Unknown status 'lost'" in refused.output and "skipped_stale" in refused.output


def test_a_worker_on_sqlite_writes_through_the_write_ahead_log(tmp_path: Path) -> None:
    # Every delivery is a commit: on SQLite the worker appends them to the WAL, as the web does.
    database = tmp_path / "worker.db"
    environment = {
        "SKILLGAP_DATABASE_URL": f"sqlite:///{database}",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
    }
    result = CliRunner().invoke(app, ["worker", "--until-idle"], env=environment)
    assert result.exit_code == 0, result.output
    assert "nothing to deliver" in result.output
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
