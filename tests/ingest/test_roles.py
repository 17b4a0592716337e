"""Job titles to roles: seniority stripped, rules, the store's aliases, typos forgiven, no guess."""

from __future__ import annotations

import pytest

from db.ingest.roles import KnownRole, RoleMapper
from db.taxonomy import load_taxonomy

MAPPER = RoleMapper(
    load_taxonomy(), [KnownRole("Prompt Whisperer", ("Prompt Whisperer", "Prompt Artisan"))]
)


@pytest.mark.parametrize(
    ("title", "role"),
    [
        ("AI Engineer", "AI Engineer"),
        ("Senior AI Engineer", "AI Engineer"),
        ("Lead AI Engineer (LLMs) - London", "AI Engineer"),
        ("LLM Engineer", "AI Engineer"),
        ("GenAI Engineer | Hybrid | £90k", "AI Engineer"),
        ("Generative AI Engineer II", "AI Engineer"),
        ("Software Engineer, AI", "AI Engineer"),
        ("AI/ML Engineer", "AI Engineer"),
        ("AI Enginer", "AI Engineer"),  # a typo, forgiven
        ("Sr. Machine Learning Engineer", "Machine Learning Engineer"),
        ("ML Engineer", "Machine Learning Engineer"),
        ("MLOps Engineer", "MLOps Engineer"),
        ("Senior Data Engineer, London", "Data Engineer"),
        ("Data Scientist", "Data Scientist"),
        ("Prompt Artisan", "Prompt Whisperer"),  # an alias the store knows
        ("Head of AI", None),
        ("AI Product Manager", None),
        ("Office Manager", None),
        ("", None),
    ],
)
def test_titles_map_to_roles(title: str, role: str | None) -> None:
    assert MAPPER.role_for(title) == role


def test_seniority_and_place_are_removed_from_the_title() -> None:
    assert MAPPER.clean("Senior Lead AI Engineer (Remote) - Manchester") == "ai engineer"
