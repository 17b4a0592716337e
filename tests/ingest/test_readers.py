"""Streaming readers: line numbers across quoted line breaks, bad rows skipped, nested fields."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from db.importers.document import Problem
from db.ingest.extract import SkillExtractor
from db.ingest.readers import FileRefused, ReadStats, detect_format, read_rows
from db.taxonomy import load_taxonomy


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


def test_rows_with_a_nul_byte_are_bad_rows_in_csv_and_json_lines(tmp_path: Path) -> None:
    # Past the first 64 KB, which the binary check looks at.
    padding = [f"{n},AI Engineer,{'x' * 100}" for n in range(700)]
    csv_path = tmp_path / "ads.csv"
    csv_path.write_text(
        "id,title,description\n" + "\n".join([*padding, "nul,AI \x00Engineer,text", "z,ok,ok"]),
        encoding="utf-8",
    )
    rows, problems = read(csv_path)
    assert len(rows) == 701
    assert [(p.line, p.message) for p in problems] == [
        (702, "contains a NUL byte (binary data, which no text column may hold); row skipped")
    ]
    lines = [json.dumps({"id": n, "title": "AI Engineer", "text": "x" * 100}) for n in range(700)]
    lines.append('{"id": "raw", "title": "AI \x00Engineer"}')
    lines.append('{"id": "escaped", "title": "AI Engineer", "area": ["UK", "Lon\\u0000don"]}')
    lines.append('{"id": "fine", "title": "AI Engineer", "text": "a \\\\u0000 is no NUL"}')
    jsonl_path = tmp_path / "ads.jsonl"
    jsonl_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows, problems = read(jsonl_path)
    assert [row.fields["id"] for row in rows[-1:]] == ["fine"] and len(rows) == 701
    assert [(p.line, "NUL byte" in p.message) for p in problems] == [(701, True), (702, True)]


def test_a_giant_first_line_is_refused_briefly_without_being_read(tmp_path: Path) -> None:
    path = tmp_path / "ads.csv"
    path.write_bytes(b"title" + b"a" * 8_000_000)
    tracemalloc.start()
    try:
        with pytest.raises(FileRefused) as refused:
            detect_format(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "no line break in its first 64 KB" in str(refused.value)
    assert len(str(refused.value)) < 300
    assert peak < 1_000_000  # the 64 KB it looked at, not the 8 MB line


def test_a_missing_column_message_clips_the_names_it_echoes(tmp_path: Path) -> None:
    path = tmp_path / "ads.csv"
    path.write_text("name" + "x" * 50_000 + ",colour\nx,y\n", encoding="utf-8")
    with pytest.raises(FileRefused) as refused:
        read(path)
    message = str(refused.value)
    assert "has no title column (columns found: namexxx" in message
    assert "…, colour)" in message and len(message) < 300


EXTRACTOR = SkillExtractor(load_taxonomy())


@given(st.text(max_size=300))
def test_extraction_never_fails_and_names_each_skill_once(text: str) -> None:
    found = EXTRACTOR.skills(text)
    assert len({skill.slug for skill in found}) == len(found)
    for match in EXTRACTOR.matches(text):
        assert 0 <= match.start < match.end <= len(text)
