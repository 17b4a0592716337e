"""The conversation suite: every case of cases.py, typed into the real app as the shell does.

Each case says what the person typed, whether SkillGap should answer, ask back or refuse, and
words its reply must (and must not) contain.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conversations.cases import SCENES
from tests.conversations.harness import Conversations, conversations

CASES = [
    pytest.param(scene, position, case, id=f"{scene}-{position:02d}-{case.line[:40]}")
    for scene, cases in SCENES.items()
    for position, case in enumerate(cases)
]


@pytest.fixture(scope="module")
async def talk(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Conversations]:
    database = Path(tmp_path_factory.mktemp("conversations")) / "store.db"
    async with conversations(database, SCENES) as running:
        yield running


def test_the_suite_is_broad() -> None:
    lines = [case.line for cases in SCENES.values() for case in cases]
    assert len(lines) >= 150
    typed = {line.split()[1] for line in lines if line.startswith("/skillgap ")}
    every_subcommand = {
        *("help", "role", "gaps", "skill", "salary", "emerging", "path", "roles", "settings"),
        *("check", "me", "forget", "subscribe", "unsubscribe", "subscriptions", "digest"),
    }
    assert every_subcommand <= typed, every_subcommand - typed
    assert any(line.startswith(":press") for line in lines)
    assert any(line.startswith(":submit") for line in lines)


@pytest.mark.parametrize(("scene", "position", "case"), CASES)
async def test_conversation(talk: Conversations, scene: str, position: int, case) -> None:
    heard = await talk.say(scene, position)
    heard.check_well_formed()
    text = heard.text
    assert heard.outcome == case.outcome, f"{case.line!r} → {heard.outcome}:\n{text}"
    for word in case.says:
        assert word in text, f"{case.line!r} should say {word!r}:\n{text}"
    for word in case.never:
        assert word not in text, f"{case.line!r} should not say {word!r}:\n{text}"
