"""Reads what people type after /skillgap: the subcommand word, a role or skill, a region."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from db.constants import Region
from db.names import normalize_name

# Slack caps command text at a few thousand characters; nothing we resolve is longer than a
# name, so anything past this is ignored rather than searched.
MAX_TEXT = 1000
# How much of someone's own words is echoed back ("I don't know …").
MAX_ECHO = 80

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
_IN_REGION = re.compile(r"^(?P<before>.*?)\s*\bin\s+(?P<region>[^\s].*)$", re.IGNORECASE)
_LEADING_FILLER = re.compile(r"^(?:for|of|about)\s+", re.IGNORECASE)

REGIONS: dict[str, str] = {
    "uk": Region.UK,
    "the uk": Region.UK,
    "united kingdom": Region.UK,
    "the united kingdom": Region.UK,
    "gb": Region.UK,
    "great britain": Region.UK,
    "britain": Region.UK,
    "london": Region.LONDON,
    "greater london": Region.LONDON,
}


def clean_text(text: str) -> str:
    """One line of plain words: control and invisible characters gone, spaces collapsed."""
    return " ".join(_CONTROL.sub(" ", text[: MAX_TEXT * 4]).split())[:MAX_TEXT]


def split_subcommand(text: str) -> tuple[str, str]:
    """("role", "ai engineer in London") from "Role  ai engineer in London"."""
    cleaned = clean_text(text)
    word, _, rest = cleaned.partition(" ")
    return word.lower(), rest.strip()


def echo(text: str) -> str:
    """Someone's input cut to a length fit to quote back to them."""
    cleaned = clean_text(text)
    return cleaned if len(cleaned) <= MAX_ECHO else cleaned[: MAX_ECHO - 1].rstrip() + "…"


def region_named(text: str) -> str | None:
    """The region a name denotes ("london" -> "London"), or None when SkillGap has none."""
    return REGIONS.get(" ".join(normalize_name(text).split()))


@dataclass(frozen=True)
class RoleQuery:
    """A role (maybe empty: the workspace default) and the region asked for."""

    role: str
    region: str = Region.UK
    # Words after "in" that name no region SkillGap knows, to say so rather than guess.
    unknown_region: str = ""


@lru_cache(maxsize=1024)  # pure, and the same few role names are asked for again and again
def parse_role_query(text: str) -> RoleQuery:
    """ "ai engineer in London" -> RoleQuery("ai engineer", "London").

    "in X" is only read as a region when X is one; otherwise the words stay part of the role
    ("Engineer in Test"), and the caller decides whether the whole is a role.
    """
    cleaned = _LEADING_FILLER.sub("", clean_text(text))
    match = _IN_REGION.match(cleaned)
    if match is None:
        return RoleQuery(cleaned)
    before, region_text = match.group("before").strip(), match.group("region").strip()
    region = region_named(region_text)
    if region is not None:
        return RoleQuery(before, region)
    return RoleQuery(cleaned, unknown_region=region_text)


def without_region(query: RoleQuery) -> str:
    """The role words of a query whose "in X" turned out not to be a region."""
    if not query.unknown_region:
        return query.role
    match = _IN_REGION.match(query.role)
    return match.group("before").strip() if match else query.role
