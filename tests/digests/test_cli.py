"""`skillgap deliveries`: the ledger from the command line, and a clear word on bad input."""

from __future__ import annotations

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
