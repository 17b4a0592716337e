"""Job title -> role: the store's roles and aliases, the taxonomy's rules, then a fuzzy match."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from db.names import normalize_name, slugify
from db.taxonomy import Taxonomy

# Fuzzy matching only forgives typos ("AI Enginer"), never a different job.
FUZZY_CUTOFF = 92.0
_TRAILERS = re.compile(r"\s+(?:-|–|—|\||/ |@|at )\s*.*$")
_BRACKETS = re.compile(r"\([^)]*\)|\[[^\]]*\]")


@dataclass(frozen=True)
class KnownRole:
    title: str
    names: tuple[str, ...]  # title and aliases

    @property
    def slug(self) -> str:
        return slugify(self.title)


class RoleMapper:
    """Maps raw job titles to role titles; remembers answers, titles repeat a lot."""

    def __init__(self, taxonomy: Taxonomy, store_roles: Iterable[KnownRole] = ()) -> None:
        self._rules = taxonomy.roles
        self._exact: dict[str, str] = {}
        for rule in taxonomy.roles:
            for name in (rule.title, *rule.aliases):
                self._exact.setdefault(normalize_name(name), rule.title)
        # Roles already in the store win over the taxonomy's spelling of the same title.
        for role in store_roles:
            for name in role.names:
                self._exact[normalize_name(name)] = role.title
        seniority = sorted(
            (normalize_name(w) for w in taxonomy.seniority_words), key=len, reverse=True
        )
        words = "|".join(re.escape(w) for w in seniority if w)
        self._leading = re.compile(rf"^(?:(?:{words})\s+)+")
        self._trailing = re.compile(rf"(?:\s+(?:{words}))+$")
        self._choices = list(self._exact)
        self._cache: dict[str, str | None] = {}

    def clean(self, title: str) -> str:
        """The title without seniority, location, brackets or anything after a dash."""
        text = _BRACKETS.sub(" ", title)
        text = _TRAILERS.sub("", text)
        text = text.split(",")[0] if "," in text and not _names_role_after_comma(text) else text
        normalized = normalize_name(text)
        normalized = self._leading.sub("", normalized)
        normalized = self._trailing.sub("", normalized)
        return normalized.strip()

    def role_for(self, title: str) -> str | None:
        cached = self._cache.get(title, False)
        if cached is not False:
            return cached  # type: ignore[return-value]
        role = self._map(title)
        if len(self._cache) < 200_000:
            self._cache[title] = role
        return role

    def _map(self, title: str) -> str | None:
        cleaned = self.clean(title)
        if not cleaned:
            return None
        exact = self._exact.get(cleaned)
        if exact is not None:
            return exact
        for rule in self._rules:
            if any(pattern.search(cleaned) for pattern in rule.patterns):
                return rule.title
        best = process.extractOne(
            cleaned, self._choices, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF
        )
        return None if best is None else self._exact[best[0]]


def _names_role_after_comma(text: str) -> bool:
    """'Software Engineer, AI' names the role after the comma; 'AI Engineer, London' does not."""
    after = normalize_name(text.split(",", 1)[1])
    return bool(after) and after.split()[0] in {
        "ai",
        "genai",
        "llm",
        "llms",
        "ml",
        "machine",
        "generative",
        "data",
        "nlp",
    }
