"""Skill extraction: one compiled trie-shaped regex over every alias, checked for case and context.

Python's `re` tries the alternatives of a plain alternation one by one at each position, so
a regex built from a few thousand aliases is slow; folding them into a trie first makes each
position cost a handful of character tests. Matches are then checked against the case rules
(short names such as "R", "Go", "Spark" only as written) and each skill's `not_in` context
patterns ("go-to-market", "C-suite", "R&D").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from db.ingest.taxonomy import Taxonomy, TaxonomySkill

# A space or hyphen inside an alias also matches none, several, or a line break:
# "fine-tuning", "fine tuning" and "finetuning" are the same phrase.
_SEPARATOR = object()
_SEPARATOR_PATTERN = r"[\s\-]*"
# Word characters on either side mean the alias is part of a longer word ("Golang", "array").
_LEFT = r"(?<![A-Za-z0-9_])"
_RIGHT = r"(?![A-Za-z0-9_+#])"
_CONTEXT = 30  # characters either side of a mention searched by its not_in patterns

Trie = dict[object, "Trie"]


_NO_SEPARATORS = str.maketrans("", "", " \t\r\n\f\v-")


def _key(text: str) -> str:
    return text.translate(_NO_SEPARATORS)


def _tokens(alias: str) -> list[object]:
    tokens: list[object] = []
    for char in alias:
        if char.isspace() or char == "-":
            if tokens and tokens[-1] is not _SEPARATOR:
                tokens.append(_SEPARATOR)
        else:
            tokens.append(char)
    return tokens


def _render(node: Trie) -> str:
    is_end = None in node
    branches: list[str] = []
    single_chars: list[str] = []
    for token, child in node.items():
        if token is None:
            continue
        if token is _SEPARATOR:
            branches.append(_SEPARATOR_PATTERN + _render(child))
            continue
        assert isinstance(token, str)
        rest = _render(child)
        if rest == "" and list(child) == [None]:
            single_chars.append(token)
        else:
            branches.append(re.escape(token) + rest)
    if single_chars:
        chars = "".join(re.escape(c) for c in single_chars)
        branches.append(chars if len(single_chars) == 1 else f"[{chars}]")
    if not branches:
        return ""
    if len(branches) == 1:
        body = branches[0]
        # Greedy: the longest alias wins, the shorter one is the fallback.
        return f"(?:{body})?" if is_end else body
    body = "(?:" + "|".join(branches) + ")"
    return body + "?" if is_end else body


def trie_pattern(aliases: Iterable[str]) -> str:
    root: Trie = {}
    for alias in aliases:
        node = root
        for token in _tokens(alias):
            node = node.setdefault(token, {})
        node[None] = {}
    return _render(root)


@dataclass(frozen=True, slots=True)
class Match:
    skill: TaxonomySkill
    start: int
    end: int


def _scoped(pattern: str) -> str:
    """A pattern as one alternative of a larger regex: a leading (?i) becomes a scoped group."""
    if pattern.startswith("(?i)"):
        return "(?i:" + pattern[4:] + ")"
    return "(?:" + pattern + ")"


class SkillExtractor:
    """Finds the taxonomy's skills in free text: whole phrases, one result per skill."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self._caseless: dict[str, TaxonomySkill] = {}
        self._exact: dict[str, TaxonomySkill] = {}
        # One table for both kinds: exact aliases are looked up lower-cased too, then their
        # spelling in the text is checked against the forms that are allowed.
        self._table: dict[str, tuple[TaxonomySkill, frozenset[str] | None]] = {}
        patterns: list[str] = []
        for skill in taxonomy.skills:
            for alias in skill.aliases:
                lowered = alias.lower()
                self._table[_key(lowered)] = (skill, None)
                patterns.append(lowered)
                # Plurals of ordinary phrases ("vector databases", "AI agents").
                if len(lowered) >= 4 and lowered[-1].isalpha() and lowered[-1] != "s":
                    patterns.append(lowered + "s")
        exact_forms: dict[str, set[str]] = {}
        exact_owner: dict[str, TaxonomySkill] = {}
        for skill in taxonomy.skills:
            for alias in skill.exact:
                key = _key(alias.lower())
                exact_forms.setdefault(key, set()).add(_key(alias))
                exact_owner.setdefault(key, skill)
                patterns.append(alias.lower())
        for key, forms in exact_forms.items():
            # A caseless alias of the same letters wins: it matches whatever the case.
            self._table.setdefault(key, (exact_owner[key], frozenset(forms)))
        # One pass over the lower-cased text with a trie-shaped pattern of every alias.
        self._regex = re.compile(_LEFT + "(?:" + trie_pattern(patterns) + ")" + _RIGHT)
        # Each skill's not_in patterns as one regex, searched only around a mention.
        self._guards = {
            skill.slug: re.compile("|".join(_scoped(p.pattern) for p in skill.not_in))
            for skill in taxonomy.skills
            if skill.not_in
        }
        by_name = {skill.name: skill for skill in taxonomy.skills}
        self._implied = {
            skill.slug: tuple(by_name[name] for name in skill.implies)
            for skill in taxonomy.skills
            if skill.implies
        }

    def matches(self, text: str) -> list[Match]:
        """Every accepted mention in order (leftmost, longest alias first, no overlaps)."""
        return [Match(skill, start, end) for skill, start, end in self._mentions(text)]

    def _mentions(self, text: str) -> Iterator[tuple[TaxonomySkill, int, int]]:
        # The hot loop of ingestion: plain tuples and local names on purpose.
        lowered = text.lower()
        if len(lowered) != len(text):
            # A few characters change length when lower-cased (e.g. "İ"); keep offsets aligned.
            lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
        table = self._table
        guards = self._guards
        for hit in self._regex.finditer(lowered):
            found = hit.group()
            entry = table.get(found)
            if entry is None:
                key = found.translate(_NO_SEPARATORS)
                entry = table.get(key) or table.get(key[:-1])
                if entry is None:
                    continue
            skill, forms = entry
            start, end = hit.span()
            if forms is not None and text[start:end].translate(_NO_SEPARATORS) not in forms:
                continue  # "go", "spark", "rust" in lower case are ordinary words
            guard = guards.get(skill.slug)
            if guard is not None and _overlaps(guard, text, start, end):
                continue  # "go-to-market", "C-suite", "R&D"
            yield skill, start, end

    def skills(self, text: str) -> list[TaxonomySkill]:
        """The skills mentioned in the text (and those they imply), each once, in order."""
        seen: dict[str, TaxonomySkill] = {}
        for skill, _, _ in self._mentions(text):
            if skill.slug not in seen:
                seen[skill.slug] = skill
        implied = self._implied
        for slug in [s for s in seen if s in implied]:
            for other in implied[slug]:
                seen.setdefault(other.slug, other)
        return list(seen.values())

    def skill_slugs(self, text: str) -> tuple[str, ...]:
        """Sorted slugs of the skills mentioned: the compact form ads are stored with."""
        return tuple(sorted(skill.slug for skill in self.skills(text)))


def _overlaps(guard: re.Pattern[str], text: str, start: int, end: int) -> bool:
    """Whether a context pattern around a mention covers part of it."""
    for context in guard.finditer(text, max(0, start - _CONTEXT), end + _CONTEXT):
        if context.start() < end and start < context.end():
            return True
    return False


class NaiveExtractor:
    """The baseline the benchmark compares with: one case-insensitive regex per alias."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self._patterns = [
            (re.compile(r"\b" + re.escape(alias) + r"\b", re.IGNORECASE), skill.slug)
            for skill in taxonomy.skills
            for alias in (*skill.aliases, *skill.exact)
        ]

    def skill_slugs(self, text: str) -> tuple[str, ...]:
        return tuple(sorted({slug for pattern, slug in self._patterns if pattern.search(text)}))
