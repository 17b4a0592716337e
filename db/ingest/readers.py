"""Streaming readers for CSV and JSON Lines exports: a row at a time, with its line number.

A file is checked before anything of it is used: binary content (a PNG renamed .csv), a
JSON document that is not JSON Lines, or a CSV without the required columns is refused
whole. After that, a bad row (not UTF-8, a NUL byte, the wrong number of fields) is
reported with its line number and skipped. Messages echo at most a clipped value.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from db.echo import clipped
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
    if len(head) == _SNIFF_BYTES and b"\n" not in head and b"\r" not in head:
        # Refused before the reader holds a header that long (one was 40 MB) in memory.
        raise _refuse(
            path,
            f"has no line break in its first {_SNIFF_BYTES // 1024} KB: a CSV export's "
            "first line names its columns (e.g. title,description,created)",
            line=1,
        )
    return "csv"


class _CountingLines:
    """Lines of a binary file as text, with the line number, bad UTF-8 marked not fatal."""

    def __init__(self, path: Path, offset: int = 0, line: int = 0) -> None:
        self.raw = path.open("rb")
        self.raw.seek(offset)
        # The byte-order mark can only open the file.
        encoding = "utf-8-sig" if offset == 0 else "utf-8"
        self.text = io.TextIOWrapper(self.raw, encoding=encoding, errors="replace", newline="")
        self.line = line

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
    resume: Resume | None = None,
) -> Iterator[Row]:
    """Rows of a CSV or JSON Lines file; refused whole (FileRefused) when it is not one.

    `resume` starts at a row boundary inside the file (the header already read).
    """
    file_format = detect_format(path)
    lines = _CountingLines(path, resume.offset, resume.line) if resume else _CountingLines(path)
    try:
        if file_format == "jsonl":
            yield from _jsonl_rows(path, lines, on_problem, stats, on_progress, progress_every)
        else:
            yield from _csv_rows(
                path,
                lines,
                required,
                on_problem,
                stats,
                on_progress,
                progress_every,
                None if resume is None else resume.columns,
            )
    finally:
        lines.close()
    if on_progress is not None:
        on_progress(path.stat().st_size)


NUL_IN_ROW = "contains a NUL byte (binary data, which no text column may hold); row skipped"


def jsonl_fields(text: str, *, may_hold_nul: bool = True) -> dict[str, object] | str:
    """One JSON Lines row as fields, or what is wrong with it.

    `may_hold_nul` False says the caller saw no NUL (raw or escaped) anywhere around it.
    """
    if "\ufffd" in text:
        return "not UTF-8 text; row skipped"
    if may_hold_nul and "\x00" in text:
        return NUL_IN_ROW
    try:
        value = json.loads(text)
    except json.JSONDecodeError as problem:
        return f"not valid JSON ({problem.msg}); skipped"
    if not isinstance(value, dict):
        return "not a JSON object; row skipped"
    if may_hold_nul and "\\u0000" in text and _holds_nul(value):
        return NUL_IN_ROW
    return _flatten(value)


def _holds_nul(value: object) -> bool:
    """Whether a decoded JSON value has a NUL character in any of its strings."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def _jsonl_rows(
    path: Path,
    lines: _CountingLines,
    on_problem: Callable[[Problem], None],
    stats: ReadStats,
    on_progress: ProgressCallback | None,
    progress_every: int,
) -> Iterator[Row]:
    for text in lines:
        if not text.strip():
            continue
        stats.rows += 1
        if on_progress is not None and stats.rows % progress_every == 0:
            on_progress(lines.position())
        fields = jsonl_fields(text)
        if isinstance(fields, str):
            stats.bad_rows += 1
            on_problem(Problem(str(path), lines.line, fields))
            continue
        yield Row(lines.line, fields)


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


def csv_columns(path: Path, header: list[str], required: tuple[str, ...]) -> list[str]:
    """The header's column names; the file is refused when a required one is missing."""
    columns = [name.strip().lower() for name in header]
    missing = [name for name in required if name not in columns]
    if missing:
        found = ", ".join(clipped(name, 40) for name in columns[:12])
        raise _refuse(
            path,
            f"has no {', '.join(missing)} column (columns found: "
            f"{found or 'none'}); is this the right export?",
            line=1,
        )
    return columns


def csv_records(
    reader: Any,
    columns: list[str],
    on_problem: Callable[[int, str], None],
    stats: ReadStats,
    *,
    first_line: int,
    on_row: Callable[[], None] | None = None,
) -> Iterator[tuple[int, dict[str, object]]]:
    """(line, fields) of each good record a csv.reader gives; see `csv_value_records`."""
    for line, values in csv_value_records(
        reader, len(columns), on_problem, stats, first_line=first_line, on_row=on_row
    ):
        yield line, dict(zip(columns, values, strict=True))


def csv_value_records(
    reader: Any,
    width: int,
    on_problem: Callable[[int, str], None],
    stats: ReadStats,
    *,
    first_line: int,
    on_row: Callable[[], None] | None = None,
    stop_at: list[str] | None = None,
    on_stop: Callable[[], None] | None = None,
    may_hold_bad_text: bool = True,
) -> Iterator[tuple[int, list[str]]]:
    """(line, values) of each good record a csv.reader gives; bad ones reported and skipped.

    `may_hold_bad_text` False says the caller saw no replacement character and no NUL in
    any of the records, so no row needs looking at for them.

    Line numbers are the reader's (lines it has read) plus first_line - 1. A record equal to
    `stop_at` ends the records without being counted (the end mark of a block).
    """
    offset = first_line - 1
    row_start = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as problem:
            stats.rows += 1
            stats.bad_rows += 1
            on_problem(offset + row_start, f"not valid CSV ({problem}); skipped")
            row_start = reader.line_num + 1
            continue
        line = offset + row_start
        row_start = reader.line_num + 1
        if stop_at is not None and values == stop_at:
            if on_stop is not None:
                on_stop()
            return
        if not values or (len(values) == 1 and not values[0].strip()):
            continue
        stats.rows += 1
        if on_row is not None:
            on_row()
        if len(values) != width:
            stats.bad_rows += 1
            on_problem(line, f"has {len(values)} fields, the header has {width}; skipped")
            continue
        if may_hold_bad_text:
            unusable = _bad_text(values)
            if unusable is not None:
                stats.bad_rows += 1
                on_problem(line, unusable)
                continue
        yield line, values


def _bad_text(values: list[str]) -> str | None:
    """What makes a row's text unusable: bytes that were not UTF-8, or a NUL byte (which
    PostgreSQL refuses in text, failing the whole run, and SQLite would keep in a title)."""
    for value in values:
        if "\ufffd" in value:
            return "not UTF-8 text; row skipped"
        if "\x00" in value:
            return NUL_IN_ROW
    return None


def _csv_rows(
    path: Path,
    lines: _CountingLines,
    required: tuple[str, ...],
    on_problem: Callable[[Problem], None],
    stats: ReadStats,
    on_progress: ProgressCallback | None,
    progress_every: int,
    columns: list[str] | None = None,
) -> Iterator[Row]:
    reader = csv.reader(lines)
    first_line = 1
    if columns is None:
        try:
            header = next(reader)
        except StopIteration:
            raise _refuse(path, "is empty") from None
        except csv.Error as problem:
            raise _refuse(path, f"is not a CSV file ({problem})", 1) from problem
        columns = csv_columns(path, header, required)
    else:
        first_line = lines.line + 1  # resumed inside the file: count on from there

    def problem_at(line: int, message: str) -> None:
        on_problem(Problem(str(path), line, message))

    def progress() -> None:
        if on_progress is not None and stats.rows % progress_every == 0:
            on_progress(lines.position())

    for line, fields in csv_records(
        reader, columns, problem_at, stats, first_line=first_line, on_row=progress
    ):
        yield Row(line, fields)


# Reading in blocks ----------------------------------------------------------------------
#
# Big exports are parsed by worker processes, which take raw blocks of the file: the parent
# only finds where a block may end (a line break outside any quoted field) and never decodes
# a row. Each block ends with an end mark; a block whose last record is not exactly that
# mark did not end at a record boundary (a stray quote fooled the count), and the rest of
# the file is then read row by row instead, so the result never differs.

BLOCK_END = "\ue000skillgap: end of block\ue000"
_MAX_BLOCK = 16 * 1024 * 1024


@dataclass(frozen=True)
class Resume:
    """A row boundary inside a file: where its rows continue."""

    offset: int  # bytes
    line: int  # lines before it
    columns: list[str] | None  # CSV header, already read


class NoBlockBoundary(Exception):
    """No row boundary found in a long stretch of the file: read it row by row from offset."""

    def __init__(self, offset: int) -> None:
        self.offset = offset
        super().__init__(f"no row boundary within {_MAX_BLOCK} bytes of byte {offset}")


def block_start(path: Path, file_format: str, required: tuple[str, ...]) -> Resume | None:
    """Where the rows start, for reading in blocks; None when only rows will do."""
    if file_format == "jsonl":
        return Resume(0, 0, None)
    head = b""
    with path.open("rb") as handle:
        while True:
            # Never more than the limit at once: a first line can be as long as the file.
            line = handle.readline(_SNIFF_BYTES + 1)
            head += line
            if not line or len(head) > _SNIFF_BYTES:
                return None  # a header that long (or no rows) is left to the row reader
            if head.count(b'"') % 2 == 0 and head.endswith(b"\n"):
                break
    text = head.decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        records = list(reader)
    except csv.Error:
        return None
    if len(records) != 1:
        return None  # e.g. a lone carriage return ends a record inside that line
    columns = csv_columns(path, records[0], required)
    return Resume(len(head), reader.line_num, columns)


def read_blocks(
    path: Path, file_format: str, start: int, block_bytes: int
) -> Iterator[tuple[int, bytes]]:
    """(offset, bytes) of consecutive blocks from `start`, each ending with a line break
    that (for CSV) is outside quotes by count; the last block is the rest of the file."""
    with path.open("rb") as handle:
        handle.seek(start)
        offset = start
        carry = b""
        while True:
            chunk = handle.read(block_bytes)
            data = carry + chunk if carry else chunk
            if not chunk:
                if data:
                    yield offset, data
                return
            cut = _block_cut(data, file_format)
            if cut == 0:
                if len(data) > _MAX_BLOCK:
                    raise NoBlockBoundary(offset)
                carry = data
                continue
            yield offset, data[:cut]
            offset += cut
            carry = data[cut:]


def _block_cut(data: bytes, file_format: str) -> int:
    """Length of the longest prefix ending at a usable line break (0 if none)."""
    if file_format == "jsonl":
        return data.rfind(b"\n") + 1
    total = data.count(b'"')
    tail_quotes = 0
    end = len(data)
    for _ in range(10_000):
        newline = data.rfind(b"\n", 0, end)
        if newline < 0:
            return 0
        tail_quotes += data.count(b'"', newline + 1, end)
        if (total - tail_quotes) % 2 == 0:
            return newline + 1
        end = newline
    return 0


@dataclass
class BlockRows:
    """What reading one block gave besides its rows: its lines, and whether it ended clean."""

    lines: int = 0
    clean: bool = False


def block_jsonl_rows(
    data: bytes,
    *,
    at_file_start: bool,
    on_problem: Callable[[int, str], None],
    stats: ReadStats,
    outcome: BlockRows,
) -> Iterator[tuple[int, dict[str, object]]]:
    """A JSON Lines block's good rows as (line within the block, fields)."""
    line = 0
    # A NUL raw or as an escape anywhere in the block: only then is each row looked at.
    may_hold_nul = b"\x00" in data or b"\\u0000" in data
    for line_text in io.StringIO(_block_text(data, at_file_start), newline=""):
        line += 1
        if not line_text.strip():
            continue
        stats.rows += 1
        fields = jsonl_fields(line_text, may_hold_nul=may_hold_nul)
        if isinstance(fields, str):
            stats.bad_rows += 1
            on_problem(line, fields)
            continue
        yield line, fields
    outcome.lines = line
    outcome.clean = True


def block_csv_values(
    data: bytes,
    width: int,
    *,
    at_file_start: bool,
    on_problem: Callable[[int, str], None],
    stats: ReadStats,
    outcome: BlockRows,
) -> Iterator[tuple[int, list[str]]]:
    """A CSV block's good rows as (line within the block, values), the header's width each;
    problems by line within the block."""
    text = _block_text(data, at_file_start)
    if text and not text.endswith(("\n", "\r")):
        text += "\n"  # the file's last line, without a line break: the mark needs its own line
    reader = csv.reader(io.StringIO(text + BLOCK_END + "\n", newline=""))
    marks: list[bool] = []
    yield from csv_value_records(
        reader,
        width,
        on_problem,
        stats,
        first_line=1,
        stop_at=[BLOCK_END],
        on_stop=lambda: marks.append(True),
        # No replacement character and no NUL anywhere in the block: no row to check.
        may_hold_bad_text="\ufffd" in text or "\x00" in text,
    )
    # Clean only if the end mark was read whole, as the block's very last record.
    outcome.lines = reader.line_num - 1
    outcome.clean = False
    if marks:
        try:
            next(reader)
        except StopIteration:
            outcome.clean = True
        except csv.Error:
            pass


def _block_text(data: bytes, at_file_start: bool) -> str:
    return data.decode("utf-8-sig" if at_file_start else "utf-8", errors="replace")
