"""manifest.yml creates the app the code expects: one command, the same scopes, the same URLs."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.app import BOT_SCOPES
from bot.web import EVENTS_PATH

MANIFEST = Path(__file__).parents[2] / "manifest.yml"


def test_manifest_matches_the_app() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert tuple(manifest["oauth_config"]["scopes"]["bot"]) == BOT_SCOPES
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/skillgap"
    assert command["usage_hint"]
    assert command["url"].endswith(EVENTS_PATH)
    settings = manifest["settings"]
    assert settings["interactivity"]["request_url"].endswith(EVENTS_PATH)
    # The skills modal's type-ahead picker asks this URL for its options.
    assert settings["interactivity"]["message_menu_options_url"].endswith(EVENTS_PATH)
    assert settings["event_subscriptions"]["request_url"].endswith(EVENTS_PATH)
    assert "app_home_opened" in settings["event_subscriptions"]["bot_events"]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert settings["socket_mode_enabled"] is True
    assert manifest["oauth_config"]["redirect_urls"][0].endswith("/slack/oauth_redirect")
