"""Where an alias can start in a text: one Aho–Corasick pass over a folded copy of it.

The extraction regex (see extract.py) is exact but slow to search with: at every word start
Python's `re` walks the first level of a trie of a few thousand aliases. An automaton finds
every place an alias could start in one pass in C; the regex then only confirms the few
places where the automaton alone cannot tell, so the hits are exactly the regex's own.

The automaton reads the lower-cased text "folded": characters that can decide a match
(a-z, 0-9, `_`, `+`, `#`) stay, every other character becomes NUL. Its keys are, for each
alias pattern, a character allowed on its left (NUL, `+` or `#`: anything but a word
character) followed by

* the whole alias and a NUL, when the alias is one chunk (no space or hyphen in it): the
  NUL is the right-hand boundary the regex asks for (not a word character, `+` or `#`);
* otherwise its first chunk, then the second chunk directly ("finetuning"), or after one
  NUL ("fine tuning"), or two NULs (a longer run of separators, or a chunk that starts with
  a folded character): spaces and hyphens match zero or more separators, and fold to NUL.

Every regex match therefore begins at a key's occurrence. An alias whose characters all
survive folding ("pytorch", "c++") is proven by its key alone: no other alias can match at
the same place, since a longer one would need a word character where this one ends. Any
other key (a first chunk, or an alias with a dot or an accent) marks a place to try the
regex at.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import ahocorasick

_KEPT = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_+#")
_FOLDED = "\x00"
# str.translate takes a fast path for ASCII text with an ASCII table; other text goes
# through the regex, which folds the same characters.
_FOLD_ASCII = {code: chr(code) if chr(code) in _KEPT else _FOLDED for code in range(128)}
_FOLD_OTHER = re.compile(r"[^a-z0-9_+#]")
_LEFT_OF_ALIAS = (_FOLDED, "+", "#")  # folded characters that are not word characters

# What a key says about the place it was found: (key length, alias as written) when the key
# proves that alias is the match, (key length, None) when the regex must decide.
KeyValue = tuple[int, str | None]


def fold(lowered: str) -> str:
    """Lower-cased text as the automaton reads it, with a NUL after it for the end of text."""
    if lowered.isascii():
        return lowered.translate(_FOLD_ASCII) + _FOLDED
    return _FOLD_OTHER.sub(_FOLDED, lowered) + _FOLDED


def _fold_key(chars: str) -> str:
    return "".join(char if char in _KEPT else _FOLDED for char in chars)


class AliasStarts:
    """The places in a lower-cased text where one of `patterns` may match (see module doc).

    `aliases` are the lower-cased alias patterns the regex is built from, each as its
    chunks: the runs of characters between its spaces and hyphens.
    """

    def __init__(self, aliases: Iterable[tuple[str, ...]]) -> None:
        values: dict[str, KeyValue] = {}
        for chunks in aliases:
            if not chunks or not chunks[0]:
                raise ValueError("an alias pattern without characters cannot be scanned for")
            first = _fold_key(chunks[0])
            cores: tuple[str, ...]
            if len(chunks) == 1:
                cores = (first + _FOLDED,)
                proven = chunks[0] if set(chunks[0]) <= _KEPT else None
            else:
                second = _fold_key(chunks[1])
                cores = (first + second, first + _FOLDED + second, first + _FOLDED * 2)
                proven = None
            for left in _LEFT_OF_ALIAS:
                for core in cores:
                    key = left + core
                    value: KeyValue = (len(key), proven)
                    # Two patterns with one key: the regex tells them apart.
                    if values.setdefault(key, value) != value:
                        values[key] = (len(key), None)
        self._automaton = ahocorasick.Automaton()
        for key, value in values.items():
            self._automaton.add_word(key, value)
        self._automaton.make_automaton()
        self._iter = self._automaton.iter

    def starts(self, lowered: str) -> dict[int, str | None]:
        """Index of the character left of each possible match -> the alias it surely is, or
        None where the regex must look (several keys there, or one that proves nothing)."""
        found: dict[int, str | None] = {}
        for last, (length, proven) in self._iter(fold(lowered)):
            start = last - length + 1
            found[start] = None if start in found else proven
        return found
