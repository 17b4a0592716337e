"""Runs conversation cases through the real app exactly as `skillgap shell` does.

One app, store and Slack stub serve the whole suite. Each scene types as its own person in
its own channel, so scenes never see each other's subscriptions or saved skills; the lines of
a scene run in order (a case picked alone with -k first replays the lines before it).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot.shell import Reply, Shell, ShellSession, render_payload
from db.settings import Settings
from templates import validate_blocks


class Outcome(StrEnum):
    ANSWER = "answer"  # the command did what was asked
    ASK = "ask"  # a question back: "Did you mean …?" buttons, a Confirm button, "could mean"
    REFUSE = "refuse"  # nothing done, with a message saying what was wrong and what to type


@dataclass(frozen=True)
class Case:
    line: str
    outcome: Outcome
    says: tuple[str, ...] = ()  # words every one of which the replies contain
    never: tuple[str, ...] = ()  # words none of which the replies may contain
    admin: bool = False


@dataclass
class Scene:
    name: str
    cases: list[Case]
    ran: int = 0  # how many of its lines have run so far


# Buttons that ask the person to settle something before SkillGap acts.
ASKING_ACTIONS = re.compile(r"^(?:run_command(?::\d+)?|confirm_command)$")
ASKING_WORDS = ("could mean", "Did you mean", "Which role?", "Which skill?")
REFUSING_WORDS = (
    ":warning:",
    "didn't work",
    "Nothing changed",
    "doesn't know",
    "but has no figures",
    "Only a workspace admin",
    "not something I can do",
    "has no digest subscription",
    "couldn't recognise any",
    "no longer works",
    "doesn't know `/skillgap",
)
# A reply must never carry live Slack markup made of someone's words.
LIVE_MARKUP = re.compile(r"<!(?:channel|here|everyone)|<@[UW]|<https?:|<mailto:")


@dataclass(frozen=True)
class Heard:
    """What the app sent back for one line."""

    replies: list[Reply]

    @property
    def text(self) -> str:
        parts = []
        for reply in self.replies:
            payload = reply.payload
            parts.append(str(payload.get("text", "")))
            parts.extend(line.plain for line in render_payload(payload))
        return "\n".join(parts)

    @property
    def actions(self) -> list[str]:
        found = []
        for reply in self.replies:
            view = reply.payload.get("view")
            blocks = (view if isinstance(view, dict) else reply.payload).get("blocks") or []
            for block in blocks:
                elements = list(block.get("elements") or []) if isinstance(block, dict) else []
                if isinstance(block, dict) and isinstance(block.get("accessory"), dict):
                    elements.append(block["accessory"])
                found += [str(e.get("action_id", "")) for e in elements if isinstance(e, dict)]
        return found

    @property
    def outcome(self) -> Outcome:
        if any(ASKING_ACTIONS.match(action) for action in self.actions) or any(
            word in self.text for word in ASKING_WORDS
        ):
            return Outcome.ASK
        if any(word in self.text for word in REFUSING_WORDS):
            return Outcome.REFUSE
        return Outcome.ANSWER

    def check_well_formed(self) -> None:
        assert self.replies, "no answer at all"
        for reply in self.replies:
            payload = reply.payload
            if reply.kind == "api" and not any(k in payload for k in ("text", "blocks", "view")):
                continue  # plumbing such as conversations.open
            view = payload.get("view")
            blocks = (view if isinstance(view, dict) else payload).get("blocks") or []
            validate_blocks(blocks)
            if not isinstance(view, dict):
                assert str(payload.get("text", "")).strip(), f"no fallback text: {payload}"
            rendered = json.dumps(payload, ensure_ascii=False)
            assert not LIVE_MARKUP.search(rendered), rendered[:300]
            assert "Traceback" not in rendered


@dataclass
class Conversations:
    shell: Shell
    app: Any
    base: ShellSession
    scenes: dict[str, Scene] = field(default_factory=dict)
    sessions: dict[str, ShellSession] = field(default_factory=dict)

    def session_for(self, scene: str, *, admin: bool) -> ShellSession:
        key = f"{scene}:{admin}"
        if key not in self.sessions:
            number = len(self.sessions) + 1
            user = replace(
                self.base.user,
                user_id=f"U0CONV{number:04d}",
                channel_id=f"C0CONV{number:04d}",
                channel_name=f"conversation-{number}",
            )
            # An admin and a non-admin of the same scene share its channel.
            twin = self.sessions.get(f"{scene}:{not admin}")
            if twin is not None:
                user = replace(user, channel_id=twin.user.channel_id)
            self.base.stub.users[user.user_id] = {"is_admin": admin}
            self.sessions[key] = ShellSession(self.base.settings, self.base.stub, user)
        return self.sessions[key]

    async def say(self, scene_name: str, position: int) -> Heard:
        """Run the scene's lines up to and including `position`; what the last one heard."""
        scene = self.scenes[scene_name]
        heard = Heard([])
        while scene.ran <= position:
            case = scene.cases[scene.ran]
            session = self.session_for(scene_name, admin=case.admin)
            # Buttons belong to the person who saw them, whichever session pressed last.
            other = self.session_for(scene_name, admin=not case.admin)
            if case.line.startswith(":") and not session.buttons and session.open_view is None:
                session.buttons, session.open_view = other.buttons, other.open_view
            heard = Heard(await self.shell.handle_line(self.app, session, case.line))
            scene.ran += 1
        return heard


@asynccontextmanager
async def conversations(
    database: Path, scenes: dict[str, list[Case]]
) -> AsyncIterator[Conversations]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{database}",
        slack_bot_token=None,
        slack_signing_secret=None,
        slack_app_token=None,
        slack_client_id=None,
        slack_client_secret=None,
    )
    shell = Shell(settings, as_json=True, out=io.StringIO(), quiet_seconds=0.02)
    async with shell.running() as (app, session):
        yield Conversations(
            shell, app, session, {name: Scene(name, cases) for name, cases in scenes.items()}
        )
