"""The text an ad's skills were extracted from, kept compressed so a taxonomy edit can re-read it.

Stored ads keep exactly what the extractor read (title, a line break, description), so
`ingest reextract` finds what a fresh ingest of the same ad would find under a changed alias
or rule. The format is zlib's, whose checksum tells a damaged text from a good one; it is
written by ISA-L (the `isal` package) at level 1, which on job-ad text compresses 2.3 times
as fast as zlib's own level 1 and as small (a 1.4 KB ad: 7.8 against 18.1 us, 596 against 609
bytes; a 280-byte snippet: 4.8 against 8.9 us, 194 against 196 bytes), and read by zlib.
"""

from __future__ import annotations

import zlib

from isal import isal_zlib

COMPRESSION_LEVEL = 1


class UnreadableText(ValueError):
    """A stored text that does not decompress or decode: the store was damaged."""


def extraction_text(title: str, description: str) -> str:
    """What the extractor reads in an ad."""
    return f"{title}\n{description}"


def pack_text(text: str) -> bytes:
    return isal_zlib.compress(text.encode("utf-8"), COMPRESSION_LEVEL)


def unpack_text(packed: bytes) -> str:
    try:
        return zlib.decompress(packed).decode("utf-8")
    except (zlib.error, UnicodeDecodeError) as problem:
        raise UnreadableText(str(problem)) from None
