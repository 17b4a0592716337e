"""Import files from disk: read them safely, pick the right parser, store all or nothing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from db.importers.document import InvalidImport, Problem, SnapshotDocument
from db.importers.report import parse_report
from db.importers.store import store_documents
from db.importers.structured import FORMAT_NAME, parse_structured
from db.importers.text_files import MAX_FILE_BYTES, read_text
from db.snapshots import StoreResult

__all__ = ["MAX_FILE_BYTES", "import_files", "load_file", "load_files", "read_text", "store_loaded"]

STRUCTURED_SUFFIXES = frozenset({".yaml", ".yml"})


def is_structured(path: Path, text: str) -> bool:
    """YAML by extension, or by a `format: skillgap-snapshot` line at the top."""
    if path.suffix.lower() in STRUCTURED_SUFFIXES:
        return True
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and stripped != "---":
            return stripped.replace(" ", "") == f"format:{FORMAT_NAME}"
    return False


def load_file(path: Path) -> SnapshotDocument:
    """Parse one file (a YAML snapshot or a market report's text) into a checked document."""
    text = read_text(path)
    if is_structured(path, text):
        return parse_structured(text, str(path))
    return parse_report(text, str(path))


def load_files(paths: Sequence[Path]) -> list[SnapshotDocument]:
    """Parse every file first, gathering every file's problems before refusing any."""
    documents: list[SnapshotDocument] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            documents.append(load_file(path))
        except InvalidImport as refused:
            problems.extend(refused.problems)
    if problems:
        raise InvalidImport(problems)
    return documents


async def store_loaded(
    engine: AsyncEngine, documents: Sequence[SnapshotDocument]
) -> list[StoreResult]:
    """Store checked documents in one transaction; a store-level refusal stores nothing."""
    try:
        return await store_documents(engine, documents)
    except (IntegrityError, DataError) as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        raise InvalidImport(
            [Problem("store", None, f"the store refused the import, nothing was stored: {reason}")]
        ) from error


async def import_files(engine: AsyncEngine, paths: Sequence[Path]) -> list[StoreResult]:
    """Parse all files, then store them together: any failure stores nothing."""
    return await store_loaded(engine, load_files(paths))
