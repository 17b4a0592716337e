"""Digests over old data and a single snapshot: the data period and its age, a useful first
digest, and emerging skills only where the source says so (issue 13)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import time_machine
from sqlalchemy.ext.asyncio import AsyncEngine

from db.importers.document import SkillDocument
from db.importers.store import store_documents
from db.market import MarketReader
from digests.content import DigestBuilder
from digests.render import render_digest
from tests.commands.helpers import assert_valid_message, texts_of
from tests.db.test_sources import TEAM, ads_window
from tests.digests.data import april, may

DECEMBER = datetime(2026, 12, 2, 9, tzinfo=UTC)


async def _digest_text(engine: AsyncEngine) -> str:
    builder = DigestBuilder(MarketReader(engine), ttl_seconds=0)
    digest = await builder.build("T0READER", ["ai-engineer"])
    message = render_digest(digest, week_of=date(2026, 11, 30)).message
    payload = {"text": message.text, "blocks": message.blocks}
    assert_valid_message(payload)
    return texts_of(payload)


async def test_a_first_digest_in_december_shows_april_figures_and_says_how_old(
    sqlite_engine: AsyncEngine,
) -> None:
    with time_machine.travel(DECEMBER, tick=False):
        shown = await _digest_text(sqlite_engine)
    # The header names the data period as well as the week it is sent.
    assert "week of 30 Nov 2026 · figures for April 2026 — 7 months old" in shown
    # With nothing to compare yet: pay, the largest gaps and the emerging skills as they stand.
    assert "• Salary, UK: £75,000 (April 2026 — 7 months old)" in shown
    assert "• Day rate, London: around £750/day (April 2026 — 7 months old)" in shown
    assert "*Largest gaps now* (demand vs supply, April 2026 — 7 months old)" in shown
    assert "• Production LLM Deployment: demand 75% vs supply 25%, gap 50 pts" in shown
    assert "• Agentic AI Frameworks" in shown and "• Multimodal AI" in shown
    assert "Changes start next time" in shown


async def test_a_gap_skill_is_emerging_only_when_the_source_says_so(
    empty_engine: AsyncEngine,
) -> None:
    # May's report adds a gap skill it does not call emerging, and one it does.
    newer = may(
        extra_skills=(
            SkillDocument("Inference Cost Control", demand_pct=30, supply_pct=5, is_gap=True),
            SkillDocument("Guardrails", demand_pct=20, supply_pct=4, is_emerging=True),
        )
    )
    production = next(s for s in newer.skills if s.name == "Production LLM Deployment")
    assert production.is_gap and not production.is_emerging  # its demand rose 75 -> 80
    await store_documents(empty_engine, [april(), newer])
    with time_machine.travel(DECEMBER, tick=False):
        builder = DigestBuilder(MarketReader(empty_engine), ttl_seconds=0)
        digest = await builder.build("T0READER", ["ai-engineer"])
    [role] = digest.roles
    emerging = {skill.name for skill in role.emerging}
    # Production LLM Deployment and Inference Cost Control are gaps the report does not call
    # emerging; AI Evaluation & Safety is both a gap and on the report's emerging list.
    assert emerging == {"Guardrails", "Model Context Protocol", "AI Evaluation & Safety"}


async def test_pay_changes_come_from_the_pay_figures_own_series(
    empty_engine: AsyncEngine,
) -> None:
    # Two reports give the skills; two weeks of a team's ads (too few for shares, enough for
    # a salary median) give the salary. Its change is week on week, never report to ads.
    weeks = [
        ads_window(ads=12, weeks=1, salary=66_000, salaries=12, end=date(2026, 11, 22)),
        ads_window(ads=12, weeks=1, salary=68_000, salaries=12, end=date(2026, 11, 29)),
    ]
    await store_documents(empty_engine, [april(), may(), *weeks])
    with time_machine.travel(DECEMBER, tick=False):
        builder = DigestBuilder(MarketReader(empty_engine), ttl_seconds=0)
        digest = await builder.build(TEAM, ["ai-engineer"])
    [role] = digest.roles
    assert role.older is not None and role.older.period_label == "April 2026"
    assert role.pay_compared == "job ads, week, 2026-W47 → 2026-W48"
    salary = next(line for line in role.pay if line.label == "Salary" and line.region == "UK")
    assert (salary.median.old, salary.median.new) == (66_000, 68_000)
    assert [point.median for point in role.salary_history] == [66_000, 68_000]
    assert all(line.label != "Day rate" for line in role.pay)  # the ads have no day rates
