"""Every /skillgap subcommand through signed requests and the real app, with April 2026 figures."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.importers.document import PayDocument, RoleDocument, SkillDocument, SnapshotDocument
from db.importers.store import store_documents
from db.models import PayKind, SourceKind
from tests.commands.helpers import action_ids, assert_valid_message, texts_of
from tests.slack_helpers import SlackAppHarness, running_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


async def ephemeral_answer(slack_app: SlackAppHarness, text: str) -> dict:
    """The answer to `/skillgap text`, which must come in the ack body, ephemeral and valid."""
    answer = await slack_app.command(text)
    assert answer.status == 200
    body = answer.ack_body
    assert body is not None, f"no answer in the ack for {text!r}"
    assert body["response_type"] == "ephemeral"
    assert_valid_message(body)
    return body


# -- help ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "help", "HELP", "?"])
async def test_help_lists_every_command_with_examples(slack_app: SlackAppHarness, text: str):
    shown = texts_of(await ephemeral_answer(slack_app, text))
    for usage in [
        "role [ROLE] [in REGION]",
        "gaps [ROLE]",
        "skill SKILL",
        "salary [ROLE]",
        "emerging [ROLE]",
        "path [ROLE]",
        "roles",
        "check",
        "me",
        "forget",
        "subscribe",
        "unsubscribe",
        "subscriptions",
        "digest preview|pause|resume",
    ]:
        assert f"`/skillgap {usage}" in shown, usage
    assert "/skillgap role ai eng in London" in shown
    assert "ROLE defaults to AI Engineer" in shown


async def test_an_unknown_subcommand_gets_help(slack_app: SlackAppHarness):
    shown = texts_of(await ephemeral_answer(slack_app, "frobnicate the market"))
    assert "`/skillgap frobnicate` isn't a SkillGap command" in shown
    assert "`/skillgap gaps [ROLE]`" in shown


async def test_help_explains_one_command(slack_app: SlackAppHarness):
    shown = texts_of(await ephemeral_answer(slack_app, "help salary"))
    assert "`/skillgap salary [ROLE] [in REGION]`" in shown
    assert "`/skillgap salary ai engineer in London`" in shown


# -- role card ----------------------------------------------------------------------------


async def test_role_card_shows_the_april_2026_figures(slack_app: SlackAppHarness):
    card = await ephemeral_answer(slack_app, "role ai engineer")
    shown = texts_of(card)
    assert "AI Engineer · UK" in shown
    assert "*Salary · UK*\n*£75,000* median\n£50,000–£120,000 typical" in shown
    assert "*Salary · London*\n*£90,000* median" in shown
    assert "*Contract day rate · UK*\n*£650/day* median\n£450–£950/day typical" in shown
    assert "*Contract day rate · London*\naround *£750/day*" in shown
    assert "~24 months" in shown
    # A family comes with the examples the report gives of it.
    assert (
        "Python · Machine Learning · Cloud Platforms — AWS, GCP or Azure · Large Language Models"
        " · Problem Solving" in shown
    )
    assert "• Production LLM Deployment: 75% vs 25% = *50 pts*" in shown
    assert "• MLOps for GenAI: 65% vs 22% = *43 pts*" in shown
    assert "• Vector Database Optimisation: 42% vs 20% = *22 pts*" in shown
    assert "Agentic AI Frameworks — LangGraph or CrewAI · Prompt Engineering" in shown
    assert "Fine-Tuning — LoRA or QLoRA" in shown
    assert "Multimodal AI" in shown
    assert "Source: UK market report, April 2026" in shown  # and its age, when old
    assert "published 1 Apr" not in shown  # a report gives its month, not a day
    assert card["text"].startswith("AI Engineer (UK): median salary £75,000 (£50,000–£120,000)")
    assert action_ids(card) == {
        "open_skills_check": "ai-engineer",
        "share_in_channel": "role ai-engineer",
    }


async def test_role_defaults_to_the_workspace_default(slack_app: SlackAppHarness):
    assert texts_of(await ephemeral_answer(slack_app, "role")).count("£75,000") >= 1


async def test_role_card_in_london_puts_london_first(slack_app: SlackAppHarness):
    card = await ephemeral_answer(slack_app, "role ai eng in london")
    shown = texts_of(card)
    assert "AI Engineer · London" in shown
    assert shown.index("*Salary · London*") < shown.index("*Salary · UK*")
    assert card["text"].startswith("AI Engineer (London): median salary £90,000")
    assert action_ids(card)["share_in_channel"] == "role ai-engineer in London"


@pytest.mark.parametrize("typed", ["ai eng", "AI ENGINEER", "genai engineer", "  ai   eng  "])
async def test_role_names_resolve(slack_app: SlackAppHarness, typed: str):
    shown = texts_of(await ephemeral_answer(slack_app, f"role {typed}"))
    assert "AI Engineer · UK" in shown
    assert "closest match" not in shown


async def test_a_misspelt_role_says_what_it_matched(slack_app: SlackAppHarness):
    shown = texts_of(await ephemeral_answer(slack_app, "role ai engneer"))
    assert "Showing AI Engineer for `ai engneer`." in shown
    assert "£75,000" in shown


async def test_an_unknown_role_gets_suggestions_never_a_wrong_card(slack_app: SlackAppHarness):
    reply = await ephemeral_answer(slack_app, "role underwater basket weaver")
    shown = texts_of(reply)
    assert "SkillGap doesn't know the role `underwater basket weaver`." in shown
    assert "AI Engineer" in shown  # the roles it does know
    assert "£75,000" not in shown


async def test_suggestion_buttons_run_the_command(slack_app: SlackAppHarness):
    reply = await ephemeral_answer(slack_app, "gaps ai")
    buttons = action_ids(reply)
    assert buttons, "'ai' alone is too short to resolve outright: it must be a suggestion"
    action_id, value = next(iter(buttons.items()))
    assert action_id.startswith("run_command")
    pressed = await slack_app.press(action_id, value)
    [post] = pressed.response_url_posts
    assert post.args["replace_original"] is True
    assert "Production LLM Deployment" in texts_of(post.args)


async def test_pressing_a_suggestion_replaces_the_question_with_the_card(
    slack_app: SlackAppHarness,
):
    pressed = await slack_app.press("run_command:1", "role ai-engineer in London")
    [post] = pressed.response_url_posts
    assert post.args["response_type"] == "ephemeral"
    assert post.args["replace_original"] is True
    assert_valid_message(post.args)
    assert "AI Engineer · London" in texts_of(post.args)


async def test_an_unknown_region_is_said_not_guessed(slack_app: SlackAppHarness):
    shown = texts_of(await ephemeral_answer(slack_app, "role ai engineer in Paris"))
    assert "none for `Paris`" in shown
    assert "`/skillgap role ai engineer in London`" in shown
    assert "£75,000" not in shown


# -- other subcommands --------------------------------------------------------------------


async def test_gaps_ranks_skills_by_gap_with_demand_beside_supply(slack_app: SlackAppHarness):
    reply = await ephemeral_answer(slack_app, "gaps")
    shown = texts_of(reply)
    order = [
        "1. Production LLM Deployment*: *50 pts*",
        "2. MLOps for GenAI*: *43 pts*",
        "3. Model Fine-Tuning at Scale*: *33 pts*",
        "4. AI Evaluation &amp; Safety*: *25 pts*",
        "5. Vector Database Optimisation*: *22 pts*",
    ]
    positions = [shown.index(line) for line in order]
    assert positions == sorted(positions)
    assert "`████████░░` demand 75%\n`███░░░░░░░` supply 25%" in shown
    assert action_ids(reply)["share_in_channel"] == "gaps ai-engineer"


async def test_skill_shows_its_figures_across_roles(slack_app: SlackAppHarness):
    reply = await ephemeral_answer(slack_app, "skill production llm deployment")
    shown = texts_of(reply)
    assert "Skill · Production LLM Deployment" in shown
    assert "*AI Engineer* · UK · UK market report" in shown
    assert "April 2026" in shown  # with its age once old
    assert ": demand 75% vs supply 25% = gap 50 pts · _top gap #1_" in shown
    assert action_ids(reply) == {"share_in_channel": "skill production-llm-deployment"}


async def test_skill_aliases_and_flags(slack_app: SlackAppHarness):
    shown = texts_of(await ephemeral_answer(slack_app, "skill model fine-tuning"))
    assert "Skill · Fine-Tuning" in shown and "_emerging_" in shown
    # The report's examples are members; the scarce "at scale" skill is another member.
    assert "• LoRA: no demand figure yet" in shown
    assert "Model Fine-Tuning at Scale: no demand figure yet" not in shown  # it has figures
    lora = texts_of(await ephemeral_answer(slack_app, "skill lora"))
    assert "*Part of* Fine-Tuning" in lora
    assert "LoRA: no figures of its own yet; part of Fine-Tuning." in lora
    python = texts_of(await ephemeral_answer(slack_app, "skill python"))
    assert "named by the source, no percentage given · _essential_" in python


async def test_skill_needs_a_name_and_unknown_skills_get_help(slack_app: SlackAppHarness):
    assert "Which skill?" in texts_of(await ephemeral_answer(slack_app, "skill"))
    shown = texts_of(await ephemeral_answer(slack_app, "skill zzzqqq"))
    assert "SkillGap doesn't know the skill `zzzqqq`." in shown


async def test_salary_shows_pay_and_says_when_there_is_nothing_to_compare(
    slack_app: SlackAppHarness,
):
    shown = texts_of(await ephemeral_answer(slack_app, "salary"))
    assert "*UK*\n*£75,000* median\n£50,000–£120,000 typical" in shown
    assert "*London*\n*£90,000* median" in shown
    assert "*UK*\n*£650/day* median\n£450–£950/day typical" in shown
    assert "*London*\naround *£750/day*" in shown
    assert "No earlier snapshot" in shown


def _october_2025(**changes) -> SnapshotDocument:
    """An earlier report for the same role, to have something to compare against."""
    values: dict[str, Any] = {
        "role": RoleDocument(title="AI Engineer"),
        "published_on": date(2025, 10, 1),
        "period_label": "October 2025",
        "period_start": date(2025, 10, 1),
        "period_end": date(2025, 10, 31),
        "source": "UK market report",
        "source_kind": SourceKind.CURATED,
        "pay": (
            PayDocument(PayKind.ANNUAL, "UK", median=70000, low=48000, high=110000),
            PayDocument(PayKind.ANNUAL, "London", median=90000),
            PayDocument(PayKind.DAILY, "UK", median=600, low=450, high=900),
        ),
        "skills": (
            SkillDocument("Production LLM Deployment", demand_pct=60, supply_pct=20, is_gap=True),
            SkillDocument("Prompt Engineering", demand_pct=20),
        ),
    }
    values.update(changes)
    return SnapshotDocument(**values)


@pytest.fixture
async def app_with_history(sqlite_engine: AsyncEngine):
    """The app on a store that also holds an October 2025 report for AI Engineer."""
    await store_documents(sqlite_engine, [_october_2025()])
    async with running_app(sqlite_engine) as harness:
        yield harness


async def test_salary_shows_the_change_since_the_previous_snapshot(
    app_with_history: SlackAppHarness,
):
    shown = texts_of(await ephemeral_answer(app_with_history, "salary ai engineer"))
    assert "*Since UK market report, October 2025*" in shown
    assert "• Permanent salary · UK: median £75,000 (+£5,000, +7.1%; was £70,000)" in shown
    assert "• Permanent salary · London: median unchanged at £90,000" in shown
    assert "• Contract day rate · UK: median £650/day (+£50/day, +8.3%; was £600/day)" in shown
    # No October figure for London day rates: shown as missing, not as a change.
    assert "• Contract day rate · London: median £750/day (new in this report)" in shown


async def test_emerging_marks_new_skills_as_new(app_with_history: SlackAppHarness):
    shown = texts_of(await ephemeral_answer(app_with_history, "emerging"))
    assert "*Agentic AI Frameworks* · _new in this report_" in shown
    # Prompt Engineering was mentioned before but not as emerging.
    assert "*Prompt Engineering* · _newly emerging since October 2025_" in shown
    assert "∞" not in shown


async def test_emerging_lists_the_reports_emerging_skills(slack_app: SlackAppHarness):
    reply = await ephemeral_answer(slack_app, "emerging ai engineer")
    shown = texts_of(reply)
    for name in [
        "Agentic AI Frameworks",
        "Prompt Engineering",
        "Fine-Tuning",
        "AI Evaluation &amp; Safety",
        "Multimodal AI",
    ]:
        assert f"*{name}*" in shown
    assert "demand 40% vs supply 15%, gap 25 pts" in shown


async def test_path_shows_ladder_tenure_moves_and_routes(slack_app: SlackAppHarness):
    reply = await ephemeral_answer(slack_app, "path ai engineer")
    shown = texts_of(reply)
    assert "1. Software Engineer / Junior ML Engineer\n*2. AI Engineer*  ← this role" in shown
    assert "5. Head of AI / Principal AI Engineer" in shown
    assert "*Typical tenure*\n~24 months" in shown
    assert "*Next step*\nSenior AI Engineer" in shown
    for move in ["Machine Learning Engineer", "MLOps Engineer", "AI Solutions Architect"]:
        assert f"• {move}" in shown
    assert "STEM degree" in shown
    assert "Source: UK market report, April 2026" in shown


async def test_roles_lists_known_roles_with_headline_pay(slack_app: SlackAppHarness):
    reply = await ephemeral_answer(slack_app, "roles")
    shown = texts_of(reply)
    assert "*AI Engineer* _(default)_\nsalary £75,000 median · day rate £650/day median" in shown
    assert "_UK market report, April 2026" in shown  # and its age once old
    assert action_ids(reply) == {"share_in_channel": "roles"}


# -- isolation, backends ------------------------------------------------------------------


async def test_a_workspaces_own_data_is_never_shown_to_another(sqlite_engine: AsyncEngine):
    from tests.slack_helpers import SlackUser

    private = _october_2025(
        role=RoleDocument(title="Prompt Wrangler"),
        team_id="T0OTHER",
        source="job ads, 4-week window",
        source_kind=SourceKind.JOB_ADS,
        pay=(PayDocument(PayKind.ANNUAL, "UK", median=123456),),
    )
    await store_documents(sqlite_engine, [private])
    async with running_app(sqlite_engine) as harness:
        ours = await harness.command("roles")
        assert "Prompt Wrangler" not in ours.text
        card = await harness.command("role prompt wrangler")
        assert "123,456" not in card.text
        theirs = await harness.command("role prompt wrangler", user=SlackUser(team_id="T0OTHER"))
        assert "£123,456" in theirs.text
        assert "your workspace's own data" in theirs.text


async def test_role_card_on_both_backends(engine: AsyncEngine):
    async with running_app(engine) as harness:
        answer = await harness.command("role ai engineer")
        assert answer.ack_body is not None
        shown = texts_of(answer.ack_body)
        assert "£75,000" in shown and "£650/day" in shown
        assert "Production LLM Deployment: 75% vs 25% = *50 pts*" in shown
