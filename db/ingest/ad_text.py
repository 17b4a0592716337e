"""The text an ad's skills were extracted from, kept compressed so a taxonomy edit can re-read it.

Stored ads keep exactly what the extractor read (title, a line break, description), so
`ingest reextract` finds what a fresh ingest of the same ad would find under a changed alias
or rule. Zstandard at level 1 with a checksum: on full-length job ads (1.4 KB) it keeps
about 600 bytes, as zlib does at level 1, in a third of the time (about 9 µs an ad against
25 µs in the parsing workers, where every ad of an ingest pays it), and its checksum tells a
damaged text from a good one. Texts stored with zlib before are still read.
"""

from __future__ import annotations

import zlib

import zstandard

COMPRESSION_LEVEL = 1
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# One of each per process: a compressor keeps its buffers between calls.
_compressor = zstandard.ZstdCompressor(level=COMPRESSION_LEVEL, write_checksum=True)
_decompressor = zstandard.ZstdDecompressor()


class UnreadableText(ValueError):
    """A stored text that does not decompress or decode: the store was damaged."""


def extraction_text(title: str, description: str) -> str:
    """What the extractor reads in an ad."""
    return f"{title}\n{description}"


def pack_text(text: str) -> bytes:
    return _compressor.compress(text.encode("utf-8"))


def unpack_text(packed: bytes) -> str:
    try:
        if packed[:4] == _ZSTD_MAGIC:
            return _decompressor.decompress(packed).decode("utf-8")
        return zlib.decompress(packed).decode("utf-8")
    except (zstandard.ZstdError, zlib.error, UnicodeDecodeError) as problem:
        raise UnreadableText(str(problem)) from None
