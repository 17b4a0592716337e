"""Skill extraction: whole phrases, case-aware short names, context that rules a name out."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db.ingest.extract import (
    _LEFT,
    _RIGHT,
    SkillExtractor,
    _Guard,
    _lowered,
    _overlaps,
    _scoped,
    trie_pattern,
)
from db.taxonomy import TaxonomyError, load_taxonomy, parse_taxonomy

EXTRACTOR = SkillExtractor(load_taxonomy())


def names(text: str) -> set[str]:
    return {skill.name for skill in EXTRACTOR.skills(text)}


def named(text: str) -> set[str]:
    """The skills the text names itself, without the families they imply."""
    return {match.skill.name for match in EXTRACTOR.matches(text)}


@pytest.mark.parametrize(
    "text",
    [
        "We are refining our go-to-market strategy.",
        "You will go to market with our sales team.",
        "Present to the C-suite and other C-level leaders.",
        "Our R&D lab and R & D budget.",
        "Projects are tracked with a RAG status each week.",
        "Spark joy in the team; rust never sleeps.",
        "You will excel in a fast-paced environment.",
        "Swift delivery matters to us.",
        "Guard rails keep the warehouse safe.",
        "Grade C or above in GCSE maths.",
        "We go live in May and ask you to go the extra mile.",
    ],
)
def test_ordinary_words_are_not_skills(text: str) -> None:
    assert names(text) == set()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Write services in Go and Rust.", {"Go", "Rust"}),
        ("Golang microservices", {"Go", "Microservices"}),
        ("Statistics in R, systems in C and C++.", {"Statistics", "R", "C", "C++"}),
        ("C/C++ and C# on .NET", {"C", "C++", "C#", ".NET"}),
        ("Batch jobs on Spark; Apache Spark streaming", {"Apache Spark"}),
        ("React Native apps", {"React Native"}),
        ("React and Redux", {"React", "Redux"}),
        ("Build RAG pipelines", {"Retrieval-Augmented Generation"}),
        ("fine-tuning, fine tuning and finetuning", {"Fine-Tuning"}),
        ("LoRA/QLoRA adapters", {"LoRA", "QLoRA"}),
        ("fine-tuning at scale for clients", {"Model Fine-Tuning at Scale"}),
        ("Kubernetes (k8s) on AWS", {"Kubernetes", "AWS"}),
        ("Azure or GCP (Google Cloud Platform)", {"Azure", "GCP"}),
        ("vector databases such as Pinecone", {"Vector Databases", "Pinecone"}),
        ("HNSW index tuning", {"Vector Database Optimisation"}),
        (
            "LangChain, LlamaIndex, LangGraph and CrewAI",
            {"LangChain", "LlamaIndex", "LangGraph", "CrewAI"},
        ),
        ("PYTHON and python3", {"Python"}),
    ],
)
def test_skills_are_found(text: str, expected: set[str]) -> None:
    assert named(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PyTorch", {"PyTorch", "Deep Learning", "Machine Learning"}),
        ("Amazon Bedrock", {"Amazon Bedrock", "AWS", "Cloud Platforms"}),
        ("LoRA", {"LoRA", "Fine-Tuning", "Large Language Models"}),
        ("AWS, GCP and Azure", {"AWS", "GCP", "Azure", "Cloud Platforms"}),
        ("LangGraph or CrewAI", {"LangGraph", "CrewAI", "Agentic AI Frameworks"}),
        ("pgvector and Qdrant", {"pgvector", "Qdrant", "Vector Databases"}),
    ],
)
def test_a_mention_counts_for_every_family_above_it_once(text: str, expected: set[str]) -> None:
    found = [skill.name for skill in EXTRACTOR.skills(text)]
    assert set(found) == expected
    assert len(found) == len(set(found))
    slugs = EXTRACTOR.skill_slugs(text)
    assert {skill.slug for skill in EXTRACTOR.skills(text)} == set(slugs)


def test_bare_lora_is_not_fine_tuning_at_scale() -> None:
    assert "Model Fine-Tuning at Scale" not in names("Fine-tune models with LoRA and QLoRA")


def test_one_result_per_skill_in_order_of_mention() -> None:
    found = [s.name for s in EXTRACTOR.skills("Python, then PyTorch, then Python again")]
    # Named skills first, in order, then the families they imply.
    assert found == ["Python", "PyTorch", "Deep Learning", "Machine Learning"]


def test_matches_do_not_cross_word_boundaries() -> None:
    assert names("an array of rays; ragged edges; goodness; cargo") == set()


def test_case_changing_characters_keep_offsets_aligned() -> None:
    assert names("İstanbul office using Python") == {"Python"}


def test_trie_pattern_prefers_the_longest_alias() -> None:
    import re

    pattern = re.compile(trie_pattern(["react", "react native", "reactjs"]))
    for text in ("react native", "reactjs", "react"):
        found = pattern.match(text)
        assert found is not None and found.group() == text


def test_taxonomy_refuses_an_alias_owned_twice() -> None:
    text = """
format: skillgap-taxonomy
version: 1
skills:
  a:
    - {name: One, aliases: [shared]}
    - {name: Two, aliases: [Shared]}
"""
    with pytest.raises(TaxonomyError, match="already belongs"):
        parse_taxonomy(text)


def test_shipped_taxonomy_has_several_hundred_skills() -> None:
    taxonomy = load_taxonomy()
    assert len(taxonomy.skills) >= 250
    report_names = {
        "Python",
        "Machine Learning",
        "Cloud Platforms",
        "Large Language Models",
        "Problem Solving",
        "Production LLM Deployment",
        "MLOps for GenAI",
        "Model Fine-Tuning at Scale",
        "AI Evaluation & Safety",
        "Vector Database Optimisation",
        "Agentic AI Frameworks",
        "Prompt Engineering",
        "Multimodal AI",
    }
    assert report_names <= {skill.name for skill in taxonomy.skills}


GUARD_PIECES = [
    "R&D",
    "R & D",
    "R and D",
    "C-suite",
    "C-Level",
    "grade C",
    "Plan C",
    "(C)",
    "C.V.",
    "C & D",
    "RAG status",
    "red, amber, green",
    "go-to-market",
    "go live",
    "Go beyond",
    "ML/hour",
    "5 ML",
    "Spark joy",
    "Swift delivery",
    "guard rails",
    "x-ray",
    "Ray Smith",
    "needle in a haystack",
    "DBT therapy",
    "Excel in",
    "ſuite",
    "R",
    "C",
    "Go",
    "ML",
    "RAG",
    "Spark",
    "Swift",
    "Ray",
    "Python",
    " ",
    ", ",
    "\n",
    "-",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(GUARD_PIECES), max_size=12))
def test_guards_skipping_absent_patterns_decide_as_the_whole_alternation(
    pieces: list[str],
) -> None:
    # Leaving out patterns whose literal text is not near the mention is only a shortcut:
    # every mention is ruled in or out exactly as searching all the patterns would.
    text = "".join(pieces)
    for skill in EXTRACTOR.taxonomy.skills:
        if not skill.not_in:
            continue
        guard = _Guard(skill.not_in)
        everything = re.compile("|".join(_scoped(p.pattern) for p in skill.not_in))
        for alias in (*skill.aliases, *skill.exact):
            start = text.find(alias)
            while start >= 0:
                end = start + len(alias)
                assert guard.covers(text, start, end) == _overlaps(everything, text, start, end)
                start = text.find(alias, start + 1)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(GUARD_PIECES), max_size=12))
def test_skill_slugs_are_the_skills_found(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert EXTRACTOR.skill_slugs(text) == tuple(sorted(s.slug for s in EXTRACTOR.skills(text)))


SCAN_PIECES = [
    *GUARD_PIECES,
    "C++",
    "C#",
    ".NET",
    "c#.net",
    "Node.js",
    "fine-tuning",
    "fine tuning",
    "LLMs",
    "PyTorch",
    "pytorch2",
    "_",
    "#",
    "+",
    ".",
    "/",
    "\u00a0",
    "İ",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(SCAN_PIECES), max_size=14))
def test_scan_finds_what_a_search_at_every_word_start_finds(pieces: list[str]) -> None:
    # The scan consumes the character before an alias and restarts on the last character of
    # the previous hit; a lookbehind at every position is the plain statement of the rule.
    text = "".join(pieces)
    aliases = EXTRACTOR._regex.pattern[len(_LEFT) + 1 : -len(_RIGHT) - 1]
    reference = re.compile(r"(?<![a-z0-9_])(?:" + aliases + ")" + _RIGHT)
    lowered = _lowered(text)[1:]
    expected = [(hit.group(), hit.start(), hit.end()) for hit in reference.finditer(lowered)]
    assert list(EXTRACTOR._hits(_lowered(text))) == expected


# -- the automaton's candidate starts (alias_scan) against the regex alone ------------------

_PATTERNS = sorted(
    {alias for skill in EXTRACTOR.taxonomy.skills for alias in (*skill.aliases, *skill.exact)}
)
_SEPARATORS = ["", " ", "  ", "-", " - ", "\n", "\t", "\u00a0", "\r\n", "--"]
_AROUND = [" ", "", ".", ",", "+", "#", "_", "(", ")", "/", "&", "'", "s", "x", "9", "İ", "ſ"]


@st.composite
def written_alias(draw: st.DrawFn, patterns: list[str]) -> str:
    """A taxonomy alias as an ad might write it: any case, any separators, with neighbours."""
    alias = draw(st.sampled_from(patterns))
    words = re.split(r"[\s\-]+", alias)
    separator = draw(st.sampled_from(_SEPARATORS))
    written = separator.join(words)
    cases: list[Callable[[str], str]] = [str, str.lower, str.upper, str.title]
    case = draw(st.sampled_from(cases))
    if draw(st.booleans()):
        # Other punctuation where the alias has some ("a,b" for "a.b"): not the alias.
        other = draw(st.sampled_from(",;:!?é"))
        written = re.sub(r"[^\w\s\-]", other, written)
    return draw(st.sampled_from(_AROUND)) + case(written) + draw(st.sampled_from(_AROUND))


def ad_like_text(patterns: list[str]) -> st.SearchStrategy[str]:
    piece = st.one_of(
        written_alias(patterns),
        st.sampled_from(SCAN_PIECES),
        st.text(max_size=6),
        st.text(alphabet=" -+#._\nabcgoprs", max_size=8),
    )
    return st.lists(piece, max_size=16).map("".join)


@settings(max_examples=200, deadline=None)
@given(ad_like_text(_PATTERNS))
def test_automaton_finds_exactly_the_hits_of_the_regex(text: str) -> None:
    lowered = _lowered(text)
    assert list(EXTRACTOR._hits(lowered)) == list(EXTRACTOR._searched_hits(lowered))


class RegexOnly(SkillExtractor):
    """The extractor as it was before the automaton: the regex searched at every position."""

    def _hits(self, lowered: str) -> Iterator[tuple[str, int, int]]:
        return self._searched_hits(lowered)


REGEX_ONLY = RegexOnly(load_taxonomy())


@settings(max_examples=150, deadline=None)
@given(ad_like_text(_PATTERNS))
def test_skills_found_through_the_automaton_are_those_the_regex_finds(text: str) -> None:
    expected = tuple(sorted(skill.slug for skill in REGEX_ONLY.skills(text)))
    assert EXTRACTOR.skill_slugs(text) == expected
    assert EXTRACTOR.skills(text) == REGEX_ONLY.skills(text)


ODD_TAXONOMY = """
format: skillgap-taxonomy
version: 1
skills:
  odd:
    - {name: Dotted, aliases: [a.b, 'a.b c', node.js]}
    - {name: Plus Plus, aliases: [c++, 'c++ builder', 'c+ +']}
    - {name: Sharp, exact: [C#, F#]}
    - {name: Accented, aliases: [café, 'é t', naïve bayes]}
    - {name: Short words, aliases: ['a b c', 'x - y', 'ab cd ef', 'abc']}
    - {name: Longer, aliases: [abcd, abcdef, 'abc def', 'abcd ef']}
    - {name: Underscore, aliases: [snake_case, '_x']}
"""
_ODD = SkillExtractor(parse_taxonomy(ODD_TAXONOMY))
_ODD_REGEX_ONLY = RegexOnly(parse_taxonomy(ODD_TAXONOMY))
_ODD_PATTERNS = sorted(
    {alias for skill in _ODD.taxonomy.skills for alias in (*skill.aliases, *skill.exact)}
)


@settings(max_examples=200, deadline=None)
@given(ad_like_text(_ODD_PATTERNS))
def test_automaton_matches_the_regex_for_any_shape_of_alias(text: str) -> None:
    # Dots, pluses, accents, shared prefixes, single letters: new taxonomy entries of any
    # shape are found exactly where the regex finds them.
    lowered = _lowered(text)
    assert list(_ODD._hits(lowered)) == list(_ODD._searched_hits(lowered))
    assert _ODD.skill_slugs(text) == tuple(sorted(s.slug for s in _ODD.skills(text)))
    assert _ODD.skills(text) == _ODD_REGEX_ONLY.skills(text)
