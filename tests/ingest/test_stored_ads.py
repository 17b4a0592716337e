"""Ads read back from the store count like fresh ones: merged, unknown and repeated slugs."""

from __future__ import annotations

from datetime import date

from db.ingest.aggregate import Aggregator, SnapshotRules
from db.models import PayKind

RULES = SnapshotRules(min_ads=1, min_skill_ads=1, emerging_min_ads=99)
NAMES = {"python": "Python", "rag": "RAG", "kubernetes": "Kubernetes", "py3": "Python 3"}
# py3 was merged into python; kubernetes into a skill this ingest does not count.
MERGED = {"py3": "python", "kubernetes": "k8s-gone"}


def test_stored_ads_count_each_skill_once_per_ad_under_its_merged_slug() -> None:
    aggregator = Aggregator(RULES, list(NAMES))
    aggregator.add_stored_ads(
        [
            (date(2026, 4, 1), "ai-engineer", True, "annual", 70_000.0, "python|rag|python"),
            (date(2026, 4, 2), "ai-engineer", False, "daily", None, "py3|rag"),
            (date(2026, 4, 3), "ai-engineer", False, "monthly", 500.0, "unknown|kubernetes||py3"),
            (date(2026, 4, 5), "ai-engineer", False, None, None, ""),
            (date(2026, 4, 6), "ai-engineer", False, "hourly", 40.0, "rag"),  # the next week
        ],
        MERGED,
    )
    snapshots = aggregator.snapshots(
        team_id="T1", role_titles={"ai-engineer": "AI Engineer"}, skill_names=NAMES
    )
    by_key = {(s.document.region, s.document.period_label): s for s in snapshots}
    uk = by_key["UK", "2026-W14"]
    assert uk.document.sample_size == 4
    assert [(s.name, s.note) for s in uk.document.skills] == [
        ("Python", "in 3 of 4 ads"),
        ("RAG", "in 2 of 4 ads"),
    ]
    assert [(p.kind, p.sample_size) for p in uk.document.pay] == [(PayKind.ANNUAL, 1)]
    pairs = uk.cooccurrences
    assert list(zip(pairs.skills, pairs.others, pairs.ads, strict=True)) == [
        ("Python", "RAG", 2),
        ("RAG", "Python", 2),
    ]
    london = by_key["London", "2026-W14"]
    assert london.document.sample_size == 1
    assert [s.name for s in london.document.skills] == ["Python", "RAG"]
    next_week = by_key["UK", "2026-W15"]
    assert [(s.name, s.note) for s in next_week.document.skills] == [("RAG", "in 1 of 1 ads")]
    assert [(p.kind, p.sample_size) for p in next_week.document.pay] == [(PayKind.HOURLY, 1)]
