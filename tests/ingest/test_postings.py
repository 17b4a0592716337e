"""One ad's identity: the key that makes a reposted ad count once must never change."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from db.ingest.postings import BadRow, CsvAdColumns, content_key, single_spaced
from tests.ingest.helpers import ad_parser

# Every character str.split() treats as white space in ASCII, a few beyond it, and text.
SPACING = [" ", "  ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1f", "\u00a0", "\u2003"]
PIECES = [*SPACING, "AI", "engineer", "RAG", "£75k", "İ", "x\x01y", ".", "-"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=12))
def test_single_spaced_is_the_words_lower_cased_and_joined(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert single_spaced(text) == " ".join(text.lower().split())


def test_content_key_is_stable_across_versions() -> None:
    # Keys are stored: a different key for the same words would count a repost twice.
    assert (
        content_key("Senior  AI Engineer", "Acme\tLtd", " Build RAG with LangChain.\nPython. ")
        == content_key("senior ai engineer", "acme ltd", "build rag with langchain. python.")
        == "61d6f7c21c87ab65d746dc425eb5dacd"
    )


COLUMN_NAMES = [
    "id",
    "title",
    "job_title",
    "description",
    "snippet",
    "created",
    "date",
    "location",
    "city",
    "location.area",
    "company",
    "employer",
    "salary",
    "salary_min",
    "salary_max",
    "salary_is_predicted",
    "contract_type",
]
VALUES = [
    "",
    " ",
    "  Senior AI Engineer ",
    "LLM Engineer",
    "Data Scientist",
    "2026-03-02",
    "02/03/2026",
    "not a date",
    "London, UK",
    "Remote",
    "£75k",
    "£650/day",
    "competitive",
    "50000",
    "65000",
    "1",
    "true",
    "contract",
    "Contract ",
    "permanent",
    "Python, PyTorch and RAG; go-to-market",
    "Acme  Ltd",
]
PARSER = ad_parser()


def _outcome(parse: Callable[[], object]) -> object:
    try:
        return parse()
    except BadRow as problem:
        return f"bad row: {problem}"


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(COLUMN_NAMES), min_size=1, max_size=9).flatmap(
        lambda columns: st.tuples(
            st.just(columns),
            st.lists(st.sampled_from(VALUES), min_size=len(columns), max_size=len(columns)),
        )
    )
)
def test_csv_values_parse_as_the_row_dict_does(header_and_row: tuple[list[str], list[str]]) -> None:
    # Big CSV exports are parsed from each row's values; any header (repeated names too)
    # must give what parse_ad gives for the same row as a dict, bad rows included.
    columns, values = header_and_row
    by_values = _outcome(lambda: CsvAdColumns(PARSER, columns).parse(values))
    by_fields = _outcome(lambda: PARSER.parse_ad(dict(zip(columns, values, strict=True))))
    assert by_values == by_fields
