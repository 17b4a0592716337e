"""The local shell: lines in, the app's answers out, as text or JSON lines; and run-mode choice."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.modes import RunMode, choose_run_mode, describe_missing
from bot.shell import Shell, command_line_to_text, mrkdwn_to_text, render_payload
from db.settings import Settings
from tests.bot import standin, standin_buttons

STANDIN = (standin,)
SKILLGAP = Path(sys.executable).parent / "skillgap"


def lines(*typed: str) -> Iterator[str | None]:
    yield from (f"{line}\n" for line in typed)
    while True:
        yield None


def reader(*typed: str):
    feed = lines(*typed)
    return lambda: next(feed)


def shell_settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'shell.db'}",
        slack_bot_token=None,
        slack_signing_secret=None,
        slack_app_token=None,
        slack_client_id=None,
        slack_client_secret=None,
    )


async def run_shell_lines(tmp_path: Path, *typed: str, as_json: bool) -> str:
    out = io.StringIO()
    shell = Shell(shell_settings(tmp_path), as_json=as_json, out=out, features=STANDIN)
    await shell.run(reader(*typed))
    return out.getvalue()


async def test_json_mode_prints_every_payload_as_one_json_line(tmp_path: Path) -> None:
    output = await run_shell_lines(
        tmp_path, "/skillgap hello", "later", "/skillgap dm", "", "# a comment", as_json=True
    )
    records = [json.loads(line) for line in output.splitlines()]
    assert records[0] == {
        "kind": "ack",
        "payload": {
            "text": "echo: hello",
            "response_type": "ephemeral",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*echo* hello"}}],
        },
    }
    assert records[1] == {
        "kind": "response_url",
        "payload": {"text": "Here is your later answer", "response_type": "ephemeral"},
    }
    assert records[2] == {"kind": "ack", "payload": {"text": "Sent you a DM"}}
    assert [r.get("method") for r in records[3:]] == ["conversations.open", "chat.postMessage"]
    assert records[4]["payload"]["text"] == "Private answer"
    assert len(records) == 5


async def test_a_line_waits_for_answers_finished_in_the_background(tmp_path: Path) -> None:
    output = await run_shell_lines(tmp_path, "background", "/skillgap hello", as_json=True)
    records = [json.loads(line) for line in output.splitlines()]
    assert [r["payload"]["text"] for r in records] == [
        "Working on it…",
        "Finally, the answer",
        "echo: hello",
    ]


async def test_text_mode_renders_answers_readably(tmp_path: Path) -> None:
    output = await run_shell_lines(tmp_path, "/skillgap hello", "/skillgap dm", as_json=False)
    assert "> /skillgap hello" in output
    assert "echo hello" in output  # the section's mrkdwn, rendered
    assert "chat.postMessage → direct message" in output
    assert "Private answer" in output
    assert "{" not in output  # no raw JSON in text mode
    assert "· conversations.open users=U0TESTER" in output


async def test_errors_show_the_friendly_message_only(tmp_path: Path) -> None:
    output = await run_shell_lines(tmp_path, "boom", as_json=False)
    assert "Sorry, SkillGap hit a problem" in output
    assert "secret internal detail" not in output


def test_lines_map_to_slash_commands() -> None:
    assert command_line_to_text("/skillgap role ai engineer") == ("/skillgap", "role ai engineer")
    assert command_line_to_text("gaps") == ("/skillgap", "gaps")
    assert command_line_to_text("/skillgap") == ("/skillgap", "")
    assert command_line_to_text("   ") is None
    assert command_line_to_text("# note") is None


def test_block_kit_renders_to_plain_lines() -> None:
    payload = {
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "AI Engineer"}},
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": "*Median*\n£75,000"},
                    {"type": "mrkdwn", "text": "*London*\n£90,000"},
                ],
            },
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "UK market report"}]},
            {"type": "divider"},
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": "Share in channel"}}
                ],
            },
        ]
    }
    rendered = "\n".join(line.plain for line in render_payload(payload))
    assert "AI Engineer" in rendered
    assert "Median: £75,000" in rendered and "London: £90,000" in rendered
    assert "UK market report" in rendered
    assert "[Share in channel]" in rendered
    assert mrkdwn_to_text("a &lt;b&gt; &amp; <https://x.io|site>") == "a <b> & site (https://x.io)"


async def test_buttons_of_the_last_answer_can_be_pressed(tmp_path: Path) -> None:
    out = io.StringIO()
    shell = Shell(shell_settings(tmp_path), as_json=True, out=out, features=(standin_buttons,))
    await shell.run(reader("/skillgap card", ":press 1"))
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert records[0]["kind"] == "ack"
    shared = [r for r in records[1:] if r.get("method") == "chat.postMessage"]
    assert shared and shared[0]["payload"]["text"] == "shared: card"


def _clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SKILLGAP_"))}
    env.pop("DATABASE_URL", None)
    env["SKILLGAP_DATABASE_URL"] = f"sqlite:///{tmp_path / 'piped.db'}"
    return env


@pytest.mark.parametrize("subcommand", [["shell", "--json"], ["run"]])
def test_piped_lines_are_all_answered_before_exit(tmp_path: Path, subcommand: list[str]) -> None:
    completed = subprocess.run(
        [str(SKILLGAP), *subcommand],
        input="/skillgap help\n/skillgap role ai engineer\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_clean_env(tmp_path),
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    if subcommand[0] == "shell":
        records = [json.loads(line) for line in completed.stdout.splitlines()]
        assert len(records) >= 2
        assert all(record["payload"] for record in records)
    else:
        assert completed.stdout.count("> /skillgap") == 2
        assert "Traceback" not in completed.stdout + completed.stderr
        # The role card's April 2026 figures, rendered as text.
        assert "£75,000 median" in completed.stdout
        assert "Production LLM Deployment: 75% vs 25%" in completed.stdout


def test_run_mode_follows_the_credentials() -> None:
    none = Settings(
        slack_bot_token=None,
        slack_signing_secret=None,
        slack_app_token=None,
        slack_client_id=None,
        slack_client_secret=None,
    )
    assert choose_run_mode(none) is RunMode.SHELL
    assert describe_missing(none) is None
    http = none.model_copy(update={"slack_bot_token": "xoxb-1", "slack_signing_secret": "s"})
    assert choose_run_mode(http) is RunMode.HTTP
    socket = http.model_copy(update={"slack_app_token": "xapp-1"})
    assert choose_run_mode(socket) is RunMode.SOCKET
    socket_no_secret = socket.model_copy(update={"slack_signing_secret": None})
    assert choose_run_mode(socket_no_secret) is RunMode.SOCKET
    oauth = none.model_copy(
        update={"slack_client_id": "1.2", "slack_client_secret": "c", "slack_signing_secret": "s"}
    )
    assert choose_run_mode(oauth) is RunMode.HTTP
    assert choose_run_mode(oauth.model_copy(update={"slack_app_token": "xapp-1"})) is RunMode.SOCKET
    half = none.model_copy(update={"slack_bot_token": "xoxb-1"})
    assert choose_run_mode(half) is RunMode.SHELL
    assert "SLACK_SIGNING_SECRET" in (describe_missing(half) or "")
    app_only = none.model_copy(update={"slack_app_token": "xapp-1"})
    assert choose_run_mode(app_only) is RunMode.SHELL
    assert "SLACK_BOT_TOKEN" in (describe_missing(app_only) or "")
