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
        answer("/skillgap role ai engneer", "Showing AI Engineer for", "ai engneer"),
        answer("/skillgap role  AI   ENGINEER ", "AI Engineer", never=("Showing",)),
        answer("/skillgap role", "AI Engineer"),
        refuse("/skillgap role ai engineer in Paris", "Paris", "London"),
        refuse("/skillgap role underwater basket weaver", "doesn't know the role"),
        answer("/skillgap gaps", "Skills gaps", "Production LLM Deployment", "50 pts"),
        answer("/skillgap gap ai engineer", "Skills gaps"),
        answer("/skillgap gaps ai enginer", "Showing AI Engineer for", "ai enginer"),
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
        ask("/skillgap skill", "Which skill", "/skillgap skill python"),
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

# A long list of junk: 45 terms, 40 read (none known), 5 past the limit.
JUNK = ", ".join(f"zq{n}x" for n in range(45))

SCENES.update(
    {
        "subscribe-edits": [
            answer("/skillgap subscriptions", "None yet"),
            answer(
                "/skillgap subscribe on friday at 10:30",
                "Subscribed",
                "AI Engineer",
                "Fridays at 10:30 Europe/London",
            ),
            answer(
                "/skillgap subscribe skip quiet weeks",
                "quiet weeks now skipped",
                "Fridays at 10:30 Europe/London",
                never=("Mondays",),
            ),
            answer(
                "/skillgap subscribe at 08:00 BST",
                "time 10:30 → 08:00",
                "Fridays at 08:00 Europe/London",
                "BST",
                never=("don't know the role",),
            ),
            answer("/skillgap subscribe on tuesday", "day Friday → Tuesday", "08:00"),
            answer("/skillgap subscribe every wednesday", "day Tuesday → Wednesday"),
            answer("/skillgap subscribe thursdays", "day Wednesday → Thursday"),
            answer("/skillgap subscribe at 5pm", "time 08:00 → 17:00", "Thursdays"),
            answer("/skillgap subscribe 9:15", "time 17:00 → 09:15"),
            answer("/skillgap subscribe at 9 am", "time 09:15 → 09:00"),
            answer("/skillgap subscribe include quiet weeks", "quiet weeks now sent too"),
            answer("/skillgap subscribe", "Nothing to change", "Thursdays at 09:00"),
            answer("/skillgap subscribe ai engineer", "Nothing to change"),
            answer("/skillgap subscribe AI Eng on mon at 07:45", "day Thursday → Monday", "07:45"),
            answer("/skillgap subscribe weekly please", "Nothing to change"),
            answer("/skillgap subscriptions", "AI Engineer", "Mondays at 07:45"),
            refuse(
                "/skillgap subscribe on funday", "didn't work", "unknown day", "Nothing changed"
            ),
            refuse("/skillgap subscribe at 25:00", "didn't work", "unknown time"),
            refuse("/skillgap subscribe on monday on friday", "one day only"),
            refuse("/skillgap subscribe at 9 at 10", "one time only"),
            refuse("/skillgap subscribe Mars/Olympus_Mons", "unknown time zone"),
            refuse("/skillgap subscribe a, b, c, d, e, f", "at most 5 roles"),
            ask("/skillgap subscribe ai enginer", "AI Engineer", never=("Updated",)),
            answer(":press 1", "Nothing to change", "Mondays at 07:45"),
            refuse("/skillgap subscribe underwater basket weaver", "doesn't know the role"),
            answer("/skillgap subscriptions", "Mondays at 07:45"),
        ],
        "time-zones": [
            answer("/skillgap subscribe at 08:00 BST", "08:00 Europe/London", "BST"),
            answer("/skillgap subscribe at 08:00 GMT", "time zone Europe/London → GMT"),
            answer("/skillgap subscribe UTC", "time zone GMT → UTC"),
            answer("/skillgap subscribe at 09:00 +01:00", "UTC+1"),
            answer("/skillgap subscribe UTC+2", "UTC+2"),
            answer("/skillgap subscribe utc-5", "UTC-5"),
            answer("/skillgap subscribe in London", "Europe/London", "London"),
            answer("/skillgap subscribe New York", "America/New_York"),
            answer("/skillgap subscribe at 10am in Berlin", "Europe/Berlin", "10:00"),
            answer("/skillgap subscribe Bangalore", "Asia/Kolkata"),
            answer("/skillgap subscribe CET", "Europe/Berlin"),
            answer("/skillgap subscribe CEST", "Nothing to change"),
            answer("/skillgap subscribe EET", "Europe/Athens"),
            answer("/skillgap subscribe ET", "America/New_York"),
            answer("/skillgap subscribe at 9 EDT", "09:00 America/New_York"),
            answer("/skillgap subscribe PST", "America/Los_Angeles"),
            answer("/skillgap subscribe PT", "Nothing to change"),
            answer("/skillgap subscribe europe/paris", "Europe/Paris"),
            answer("/skillgap subscribe Asia/Tokyo", "Asia/Tokyo"),
            answer("/skillgap subscribe time zone America/Chicago", "America/Chicago"),
            ask("/skillgap subscribe at 08:00 IST", "IST could mean", "Asia/Kolkata", "Dublin"),
            ask("/skillgap subscribe CST", "could mean"),
            refuse("/skillgap subscribe +05:30", "not an offset I can keep", "city"),
            refuse("/skillgap subscribe Europe/Atlantis", "unknown time zone"),
            answer("/skillgap subscriptions", "America/Chicago"),
        ],
        "unsubscribe": [
            refuse("/skillgap unsubscribe", "has no digest subscription"),
            answer("/skillgap subscribe on friday at 10:30", "Subscribed"),
            refuse(
                "/skillgap unsubscribe ml engineer",
                "covers AI Engineer, not Machine Learning Engineer",
                "Nothing changed",
            ),
            answer("/skillgap subscriptions", "AI Engineer", "Fridays at 10:30"),
            ask("/skillgap unsubscribe ai enginer", "AI Engineer", never=("Unsubscribed",)),
            refuse("/skillgap unsubscribe data scientist", "not Data Scientist", "Nothing changed"),
            ask("/skillgap unsubscribe", "Stop this channel's weekly digest", "AI Engineer"),
            answer(":press 1", "Unsubscribed"),
            answer("/skillgap subscriptions", "None yet"),
            answer("/skillgap subscribe ai engineer", "Subscribed"),
            ask("/skillgap unsubscribe ai engineer", "Stop this channel's weekly digest"),
            answer(":press 1", "Unsubscribed"),
        ],
        "digest": [
            refuse("/skillgap digest pause", "has no digest subscription"),
            answer("/skillgap digest", "Weekly market digest"),
            answer("/skillgap digest preview", "Weekly market digest", "AI Engineer"),
            answer("/skillgap subscribe", "Subscribed"),
            answer("/skillgap digest pause", "Paused"),
            answer("/skillgap digest pause", "already paused", never=("Paused:",)),
            answer("/skillgap subscriptions", "paused"),
            answer("/skillgap digest resume", "Resumed"),
            answer("/skillgap digest resume", "already running"),
            refuse("/skillgap digest explode", "not something I can do"),
        ],
        "settings": [
            answer("/skillgap settings", "default role is AI Engineer"),
            refuse("/skillgap settings role ai engineer", "Only a workspace admin"),
            refuse("/skillgap settings role", "settings role ROLE", admin=True),
            refuse("/skillgap settings role ml engineer", *NO_FIGURES, admin=True),
            ask("/skillgap settings role ai enginer", "AI Engineer", admin=True, never=("Done",)),
            answer(":press 1", "Done", "AI Engineer", admin=True),
            answer("/skillgap settings role AI Eng", "Done", "AI Engineer", admin=True),
            refuse("/skillgap settings role basket weaver", "doesn't know the role", admin=True),
            answer("/skillgap settings", "default role is AI Engineer", admin=True),
        ],
        "check": [
            answer(
                "/skillgap check python, pytorch, k8s, rag, aws for ai engineer",
                "Your skills vs AI Engineer",
                "Coverage",
                "Learn next",
                never=("n/a",),
            ),
            answer(
                "/skillgap check python, docker",
                "Learn next",
                "Problem Solving: not something a course teaches",
                never=(". Problem Solving:",),
            ),
            answer("/skillgap check python, pythn, pyton", "Python"),
            answer("/skillgap check 5 years of python, some langchain", "Python", "LangChain"),
            answer("/skillgap check python, zzqxv", "I didn't recognise", "zzqxv"),
            answer(
                "/skillgap check 🚀 python, 🔥 docker",
                "I left out the emoji (🚀 🔥)",
                "Python",
            ),
            answer("/skillgap check python for ai eng", "AI Engineer"),
            answer("/skillgap check python for ai enginer", "AI Engineer"),
            refuse("/skillgap check quantum basket weaving", "couldn't recognise any"),
            refuse(
                f"/skillgap check {JUNK}",
                "couldn't recognise any",
                "…and 20 more (15 not recognised, 5 past the limit of 40 terms and not read)",
            ),
            refuse("/skillgap check zzqxv", "couldn't recognise any", never=("Closest",)),
            refuse("/skillgap check python for basket weaver", "basket weaver"),
            answer("/skillgap check", "Check my skills"),
            answer(
                ":submit check_skills=python, pytorch; check_role=ai eng",
                "Your skills vs AI Engineer",
            ),
            answer("/skillgap check python, rag", "Check again"),
        ],
        "me-forget": [
            answer("/skillgap me", "no saved skills", "keeps nothing about you"),
            ask("/skillgap forget", "Delete everything SkillGap keeps about you"),
            answer(":press 1", "nothing to delete"),
            answer("/skillgap check python, pytorch, rag", "Save my skills"),
            answer(":press 1", "Saved 3 skills"),
            answer(
                "/skillgap me", "Your saved skills", "Python", "Your latest feedback", "Learn next"
            ),
            answer("/skillgap subscribe on friday", "Subscribed"),
            answer("/skillgap me", "Channel digests you set up", "AI Engineer"),
            ask(
                "/skillgap forget",
                "Delete everything",
                "your saved skills (3)",
                "channel digest",
                "keep running",
            ),
            answer("/skillgap me", "Your saved skills"),
            ask("/skillgap forget", "Delete everything"),
            answer(":press 1", "deleted everything it kept about you"),
            answer("/skillgap me", "no saved skills", never=("Channel digests you set up",)),
            answer("/skillgap subscriptions", "AI Engineer"),
        ],
        "hostile": [
            refuse("/skillgap role <!channel>", "doesn't know the role"),
            refuse("/skillgap gaps <@U12345> please", "doesn't know the role"),
            refuse("/skillgap role <https://evil.example|click me>", "doesn't know the role"),
            ask("/skillgap skill <!here>", "doesn't know the skill"),
            answer("/skillgap check <!everyone>, python", "Python", "I didn't recognise"),
            refuse("/skillgap subscribe <!channel> at 9", "doesn't know the role"),
            refuse("/skillgap role " + "x" * 3000, "doesn't know the role"),
            refuse("/skillgap role \u202eenigne IA", "doesn't know the role"),
            refuse("/skillgap role ai engineer in <#C123>", "London"),
            refuse("/skillgap role ';DROP TABLE roles;--", "doesn't know the role"),
            answer("/skillgap roles", "AI Engineer"),
            refuse("/skillgap unsubscribe <!channel>", "has no digest subscription"),
            answer("/skillgap help <script>", "SkillGap"),
            refuse("/skillgap check !!!, ???, ...", "couldn't recognise any"),
        ],
    }
)
