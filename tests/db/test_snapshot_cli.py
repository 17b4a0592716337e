"""`skillgap import` says which sections a report lacks (`--strict` refuses it), and
`skillgap snapshots withdraw|restore` take a snapshot out of the answers and back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from tests.db.import_helpers import APRIL_REPORT, MAY_REPORT


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    database = tmp_path / "cli.db"
    monkeypatch.setenv("SKILLGAP_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return database


def _without_pay(tmp_path: Path) -> Path:
    """The May report with its salary and day-rate paragraphs left out."""
    lines = MAY_REPORT.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if "salary in the UK" not in line and "day rates" not in line]
    assert len(kept) == len(lines) - 2
    path = tmp_path / "no-pay.txt"
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return path


def _snapshot_row(output: str, period: str) -> str:
    return next(line for line in output.splitlines() if period in line)


def test_a_report_without_pay_warns_and_strict_refuses_it(cli_env: Path, tmp_path: Path) -> None:
    report = _without_pay(tmp_path)
    strict = CliRunner().invoke(app, ["import", "--strict", str(report)])
    assert strict.exit_code == 1
    assert f"error: {report}: no salary figures" in strict.output
    assert "(day rates)" in strict.output and "Nothing was imported (--strict)" in strict.output
    listed = CliRunner().invoke(app, ["snapshots"])
    assert "May 2026" not in listed.output  # the store is unchanged

    loose = CliRunner().invoke(app, ["import", str(report)])
    assert loose.exit_code == 0, loose.output
    assert f"{report}: created — AI Engineer, UK, May 2026" in loose.output
    assert f"  warning: {report}: no salary figures: cards will say 'not enough data'" in (
        loose.output
    )
    assert "no contractor day rates (day rates)" in loose.output
    listed = CliRunner().invoke(app, ["snapshots"])
    assert re.search(r"in use\W+pay, day rates\W*$", _snapshot_row(listed.output, "May 2026"))
    # The bundled April report has every section.
    assert re.search(r"in use\W*│\s*│$", _snapshot_row(listed.output, "April 2026"))


def test_withdraw_asks_first_and_restore_undoes_it(cli_env: Path) -> None:
    listed = CliRunner().invoke(app, ["snapshots"])
    found = re.search(r"(\d+)", _snapshot_row(listed.output, "April 2026"))
    assert found is not None
    snapshot_id = found.group(1)

    declined = CliRunner().invoke(app, ["snapshots", "withdraw", snapshot_id], input="n\n")
    assert declined.exit_code == 0
    assert f"Withdraw snapshot {snapshot_id}: AI Engineer, UK, April 2026" in declined.output
    assert "Nothing changed." in declined.output
    assert "in use" in _snapshot_row(CliRunner().invoke(app, ["snapshots"]).output, "April")

    done = CliRunner().invoke(
        app, ["snapshots", "withdraw", snapshot_id, "--yes", "--reason", "typo in pay"]
    )
    assert done.exit_code == 0, done.output
    assert f"Withdrew snapshot {snapshot_id}" in done.output
    assert "withdrawn" in _snapshot_row(CliRunner().invoke(app, ["snapshots"]).output, "April")
    again = CliRunner().invoke(app, ["snapshots", "withdraw", snapshot_id, "--yes"])
    assert again.exit_code == 1 and "already withdrawn" in again.output

    restored = CliRunner().invoke(app, ["snapshots", "restore", snapshot_id], input="y\n")
    assert restored.exit_code == 0, restored.output
    assert f"Restored snapshot {snapshot_id}" in restored.output
    assert "in use" in _snapshot_row(CliRunner().invoke(app, ["snapshots"]).output, "April")

    unknown = CliRunner().invoke(app, ["snapshots", "withdraw", "9999", "--yes"])
    assert unknown.exit_code == 1
    assert "There is no snapshot 9999; `skillgap snapshots` lists their ids." in unknown.output


def test_a_report_imported_as_text_keeps_its_qualifier(cli_env: Path) -> None:
    # The text and the bundled YAML agree, qualifier included: the import changes nothing.
    result = CliRunner().invoke(app, ["import", str(APRIL_REPORT)])
    assert result.exit_code == 0, result.output
    assert f"{APRIL_REPORT}: unchanged — AI Engineer, UK, April 2026" in result.output
