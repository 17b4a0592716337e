"""Skill resolution on a table of typed terms: exact, aliases, misspellings, and look-alikes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db.resolve import MatchKind, NameIndex, split_terms, strip_filler
from tests.check.taxonomy import candidate, taxonomy_index

# (what a person types, the skill it must resolve to, or None: unknown or a question back)
TABLE: list[tuple[str, str | None]] = [
    # exact names, any case or spacing
    ("Python", "Python"),
    ("python", "Python"),
    ("  PYTHON  ", "Python"),
    ("PyTorch", "PyTorch"),
    ("pytorch", "PyTorch"),
    ("Kubernetes", "Kubernetes"),
    ("LangChain", "LangChain"),
    ("langchain", "LangChain"),
    ("Machine Learning", "Machine Learning"),
    ("machine-learning", "Machine Learning"),
    ("Problem Solving", "Problem Solving"),
    ("Production LLM Deployment", "Production LLM Deployment"),
    ("MLOps for GenAI", "MLOps for GenAI"),
    ("AI Evaluation & Safety", "AI Evaluation & Safety"),
    ("AI Evaluation and Safety", "AI Evaluation & Safety"),
    ("Vector Database Optimisation", "Vector Database Optimisation"),
    ("Model Fine-Tuning at Scale", "Model Fine-Tuning at Scale"),
    ("scikit-learn", "scikit-learn"),
    ("C++", "C++"),
    ("C#", "C#"),
    (".NET", ".NET"),
    ("Node.js", "Node.js"),
    ("CI/CD", "CI/CD"),
    ("A/B Testing", "A/B Testing"),
    ("Weights & Biases", "Weights & Biases"),
    # abbreviations and aliases
    ("k8s", "Kubernetes"),
    ("kube", "Kubernetes"),
    ("RAG", "Retrieval-Augmented Generation"),
    ("rag", "Retrieval-Augmented Generation"),
    ("aws", "Amazon Web Services"),
    ("AWS", "Amazon Web Services"),
    ("GCP", "Google Cloud Platform"),
    ("Azure", "Microsoft Azure"),
    ("LLMs", "Large Language Models"),
    ("LLM", "Large Language Models"),
    ("ML", "Machine Learning"),
    ("NLP", "Natural Language Processing"),
    ("JS", "JavaScript"),
    ("TS", "TypeScript"),
    ("golang", "Go"),
    ("sklearn", "scikit-learn"),
    ("tf", "TensorFlow"),
    ("keras", "TensorFlow"),
    ("LoRA", "Model Fine-Tuning at Scale"),
    ("QLoRA", "Model Fine-Tuning at Scale"),
    ("fine-tuning", "Model Fine-Tuning at Scale"),
    ("AI Safety & Evaluation", "AI Evaluation & Safety"),
    ("evals", "AI Evaluation & Safety"),
    ("Postgres", "PostgreSQL"),
    ("nodejs", "Node.js"),
    ("node js", "Node.js"),
    ("reactjs", "React"),
    ("React.js", "React"),
    ("py torch", "PyTorch"),
    ("Lang Chain", "LangChain"),
    ("Hugging Face", "Hugging Face Transformers"),
    ("pyspark", "Apache Spark"),
    ("wandb", "Weights & Biases"),
    ("W&B", "Weights & Biases"),
    ("cpp", "C++"),
    ("csharp", "C#"),
    ("dotnet", ".NET"),
    ("GenAI", "Generative AI"),
    ("Agentic AI", "Agentic AI Frameworks"),
    ("PowerBI", "Power BI"),
    ("data visualization", "Data Visualisation"),
    # misspellings
    ("pyhton", "Python"),
    ("pythn", "Python"),
    ("pytorh", "PyTorch"),
    ("pytroch", "PyTorch"),
    ("kubernets", "Kubernetes"),
    ("kuberentes", "Kubernetes"),
    ("langchian", "LangChain"),
    ("tensorflw", "TensorFlow"),
    ("tensor flow", "TensorFlow"),
    ("machine lerning", "Machine Learning"),
    ("mashine learning", "Machine Learning"),
    ("deep lerning", "Deep Learning"),
    ("prompt enginering", "Prompt Engineering"),
    ("javascrpt", "JavaScript"),
    ("typescirpt", "TypeScript"),
    ("postgress", "PostgreSQL"),
    ("terraform", "Terraform"),
    ("terrafrom", "Terraform"),
    ("elasticserch", "Elasticsearch"),
    ("databriks", "Databricks"),
    ("snowflak", "Snowflake"),
    ("llamaindx", "LlamaIndex"),
    ("retrieval augmented generation", "Retrieval-Augmented Generation"),
    ("retreival augmented generation", "Retrieval-Augmented Generation"),
    ("natural language procesing", "Natural Language Processing"),
    ("computer vison", "Computer Vision"),
    ("kotln", "Kotlin"),
    ("docker", "Docker"),
    ("dokcer", "Docker"),
    ("promethues", "Prometheus"),
    ("microservice", "Microservices"),
    ("vector databse", "Vector Databases"),
    # look-alikes that must NOT cross
    ("go", "Go"),
    ("Go", "Go"),
    ("go to market", "Go-to-market strategy"),
    ("go-to-market", "Go-to-market strategy"),
    ("GTM", "Go-to-market strategy"),
    ("R", "R"),
    ("r", "R"),
    ("React", "React"),
    ("React Native", "React Native"),
    ("Java", "Java"),
    ("java", "Java"),
    ("JavaScript", "JavaScript"),
    ("java script", "JavaScript"),
    ("C", "C"),
    ("Rust", "Rust"),
    ("Ruby", "Ruby"),
    ("Scala", "Scala"),
    ("scale", None),
    ("MLOps", "MLOps"),
    ("SQL", "SQL"),
    ("MySQL", "MySQL"),
    ("Spring", "Spring Boot"),
    ("Git", "Git"),
    ("GitLab", "GitLab"),
    ("github", None),
    ("Vue", "Vue.js"),
    ("jav", None),
    ("reac", "React"),  # a dropped letter, not "R"
    ("rus", None),
    ("gol", None),
    ("ja", None),
    ("goo", None),
    # strangers: listed back, never guessed
    ("COBOL", None),
    ("underwater basket weaving", None),
    ("Fortran", None),
    ("blockchain", None),
    ("xyz", None),
    ("quantum", None),
    ("!!!", None),
    ("", None),
    ("x" * 10_000, None),
    ("<!channel>", None),
    ("<@U123>", None),
    ("data", None),
    ("engineering", None),
]


def test_the_table_is_big_enough() -> None:
    assert len(TABLE) >= 100
    assert len({text for text, _ in TABLE}) == len(TABLE), "duplicate rows in the table"


def _check(index: NameIndex, text: str, expected: str | None) -> None:
    resolution = index.resolve(text)
    if expected is None:
        assert resolution.match is None, f"{text!r} guessed {resolution.match}"
        assert resolution.kind in (MatchKind.UNKNOWN, MatchKind.AMBIGUOUS)
    else:
        assert resolution.match == candidate(expected), f"{text!r} -> {resolution}"


@pytest.mark.parametrize(("text", "expected"), TABLE, ids=[t[:30] for t, _ in TABLE])
def test_resolution_table_scanning_every_name(text: str, expected: str | None) -> None:
    _check(SCANNED, text, expected)


@pytest.mark.parametrize(("text", "expected"), TABLE, ids=[t[:30] for t, _ in TABLE])
def test_resolution_table_through_the_trigram_index(text: str, expected: str | None) -> None:
    # The path large taxonomies take: the same answers, from candidates picked by trigrams.
    _check(INDEXED, text, expected)


SCANNED = taxonomy_index()
INDEXED = taxonomy_index(scan_all_below=0)


def test_misspellings_are_marked_fuzzy_and_aliases_alias() -> None:
    assert SCANNED.resolve("pyhton").kind is MatchKind.FUZZY
    assert SCANNED.resolve("k8s").kind is MatchKind.ALIAS
    assert SCANNED.resolve("Python").kind is MatchKind.EXACT


def test_unknown_terms_come_with_suggestions_when_something_is_close() -> None:
    resolution = SCANNED.resolve("jav")
    assert resolution.kind is MatchKind.UNKNOWN
    assert candidate("Java") in resolution.suggestions


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("some langchain", "langchain"),
        ("basic python", "python"),
        ("experience with aws", "aws"),
        ("5 years experience with python", "python"),
        ("3+ years of k8s", "k8s"),
        ("a bit of Rust", "Rust"),
        ("strong SQL skills", "SQL"),
        ("python (advanced)", "python"),
        ("some", "some"),  # nothing but filler: left for the resolver to call unknown
    ],
)
def test_filler_is_peeled_off(text: str, expected: str) -> None:
    assert strip_filler(text) == expected


def test_the_issue_example_list_resolves_completely() -> None:
    result = SCANNED.resolve_terms("python, pytorch, k8s, RAG, some langchain, aws")
    assert [c.name for c in result.matches] == [
        "Python",
        "PyTorch",
        "Kubernetes",
        "Retrieval-Augmented Generation",
        "LangChain",
        "Amazon Web Services",
    ]
    assert result.unknown == () and result.ambiguous == ()


@pytest.mark.parametrize("index", [SCANNED, INDEXED], ids=["scanned", "indexed"])
def test_lists_split_on_separators_conjunctions_and_known_words(index: NameIndex) -> None:
    text = (
        "Python; pytorch and tensorflw\n- Docker\n• AI Evaluation & Safety, "
        "basic go to market, pytorch/jax, python docker kubernets, cobol"
    )
    result = index.resolve_terms(text)
    assert [c.name for c in result.matches] == [
        "Python",
        "PyTorch",
        "TensorFlow",
        "Docker",
        "AI Evaluation & Safety",
        "Go-to-market strategy",
        "JAX",
        "Kubernetes",
    ]
    assert [r.query for r in result.unknown] == ["cobol"]


def test_nothing_is_dropped_silently() -> None:
    result = SCANNED.resolve_terms("python, fortran, jav, blockchain")
    assert [r.query for r in result.resolutions] == ["python", "fortran", "jav", "blockchain"]
    assert [r.query for r in result.unknown] == ["fortran", "jav", "blockchain"]


def test_long_lists_say_what_was_left_out() -> None:
    text = ", ".join(["python"] * 3 + [f"skill{n}" for n in range(60)])
    result = SCANNED.resolve_terms(text, limit=10)
    assert len(result.resolutions) == 10
    assert len(result.left_out) == 53


def test_split_terms_keeps_each_term_as_typed() -> None:
    assert split_terms("a, b;c\n\n d | e") == ["a", "b", "c", "d", "e"]
    assert split_terms(" , ;; ") == []


def test_type_ahead_suggests_names_starting_with_the_text_first() -> None:
    names = [c.name for c in INDEXED.suggest("py")]
    assert names[0] == "Python"
    assert {"PyTorch", "pytest", "Apache Spark"} <= set(names)
    assert SCANNED.suggest("kuber")[0].name == "Kubernetes"
    assert SCANNED.suggest("kubernets")[0].name == "Kubernetes"  # a slip still finds it
    assert SCANNED.suggest("") == []


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_text_resolves_without_crashing_or_losing_terms(text: str) -> None:
    result = INDEXED.resolve_terms(text)
    for resolution in result.resolutions:
        assert resolution.query.strip()  # every term is something the person typed
        assert (resolution.match is None) == (
            resolution.kind in (MatchKind.UNKNOWN, MatchKind.AMBIGUOUS)
        )
    assert len(result.resolutions) <= 40
