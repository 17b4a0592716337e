"""Name resolution: exact, alias, then fuzzy with a cut-off; ties and strangers get suggestions."""

from __future__ import annotations

import pytest

from db.resolve import Candidate, MatchKind, NameIndex

AI_ENGINEER = Candidate("ai-engineer", "AI Engineer")
ML_ENGINEER = Candidate("machine-learning-engineer", "Machine Learning Engineer")
DATA_ENGINEER = Candidate("data-engineer", "Data Engineer")
FINE_TUNING = Candidate("model-fine-tuning", "Model Fine-Tuning")
KUBERNETES = Candidate("kubernetes", "Kubernetes")
JAVA = Candidate("java", "Java")
JAVASCRIPT = Candidate("javascript", "JavaScript")
GO = Candidate("go", "Go")
R = Candidate("r", "R")
REACT = Candidate("react", "React")
GO_TO_MARKET = Candidate("go-to-market", "Go-to-market strategy")

ROLES = NameIndex(
    [
        (AI_ENGINEER, ["AI Eng", "GenAI Engineer", "LLM Engineer"]),
        (ML_ENGINEER, ["ML Engineer"]),
        (DATA_ENGINEER, []),
    ]
)
SKILLS = NameIndex(
    [
        (FINE_TUNING, ["Model Fine-Tuning at Scale", "LoRA", "QLoRA", "fine-tuning"]),
        (KUBERNETES, ["k8s"]),
        (JAVA, []),
        (JAVASCRIPT, ["JS"]),
        (GO, ["golang"]),
        (R, []),
        (REACT, ["React.js"]),
        (GO_TO_MARKET, ["go to market"]),
    ]
)


@pytest.mark.parametrize(
    ("text", "expected", "kind"),
    [
        ("AI Engineer", AI_ENGINEER, MatchKind.EXACT),
        ("  ai   ENGINEER ", AI_ENGINEER, MatchKind.EXACT),
        ("ai-engineer", AI_ENGINEER, MatchKind.EXACT),
        ("llm engineer", AI_ENGINEER, MatchKind.ALIAS),
        ("ai eng", AI_ENGINEER, MatchKind.ALIAS),
        ("ai enginer", AI_ENGINEER, MatchKind.FUZZY),
        ("data enginer", DATA_ENGINEER, MatchKind.FUZZY),
    ],
)
def test_roles_resolve(text: str, expected: Candidate, kind: MatchKind) -> None:
    resolution = ROLES.resolve(text)
    assert resolution.match == expected
    assert resolution.kind is kind


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("LoRA", FINE_TUNING),
        ("qlora", FINE_TUNING),
        ("k8s", KUBERNETES),
        ("kubernets", KUBERNETES),
        ("golang", GO),
        ("Go", GO),
        ("R", R),
        ("react.js", REACT),
        ("Java", JAVA),
        ("javascript", JAVASCRIPT),
    ],
)
def test_skills_resolve(text: str, expected: Candidate) -> None:
    assert SKILLS.resolve(text).match == expected


@pytest.mark.parametrize("text", ["Rust", "cobol wizardry", "", "   ", "!!!", "x" * 10_000])
def test_strangers_are_unknown_not_guessed(text: str) -> None:
    resolution = SKILLS.resolve(text)
    assert resolution.match is None
    assert resolution.kind is MatchKind.UNKNOWN


def test_look_alikes_never_cross() -> None:
    assert SKILLS.resolve("go").match == GO
    assert SKILLS.resolve("go to market").match == GO_TO_MARKET
    assert SKILLS.resolve("Reac").match != R
    assert SKILLS.resolve("Jav").match != JAVASCRIPT


def test_a_tie_asks_instead_of_guessing() -> None:
    index = NameIndex(
        [
            (Candidate("data-analyst", "Data Analyst"), []),
            (Candidate("data-analyse", "Data Analyse"), []),
        ]
    )
    resolution = index.resolve("data analys")
    assert resolution.match is None
    assert resolution.kind is MatchKind.AMBIGUOUS
    assert {c.slug for c in resolution.suggestions} == {"data-analyst", "data-analyse"}


def test_unknown_input_gets_nearest_suggestions() -> None:
    resolution = ROLES.resolve("engineer")
    assert resolution.match is None
    assert AI_ENGINEER in resolution.suggestions or DATA_ENGINEER in resolution.suggestions


def test_abbreviated_words_match_without_an_alias() -> None:
    index = NameIndex([(AI_ENGINEER, []), (DATA_ENGINEER, [])])
    resolution = index.resolve("ai eng")
    assert resolution.match == AI_ENGINEER
    assert resolution.kind is MatchKind.FUZZY


def test_one_letter_is_too_little_of_a_word_to_abbreviate_it() -> None:
    communication = Candidate("communication-skills", "Communication Skills")
    ai_engineer = Candidate("ai-engineer", "AI Engineer")
    index = NameIndex([(communication, ["communicate technical"]), (ai_engineer, [])])
    assert not index.resolve("C:TE").found
    assert index.resolve("ai eng").match == ai_engineer
