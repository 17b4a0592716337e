"""A parsing worker that stops, answers what cannot be read or fails on a block ends the run
with one line saying so, and nothing of the run is stored (one transaction)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from tests.ingest.helpers import write_csv
from tests.ingest.test_pipeline import week_one_ads, week_two_ads


@pytest.fixture
def broken_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    database = tmp_path / "cli.db"
    monkeypatch.setenv("SKILLGAP_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    # Every export goes to worker processes, and they are the broken stand-in.
    monkeypatch.setattr("db.ingest.pipeline.PARALLEL_FROM_BYTES", 0)
    monkeypatch.setattr("db.ingest.parsing._WORKER_MODULE", "tests.ingest.broken_parse_worker")
    return database


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("garbage", "a parsing worker sent an answer that cannot be read"),
        ("error", "a parsing worker failed (ValueError: bad block)"),
        ("exit", "a parsing worker stopped unexpectedly"),
    ],
)
def test_a_broken_worker_stops_the_run_in_one_line_and_stores_nothing(
    broken_workers: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, said: str
) -> None:
    monkeypatch.setenv("BROKEN_WORKER", kind)
    path = write_csv(tmp_path / "ads.csv", [*week_one_ads(), *week_two_ads()])
    result = CliRunner().invoke(app, ["ingest", "postings", str(path)])
    assert result.exit_code == 1, result.output
    assert f"The ingest stopped: {said}. Nothing was stored" in result.output
    assert "Traceback" not in result.output and "│" not in result.output
    with sqlite3.connect(broken_workers) as store:
        assert store.execute("SELECT count(*) FROM ingested_ads").fetchone() == (0,)
