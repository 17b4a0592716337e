"""OAuth mode keeps tokens sealed: without SKILLGAP_TOKEN_KEY the processes refuse to start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from bot.cli import app
from bot.web import SkillGapWeb
from db.settings import Settings
from db.token_cipher import TokenKeyError


@pytest.fixture
def oauth_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "DATABASE_URL", "SKILLGAP_TOKEN_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("SKILLGAP_ALLOW_PLAINTEXT_TOKENS", raising=False)
    monkeypatch.setenv("SKILLGAP_DATABASE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("SLACK_CLIENT_ID", "111.222")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "client-secret")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "signing-secret")


@pytest.mark.parametrize("command", [["serve"], ["worker", "--until-idle"]])
def test_oauth_processes_refuse_to_start_without_the_token_key(
    oauth_env: None, command: list[str]
) -> None:
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2
    [line] = result.output.splitlines()
    assert line.startswith("SKILLGAP_TOKEN_KEY is not set: OAuth mode keeps each workspace's")
    assert "Traceback" not in result.output


def test_a_key_that_is_not_a_fernet_key_is_refused_in_one_line(
    oauth_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKILLGAP_TOKEN_KEY", "correct horse battery staple")
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 2
    [line] = result.output.splitlines()
    assert line.startswith("SKILLGAP_TOKEN_KEY is not a Fernet key")


def test_development_may_allow_plain_text_tokens() -> None:
    oauth: dict[str, Any] = {
        "slack_client_id": "1.2",
        "slack_client_secret": "c",
        "slack_signing_secret": "s",
        "token_key": None,
    }
    with pytest.raises(TokenKeyError):
        SkillGapWeb(Settings(**oauth))
    assert SkillGapWeb(Settings(**oauth, allow_plaintext_tokens=True)).token_cipher is None
    keyed = {**oauth, "token_key": Fernet.generate_key().decode()}
    assert SkillGapWeb(Settings(**keyed)).token_cipher is not None
