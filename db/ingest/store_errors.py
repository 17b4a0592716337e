"""A database error during an ingest, told in one paragraph naming the file and lines it was on.

The run's transaction is rolled back, so the message can promise that nothing was stored;
the traceback goes to the log at DEBUG, never to the person running the ingest.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from db.echo import clipped

logger = logging.getLogger(__name__)


class IngestFailed(Exception):
    """The store refused the run's writes; nothing of the run was stored."""


@dataclass
class IngestPosition:
    """Where a run is, so that a database error can say where it stopped it."""

    stage: str = "getting the store ready"
    file: str = ""
    first_line: int = 0
    last_line: int = 0

    def storing(self, noun: str, path: Path, first_line: int, last_line: int) -> None:
        self.stage = f"storing the {noun} of"
        self.file, self.first_line, self.last_line = str(path), first_line, last_line

    def moving_on(self, stage: str) -> None:
        self.stage, self.file = stage, ""

    def __str__(self) -> str:
        if not self.file:
            return self.stage
        if self.first_line and self.first_line == self.last_line:
            return f"{self.stage} {self.file}, line {self.first_line}"
        if self.first_line:
            return f"{self.stage} {self.file}, lines {self.first_line}–{self.last_line}"
        return f"{self.stage} {self.file}"


def _database_answer(problem: Exception) -> str:
    """The database's own words, first line only: not the statement or its parameters."""
    original = problem.orig if isinstance(problem, DBAPIError) else problem
    text = str(original).strip().splitlines()[0] if str(original).strip() else ""
    if text.startswith("<class '") and ">: " in text:  # asyncpg errors as SQLAlchemy shows them
        text = text.split(">: ", 1)[1]
    return clipped(text or type(original).__name__)


@asynccontextmanager
async def database_errors_explained(position: IngestPosition) -> AsyncIterator[None]:
    try:
        yield
    except (SQLAlchemyError, sqlite3.Error) as problem:
        logger.debug("ingest stopped by a database error while %s", position, exc_info=True)
        raise IngestFailed(
            f"The database refused the ingest while {position} "
            f"({_database_answer(problem)}). Nothing from this run was stored. Check those "
            "rows for values the database cannot hold, or run again with "
            "SKILLGAP_LOG_LEVEL=DEBUG to log the database's full answer."
        ) from None
