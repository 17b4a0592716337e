"""The market-report importer: the published layout in, the curated snapshot out."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from db.importers.document import InvalidImport
from db.importers.report import parse_report
from db.importers.structured import parse_structured_file
from db.models import PayKind, SourceKind
from tests.db.import_helpers import APRIL_REPORT, BUNDLED_APRIL, DATA_ENGINEER_REPORT, MAY_REPORT

APRIL_TEXT = APRIL_REPORT.read_text(encoding="utf-8")
APRIL_LINES = APRIL_TEXT.splitlines()


def _line_number(fragment: str) -> int:
    return next(n for n, line in enumerate(APRIL_LINES, 1) if fragment in line)


def _replace(old: str, new: str) -> str:
    assert old in APRIL_TEXT
    return APRIL_TEXT.replace(old, new, 1)


def _refusal(text: str) -> InvalidImport:
    with pytest.raises(InvalidImport) as refused:
        parse_report(text, "report.txt")
    assert all(problem.file == "report.txt" for problem in refused.value.problems)
    return refused.value


def test_report_yields_the_bundled_snapshot() -> None:
    report = parse_report(APRIL_TEXT, str(APRIL_REPORT))
    bundled = parse_structured_file(BUNDLED_APRIL)
    assert report.checksum() == bundled.checksum()
    assert sorted(report.pay, key=str) == sorted(bundled.pay, key=str)
    by_name = {skill.name: skill for skill in bundled.skills}
    assert {skill.name for skill in report.skills} == set(by_name)
    for skill in report.skills:
        assert dataclasses.replace(skill, note="") == dataclasses.replace(
            by_name[skill.name], note=""
        )
    assert report.role.typical_tenure_months == bundled.role.typical_tenure_months == 24
    assert report.warnings == ()
    assert report.source_kind is SourceKind.REPORT
    assert report.source == "UK market report"


def test_report_header_and_role() -> None:
    report = parse_report(APRIL_TEXT, "r.txt")
    assert report.role.title == "AI Engineer"
    assert report.period_label == "April 2026"
    assert (report.period_start.isoformat(), report.period_end.isoformat()) == (
        "2026-04-01",
        "2026-04-30",
    )
    assert report.region == "UK"
    assert "GenAI Engineer" in report.role.aliases
    assert report.role.summary.startswith("An AI Engineer")
    assert report.role.entry_routes == (
        "Many come from software or ML engineering with a technical degree",
        "Others switch over from data science or web development after a course",
    )


def test_gap_lines_carry_figures_notes_and_combined_flags() -> None:
    skills = {skill.name: skill for skill in parse_report(APRIL_TEXT, "r.txt").skills}
    at_scale = skills["Model Fine-Tuning at Scale"]
    assert (at_scale.demand_pct, at_scale.supply_pct, at_scale.rank) == (45, 12, 3)
    assert at_scale.is_gap and not at_scale.is_emerging and not at_scale.is_essential
    assert at_scale.note.startswith("Adapter-based fine-tuning")
    # The emerging "Model Fine-Tuning (LoRA, QLoRA)" is another skill, a family with examples.
    fine_tuning = skills["Fine-Tuning"]
    assert fine_tuning.is_emerging and not fine_tuning.is_gap
    assert fine_tuning.members == ("LoRA", "QLoRA")
    assert "Model Fine-Tuning" in fine_tuning.aliases
    evaluation = skills["AI Evaluation & Safety"]
    assert evaluation.is_gap and evaluation.is_emerging
    assert "AI Safety & Evaluation" in evaluation.aliases
    assert skills["Agentic AI Frameworks"].members == ("LangGraph", "CrewAI")
    assert skills["Cloud Platforms"].members == ("AWS", "GCP", "Azure")
    assert "AWS" not in skills["Cloud Platforms"].aliases
    # "(LLMs)" is the skill's own short name, not an example of it.
    assert "LLMs" in skills["Large Language Models"].aliases
    assert skills["Large Language Models"].members == ()
    assert skills["Python"].is_essential and skills["Python"].rank == 1
    assert skills["Multimodal AI"].rank == 5


def test_may_report_has_its_own_figures() -> None:
    may = parse_report(MAY_REPORT.read_text(encoding="utf-8"), str(MAY_REPORT))
    assert may.period_label == "May 2026" and may.period_end.day == 31
    pay = {(p.kind, p.region): p for p in may.pay}
    assert pay[(PayKind.ANNUAL, "UK")].median == 78000
    assert pay[(PayKind.DAILY, "London")].median == 780
    skills = {skill.name: skill for skill in may.skills}
    assert "Prompt Engineering" not in skills
    assert skills["Model Context Protocol"].is_emerging
    assert skills["Model Context Protocol"].aliases == ("MCP",)
    assert skills["AI Evaluation & Safety"].rank == 3
    assert may.role.typical_tenure_months == 22
    assert may.checksum() != parse_structured_file(BUNDLED_APRIL).checksum()


def test_another_role_imports_with_no_code_change() -> None:
    report = parse_report(DATA_ENGINEER_REPORT.read_text(encoding="utf-8"), "de.txt")
    assert report.role.title == "Data Engineer"
    assert report.warnings == ()
    assert report.role.progression[-1] == "Head of Data Engineering"
    assert report.role.typical_tenure_months == 30
    skills = {skill.name: skill for skill in report.skills}
    assert skills["Lakehouse Architecture"].is_gap and skills["Lakehouse Architecture"].is_emerging
    assert skills["Kubernetes"].aliases == ("k8s",)
    pay = {(p.kind, p.region): (p.median, p.low, p.high) for p in report.pay}
    assert pay[(PayKind.ANNUAL, "UK")] == (65000, 45000, 100000)
    assert pay[(PayKind.DAILY, "UK")] == (550, 400, 800)


def test_other_line_shapes_are_read() -> None:
    text = (
        "Scotland Market • Updated 14 March 2025\n"
        "The median MLOps Engineer salary in Scotland is £62k, with a typical range of "
        "£48k to £80k.\n"
        "Typical tenure in role: ~2 years\n"
        "Kubernetes — 40.5% demand vs 10.5% supply (30-point gap)\n"
    )
    report = parse_report(text, "r.txt")
    assert report.role.title == "MLOps Engineer"
    assert report.region == "Scotland" and report.source == "Scotland market report"
    assert report.published_on.isoformat() == "2025-03-14"
    assert report.period_label == "March 2025"
    assert report.pay[0].region == "Scotland" and report.pay[0].median == 62000
    assert report.role.typical_tenure_months == 24
    assert report.skills[0].demand_pct == 40.5


def test_unrecognised_lines_are_warnings_with_line_numbers() -> None:
    text = APRIL_TEXT + "\nSome stray footer text\nCookie settings\n"
    report = parse_report(text, "r.txt")
    assert [warning.line for warning in report.warnings] == [
        len(APRIL_LINES) + 2,
        len(APRIL_LINES) + 3,
    ]
    assert "Some stray footer" in report.warnings[0].message
    assert report.checksum() == parse_report(APRIL_TEXT, "r.txt").checksum()


def test_wrong_gap_arithmetic_is_refused_with_its_line() -> None:
    refused = _refusal(_replace("(43-point gap)", "(40-point gap)"))
    [problem] = refused.problems
    assert problem.line == _line_number("MLOps for GenAI —")
    assert "40" in problem.message and "65 − 22 = 43" in problem.message


def test_percent_over_100_is_refused() -> None:
    refused = _refusal(
        _replace(
            "75% demand vs 25% supply (50-point gap)", "175% demand vs 25% supply (150-point gap)"
        )
    )
    [problem] = refused.problems
    assert problem.line == 3 and "not between 0 and 100" in problem.message


def test_missing_date_is_refused() -> None:
    refused = _refusal(_replace("Updated April 2026", "Latest edition"))
    assert any("no date" in problem.message for problem in refused.problems)


def test_impossible_date_is_refused() -> None:
    refused = _refusal(_replace("Updated April 2026", "Updated Smarch 2026"))
    assert refused.problems[0].line == 1 and "not a month" in refused.problems[0].message


def test_missing_role_is_refused() -> None:
    lines = [
        line
        for line in APRIL_LINES
        if not any(marker in line for marker in ("AI Engineer", "Typical progression"))
    ]
    refused = _refusal("\n".join(lines))
    assert any("never names its role" in problem.message for problem in refused.problems)


def test_report_about_two_roles_is_refused() -> None:
    refused = _refusal(
        _replace("Emerging skills for AI Engineer roles", "Emerging skills for Data Engineer roles")
    )
    [problem] = refused.problems
    assert (
        problem.line == _line_number("Emerging skills for") and "Data Engineer" in problem.message
    )


def test_duplicated_skill_is_refused_naming_both_lines() -> None:
    text = _replace(
        "Vector Database Optimisation — 42% demand vs 20% supply (22-point gap)",
        "MLOps for GenAI — 42% demand vs 20% supply (22-point gap)",
    )
    [problem] = _refusal(text).problems
    assert problem.line == _line_number("Vector Database Optimisation —")
    assert f"line {_line_number('MLOps for GenAI —')}" in problem.message


def test_alias_spellings_in_one_list_count_as_duplicates() -> None:
    text = _replace("Prompt Engineering, ", "LLM Evaluation, ")
    [problem] = _refusal(text).problems
    assert "listed twice" in problem.message


def test_unreadable_gap_line_is_refused_not_dropped() -> None:
    text = _replace("65% demand vs 22% supply", "65% demand vs 22 supply")
    [problem] = _refusal(text).problems
    assert problem.line == _line_number("MLOps for GenAI —")
    assert "skills-gap line" in problem.message


def test_largest_gap_must_agree_with_its_line() -> None:
    text = _replace("75% employer demand but only 25%", "80% employer demand but only 25%")
    [problem] = _refusal(text).problems
    assert "line 3 says 75% and 25%" in problem.message


def test_median_outside_range_is_refused() -> None:
    [problem] = _refusal(_replace("median of £650/day", "median of £990/day")).problems
    assert "day rate for UK" in problem.message and "above high" in problem.message


def test_figure_given_twice_is_refused() -> None:
    text = APRIL_TEXT + "\nTypical tenure in role: ~30 months\n"
    [problem] = _refusal(text).problems
    assert "twice" in problem.message and problem.line == len(APRIL_LINES) + 2


def test_empty_and_blank_text_is_refused() -> None:
    for text in ("", "   \n\n  "):
        assert _refusal(text).problems


# Property tests: whatever the text, the parser answers with a document or InvalidImport.

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _parse_or_refuse(text: str) -> None:
    try:
        document = parse_report(text, "fuzz.txt")
    except InvalidImport as refused:
        assert refused.problems
        assert all(problem.file == "fuzz.txt" for problem in refused.problems)
    else:
        assert document.role.title and document.published_on
        document.checksum()


@FUZZ
@given(st.text())
def test_arbitrary_text_never_crashes(text: str) -> None:
    _parse_or_refuse(text)


@FUZZ
@given(st.lists(st.sampled_from(APRIL_LINES), max_size=30), st.text(max_size=40))
def test_shuffled_report_lines_never_crash(lines: list[str], extra: str) -> None:
    _parse_or_refuse("\n".join([*lines, extra]))


_FRAGMENTS = st.sampled_from(
    ["—", "–", "-", "%", "£", "(", ")", "→", ",", ".", " ", "0", "9", "100", "-5", "k",
     "\u00a0", "\u2028", "\r", "\x00", "Updated", "Market", "•", "point gap", "per day"]
)  # fmt: skip


@st.composite
def mutated_reports(draw: st.DrawFn) -> str:
    lines = list(APRIL_LINES)
    for _ in range(draw(st.integers(1, 6))):
        index = draw(st.integers(0, len(lines) - 1))
        line = lines[index]
        start = draw(st.integers(0, len(line)))
        end = draw(st.integers(start, min(len(line), start + 12)))
        insert = draw(st.one_of(_FRAGMENTS, st.text(max_size=8)))
        action = draw(st.sampled_from(["replace", "delete", "duplicate", "drop"]))
        if action == "replace":
            lines[index] = line[:start] + insert + line[end:]
        elif action == "delete":
            lines[index] = line[:start] + line[end:]
        elif action == "duplicate":
            lines.insert(index, line)
        else:
            del lines[index]
            if not lines:
                lines = [insert]
    return "\n".join(lines)


@FUZZ
@given(mutated_reports())
def test_mutated_reports_never_crash(text: str) -> None:
    _parse_or_refuse(text)


def test_huge_hostile_line_is_only_a_warning() -> None:
    text = APRIL_TEXT + "\n" + "in the UK is £" * 2000 + "\n"
    report = parse_report(text, "r.txt")
    assert report.warnings and "too long" in report.warnings[-1].message


def test_a_flood_of_problems_is_summed_up() -> None:
    refused = _refusal(APRIL_TEXT * 80)
    assert len(refused.problems) == 51
    assert refused.problems[-1].message.endswith("more problems")
