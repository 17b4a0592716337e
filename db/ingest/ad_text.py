"""The text an ad's skills were extracted from, kept compressed so a taxonomy edit can re-read it.

Stored ads keep exactly what the extractor read (title, a line break, description), so
`ingest reextract` finds what a fresh ingest of the same ad would find under a changed alias
or rule. zlib at level 1: on job-ad text it saves nearly as much as the default level 6
(about 609 against 589 bytes for a 1.4 KB ad, 196 against 195 for a 280-byte snippet) in
three quarters of the time, and its checksum tells a damaged text from a good one.
"""

from __future__ import annotations

import zlib

COMPRESSION_LEVEL = 1


class UnreadableText(ValueError):
    """A stored text that does not decompress or decode: the store was damaged."""


def extraction_text(title: str, description: str) -> str:
    """What the extractor reads in an ad."""
    return f"{title}\n{description}"


def pack_text(text: str) -> bytes:
    return zlib.compress(text.encode("utf-8"), COMPRESSION_LEVEL)


def unpack_text(packed: bytes) -> str:
    try:
        return zlib.decompress(packed).decode("utf-8")
    except (zlib.error, UnicodeDecodeError) as problem:
        raise UnreadableText(str(problem)) from None
