"""How a value read from input (a column name, a date, a title) is repeated in a message."""

from __future__ import annotations

# The most of one value (a column name, a date, a title) a message repeats back.
ECHO_LIMIT = 200


def clipped(text: str, limit: int = ECHO_LIMIT) -> str:
    """`text` as a message may echo it: at most `limit` characters, "…" where it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
