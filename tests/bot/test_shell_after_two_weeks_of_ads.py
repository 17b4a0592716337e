"""After two weeks of job ads are ingested, the shell's answers show the computed figures and
their week-on-week changes (issue 6), through the real CLI processes on one SQLite store."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

SKILLGAP = Path(sys.executable).parent / "skillgap"


def write_week(path: Path, monday: date, count: int, base_salary_k: int, extra: str) -> Path:
    """`count` AI Engineer ads; every other one also asks for `extra` when given."""
    rows = []
    for i in range(count):
        words = ["We build LLM products in Python on AWS."]
        if i % 2 == 0:
            words.append("You will own our RAG pipelines.")
        if extra and i % 2 == 1:
            words.append(extra)
        rows.append(
            {
                "id": f"{monday.isoformat()}-{i}",
                "title": ["AI Engineer", "Senior AI Engineer", "LLM Engineer"][i % 3],
                "description": " ".join(words),
                "created": (monday + timedelta(days=i % 5)).isoformat(),
                "location": "London" if i % 3 == 0 else "Manchester",
                "company": f"Company {monday:%W}-{i}",
                "salary": f"£{base_salary_k + (i % 10) * 2}k",
                "contract_type": "permanent",
            }
        )
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def run(arguments: list[str], cwd: Path, stdin: str = "") -> str:
    environment = {
        **os.environ,
        "SKILLGAP_DATABASE_URL": f"sqlite+aiosqlite:///{cwd / 'store.db'}",
        "SLACK_BOT_TOKEN": "",
        "SLACK_SIGNING_SECRET": "",
        "SLACK_APP_TOKEN": "",
    }
    completed = subprocess.run(
        [str(SKILLGAP), *arguments],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=180,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_role_salary_and_digest_preview_show_two_weeks_of_ads(tmp_path: Path) -> None:
    # Weeks after the bundled April 2026 report, so the ads are the newest figures.
    first = write_week(tmp_path / "w1.csv", date(2026, 5, 4), 40, 70, "")
    second = write_week(tmp_path / "w2.csv", date(2026, 5, 11), 44, 74, "Agents with LangGraph.")
    summary = run(["ingest", "postings", str(first), str(second)], tmp_path)
    assert "84 new" in summary

    shown = run(
        ["shell"],
        tmp_path,
        stdin="/skillgap role ai engineer\n/skillgap salary\n/skillgap digest preview\n",
    )
    role_card, rest = shown.split("> /skillgap salary", 1)
    salary, digest = rest.split("> /skillgap digest preview", 1)

    assert "job ads, week, 2026-W20" in role_card
    assert "n=44 ads" in role_card
    # 44 ads give sound salaries; no candidates, so the gaps stay the report's, each labelled.
    assert "Salary · UK: £82,000 median · Job ads, week to 17 May, n=44" in role_card
    assert "Production LLM Deployment: 75% vs 25% = 50 pts" in role_card
    assert "UK market report, April 2026" in role_card
    assert "Agentic AI Frameworks" in role_card  # LangGraph is agentic-framework work

    assert "Since job ads, week, 2026-W19" in salary
    assert "Permanent salary · UK: median £82,000 (+£3,000, +3.8%; was £79,000)" in salary
    assert "London: £82,000 median · Job ads, week to 17 May, n=15" in salary

    assert "Compared: 2026-W19 → 2026-W20" in digest
    assert "Agentic AI Frameworks: new" in digest
    # The report's gaps did not move between two weeks of ads: no move is claimed for them.
    assert "gap 50 pts (UK market report, April 2026" in digest
    assert "(unchanged)" not in digest
    assert "median £82,000 (+£3,000, +3.8%; was £79,000)" in digest
