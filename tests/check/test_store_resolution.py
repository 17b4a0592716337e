"""Skill resolution against the store's own skills: the report's, plus the taxonomy once loaded."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.market import MarketReader

# Terms whose answers the bundled April 2026 report alone fixes.
REPORT_CASES = [
    ("Python", "Python"),
    ("pyhton", "Python"),
    ("LoRA", "LoRA"),
    ("model fine-tuning", "Fine-Tuning"),
    ("model fine-tuning at scale", "Model Fine-Tuning at Scale"),
    ("aws", "AWS"),
    ("production llm deployment", "Production LLM Deployment"),
    ("AI Safety & Evaluation", "AI Evaluation & Safety"),
    ("LLMs", "Large Language Models"),
    ("prompt enginering", "Prompt Engineering"),
    ("cobol", None),
]

# Look-alikes that must not cross once the taxonomy (hundreds of skills) is in the store.
TAXONOMY_CASES = [
    ("go", "Go"),
    ("golang", "Go"),
    ("R", "R"),
    ("React", "React"),
    ("Java", "Java"),
    ("JavaScript", "JavaScript"),
    ("k8s", "Kubernetes"),
    ("RAG", "Retrieval-Augmented Generation"),
    ("pytroch", "PyTorch"),
    ("langchian", "LangChain"),
    ("go to market", None),
    ("reactive", None),
]


@pytest.mark.parametrize(("text", "expected"), REPORT_CASES)
async def test_report_skills_resolve(
    sqlite_engine: AsyncEngine, text: str, expected: str | None
) -> None:
    resolution = await MarketReader(sqlite_engine).resolve_skill(text)
    assert (resolution.match.name if resolution.match else None) == expected


async def test_taxonomy_look_alikes_never_cross(sqlite_engine: AsyncEngine) -> None:
    index = await MarketReader(sqlite_engine).skill_index()
    assert len(index) > 200  # the bundled taxonomy is in the store from first use
    for text, expected in TAXONOMY_CASES:
        resolution = index.resolve(text)
        found = resolution.match.name if resolution.match else None
        assert found == expected, f"{text!r} -> {found!r}, expected {expected!r}"


async def test_a_phrase_is_never_split_into_a_skill_and_stray_words(
    sqlite_engine: AsyncEngine,
) -> None:
    index = await MarketReader(sqlite_engine).skill_index()
    result = index.resolve_terms("python, go to market, golang, python docker kubernets")
    assert [c.name for c in result.matches] == ["Python", "Go", "Docker", "Kubernetes"]
    assert [r.query for r in result.unknown] == ["go to market"]
