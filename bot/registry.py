"""The one list of feature modules whose `register(app)` wires their listeners into the app."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from slack_bolt.async_app import AsyncApp

from commands import (
    check,
    emerging,
    feeds,
    gaps,
    help,
    home,
    path,
    profile,
    role,
    roles,
    router,
    salary,
    settings,
    share,
    skill,
    subscriptions,
)


class Feature(Protocol):
    """A module that adds its listeners to the app."""

    def register(self, app: AsyncApp) -> None: ...


# Order matters only where two listeners could match the same request: the first registered
# wins. /skillgap's dispatcher comes first, then one module per subcommand (they add to it).
FEATURE_MODULES: tuple[Feature, ...] = (
    router,
    help,
    role,
    gaps,
    skill,
    salary,
    emerging,
    path,
    roles,
    settings,
    feeds,
    share,
    home,
    check,
    profile,
    subscriptions,
)


def register_features(app: AsyncApp, modules: Iterable[Feature] = FEATURE_MODULES) -> None:
    # What no feature handles is answered by bot.app's error handler (Bolt raises
    # BoltUnhandledRequestError for it), so listeners added later are never shadowed.
    for module in modules:
        module.register(app)
