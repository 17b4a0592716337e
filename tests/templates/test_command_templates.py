"""The command templates render hostile names safely and cut long lists to Slack's limits."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from commands.help import HelpGroup
from commands.router import CommandRequest, Subcommand
from commands.skill import RelatedSkill
from db.importers.document import PayDocument, RoleDocument, SkillDocument, SnapshotDocument
from db.importers.store import store_documents
from db.market_figures import (
    AskedTogether,
    CooccurringSkill,
    Pay,
    RolePath,
    RoleStats,
    RoleSummary,
    SkillAcrossMarket,
    SkillObservation,
    SkillStat,
    SnapshotInfo,
)
from db.models import PayKind, SourceKind
from templates import MAX_BLOCKS, fit_escaped, percent_bar, render_message, render_view
from tests.commands.helpers import action_ids, assert_valid_message, texts_of
from tests.slack_helpers import running_app

HOSTILE_NAMES = [
    "<!channel> Prompt Engineer",
    "<@U123> & friends",
    "<https://evil.example|Click me>",
    'Quote " and \\ backslash',
    '"}]}, {"type": "section"',
    "Line one\nLine two\r\n",
    "{{ 7*7 }} {% if %}",
    "\u202eRTL override\u202c",
    "Zero\u200bwidth\u2060joiner",
    "مهندس ذكاء اصطناعي",
    "Control \x00\x07\x1b chars",
    "L" * 10_240,
]


def snapshot_info(role_title: str = "AI Engineer", **changes) -> SnapshotInfo:
    values: dict[str, Any] = {
        "id": 1,
        "role_slug": "ai-engineer",
        "role_title": role_title,
        "region": "UK",
        "published_on": date(2026, 4, 1),
        "period_label": "April 2026",
        "period_start": date(2026, 4, 1),
        "period_end": date(2026, 4, 30),
        "source": "UK market report",
        "source_kind": SourceKind.CURATED,
        "imported_at": datetime(2026, 4, 2, tzinfo=UTC),
        "team_id": "",
        "sample_size": None,
        "supply_sample_size": None,
    }
    values.update(changes)
    return SnapshotInfo(**values)


def role_stats(role_title: str, skill_names: list[str]) -> RoleStats:
    info = snapshot_info(role_title)
    skills = tuple(
        SkillStat(
            name=name,
            slug=f"skill-{index}",
            demand_pct=60.0,
            supply_pct=20.0,
            is_essential=index % 2 == 0,
            is_emerging=index % 3 == 0,
            is_gap=True,
            rank=index,
            note=name,
        )
        for index, name in enumerate(skill_names)
    )
    pay = (
        Pay(PayKind.ANNUAL, "UK", 75000, 50000, 120000),
        Pay(PayKind.DAILY, "UK", 650, 450, 950),
    )
    return RoleStats(RoleSummary("ai-engineer", role_title, "", 24, info), info, pay, skills)


def card_context(stats: RoleStats) -> dict:
    return {
        "stats": stats,
        "places": ["UK", "London"],
        "tenure": 24,
        "top_skills": stats.essential_skills()[:8],
        "gaps": stats.skills_by_gap(),
        "emerging": stats.emerging_skills(),
        "typed": stats.role.title,
        "shared": False,
        "share_command": "role ai-engineer",
        "check_role": "ai-engineer",
        "title": stats.role.title,
        "region_note": "",
    }


def assert_safe(message: dict) -> None:
    assert_valid_message(message)
    for block in message.get("blocks", []):
        for element in block.get("elements", []):
            if element.get("type") == "button":
                assert len(element["text"]["text"]) <= 75


@pytest.mark.parametrize("name", HOSTILE_NAMES)
@pytest.mark.parametrize("template", ["role_card.j2", "gaps.j2", "emerging.j2"])
def test_role_cards_render_hostile_names_safely(template: str, name: str):
    stats = role_stats(name, [name, f"{name} 2", "Python"])
    message = render_message(template, **card_context(stats), rows=[], older=None).as_kwargs()
    assert_safe(message)
    shown = json.dumps(message, ensure_ascii=False)
    if "<" in name:
        assert "&lt;" in shown


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_suggestions_roles_skill_path_and_home_render_hostile_names(name: str):
    suggestions = [{"name": name, "command": "role ai-engineer"}] * 5
    assert_safe(
        render_message(
            "did_you_mean.j2",
            kind="role",
            typed=name,
            ambiguous=True,
            suggestions=suggestions,
            known=[],
            command="role",
        ).as_kwargs()
    )
    stats = role_stats(name, [name])
    rows = [{"summary": stats.role, "stats": stats}]
    assert_safe(
        render_message(
            "roles.j2", rows=rows, default_role=name, shared=False, share_command="roles"
        ).as_kwargs()
    )
    stat = stats.skills[0]
    across = SkillAcrossMarket(name, "s", (SkillObservation(stats.snapshot, stat),))
    point = {"snapshot": stats.snapshot, "stat": stat, "demand_change": None}
    groups = [{"role_title": name, "region": "UK", "source": name, "points": [point] * 8}]
    assert_safe(
        render_message(
            "skill.j2",
            skill=across,
            together=AskedTogether(
                stats.snapshot, (CooccurringSkill(name, name, "s", 3, 50.0),) * 5
            ),
            groups=groups,
            families=[RelatedSkill(name, "f", None)],
            members=[RelatedSkill(name, "m", None)] * 3,
            more_members=4,
            title=name,
            typed=name,
            region_note="",
            shared=False,
            share_command="skill s",
        ).as_kwargs()
    )
    path = RolePath(name, (name, "Senior " + name), (name,), (name,), 24)
    assert_safe(
        render_message(
            "path.j2",
            path=path,
            current_step=name,
            known_roles={name},
            snapshot=stats.snapshot,
            title=name,
            typed="",
            region_note="",
            shared=False,
            share_command="path ai-engineer",
            check_role="ai-engineer",
        ).as_kwargs()
    )

    async def no_answer(request: CommandRequest) -> None:
        return None

    command = Subcommand("role", no_answer, usage=name, summary=name, examples=(name,))
    groups_of_help = [HelpGroup(name, (command,))]
    view = render_view("home.j2", rows=rows, sections=[], groups=groups_of_help, default_role=name)
    assert_safe({"text": "home", **view})
    assert_safe(
        render_message(
            "help.j2",
            groups=groups_of_help,
            unknown=name,
            detail=command,
            default_role=name,
        ).as_kwargs()
    )


def test_long_lists_are_cut_with_a_note():
    many = [f"Skill number {index}" for index in range(400)]
    stats = role_stats("AI Engineer", many)
    gaps = render_message("gaps.j2", **card_context(stats)).as_kwargs()
    assert_safe(gaps)
    assert "…and 385 smaller gaps not shown." in texts_of(gaps)
    card = render_message("role_card.j2", **card_context(stats)).as_kwargs()
    assert_safe(card)
    assert len(card["blocks"]) <= MAX_BLOCKS
    rows = [{"summary": stats.role, "stats": stats}] * 300
    roles = render_message(
        "roles.j2", rows=rows, default_role="", shared=False, share_command="roles"
    ).as_kwargs()
    assert_safe(roles)
    assert "…and 260 more roles" in texts_of(roles)


def test_button_labels_fit_even_when_every_character_needs_escaping():
    assert fit_escaped("<" * 100, 75) == "<" * 18 + "…"
    assert fit_escaped("short") == "short"
    assert percent_bar(75) == "████████░░"
    assert percent_bar(25) == "███░░░░░░░"
    assert percent_bar(None) == "··········"


async def test_hostile_names_from_the_store_render_safely_end_to_end(sqlite_engine: AsyncEngine):
    title = '<!channel> "AI" & Co {{ x }} \u202e<@U123>'
    document = SnapshotDocument(
        role=RoleDocument(
            title=title, progression=("<!here>", title), lateral_moves=("<https://e|x>",)
        ),
        published_on=date(2026, 4, 1),
        period_label="April <!everyone> 2026",
        period_start=date(2026, 4, 1),
        period_end=date(2026, 4, 30),
        source="<https://evil.example|report>",
        source_kind=SourceKind.CURATED,
        pay=(PayDocument(PayKind.ANNUAL, "UK", median=1000),),
        skills=(
            SkillDocument("<@U999> skill", demand_pct=50, supply_pct=10, is_emerging=True),
            SkillDocument("x" * 5000, demand_pct=40, supply_pct=10, is_essential=True),
        ),
    )
    await store_documents(sqlite_engine, [document])
    slug = document.role.slug
    async with running_app(sqlite_engine) as harness:
        for text in [
            f"role {slug}",
            f"gaps {slug}",
            f"emerging {slug}",
            f"path {slug}",
            f"salary {slug}",
            "roles",
            "skill u999 skill",
        ]:
            answer = await harness.command(text)
            assert answer.ack_body is not None, text
            assert_safe(answer.ack_body)
            assert "hit a problem" not in answer.text, text
        card = (await harness.command(f"role {slug}")).ack_body
        assert card is not None
        assert action_ids(card)["share_in_channel"] == f"role {slug}"
        home = await harness.event({"type": "app_home_opened", "user": "U1", "tab": "home"})
        [publish] = home.calls_to("views.publish")
        assert_safe({"text": "home", **publish.args["view"]})
