"""A directory people drop exports into: each new (or changed) file is ingested once."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from db.feeds.fetching import Batch, FeedError, FeedSource

SUFFIXES = (".csv", ".jsonl", ".ndjson")


def check_folder(path: str) -> str:
    folder = Path(path).expanduser()
    if not path.strip() or not folder.is_dir():
        raise FeedError(f"{path!r} is not a folder this machine can read")
    return str(folder.resolve())


def _fingerprint(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class FolderSource(FeedSource):
    def __init__(self, params: dict[str, Any]) -> None:
        self.folder = Path(check_folder(str(params.get("path", ""))))

    async def batches(self, state: dict[str, Any]) -> AsyncIterator[Batch]:
        # By content: a file copied in twice, or renamed, is read once; an edited one again.
        seen: list[str] = list(state.get("files", []))
        files = sorted(
            (p for p in self.folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES),
            key=lambda p: (p.stat().st_mtime_ns, p.name),
        )
        for path in files:
            fingerprint = _fingerprint(path)
            if fingerprint in seen:
                continue
            seen.append(fingerprint)
            yield Batch(str(path), {"files": list(seen)}, path=path)
