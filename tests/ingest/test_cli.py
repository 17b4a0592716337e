"""The ingest and explain commands, against a throwaway SQLite store."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from bot.cli import app
from bot.cli_ingest import IngestProgress
from tests.ingest.helpers import write_csv, write_jsonl
from tests.ingest.test_pipeline import week_one_ads, week_two_ads


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    database = tmp_path / "cli.db"
    monkeypatch.setenv("SKILLGAP_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return database


def test_ingest_postings_reports_what_it_did(cli_env: Path, tmp_path: Path) -> None:
    ads = [*week_one_ads(), *week_two_ads()]
    ads.append(dict(ads[0], id="x1", title="Office Manager", description="Rotas."))
    ads.append(dict(ads[0], id="x2", title="Office Manager", description="Post."))
    path = write_csv(tmp_path / "ads.csv", ads)
    result = CliRunner().invoke(app, ["ingest", "postings", str(path), "--team", "T1"])
    assert result.exit_code == 0, result.output
    assert "Read 24 ads from 1 file(s): 24 new, 0 already known, 0 bad row(s) skipped." in (
        result.output
    )
    assert "Pay figures kept: 12 annual, 12 daily" in result.output
    assert "Titles mapped to no role (2 ads)" in result.output
    assert "     2  Office Manager" in result.output
    assert "Snapshots: 2 created" in result.output

    again = CliRunner().invoke(app, ["ingest", "postings", str(path), "--team", "T1"])
    assert "0 new, 24 already known" in again.output
    assert "Snapshots: 2 unchanged" in again.output


def test_ingest_refuses_a_file_that_is_not_an_export(cli_env: Path, tmp_path: Path) -> None:
    picture = tmp_path / "ads.csv"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    result = CliRunner().invoke(app, ["ingest", "postings", str(picture)])
    assert result.exit_code == 1
    assert "is a PNG image, not a CSV or JSON Lines export" in result.output
    assert "Nothing was stored." in result.output


def test_ingest_candidates(cli_env: Path, tmp_path: Path) -> None:
    people = write_jsonl(
        tmp_path / "people.jsonl",
        [
            {"id": "p1", "skills": "Python; LangChain; Basket weaving", "date": "2026-04-01"},
            {"id": "p2", "skills": ["PyTorch", "k8s"], "role": "ML Engineer"},
        ],
    )
    result = CliRunner().invoke(app, ["ingest", "candidates", str(people)])
    assert result.exit_code == 0, result.output
    assert "Read 2 candidate profiles from 1 file(s): 2 new" in result.output
    assert "1  Basket weaving" in result.output


def test_postings_explain_prints_one_json_line_per_ad(cli_env: Path, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "ads.jsonl",
        [
            {
                "id": "a1",
                "title": "Senior LLM Engineer",
                "description": "RAG with LangChain, PyTorch on AWS. Our R&D team has a "
                "go-to-market plan.",
                "created": "2026-04-01",
                "salary": "£500 - £550 per day inside IR35",
                "contract_type": "contract",
            },
            {
                "id": "a2",
                "title": "Barista",
                "description": "Coffee",
                "created": "2026-04-01",
                "salary_min": 70000,
                "salary_max": 80000,
                "salary_is_predicted": "1",
            },
        ],
    )
    result = CliRunner().invoke(app, ["postings", "explain", str(path)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines == [
        {
            "id": "a1",
            "role": "AI Engineer",
            "skills": [
                "AWS",
                "LangChain",
                "Large Language Models",
                "PyTorch",
                "Retrieval-Augmented Generation",
            ],
            # Implied by what it names: LLMs is named in the title, so it is not repeated.
            "families": ["Cloud Platforms", "Deep Learning", "Machine Learning"],
            "salary": {"kind": "daily", "low": 500.0, "high": 550.0},
        },
        {
            "id": "a2",
            "role": None,
            "skills": [],
            "families": [],
            "salary": {"kind": None, "low": None, "high": None},
        },
    ]


def test_a_team_id_must_look_like_one(cli_env: Path, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "ads.csv", week_one_ads())
    result = CliRunner().invoke(app, ["ingest", "postings", str(path), "--team", "x" * 40])
    assert result.exit_code == 2
    assert "Slack team id" in result.output


def test_a_database_error_is_one_paragraph_and_exit_1(cli_env: Path, tmp_path: Path) -> None:
    assert CliRunner().invoke(app, ["snapshots"]).exit_code == 0  # the store, migrated
    with sqlite3.connect(cli_env) as connection:
        connection.execute(
            "CREATE TRIGGER refuse_candidates BEFORE INSERT ON ingested_candidates "
            "BEGIN SELECT RAISE(ABORT, 'disk full (a test trigger)'); END"
        )
    people = write_jsonl(
        tmp_path / "people.jsonl",
        [
            {"id": "p1", "skills": "Python; LangChain", "date": "2026-04-01"},
            {"id": "p2", "skills": ["PyTorch", "k8s"], "date": "2026-04-02"},
        ],
    )
    result = CliRunner().invoke(app, ["ingest", "candidates", str(people)])
    assert result.exit_code == 1
    assert result.output == (
        f"The database refused the ingest while storing the candidates of {people}, "
        "lines 1–2 (disk full (a test trigger)). Nothing from this run was stored. Check "
        "those rows for values the database cannot hold, or run again with "
        "SKILLGAP_LOG_LEVEL=DEBUG to log the database's full answer.\n"
    )


def test_the_progress_bar_shows_ads_megabytes_and_speed(tmp_path: Path) -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=140)
    progress = IngestProgress(console, auto_refresh=False)
    path = tmp_path / "ads.jsonl"
    with progress.bar:
        progress(path, 4_000_000, 16_000_000, 2_500)
        progress(path, 8_000_000, 16_000_000, 5_000)
        progress.bar.refresh()
    shown = screen.getvalue()
    assert "ads.jsonl" in shown
    assert "5,000 ads" in shown
    assert "8.0/16.0 MB" in shown
    assert "/s" in shown  # transfer speed


def test_ingest_off_a_terminal_draws_no_progress(cli_env: Path, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "ads.jsonl", [*week_one_ads(), *week_two_ads()])
    result = CliRunner().invoke(app, ["ingest", "postings", str(path)])
    assert result.exit_code == 0, result.output
    assert "Read 22 ads" in result.output
    assert " ads " not in result.output.replace("Read 22 ads from", "")
    assert "\x1b[" not in result.output and "MB" not in result.output
