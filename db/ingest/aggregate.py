"""Weekly buckets of ads and candidates -> snapshot documents per role, region and window."""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import combinations

import numpy as np

from db.importers.document import PayDocument, RoleDocument, SkillDocument, SnapshotDocument
from db.ingest.stats import summarise_pay, wilson_interval
from db.models import PayKind, SourceKind

UK = "UK"
LONDON = "London"
WEEKLY_SOURCE = "job ads, week"
ROLLING_SOURCE_TEMPLATE = "job ads, {weeks} weeks"


@dataclass(frozen=True)
class SnapshotRules:
    """Thresholds of computed snapshots; every one is a setting with a sensible default."""

    rolling_weeks: int = 4
    min_ads: int = 10  # fewer ads in a window: no snapshot for it
    min_skill_ads: int = 3  # a skill needs this many ads to get a figure
    max_skills: int = 60  # skills kept per snapshot, by demand
    min_candidates: int = 10  # fewer candidates: no supply percentage
    # Emerging skills: "new" has no mention in the look-back weeks before the window (which
    # must hold at least min_base_ads ads); "rising" gained rising_points of share on a
    # previous window of min_base_ads ads or more, with non-overlapping Wilson intervals.
    emerging_min_ads: int = 5
    new_lookback_weeks: int = 8
    min_base_ads: int = 30
    rising_points: float = 5.0
    gap_points: float = 10.0  # demand minus supply that counts as a gap
    max_gaps: int = 5
    cooccurring_per_skill: int = 5


# Pair codes wait in a compact array until this many, then go into the bucket's matrix at
# once: small enough that hundreds of buckets waiting stay within a few dozen MB.
_PAIR_FLUSH = 32_768


@dataclass
class Bucket:
    """Everything counted for one role, region and week (or window, once merged)."""

    ads: int = 0
    skills: Counter[str] = field(default_factory=Counter)
    pay: dict[PayKind, list[float]] = field(default_factory=dict)
    # Ads mentioning both skills i < j (indices of the aggregator's skill list), kept sparse
    # as sorted codes i * size + j with their counts: most pairs never occur together.
    pair_codes: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    pair_counts: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    pending_pairs: array[int] = field(default_factory=lambda: array("q"))

    def flush_pairs(self) -> None:
        if not self.pending_pairs:
            return
        codes = np.frombuffer(self.pending_pairs, dtype=np.int64)
        self._add_pairs(codes, np.ones(len(codes), dtype=np.int64))
        self.pending_pairs = array("q")

    def _add_pairs(self, codes: np.ndarray, counts: np.ndarray) -> None:
        all_codes = np.concatenate([self.pair_codes, codes])
        all_counts = np.concatenate([self.pair_counts, counts])
        unique, positions = np.unique(all_codes, return_inverse=True)
        self.pair_codes = unique
        self.pair_counts = np.bincount(positions, weights=all_counts).astype(np.int64)

    def merge(self, other: Bucket) -> None:
        self.ads += other.ads
        self.skills.update(other.skills)
        if len(other.pair_codes):
            self._add_pairs(other.pair_codes, other.pair_counts)
        for kind, figures in other.pay.items():
            self.pay.setdefault(kind, []).extend(figures)


@dataclass
class SupplyBucket:
    candidates: int = 0
    skills: Counter[str] = field(default_factory=Counter)

    def merge(self, other: SupplyBucket) -> None:
        self.candidates += other.candidates
        self.skills.update(other.skills)


@dataclass(frozen=True)
class Cooccurrence:
    skill: str  # skill name
    other: str
    ads: int
    share_pct: float


@dataclass(frozen=True)
class ComputedSnapshot:
    document: SnapshotDocument
    cooccurrences: tuple[Cooccurrence, ...]


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


class Aggregator:
    """Counts ads and candidates into weekly buckets, then builds every window's snapshot."""

    def __init__(self, rules: SnapshotRules | None = None, skill_slugs: Sequence[str] = ()) -> None:
        self.rules = rules or SnapshotRules()
        # Skills whose co-occurrence is counted (the taxonomy's), by matrix index.
        self.skill_slugs = list(dict.fromkeys(skill_slugs))
        self._index = {slug: i for i, slug in enumerate(self.skill_slugs)}
        self.demand: dict[tuple[str, str, date], Bucket] = {}
        self.supply: dict[tuple[str | None, str, date], SupplyBucket] = {}
        self._weeks: dict[date, date] = {}

    def _week(self, day: date) -> date:
        monday = self._weeks.get(day)
        if monday is None:
            monday = self._weeks[day] = week_start(day)
        return monday

    def add_ad(
        self,
        posted_on: date,
        role: str,
        is_london: bool,
        pay_kind: PayKind | None,
        pay_value: float | None,
        skills: tuple[str, ...],
    ) -> None:
        monday = self._week(posted_on)
        pairs: list[int] = []
        if len(skills) > 1:
            index, size = self._index, len(self.skill_slugs)
            known = sorted(index[s] for s in skills if s in index)
            pairs = [a * size + b for a, b in combinations(known, 2)]
        for region in (UK, LONDON) if is_london else (UK,):
            key = (role, region, monday)
            bucket = self.demand.get(key)
            if bucket is None:
                bucket = self.demand[key] = Bucket()
            bucket.ads += 1
            bucket.skills.update(skills)
            if pairs:
                bucket.pending_pairs.extend(pairs)
                if len(bucket.pending_pairs) >= _PAIR_FLUSH:
                    bucket.flush_pairs()
            if pay_kind is not None and pay_value is not None:
                bucket.pay.setdefault(pay_kind, []).append(pay_value)

    def add_candidate(
        self, seen_on: date, role: str | None, is_london: bool, skills: tuple[str, ...]
    ) -> None:
        monday = self._week(seen_on)
        for region in (UK, LONDON) if is_london else (UK,):
            key = (role, region, monday)
            bucket = self.supply.get(key)
            if bucket is None:
                bucket = self.supply[key] = SupplyBucket()
            bucket.candidates += 1
            bucket.skills.update(skills)

    # Windows ---------------------------------------------------------------------------

    def _demand_in(
        self, role: str, region: str, weeks: Iterable[date], *, counts_only: bool = False
    ) -> Bucket:
        """The weeks' buckets merged; `counts_only` skips pairs and pay (earlier windows)."""
        total = Bucket()
        for monday in weeks:
            bucket = self.demand.get((role, region, monday))
            if bucket is None:
                continue
            if counts_only:
                total.ads += bucket.ads
                total.skills.update(bucket.skills)
            else:
                total.merge(bucket)
        return total

    def _supply_in(self, role: str, region: str, weeks: Iterable[date]) -> SupplyBucket:
        total = SupplyBucket()
        for monday in weeks:
            for owner in (role, None):
                bucket = self.supply.get((owner, region, monday))
                if bucket is not None:
                    total.merge(bucket)
        return total

    def snapshots(
        self,
        *,
        team_id: str,
        role_titles: dict[str, str],
        skill_names: dict[str, str],
        since: date | None = None,
        first_day: date | None = None,
    ) -> list[ComputedSnapshot]:
        """Every weekly and rolling window (ending on or after `since`) with enough ads.

        `first_day` is the team's first ad ever, when the buckets hold only recent weeks.
        """
        if not self.demand:
            return []
        for bucket in self.demand.values():
            bucket.flush_pairs()
        first_week = min(monday for _, _, monday in self.demand)
        if first_day is not None:
            first_week = min(first_week, week_start(first_day))
        last_week = max(monday for _, _, monday in self.demand)
        start = max(first_week, week_start(since)) if since is not None else first_week
        results: list[ComputedSnapshot] = []
        series = sorted({(role, region) for role, region, _ in self.demand})
        rolling = self.rules.rolling_weeks
        for role, region in series:
            monday = start
            while monday <= last_week:
                windows = [(1, WEEKLY_SOURCE)]
                # A rolling window is only shown once the data covers all of it.
                if rolling > 1 and monday - timedelta(weeks=rolling - 1) >= first_week:
                    windows.append((rolling, ROLLING_SOURCE_TEMPLATE.format(weeks=rolling)))
                for length, source in windows:
                    computed = self._window(
                        team_id, role, region, monday, length, source, role_titles, skill_names
                    )
                    if computed is not None:
                        results.append(computed)
                monday += timedelta(weeks=1)
        return results

    def _window(
        self,
        team_id: str,
        role: str,
        region: str,
        last_monday: date,
        length: int,
        source: str,
        role_titles: dict[str, str],
        skill_names: dict[str, str],
    ) -> ComputedSnapshot | None:
        rules = self.rules
        weeks = [last_monday - timedelta(weeks=i) for i in range(length)]
        demand = self._demand_in(role, region, weeks)
        if demand.ads < rules.min_ads:
            return None
        previous_weeks = [w - timedelta(weeks=length) for w in weeks]
        previous = self._demand_in(role, region, previous_weeks, counts_only=True)
        lookback_weeks = [
            weeks[-1] - timedelta(weeks=i + 1) for i in range(rules.new_lookback_weeks)
        ]
        lookback = self._demand_in(role, region, lookback_weeks, counts_only=True)
        supply = self._supply_in(role, region, weeks)
        period_start = weeks[-1]
        period_end = last_monday + timedelta(days=6)
        label = (
            week_label(last_monday)
            if length == 1
            else f"{length} weeks to {period_end.isoformat()}"
        )
        skills = self._skills(demand, previous, lookback, supply, skill_names)
        ranked = {doc.name: doc for doc in skills}
        cooccurrences = self._cooccurrences(demand, skill_names, set(ranked))
        document = SnapshotDocument(
            role=RoleDocument(title=role_titles.get(role, role)),
            published_on=period_end,
            period_label=label,
            period_start=period_start,
            period_end=period_end,
            source=source,
            source_kind=SourceKind.JOB_ADS,
            region=region,
            team_id=team_id,
            sample_size=demand.ads,
            supply_sample_size=supply.candidates or None,
            pay=self._pay(demand, region),
            skills=tuple(skills),
        )
        return ComputedSnapshot(document, cooccurrences)

    def _pay(self, demand: Bucket, region: str) -> tuple[PayDocument, ...]:
        documents = []
        for kind in (PayKind.ANNUAL, PayKind.DAILY, PayKind.HOURLY):
            figures = demand.pay.get(kind)
            if not figures:
                continue
            summary = summarise_pay(figures)
            documents.append(
                PayDocument(
                    kind=kind,
                    region=region,
                    median=summary.median,
                    p10=summary.p10,
                    p25=summary.p25,
                    p75=summary.p75,
                    p90=summary.p90,
                    sample_size=summary.sample_size,
                )
            )
        return tuple(documents)

    def _skills(
        self,
        demand: Bucket,
        previous: Bucket,
        lookback: Bucket,
        supply: SupplyBucket,
        skill_names: dict[str, str],
    ) -> list[SkillDocument]:
        rules = self.rules
        n = demand.ads
        has_supply = supply.candidates >= rules.min_candidates
        counted = [
            (slug, count)
            for slug, count in demand.skills.items()
            if count >= rules.min_skill_ads and slug in skill_names
        ]
        counted.sort(key=lambda item: (-item[1], skill_names[item[0]]))
        counted = counted[: rules.max_skills]
        gaps: dict[str, float] = {}
        if has_supply:
            for slug, count in counted:
                gap = 100 * count / n - 100 * supply.skills.get(slug, 0) / supply.candidates
                if gap >= rules.gap_points:
                    gaps[slug] = gap
        top_gaps = set(sorted(gaps, key=lambda s: -gaps[s])[: rules.max_gaps])
        documents = []
        for rank, (slug, count) in enumerate(counted, start=1):
            low, high = wilson_interval(count, n)
            demand_pct = round(100 * count / n, 1)
            supply_pct = (
                round(100 * supply.skills.get(slug, 0) / supply.candidates, 1)
                if has_supply
                else None
            )
            documents.append(
                SkillDocument(
                    name=skill_names[slug],
                    demand_pct=demand_pct,
                    supply_pct=supply_pct,
                    demand_low_pct=round(low, 1),
                    demand_high_pct=round(high, 1),
                    is_essential=demand_pct >= 50,
                    is_emerging=self._is_emerging(slug, count, n, previous, lookback),
                    is_gap=slug in top_gaps,
                    rank=rank,
                    sample_size=n,
                    note=f"in {count} of {n} ads",
                )
            )
        return documents

    def _is_emerging(
        self, slug: str, count: int, n: int, previous: Bucket, lookback: Bucket
    ) -> bool:
        rules = self.rules
        if count < rules.emerging_min_ads:
            return False
        if lookback.ads >= rules.min_base_ads and lookback.skills.get(slug, 0) == 0:
            return True  # new: never mentioned before, now in several ads
        if previous.ads < rules.min_base_ads:
            return False
        before = previous.skills.get(slug, 0)
        share_now = 100 * count / n
        share_before = 100 * before / previous.ads
        if share_now - share_before < rules.rising_points:
            return False
        low_now, _ = wilson_interval(count, n)
        _, high_before = wilson_interval(before, previous.ads)
        return low_now > high_before

    def _cooccurrences(
        self, demand: Bucket, skill_names: dict[str, str], kept: set[str]
    ) -> tuple[Cooccurrence, ...]:
        if not len(demand.pair_codes):
            return ()
        size = len(self.skill_slugs)
        matrix = np.zeros(size * size, dtype=np.int64)
        matrix[demand.pair_codes] = demand.pair_counts
        square = matrix.reshape(size, size)
        together = square + square.T  # both orders of each pair
        minimum = self.rules.min_skill_ads
        results = []
        for index, slug in enumerate(self.skill_slugs):
            name = skill_names.get(slug)
            if name is None or name not in kept:
                continue
            row = together[index]
            partners = [
                (int(row[other]), self.skill_slugs[other])
                for other in np.flatnonzero(row >= minimum)
                if self.skill_slugs[other] in skill_names
            ]
            partners.sort(key=lambda item: (-item[0], skill_names[item[1]]))
            mentions = demand.skills[slug]
            for count, other_slug in partners[: self.rules.cooccurring_per_skill]:
                share = round(100 * count / mentions, 1)
                results.append(Cooccurrence(name, skill_names[other_slug], count, share))
        return tuple(results)
