"""How names are matched: the normalized form of role, skill and alias names, and their slugs."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache


def normalize_name(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form used to match names and aliases."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    folded = folded.replace("&", " and ").replace("+", " plus ").replace("#", " sharp ")
    return " ".join(re.findall(r"[a-z0-9]+", folded))


@lru_cache(maxsize=4096)  # pure, and asked for every skill of every checksum
def slugify(text: str) -> str:
    return normalize_name(text).replace(" ", "-")[:120] or "unnamed"
