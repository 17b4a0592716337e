"""Stored ad texts: packed small, read back exactly, damage detected, older texts still read."""

from __future__ import annotations

import zlib

import pytest

from db.ingest.ad_text import UnreadableText, pack_text, unpack_text

AD = "Senior AI Engineer\nPython, PyTorch and RAG on AWS. Salary £95k–£110k. Zürich or London."


def test_a_text_reads_back_exactly_and_smaller() -> None:
    long_ad = AD + "\n" + " ".join(["We build retrieval-augmented generation services."] * 30)
    assert unpack_text(pack_text(long_ad)) == long_ad
    assert len(pack_text(long_ad)) < len(long_ad.encode("utf-8")) / 4


def test_a_text_stored_with_zlib_before_still_reads() -> None:
    assert unpack_text(zlib.compress(AD.encode("utf-8"), 1)) == AD


@pytest.mark.parametrize(
    "damage",
    [
        lambda packed: packed[:-1] + bytes([packed[-1] ^ 0x01]),  # the checksum
        lambda packed: packed[:10] + bytes([packed[10] ^ 0x40]) + packed[11:],  # the text
        lambda packed: packed[: len(packed) // 2],  # cut short
        lambda packed: b"",
        lambda packed: b"not a packed text at all",
    ],
)
def test_a_damaged_text_is_unreadable_not_wrong(damage: object) -> None:
    with pytest.raises(UnreadableText):
        unpack_text(damage(pack_text(AD)))  # type: ignore[operator]
