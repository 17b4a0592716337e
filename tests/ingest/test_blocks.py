"""Reading exports in blocks gives exactly what reading them row by row gives, however cut."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from db.importers.document import InvalidImport, Problem
from db.ingest.batches import BatchParser
from db.ingest.parsing import ParsingPool, parsed_batches
from db.ingest.postings import BadRow
from db.ingest.readers import FileRefused, ReadStats, read_rows
from db.ingest.summary import IngestSummary
from tests.ingest.helpers import ad_parser

PARSER = ad_parser()
SKILLS = [skill.slug for skill in PARSER.taxonomy.skills]

# Pieces of CSV fields, good and bad: quoted line breaks, doubled quotes, stray quotes that
# fool a quote count, carriage returns, bytes that are not UTF-8.
FIELD_PIECES = [
    b"AI Engineer",
    b"Python and RAG",
    b'"Go, Rust\nand Kubernetes"',
    b'"say ""hi"""',
    b'5" screen',
    b'"',
    b'"open\n\nquote',
    b"caf\xe9",
    b"\r",
    b"",
    b"2026-04-01",
    b"not a date",
]
LINE_ENDS = [b"\n", b"\r\n", b"\n\n"]


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    lines = [b"id,title,description,created\n"]
    for number in range(draw(st.integers(0, 12))):
        fields = [str(number).encode()]
        for _ in range(draw(st.integers(1, 4))):
            fields.append(b"".join(draw(st.lists(st.sampled_from(FIELD_PIECES), max_size=3))))
        lines.append(b",".join(fields) + draw(st.sampled_from(LINE_ENDS)))
    return b"".join(lines)


@st.composite
def jsonl_files(draw: st.DrawFn) -> bytes:
    pieces = [
        b'{"id": "a", "title": "AI Engineer", "description": "Go", "created": "2026-04-01"}',
        b'{"id": "b", "title": "Data Engineer", "description": "SQL\\nand dbt", '
        b'"created": "2026-04-02", "location": {"area": ["UK", "London"]}}',
        b'{"title": "", "created": "2026-04-01"}',
        b"{not json",
        b"[1, 2]",
        b"",
        b'{"title": "caf\xe9", "created": "2026-04-01"}',
    ]
    lines = draw(st.lists(st.sampled_from(pieces), min_size=1, max_size=12))
    return b'{"id": "first", "title": "AI Engineer", "created": "2026-04-01"}\n' + b"".join(
        line + draw(st.sampled_from(LINE_ENDS)) for line in lines
    )


Outcome = tuple[int, int, list[tuple[int | None, str]], list[str]] | str


def row_by_row(path: Path) -> Outcome:
    """What the row reader and the ad parser give: the reference."""
    try:
        return _row_by_row(path)
    except FileRefused as refused:
        return str(refused.problem)


def _row_by_row(path: Path) -> Outcome:
    problems: list[tuple[int | None, str]] = []
    stats = ReadStats()
    keys = []
    rows = read_rows(
        path,
        required=("title",),
        on_problem=lambda p: problems.append((p.line, p.message)),
        stats=stats,
    )
    for row in rows:
        try:
            ad = PARSER.parse_ad(row.fields)
        except BadRow as problem:
            stats.bad_rows += 1
            problems.append((row.line, f"{problem}; skipped"))
            continue
        keys.append(ad.ad_key)
    return stats.rows, stats.bad_rows, sorted(problems, key=lambda p: p[0] or 0), keys


def in_blocks(path: Path, block_bytes: int) -> Outcome:
    try:
        return _in_blocks(path, block_bytes)
    except InvalidImport as refused:
        return str(refused.problems[0])


def _in_blocks(path: Path, block_bytes: int) -> Outcome:
    summary = IngestSummary("postings", [str(path)])
    pool = ParsingPool(BatchParser(PARSER, "T", SKILLS, {}), (), workers=0)
    keys: list[str] = []

    async def read() -> None:
        async for batch, line_base in parsed_batches(path, pool, summary, block_bytes=block_bytes):
            summary.rows += batch.rows
            summary.bad_rows += batch.bad_rows
            summary.problems.extend(
                Problem(str(path), line_base + line, message) for line, message in batch.problems
            )
            keys.extend(ad[1] for ad in batch.ads)

    asyncio.run(read())
    problems = sorted(((p.line, p.message) for p in summary.problems), key=lambda p: p[0] or 0)
    return summary.rows, summary.bad_rows, problems, keys


@settings(max_examples=150, deadline=None)
@given(content=csv_files(), block_bytes=st.integers(1, 200))
def test_csv_in_blocks_reads_as_row_by_row(content: bytes, block_bytes: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ads.csv"
        path.write_bytes(content)
        assert in_blocks(path, block_bytes) == row_by_row(path)


@settings(max_examples=80, deadline=None)
@given(content=jsonl_files(), block_bytes=st.integers(1, 200))
def test_json_lines_in_blocks_read_as_row_by_row(content: bytes, block_bytes: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ads.jsonl"
        path.write_bytes(content)
        assert in_blocks(path, block_bytes) == row_by_row(path)


def test_a_stray_quote_falls_back_to_rows_with_the_right_line_numbers(tmp_path: Path) -> None:
    # The quote count says the block ends after line 3; the CSV reader says the record
    # that opens on line 2 runs on: blocks must not be trusted here.
    path = tmp_path / "ads.csv"
    path.write_bytes(
        b"id,title,description,created\n"
        b'1,AI Engineer,5" screen and "Python\n'
        b'2,LLM Engineer,RAG,2026-04-01"\n'
        b"3,ML Engineer,PyTorch,2026-04-02\n"
        b"4,AI Engineer,Go,yesterday\n"
    )
    expected = row_by_row(path)
    assert not isinstance(expected, str)
    assert expected[2] == [(2, "has 3 fields, the header has 4; skipped"), (5, expected[2][1][1])]
    assert "'yesterday' is not a date" in expected[2][1][1]
    for block_bytes in (1, 16, 40, 1 << 20):
        assert in_blocks(path, block_bytes) == expected


def test_parsing_workers_start_without_the_database_libraries() -> None:
    # Each worker of a big ingest starts a fresh interpreter: SQLAlchemy and SQLModel would
    # add about half a second to every start, and parsing needs neither.
    imports = (
        "import sys, db.ingest.parse_worker, db.ingest.batches, db.ingest.postings, "
        "db.ingest.roles; print(sorted({m.split('.')[0] for m in sys.modules}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", imports], capture_output=True, text=True, check=True
    ).stdout
    for heavy in ("sqlalchemy", "sqlmodel", "numpy", "alembic"):
        assert f"'{heavy}'" not in loaded
    assert "'db'" in loaded
