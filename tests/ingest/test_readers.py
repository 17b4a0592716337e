"""Streaming readers: line numbers across quoted line breaks, bad rows skipped, nested fields."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from db.importers.document import Problem
from db.ingest.extract import SkillExtractor
from db.ingest.readers import FileRefused, ReadStats, detect_format, read_rows
from db.ingest.taxonomy import load_taxonomy


def read(path: Path, required: tuple[str, ...] = ("title",)) -> tuple[list, list[Problem]]:
    problems: list[Problem] = []
    rows = list(read_rows(path, required=required, on_problem=problems.append, stats=ReadStats()))
    return rows, problems


def test_csv_rows_keep_their_line_numbers_and_bad_rows_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "ads.csv"
    path.write_bytes(
        b"id,title,description\n"
        b'1,AI Engineer,"two\nlines"\n'
        b"2,AI Engineer\n"
        b"3,Data Engineer,caf\xe9 latte\n"
        b"4,ML Engineer,fine\n"
    )
    rows, problems = read(path)
    assert [(row.line, row.fields["id"]) for row in rows] == [(2, "1"), (6, "4")]
    assert rows[0].fields["description"] == "two\nlines"
    assert [(p.line, p.message) for p in problems] == [
        (4, "has 2 fields, the header has 3; skipped"),
        (5, "not UTF-8 text; row skipped"),
    ]


def test_adzuna_json_lines_are_flattened(tmp_path: Path) -> None:
    record = {
        "id": "4711",
        "title": "LLM Engineer",
        "company": {"display_name": "Acme AI"},
        "location": {"display_name": "Shoreditch, London", "area": ["UK", "London"]},
        "salary_min": 80000,
        "salary_is_predicted": "0",
    }
    path = tmp_path / "adzuna.jsonl"
    path.write_text(json.dumps(record) + "\n\n", encoding="utf-8")
    rows, problems = read(path)
    assert problems == []
    fields = rows[0].fields
    assert fields["company"] == "Acme AI"
    assert fields["location"] == "Shoreditch, London"
    assert fields["location.area"] == ["UK", "London"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"%PDF-1.7 ...", "PDF document"),
        (b"PK\x03\x04 xlsx", "ZIP archive"),
        (b"\xff\xfe\x00t\x00i\x00t\x00l\x00e", "binary data"),
        (b"[]", "JSON array"),
        (b"   \n\n", "is empty"),
    ],
)
def test_files_that_are_not_exports(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "ads.csv"
    path.write_bytes(content)
    with pytest.raises(FileRefused, match=message):
        detect_format(path)


def test_a_jsonl_name_with_csv_content_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ads.jsonl"
    path.write_text("id,title\n1,AI Engineer\n", encoding="utf-8")
    with pytest.raises(FileRefused, match="does not start with a JSON object"):
        detect_format(path)


EXTRACTOR = SkillExtractor(load_taxonomy())


@given(st.text(max_size=300))
def test_extraction_never_fails_and_names_each_skill_once(text: str) -> None:
    found = EXTRACTOR.skills(text)
    assert len({skill.slug for skill in found}) == len(found)
    for match in EXTRACTOR.matches(text):
        assert 0 <= match.start < match.end <= len(text)
