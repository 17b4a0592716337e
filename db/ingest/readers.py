"""Streaming readers for CSV and JSON Lines exports: a row at a time, with its line number.

A file is checked before anything of it is used: binary content (a PNG renamed .csv), a
JSON document that is not JSON Lines, or a CSV without the required columns is refused
whole. After that, a bad row is reported with its line number and skipped.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from db.importers.document import Problem

_SNIFF_BYTES = 64 * 1024
_BINARY_SIGNATURES = {
    b"\x89PNG": "a PNG image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (e.g. an .xlsx workbook)",
    b"\x1f\x8b": "a gzip archive",
    b"GIF8": "a GIF image",
    b"\xff\xd8\xff": "a JPEG image",
    b"\xd0\xcf\x11\xe0": "an old Office document (e.g. .xls)",
    b"SQLite format 3": "an SQLite database",
}

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


class FileRefused(Exception):
    """The file is not what it claims to be; none of it is used."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))


@dataclass(frozen=True)
class Row:
    line: int
    fields: dict[str, object]


@dataclass
class ReadStats:
    rows: int = 0
    bad_rows: int = 0


def _refuse(path: Path, message: str, line: int | None = None) -> FileRefused:
    return FileRefused(Problem(str(path), line, message))


def detect_format(path: Path) -> str:
    """'csv' or 'jsonl', from the content (and the name when the content allows both)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError as problem:
        raise _refuse(path, f"cannot be read ({problem.strerror or problem})") from problem
    if not head.strip():
        raise _refuse(path, "is empty")
    for signature, what in _BINARY_SIGNATURES.items():
        if head.startswith(signature):
            raise _refuse(path, f"is {what}, not a CSV or JSON Lines export")
    if b"\x00" in head:
        raise _refuse(path, "contains binary data, not text; export as CSV or JSON Lines")
    text = head.decode("utf-8", errors="replace")
    if text.count("\ufffd") > max(3, len(text) // 100):
        raise _refuse(path, "is not UTF-8 text; save the export as UTF-8 CSV or JSON Lines")
    first = text.lstrip("\ufeff \t\r\n")
    if first.startswith("["):
        raise _refuse(path, "is a JSON array, not JSON Lines (one JSON object per line)", line=1)
    if first.startswith("{"):
        first_line = first.split("\n", 1)[0].strip()
        try:
            value = json.loads(first_line)
        except json.JSONDecodeError:
            raise _refuse(
                path,
                "starts like JSON but its first line is not a whole JSON object: "
                "JSON Lines needs one object per line",
                line=1,
            ) from None
        if not isinstance(value, dict):
            raise _refuse(path, "is not JSON Lines: its first line is not a JSON object", line=1)
        return "jsonl"
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        raise _refuse(path, "is named as JSON Lines but does not start with a JSON object", 1)
    return "csv"


class _CountingLines:
    """Lines of a binary file as text, with the line number, bad UTF-8 marked not fatal."""

    def __init__(self, path: Path) -> None:
        self.raw = path.open("rb")
        self.text = io.TextIOWrapper(self.raw, encoding="utf-8-sig", errors="replace", newline="")
        self.line = 0

    def __iter__(self) -> Iterator[str]:
        for line in self.text:
            self.line += 1
            yield line

    def position(self) -> int:
        return self.raw.tell()

    def close(self) -> None:
        self.text.close()


ProgressCallback = Callable[[int], None]


def read_rows(
    path: Path,
    *,
    required: tuple[str, ...],
    on_problem: Callable[[Problem], None],
    stats: ReadStats,
    on_progress: ProgressCallback | None = None,
    progress_every: int = 5_000,
) -> Iterator[Row]:
    """Rows of a CSV or JSON Lines file; refused whole (FileRefused) when it is not one."""
    file_format = detect_format(path)
    lines = _CountingLines(path)
    try:
        if file_format == "jsonl":
            yield from _jsonl_rows(path, lines, on_problem, stats, on_progress, progress_every)
        else:
            yield from _csv_rows(
                path, lines, required, on_problem, stats, on_progress, progress_every
            )
    finally:
        lines.close()
    if on_progress is not None:
        on_progress(path.stat().st_size)


def _jsonl_rows(
    path: Path,
    lines: _CountingLines,
    on_problem: Callable[[Problem], None],
    stats: ReadStats,
    on_progress: ProgressCallback | None,
    progress_every: int,
) -> Iterator[Row]:
    loads = json.loads
    for text in lines:
        if not text.strip():
            continue
        stats.rows += 1
        if on_progress is not None and stats.rows % progress_every == 0:
            on_progress(lines.position())
        if "\ufffd" in text:
            stats.bad_rows += 1
            on_problem(Problem(str(path), lines.line, "not UTF-8 text; row skipped"))
            continue
        try:
            value = loads(text)
        except json.JSONDecodeError as problem:
            stats.bad_rows += 1
            on_problem(Problem(str(path), lines.line, f"not valid JSON ({problem.msg}); skipped"))
            continue
        if not isinstance(value, dict):
            stats.bad_rows += 1
            on_problem(Problem(str(path), lines.line, "not a JSON object; row skipped"))
            continue
        yield Row(lines.line, _flatten(value))


def _flatten(value: dict[str, object]) -> dict[str, object]:
    """Adzuna nests some fields ({"location": {"area": [...]}}): keep dotted names too."""
    flat: dict[str, object] = {}
    for key, item in value.items():
        if isinstance(item, dict):
            for inner_key, inner in item.items():
                flat[f"{key}.{inner_key}"] = inner
            if "display_name" in item:
                flat[key] = item["display_name"]
        else:
            flat[key] = item
    return flat


def _csv_rows(
    path: Path,
    lines: _CountingLines,
    required: tuple[str, ...],
    on_problem: Callable[[Problem], None],
    stats: ReadStats,
    on_progress: ProgressCallback | None,
    progress_every: int,
) -> Iterator[Row]:
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise _refuse(path, "is empty") from None
    except csv.Error as problem:
        raise _refuse(path, f"is not a CSV file ({problem})", 1) from problem
    columns = [name.strip().lower() for name in header]
    missing = [name for name in required if name not in columns]
    if missing:
        raise _refuse(
            path,
            f"has no {', '.join(missing)} column (columns found: "
            f"{', '.join(columns[:12]) or 'none'}); is this the right export?",
            line=1,
        )
    width = len(columns)
    row_start = lines.line + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as problem:
            stats.rows += 1
            stats.bad_rows += 1
            on_problem(Problem(str(path), row_start, f"not valid CSV ({problem}); skipped"))
            row_start = lines.line + 1
            continue
        line = row_start
        row_start = lines.line + 1
        if not values or (len(values) == 1 and not values[0].strip()):
            continue
        stats.rows += 1
        if on_progress is not None and stats.rows % progress_every == 0:
            on_progress(lines.position())
        if len(values) != width:
            stats.bad_rows += 1
            on_problem(
                Problem(
                    str(path), line, f"has {len(values)} fields, the header has {width}; skipped"
                )
            )
            continue
        if any("\ufffd" in value for value in values):
            stats.bad_rows += 1
            on_problem(Problem(str(path), line, "not UTF-8 text; row skipped"))
            continue
        yield Row(line, dict(zip(columns, values, strict=True)))
