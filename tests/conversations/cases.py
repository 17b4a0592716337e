"""What people type, and what SkillGap should do with it: answer, ask back, or refuse.

Scenes run in order, each as its own person in its own channel. `says` words must all be in
the reply, `never` words must not. Figures are those of the bundled April 2026 UK AI Engineer
report; Machine Learning Engineer is a role SkillGap knows without figures.
"""

from __future__ import annotations

from tests.conversations.harness import Case, Outcome


def answer(line: str, *says: str, never: tuple[str, ...] = (), admin: bool = False) -> Case:
    return Case(line, Outcome.ANSWER, says, never, admin)


def ask(line: str, *says: str, never: tuple[str, ...] = (), admin: bool = False) -> Case:
    return Case(line, Outcome.ASK, says, never, admin)


def refuse(line: str, *says: str, never: tuple[str, ...] = (), admin: bool = False) -> Case:
    return Case(line, Outcome.REFUSE, says, never, admin)


# Another role's figures must never stand in for a role without figures.
AI_FIGURES = ("£75,000", "Production LLM Deployment", "Showing AI Engineer")
NO_FIGURES = ("Machine Learning Engineer", "no figures", "Roles with figures: AI Engineer")

SCENES: dict[str, list[Case]] = {
    "help": [
        answer("/skillgap", "SkillGap", "/skillgap role"),
        answer("/skillgap help", "gaps ai eng", never=("gaps ml engineer",)),
        answer("/skillgap help subscribe", "subscribe"),
        answer("/skillgap help gaps", "gaps"),
        answer("/skillgap HELP", "SkillGap"),
        answer("/skillgap flurble", "flurble"),
        answer("help", "SkillGap"),
    ],
    "lookups": [
        answer("/skillgap role ai engineer", "AI Engineer", "£75,000", never=("Showing",)),
        answer("/skillgap role AI Engineer in London", "London", "£90,000"),
        answer("/skillgap role ai eng", "AI Engineer", never=("Showing",)),
        answer("/skillgap role llm engineer", "AI Engineer", never=("Showing",)),
        answer("/skillgap role genai engineer", "AI Engineer"),
        answer("/skillgap role ai engneer", "Showing AI Engineer for “ai engneer”"),
        answer("/skillgap role  AI   ENGINEER ", "AI Engineer", never=("Showing",)),
        answer("/skillgap role", "AI Engineer"),
        refuse("/skillgap role ai engineer in Paris", "Paris", "London"),
        refuse("/skillgap role underwater basket weaver", "doesn't know the role"),
        answer("/skillgap gaps", "Skills gaps", "Production LLM Deployment", "50 pts"),
        answer("/skillgap gap ai engineer", "Skills gaps"),
        answer("/skillgap gaps ai enginer", "Showing AI Engineer for “ai enginer”"),
        answer("/skillgap gaps ai eng", "Skills gaps", never=("Showing",)),
        answer("/skillgap salary", "£75,000", "£650/day"),
        answer("/skillgap salary ai engineer in london", "£90,000", "£750/day"),
        answer("/skillgap pay", "£75,000"),
        answer("/skillgap salaries ai eng", "£75,000"),
        answer("/skillgap emerging", "Emerging"),
        answer("/skillgap emerging ai engineer", "Emerging"),
        answer("/skillgap path", "Senior AI Engineer"),
        answer("/skillgap path ai eng", "Senior AI Engineer"),
        answer("/skillgap roles", "AI Engineer", never=("Machine Learning Engineer",)),
        answer("/skillgap skill rag", "Retrieval-Augmented Generation"),
        answer("/skillgap skill production llm deployment", "Production LLM Deployment"),
        answer("/skillgap skill k8s", "Kubernetes"),
        answer("/skillgap skill pytorhc", "PyTorch"),
        refuse("/skillgap skill", "Which skill", "/skillgap skill python"),
        refuse("/skillgap skill zzqxv", "doesn't know the skill"),
    ],
    "figureless": [
        refuse("/skillgap gaps ml engineer", *NO_FIGURES, never=AI_FIGURES),
        refuse("/skillgap role ml engineer", *NO_FIGURES, never=AI_FIGURES),
        refuse("/skillgap salary ml engineer", *NO_FIGURES, never=AI_FIGURES),
        refuse("/skillgap emerging ml engineer", *NO_FIGURES, never=AI_FIGURES),
        refuse("/skillgap path MLE", *NO_FIGURES, never=AI_FIGURES),
        refuse("/skillgap role machine learning engineer", *NO_FIGURES, never=AI_FIGURES),
        refuse("/skillgap gaps data scientist", "Data Scientist", "no figures", never=AI_FIGURES),
        refuse("/skillgap salary data engineer in London", "Data Engineer", "no figures"),
        refuse("/skillgap role mlops engineer", "MLOps Engineer", "no figures"),
        refuse("/skillgap check python, pytorch for ml engineer", *NO_FIGURES, never=AI_FIGURES),
        refuse("/skillgap subscribe ml engineer", *NO_FIGURES),
        refuse("/skillgap subscribe ai engineer, ml engineer on friday", *NO_FIGURES),
        answer("/skillgap subscriptions", "None yet"),
    ],
}
