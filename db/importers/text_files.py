"""Reading import files safely: size cap before reading, UTF-8 only, no binary content."""

from __future__ import annotations

import os
from pathlib import Path

from db.importers.document import InvalidImport, Problem

# Real reports and curated files are a few kilobytes; anything this big is a mistake.
MAX_FILE_BYTES = 5 * 1024 * 1024


def read_text(path: Path, max_bytes: int = MAX_FILE_BYTES) -> str:
    """A file's text, refusing missing, empty, oversized, binary and non-UTF-8 files."""
    name = str(path)

    def refuse(message: str, line: int | None = None) -> InvalidImport:
        return InvalidImport([Problem(name, line, message)])

    try:
        with path.open("rb") as handle:
            # Checked before reading so a huge file is refused without loading it.
            if os.fstat(handle.fileno()).st_size > max_bytes:
                raise refuse(_too_big(max_bytes))
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise refuse("no such file") from None
    except IsADirectoryError:
        raise refuse("this is a directory, not a file") from None
    except OSError as error:
        raise refuse(f"cannot read the file: {error.strerror or error}") from None
    if len(data) > max_bytes:  # a pipe or device that does not report its size
        raise refuse(_too_big(max_bytes))
    if not data.strip():
        raise refuse("the file is empty")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise refuse(
            f"not UTF-8 text: byte 0x{data[error.start]:02x} at byte offset {error.start} "
            "cannot be decoded; save the file as UTF-8 and import it again",
            line,
        ) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise refuse("the file holds NUL bytes: it looks binary, not a report or YAML", line)
    return text.removeprefix("\ufeff")


def _too_big(max_bytes: int) -> str:
    return (
        f"the file is larger than {max_bytes // (1024 * 1024)} MB; "
        "a market report or snapshot file is a few kilobytes, so check it is the right file"
    )
