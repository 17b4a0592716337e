"""The store's constants and kinds, importable without SQLAlchemy.

Parsing workers of a big ingest import only this much of the store: SQLAlchemy and SQLModel
would add half a second to each worker's start.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"

# Published reports and curated files are public market data; a team's own exports
# (job ads, candidates) carry that team's Slack id so no other workspace ever sees them.
PUBLIC_TEAM = ""


class PayKind(StrEnum):
    """Kinds of pay that are never mixed or converted into one another."""

    ANNUAL = "annual"  # permanent salary, GBP per year
    DAILY = "daily"  # contractor day rate, GBP per day
    HOURLY = "hourly"  # hourly rate, GBP per hour


class SourceKind(StrEnum):
    REPORT = "report"  # a published market report, imported as text
    CURATED = "curated"  # the structured YAML format
    JOB_ADS = "job_ads"  # computed from a team's own job-ad and candidate exports


class Region(StrEnum):
    """The regions SkillGap computes and answers about; stored figures may name others."""

    UK = "UK"
    LONDON = "London"


# Thresholds of figures computed from a team's own data, shared by ingestion (which computes
# them) and the read model (which decides which source's figure is sound enough to show).
MIN_FIGURES_FOR_MEDIAN = 10  # no pay median from fewer figures
MIN_FIGURES_FOR_TAILS = 50  # no 10th/25th/75th/90th percentiles from fewer
MIN_BASE_ADS = 30  # no share of ads compared or relied on from a smaller base
MIN_CANDIDATES = 10  # no supply percentage from fewer candidate profiles
