"""Window rules: weekly buckets of ads and candidates -> snapshot documents per role, region
and window (which skills are kept, emerging, gaps, asked for together)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from db.constants import MIN_BASE_ADS, MIN_CANDIDATES
from db.importers.document import PayDocument, RoleDocument, SkillDocument, SnapshotDocument
from db.ingest.counting import Bucket, SupplyBucket, WeeklyCounts, week_start
from db.ingest.stats import round_tenths, summarise_sorted_pay, wilson_interval
from db.models import PayKind, SourceKind
from db.snapshots import NO_COOCCURRENCES, Cooccurrences, SnapshotToStore

WEEKLY_SOURCE = "job ads, week"
ROLLING_SOURCE_TEMPLATE = "job ads, {weeks} weeks"


@dataclass(frozen=True)
class SnapshotRules:
    """Thresholds of computed snapshots; every one is a setting with a sensible default."""

    rolling_weeks: int = 4
    min_ads: int = 10  # fewer ads in a window: no snapshot for it
    min_skill_ads: int = 3  # a skill needs this many ads to get a figure
    max_skills: int = 60  # skills kept per snapshot, by demand
    min_candidates: int = MIN_CANDIDATES  # fewer candidates: no supply percentage
    # Emerging skills: "new" has no mention in the look-back weeks before the window (which
    # must hold at least min_base_ads ads); "rising" gained rising_points of share on a
    # previous window of min_base_ads ads or more, with non-overlapping Wilson intervals.
    emerging_min_ads: int = 5
    new_lookback_weeks: int = 8
    min_base_ads: int = MIN_BASE_ADS
    rising_points: float = 5.0
    gap_points: float = 10.0  # demand minus supply that counts as a gap
    max_gaps: int = 5
    cooccurring_per_skill: int = 5


def _percent(part: np.ndarray, whole: np.ndarray | int) -> np.ndarray:
    """100 * part / whole, as Python computes it on these whole numbers: below 2**53 they
    are exact in float64, and both divide them with one correctly rounded division."""
    result: np.ndarray = 100 * part / whole
    return result


@dataclass(frozen=True)
class _SkillNames:
    """The aggregator's skills (by index) as one `skill_names` mapping names them."""

    names: np.ndarray  # object: each skill's name, None when it has none
    known: np.ndarray  # bool: has a name
    rank: np.ndarray  # int64: position in name order (ties by index)
    name_ids: np.ndarray  # int64: the same number for the same name; one past them for none

    def kept(self, indices: np.ndarray) -> np.ndarray:
        """Which skills (bool, by index) share a name with one of `indices`."""
        names_kept = np.zeros(len(self.names) + 1, dtype=bool)
        names_kept[self.name_ids[indices]] = True
        names_kept[-1] = False  # no name
        mask: np.ndarray = names_kept[self.name_ids]
        return mask


def week_label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


class Aggregator(WeeklyCounts):
    """Counts ads and candidates into weekly buckets, then builds every window's snapshot."""

    def __init__(self, rules: SnapshotRules | None = None, skill_slugs: Sequence[str] = ()) -> None:
        super().__init__(skill_slugs)
        self.rules = rules or SnapshotRules()
        self._named: tuple[dict[str, str], _SkillNames] | None = None

    def snapshots(
        self,
        *,
        team_id: str,
        role_titles: dict[str, str],
        skill_names: dict[str, str],
        since: date | None = None,
        first_day: date | None = None,
    ) -> list[SnapshotToStore]:
        """Every weekly and rolling window (ending on or after `since`) with enough ads."""
        return list(
            self.iter_snapshots(
                team_id=team_id,
                role_titles=role_titles,
                skill_names=skill_names,
                since=since,
                first_day=first_day,
            )
        )

    def iter_snapshots(
        self,
        *,
        team_id: str,
        role_titles: dict[str, str],
        skill_names: dict[str, str],
        since: date | None = None,
        first_day: date | None = None,
    ) -> Iterator[SnapshotToStore]:
        """Every weekly and rolling window (ending on or after `since`) with enough ads.

        `first_day` is the team's first ad ever, when the buckets hold only recent weeks.
        """
        self._prepare_windows()
        found = self._series_weeks()
        if found is None:
            return
        series, first_week, last_week = found
        if first_day is not None:
            first_week = min(first_week, week_start(first_day))
        start = max(first_week, week_start(since)) if since is not None else first_week
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
                        yield computed
                monday += timedelta(weeks=1)

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
    ) -> SnapshotToStore | None:
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
        named = self._names_for(skill_names)
        ranked = self._ranked(demand, named)
        skills = self._skills(ranked, demand, previous, lookback, supply, skill_names)
        cooccurrences = self._cooccurrences(demand, named, ranked)
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
        return SnapshotToStore(document, cooccurrences)

    def _pay(self, demand: Bucket, region: str) -> tuple[PayDocument, ...]:
        documents = []
        for kind in (PayKind.ANNUAL, PayKind.DAILY, PayKind.HOURLY):
            figures = demand.pay.get(kind)
            if not figures:
                continue
            summary = summarise_sorted_pay(figures)
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

    def _ranked(self, demand: Bucket, named: _SkillNames) -> np.ndarray:
        """Indices of the skills a snapshot keeps: named, in enough ads, most ads first (ties
        by name), at most max_skills."""
        rules = self.rules
        counts = demand.skill_counts
        eligible = np.flatnonzero((counts > 0) & (counts >= rules.min_skill_ads) & named.known)
        order = np.lexsort((named.rank[eligible], -counts[eligible]))
        ranked: np.ndarray = eligible[order][: rules.max_skills]
        return ranked

    def _skills(
        self,
        ranked: np.ndarray,
        demand: Bucket,
        previous: Bucket,
        lookback: Bucket,
        supply: SupplyBucket,
        skill_names: dict[str, str],
    ) -> list[SkillDocument]:
        rules = self.rules
        n = demand.ads
        has_supply = supply.candidates >= rules.min_candidates
        slugs = self.skill_slugs
        counts = demand.skill_counts[ranked]
        counted = list(zip([slugs[i] for i in ranked.tolist()], counts.tolist(), strict=True))
        intervals = np.array([wilson_interval(count, n) for _, count in counted]).reshape(-1, 2)
        demand_pcts = round_tenths(_percent(counts, n))
        lows, highs = round_tenths(intervals[:, 0]), round_tenths(intervals[:, 1])
        before = zip(
            previous.skill_counts[ranked].tolist(),
            lookback.skill_counts[ranked].tolist(),
            strict=True,
        )
        gaps: dict[str, float] = {}
        if has_supply:
            for slug, count in counted:
                gap = 100 * count / n - 100 * supply.skills.get(slug, 0) / supply.candidates
                if gap >= rules.gap_points:
                    gaps[slug] = gap
        top_gaps = set(sorted(gaps, key=lambda s: -gaps[s])[: rules.max_gaps])
        documents = []
        for rank, ((slug, count), demand_pct, low, high, (previously, lately)) in enumerate(
            zip(counted, demand_pcts, lows, highs, before, strict=True), start=1
        ):
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
                    demand_low_pct=low,
                    demand_high_pct=high,
                    is_essential=demand_pct >= 50,
                    is_emerging=self._is_emerging(
                        count, n, previously, previous.ads, lately, lookback.ads
                    ),
                    is_gap=slug in top_gaps,
                    rank=rank,
                    sample_size=n,
                    note=f"in {count} of {n} ads",
                )
            )
        return documents

    def _is_emerging(
        self,
        count: int,
        n: int,
        before: int,
        previous_ads: int,
        in_lookback: int,
        lookback_ads: int,
    ) -> bool:
        """A skill in `count` of `n` ads, `before` of the previous window's `previous_ads`
        and `in_lookback` of the look-back weeks' `lookback_ads`: new or rising?"""
        rules = self.rules
        if count < rules.emerging_min_ads:
            return False
        if lookback_ads >= rules.min_base_ads and in_lookback == 0:
            return True  # new: never mentioned before, now in several ads
        if previous_ads < rules.min_base_ads:
            return False
        share_now = 100 * count / n
        share_before = 100 * before / previous_ads
        if share_now - share_before < rules.rising_points:
            return False
        low_now, _ = wilson_interval(count, n)
        _, high_before = wilson_interval(before, previous_ads)
        return low_now > high_before

    def _cooccurrences(
        self, demand: Bucket, named: _SkillNames, ranked: np.ndarray
    ) -> Cooccurrences:
        size = len(self.skill_slugs)
        if not len(demand.pair_codes) or not size:
            return NO_COOCCURRENCES
        # Each pair i < j counts for both skills; keep partners seen often enough, of the
        # skills the snapshot kept (by name, as its documents name them), then the most
        # frequent first (ties by name).
        often = demand.pair_counts >= self.rules.min_skill_ads  # most pairs are rare
        first, second = np.divmod(demand.pair_codes[often], size)
        pair_counts = demand.pair_counts[often]
        owners = np.concatenate([first, second])
        partners = np.concatenate([second, first])
        counts = np.concatenate([pair_counts, pair_counts])
        chosen = named.kept(ranked)[owners] & named.known[partners]
        owners, partners, counts = owners[chosen], partners[chosen], counts[chosen]
        if not len(owners):
            return NO_COOCCURRENCES
        # One sort key for (owner, most ads first, partner's name): a partner's rank is
        # unique, so no two keys are equal; skills² × ads stays far below 2**63.
        most = int(counts.max())
        key = (owners * (most + 1) + (most - counts)) * size + named.rank[partners]
        order = np.argsort(key)
        owners, partners, counts = owners[order], partners[order], counts[order]
        group_start = np.searchsorted(owners, owners, side="left")
        top = (np.arange(len(owners)) - group_start) < self.rules.cooccurring_per_skill
        owners, partners, counts = owners[top], partners[top], counts[top]
        return Cooccurrences(
            skills=named.names[owners].tolist(),
            others=named.names[partners].tolist(),
            ads=counts.tolist(),
            share_pcts=round_tenths(_percent(counts, demand.skill_counts[owners])),
        )

    def _names_for(self, skill_names: dict[str, str]) -> _SkillNames:
        """The aggregator's skills as `skill_names` names them (kept while it is the same)."""
        cached = self._named
        if cached is not None and cached[0] is skill_names:
            return cached[1]
        names = [skill_names.get(slug) for slug in self.skill_slugs]
        in_order = sorted(range(len(names)), key=lambda i: (names[i] is None, names[i] or ""))
        rank = np.empty(len(names), dtype=np.int64)
        rank[in_order] = np.arange(len(names))
        ids: dict[str, int] = {}
        name_ids = [
            len(names) if name is None else ids.setdefault(name, len(ids)) for name in names
        ]
        named = _SkillNames(
            names=np.array(names, dtype=object),
            known=np.array([name is not None for name in names], dtype=bool),
            rank=rank,
            name_ids=np.array(name_ids, dtype=np.int64),
        )
        self._named = (skill_names, named)
        return named
