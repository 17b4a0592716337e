"""The one list of feature modules whose `register(app)` wires their listeners into the app."""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from slack_bolt.async_app import AsyncApp

# Each entry is a module exposing `register(app: AsyncApp) -> None`. Order matters only
# where two listeners could match the same request: the first registered wins.
FEATURE_MODULES: tuple[str, ...] = ()

# Registered after every feature: acknowledges what no feature handles, so Slack never
# sees a 404 (and never retries an unhandled event).
FALLBACK_MODULE = "bot.fallback"


def register_features(app: AsyncApp, modules: Iterable[str] = FEATURE_MODULES) -> None:
    for name in (*modules, FALLBACK_MODULE):
        module = importlib.import_module(name)
        module.register(app)
