"""The curated YAML snapshot format: valid files load, bad ones are refused with their line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db.importers.document import InvalidImport, Problem
from db.importers.structured import parse_structured
from db.models import PayKind, SourceKind
from tests.db.import_helpers import BUNDLED_APRIL

VALID = textwrap.dedent(
    """\
    format: skillgap-snapshot
    version: 1
    role:
      title: Test Engineer
      aliases: [QA Engineer]
      typical_tenure_months: 18
      progression: [Junior Test Engineer, Test Engineer]
    snapshot:
      published_on: 2026-04-01
      period: {label: April 2026, start: 2026-04-01, end: 2026-04-30}
      source: UK market report
    pay:
      - {kind: annual, region: UK, median: 50000, low: 40000, high: 70000, sample_size: 120}
    skills:
      - name: Test Automation
        demand_pct: 60
        supply_pct: 30
        gap: 30
        flags: [gap]
        rank: 1
      - name: Python
        flags: [essential]
    """
)


def _refused(text: str) -> list[Problem]:
    with pytest.raises(InvalidImport) as refused:
        parse_structured(text, "curated.yaml")
    assert all(problem.file == "curated.yaml" for problem in refused.value.problems)
    return refused.value.problems


def _line(fragment: str, text: str = VALID) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_valid_file_loads() -> None:
    document = parse_structured(VALID, "curated.yaml")
    assert document.role.title == "Test Engineer"
    assert document.role.aliases == ("QA Engineer",)
    assert document.region == "UK" and document.source_kind is SourceKind.CURATED
    assert document.pay[0].kind is PayKind.ANNUAL and document.pay[0].sample_size == 120
    automation, python = document.skills
    assert automation.is_gap and automation.demand_pct == 60.0
    assert python.is_essential and python.demand_pct is None


def test_bundled_file_loads() -> None:
    text = BUNDLED_APRIL.read_text(encoding="utf-8")
    document = parse_structured(text, BUNDLED_APRIL.name)
    assert len(document.skills) == 14 and len(document.pay) == 4
    members = {skill.name: skill.members for skill in document.skills if skill.members}
    assert members["Cloud Platforms"] == ("AWS", "GCP", "Azure")
    assert members["Fine-Tuning"] == ("LoRA", "QLoRA")


def test_unknown_version_is_refused() -> None:
    [problem] = _refused(VALID.replace("version: 1", "version: 7"))
    assert problem.line == 2 and "unknown format version 7" in problem.message


def test_wrong_format_is_refused() -> None:
    [problem] = _refused(VALID.replace("skillgap-snapshot", "something-else"))
    assert problem.line == 1 and "format: skillgap-snapshot" in problem.message


def test_malformed_yaml_names_the_line() -> None:
    text = VALID.replace("  title: Test Engineer", "  title: [Test Engineer")
    [problem] = _refused(text)
    assert problem.line is not None and problem.line >= _line("title:")
    assert problem.message.startswith("malformed YAML")


def test_gap_arithmetic_is_checked() -> None:
    [problem] = _refused(VALID.replace("gap: 30", "gap: 25"))
    assert problem.line == _line("- name: Test Automation")
    assert "60 − 30 = 30" in problem.message and problem.message.startswith("skills[0]")


def test_percent_over_100_is_refused() -> None:
    [problem] = _refused(VALID.replace("demand_pct: 60", "demand_pct: 160"))
    assert problem.line == _line("demand_pct")
    assert "skills[0].demand_pct" in problem.message and "100" in problem.message


def test_duplicated_skill_is_refused() -> None:
    text = VALID + "  - name: python\n    flags: [emerging]\n"
    [problem] = _refused(text)
    assert problem.line == _line("- name: python", text)
    assert f"first on line {_line('- name: Python')}" in problem.message


def test_alias_spellings_count_as_the_same_skill() -> None:
    text = VALID + "  - {name: Model Fine-Tuning}\n  - {name: Fine-Tuning}\n"
    [problem] = _refused(text)
    assert "listed twice" in problem.message


def test_duplicated_key_is_refused() -> None:
    text = VALID.replace("  typical_tenure_months: 18", "  typical_tenure_months: 18\n  title: X")
    [problem] = _refused(text)
    assert "'title' is given twice" in problem.message and problem.line == _line("title: X", text)


def test_duplicated_pay_is_refused() -> None:
    text = VALID.replace("skills:", "  - {kind: annual, region: uk, median: 51000}\nskills:")
    [problem] = _refused(text)
    assert "annual pay for uk is given twice" in problem.message


def test_unknown_field_is_refused() -> None:
    [problem] = _refused(VALID.replace("rank: 1", "rank: 1\n    demand: 3"))
    assert "skills[0].demand" in problem.message and "Extra inputs" in problem.message


def test_pay_out_of_order_is_refused() -> None:
    [problem] = _refused(VALID.replace("median: 50000", "median: 90000"))
    assert "median (90000) is above high (70000)" in problem.message
    assert problem.line == _line("- {kind: annual")


def test_period_backwards_is_refused() -> None:
    [problem] = _refused(VALID.replace("end: 2026-04-30", "end: 2026-03-30"))
    assert "after it ends" in problem.message


def test_anchors_are_refused() -> None:
    text = VALID.replace("aliases: [QA Engineer]", "aliases: &a [QA Engineer]\n  lateral_moves: *a")
    [problem] = _refused(text)
    assert "anchors and aliases" in problem.message and problem.line == _line("*a", text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "just a string",
        "- a list",
        "format: skillgap-snapshot\nversion: true\n",
        "{{{",
        "a: !!python/object:os.system {}",
        "\x1fformat: skillgap-snapshot",
    ],
)
def test_odd_documents_are_refused(text: str) -> None:
    assert _refused(text)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_arbitrary_text_never_crashes(text: str) -> None:
    try:
        parse_structured(text, "f.yaml")
    except InvalidImport as refused:
        assert refused.problems


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(VALID) - 1), st.integers(0, 6), st.text(max_size=6))
def test_edited_files_never_crash(position: int, length: int, insert: str) -> None:
    text = VALID[:position] + insert + VALID[position + length :]
    try:
        parse_structured(text, "f.yaml")
    except InvalidImport as refused:
        assert refused.problems


def test_documented_example_is_valid() -> None:
    docs = Path(__file__).parent.parent.parent / "docs" / "data-format.md"
    example = docs.read_text(encoding="utf-8").split("```yaml\n", 1)[1].split("```", 1)[0]
    document = parse_structured(example, "data-format.md")
    assert document.skills[0].aliases == ("Fine-Tuning at Scale",)
    assert document.skills[0].members == ("Distributed Fine-Tuning",)
    assert document.pay[0].p10 == 52000


def test_a_flood_of_problems_is_summed_up() -> None:
    text = VALID + "".join(f"  - {{name: S{n}, demand_pct: 200}}\n" for n in range(80))
    problems = _refused(text)
    assert len(problems) == 51 and problems[-1].message == "30 more problems"
