"""What every listener needs at hand, put into Bolt's context by one middleware."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from db.market import MarketReader
from db.settings import Settings


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    market: MarketReader

    def __deepcopy__(self, memo: dict[int, Any]) -> Services:
        # Bolt deep-copies the context for lazy listeners; they must share the same engine
        # (its connection pool) and read model (its cache), not get copies of them.
        return self


SERVICES_KEY = "skillgap_services"


def services_from(context: Any) -> Services:
    """The Services a listener was given (Bolt's context is dict-like)."""
    services: Services = context[SERVICES_KEY]
    return services
