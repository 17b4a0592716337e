"""The skills graph in the taxonomy: families, members, and the mistakes a test refuses."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import transaction
from db.ingest.writer import sync_taxonomy
from db.market import MarketReader
from db.names import normalize_name
from db.snapshots import upsert_skill
from db.taxonomy import TaxonomyError, load_taxonomy, parse_taxonomy


def _taxonomy(skills: str) -> str:
    return f"format: skillgap-taxonomy\nversion: 2\nskills:\n  a:\n{skills}"


def test_a_cycle_is_refused() -> None:
    text = _taxonomy(
        "    - {name: One, parents: [Two]}\n"
        "    - {name: Two, parents: [Three]}\n"
        "    - {name: Three, parents: [One]}\n"
    )
    with pytest.raises(TaxonomyError, match="cycle: One -> Two -> Three -> One"):
        parse_taxonomy(text)


def test_a_parent_that_does_not_exist_is_refused() -> None:
    with pytest.raises(TaxonomyError, match="unknown parent 'Clouds'"):
        parse_taxonomy(_taxonomy("    - {name: AWS, parents: [Clouds]}\n"))


def test_a_skill_cannot_be_its_own_parent() -> None:
    with pytest.raises(TaxonomyError, match="unknown parent 'AWS'"):
        parse_taxonomy(_taxonomy("    - {name: AWS, parents: [AWS]}\n"))


def test_an_alias_claimed_by_a_member_and_its_family_is_refused() -> None:
    text = _taxonomy(
        "    - {name: Cloud Platforms, aliases: [AWS]}\n"
        "    - {name: AWS, parents: [Cloud Platforms]}\n"
    )
    with pytest.raises(TaxonomyError, match="already belongs to Cloud Platforms"):
        parse_taxonomy(text)


def test_a_skill_in_two_families_counts_for_both_and_their_ancestors_once() -> None:
    taxonomy = parse_taxonomy(
        _taxonomy(
            "    - {name: Machine Learning}\n"
            "    - {name: Deep Learning, parents: [Machine Learning]}\n"
            "    - {name: PyTorch, parents: [Deep Learning, Machine Learning]}\n"
        )
    )
    pytorch = taxonomy.by_slug()["pytorch"]
    assert pytorch.implies == ("Deep Learning", "Machine Learning")
    assert taxonomy.family_slugs() == {"deep-learning", "machine-learning"}
    assert ("pytorch", "deep-learning") in taxonomy.parent_edges()


def test_the_shipped_graph_has_the_families_the_issue_names() -> None:
    taxonomy = load_taxonomy()
    skills = {skill.name: skill for skill in taxonomy.skills}
    expected = {
        "Cloud Platforms": {"AWS", "GCP", "Azure"},
        "AWS": {"Amazon Bedrock"},
        "Agentic AI Frameworks": {"LangGraph", "CrewAI", "AutoGen"},
        "Machine Learning": {"PyTorch", "TensorFlow", "JAX", "scikit-learn"},
        "Deep Learning": {"PyTorch"},
        "Large Language Models": {
            "Retrieval-Augmented Generation",
            "LangChain",
            "LlamaIndex",
            "Prompt Engineering",
            "Fine-Tuning",
        },
        "Vector Databases": {"Pinecone", "Weaviate", "Qdrant", "pgvector"},
        "Fine-Tuning": {"LoRA", "QLoRA", "PEFT", "Model Fine-Tuning at Scale"},
    }
    for family, members in expected.items():
        for member in members:
            assert family in skills[member].implies, f"{member} -> {family}"
    # The scarce gap skill is stricter: a bare LoRA does not earn it.
    assert "Model Fine-Tuning at Scale" not in skills["LoRA"].implies
    assert "Vector Database Optimisation" not in skills["Pinecone"].implies
    assert taxonomy.version >= 2


def test_no_family_claims_a_member_name_as_an_alias() -> None:
    taxonomy = load_taxonomy()
    owners: dict[str, str] = {}
    for skill in taxonomy.skills:
        for name in (skill.name, *skill.aliases):
            owner = owners.setdefault(normalize_name(name), skill.name)
            assert owner == skill.name, f"{name!r}: {owner} and {skill.name}"


async def test_an_older_store_gives_names_the_taxonomy_moved_to_their_own_skills(
    empty_engine: AsyncEngine,
) -> None:
    # Before the graph, "aws" was another name of "Cloud Platforms" and "lora" of the scarce
    # "Model Fine-Tuning at Scale": a store upgraded since must send them to their own skills.
    async with transaction(empty_engine) as session:
        await upsert_skill(session, "Cloud Platforms", ["AWS", "GCP"])
        await upsert_skill(session, "Model Fine-Tuning at Scale", ["LoRA", "Model Fine-Tuning"])
        await upsert_skill(session, "Data Wrangling", ["AWS Wrangler"])  # a source's own name
    async with transaction(empty_engine) as session:
        await sync_taxonomy(session, load_taxonomy())
    market = MarketReader(empty_engine)
    for typed, skill in [
        ("aws", "AWS"),
        ("gcp", "GCP"),
        ("lora", "LoRA"),
        ("model fine-tuning", "Fine-Tuning"),
        ("cloud platforms", "Cloud Platforms"),
        ("aws wrangler", "Data Wrangling"),
    ]:
        found = (await market.resolve_skill(typed)).match
        assert found is not None and found.name == skill, typed
    graph = await market.skill_graph()
    assert graph.ancestors("amazon-bedrock") == ("aws", "cloud-platforms")
    assert "aws" in graph.members("cloud-platforms")
