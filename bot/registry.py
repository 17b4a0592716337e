"""The one list of feature modules whose `register(app)` wires their listeners into the app."""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from slack_bolt.async_app import AsyncApp

# Each entry is a module exposing `register(app: AsyncApp) -> None`. Order matters only
# where two listeners could match the same request: the first registered wins.
FEATURE_MODULES: tuple[str, ...] = (
    # /skillgap: the dispatcher, then one module per subcommand (they add to its router).
    "commands.router",
    "commands.help",
    "commands.role",
    "commands.gaps",
    "commands.skill",
    "commands.salary",
    "commands.emerging",
    "commands.path",
    "commands.roles",
    "commands.settings",
    "commands.share",
    "commands.home",
    "commands.check",
    "commands.profile",
    "commands.subscriptions",
)


def register_features(app: AsyncApp, modules: Iterable[str] = FEATURE_MODULES) -> None:
    # What no feature handles is answered by bot.app's error handler (Bolt raises
    # BoltUnhandledRequestError for it), so listeners added later are never shadowed.
    for name in modules:
        module = importlib.import_module(name)
        module.register(app)
