"""One ad's identity: the key that makes a reposted ad count once must never change."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from db.ingest.postings import content_key, single_spaced

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
