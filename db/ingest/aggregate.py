"""Weekly buckets of ads and candidates -> snapshot documents per role, region and window."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import repeat

import numpy as np

from db.constants import MIN_BASE_ADS, MIN_CANDIDATES
from db.importers.document import PayDocument, RoleDocument, SkillDocument, SnapshotDocument
from db.ingest.batches import PAY_KIND_INDEX, PAY_KINDS
from db.ingest.stats import round_tenths, summarise_sorted_pay, wilson_interval
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


@dataclass
class Bucket:
    """Everything counted for one role and region over some weeks (a window, once merged)."""

    skill_counts: np.ndarray  # ads mentioning each skill, by the aggregator's skill index
    ads: int = 0
    pay: dict[PayKind, list[float]] = field(default_factory=dict)  # each kind's, in order
    # Ads mentioning both skills i < j (indices of the aggregator's skill list), kept sparse
    # as sorted codes i * size + j with their counts: most pairs never occur together.
    pair_codes: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    pair_counts: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))


class _PerBucket:
    """Counts of codes within buckets: the skills (dense) or skill pairs (sparse, sorted) of
    each role, region and week.

    Codes arrive in batches as bucket * span + code and wait in one buffer; then they are
    counted once and handed to their buckets, so no step ever sorts more than the buffer,
    and memory follows the distinct codes of each bucket, not the number of ads.
    """

    _WAIT = 500_000

    def __init__(self, span: int, *, dense: bool) -> None:
        self.span = span
        self.dense = dense
        self.codes: dict[int, np.ndarray] = {}  # sparse: sorted codes within the bucket
        self.counts: dict[int, np.ndarray] = {}
        self._waiting: list[np.ndarray] = []
        self._waiting_size = 0

    def add(self, combined: np.ndarray) -> None:
        if not len(combined):
            return
        self._waiting.append(combined)
        self._waiting_size += len(combined)
        if self._waiting_size >= self._WAIT:
            self.flush()

    def flush(self) -> None:
        if not self._waiting:
            return
        waiting = np.concatenate(self._waiting)
        self._waiting, self._waiting_size = [], 0
        unique, counts = np.unique(waiting, return_counts=True)
        buckets, inner = np.divmod(unique, self.span)
        starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]])
        ends = np.r_[starts[1:], len(unique)]
        for bucket, start, end in zip(
            buckets[starts].tolist(), starts.tolist(), ends.tolist(), strict=True
        ):
            self._merge(bucket, inner[start:end], counts[start:end])

    def _merge(self, bucket: int, codes: np.ndarray, counts: np.ndarray) -> None:
        if self.dense:
            totals = self.counts.get(bucket)
            if totals is None:
                totals = self.counts[bucket] = np.zeros(self.span, dtype=np.int64)
            totals[codes] += counts  # codes are unique here
            return
        old = self.codes.get(bucket)
        if old is None:
            # Codes within a bucket and their counts fit 32 bits: half the memory.
            self.codes[bucket] = codes.astype(np.int32)
            self.counts[bucket] = counts.astype(np.int32)
            return
        # Both sorted: add to the codes already there, insert the others in order.
        at = np.searchsorted(old, codes)
        known = at < len(old)
        known[known] = old[at[known]] == codes[known]
        old_counts = self.counts[bucket]
        old_counts[at[known]] += counts[known].astype(np.int32)
        fresh = ~known
        if fresh.any():
            self.codes[bucket] = np.insert(old, at[fresh], codes[fresh].astype(np.int32))
            self.counts[bucket] = np.insert(old_counts, at[fresh], counts[fresh].astype(np.int32))

    def of(self, bucket: int) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(codes, counts) of a bucket (codes None when dense), after flush."""
        return self.codes.get(bucket), self.counts.get(bucket)


def pairs_of(skill_ptr: np.ndarray, skill_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair i < j of skills within each ad (skills sorted per ad): (ad of pair, first
    position, second position), computed for all ads at once."""
    lengths = np.diff(skill_ptr)
    owner = np.repeat(np.arange(len(lengths)), lengths)
    positions = np.arange(len(skill_idx))
    partners = skill_ptr[owner + 1] - positions - 1  # skills after this one in its ad
    first = np.repeat(positions, partners)
    offsets = np.cumsum(partners) - partners
    second = first + 1 + (np.arange(len(first)) - np.repeat(offsets, partners))
    return first, second


@dataclass
class AdColumns:
    """Ads to count, column by column: the form parsing hands over in bulk.

    weeks are the ordinals of each ad's Monday, roles index `role_slugs`, skills are the
    aggregator's skill indices per ad (sorted, no repeats) in CSR form.
    """

    weeks: np.ndarray  # int64 ordinals
    roles: np.ndarray  # int64 indices into role_slugs
    london: np.ndarray  # bool
    pay_kinds: np.ndarray  # int8: index into PAY_KINDS, -1 for none
    pay_values: np.ndarray  # float64
    skill_ptr: np.ndarray  # int64, len(ads) + 1
    skill_idx: np.ndarray  # int64
    role_slugs: list[str]

    def __len__(self) -> int:
        return len(self.weeks)

    def only(self, keep: np.ndarray) -> AdColumns:
        """The ads where keep is True."""
        lengths = np.diff(self.skill_ptr)
        kept_lengths = lengths[keep]
        ptr = np.zeros(len(kept_lengths) + 1, dtype=np.int64)
        np.cumsum(kept_lengths, out=ptr[1:])
        return AdColumns(
            self.weeks[keep],
            self.roles[keep],
            self.london[keep],
            self.pay_kinds[keep],
            self.pay_values[keep],
            ptr,
            self.skill_idx[np.repeat(keep, lengths)],
            self.role_slugs,
        )


def _percent(part: np.ndarray, whole: np.ndarray | int) -> np.ndarray:
    """100 * part / whole, as Python computes it on these whole numbers: below 2**53 they
    are exact in float64, and both divide them with one correctly rounded division."""
    result: np.ndarray = 100 * part / whole
    return result


_ROLE_SLOTS = 1 << 12  # roles are a few dozen at most
_DENSE_PAIR_SLOTS = 1 << 20  # up to ~1,000 skills, windows count pairs in one dense array
_REGIONS = (UK, LONDON)
# A stored ad as read back: posted on, role slug, in London, pay kind (its value), pay
# figure, skill slugs joined by "|".
StoredAd = tuple[date, str, bool, str | None, float | None, str]
_STORED_PAY_KIND = {kind.value: PAY_KIND_INDEX[kind] for kind in PayKind}
_PAY_KIND_BOUNDS = np.arange(len(PAY_KINDS) + 1)  # a bucket's pay codes: bucket * 3 + kind


@dataclass
class SupplyBucket:
    candidates: int = 0
    skills: Counter[str] = field(default_factory=Counter)

    def merge(self, other: SupplyBucket) -> None:
        self.candidates += other.candidates
        self.skills.update(other.skills)


@dataclass(frozen=True)
class Cooccurrences:
    """Skills asked for together in a snapshot's ads, column by column: one pair per index
    (a snapshot has hundreds; columns are built and stored without an object per pair)."""

    skills: Sequence[str]  # skill name
    others: Sequence[str]  # name of a skill asked for alongside it
    ads: Sequence[int]  # ads mentioning both
    share_pcts: Sequence[float]  # of the ads asking for the skill, the share also asking for other

    def __len__(self) -> int:
        return len(self.ads)


NO_COOCCURRENCES = Cooccurrences((), (), (), ())


@dataclass(frozen=True)
class ComputedSnapshot:
    document: SnapshotDocument
    cooccurrences: Cooccurrences


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


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


class Aggregator:
    """Counts ads and candidates into weekly buckets, then builds every window's snapshot.

    Demand is counted column-wise with numpy: a bucket (role, region, week) is an int code,
    and skill mentions and skill pairs are codes within it, so millions of ads cost a few
    array operations per batch rather than Python work per ad.
    """

    def __init__(self, rules: SnapshotRules | None = None, skill_slugs: Sequence[str] = ()) -> None:
        self.rules = rules or SnapshotRules()
        # Skills counted (the taxonomy's), by index; co-occurrence uses the same indices.
        self.skill_slugs = list(dict.fromkeys(skill_slugs))
        self.skill_index = {slug: i for i, slug in enumerate(self.skill_slugs)}
        self._size = max(1, len(self.skill_slugs))
        self._roles: dict[str, int] = {}
        self._ads: dict[int, int] = {}  # bucket code -> ads
        self._skill_counts = _PerBucket(self._size, dense=True)  # skill
        self._pairs = _PerBucket(self._size * self._size, dense=False)  # i * size + j
        self._pay_codes: list[np.ndarray] = []  # bucket * 3 + pay kind index
        self._pay_values: list[np.ndarray] = []
        self._pay_sorted: tuple[np.ndarray, np.ndarray] | None = None
        self.supply: dict[tuple[str | None, str, date], SupplyBucket] = {}
        self._weeks: dict[date, date] = {}
        self._named: tuple[dict[str, str], _SkillNames] | None = None

    def _week(self, day: date) -> date:
        monday = self._weeks.get(day)
        if monday is None:
            monday = self._weeks[day] = week_start(day)
        return monday

    def _bucket(self, monday_ordinal: int, role: int, region: int) -> int:
        return (((monday_ordinal - 1) // 7) * _ROLE_SLOTS + role) * 2 + region

    def _role(self, slug: str) -> int:
        index = self._roles.get(slug)
        if index is None:
            index = self._roles[slug] = len(self._roles)
            if index >= _ROLE_SLOTS:
                raise ValueError(f"more than {_ROLE_SLOTS} roles in one ingest")
        return index

    def add_stored_ads(self, rows: Sequence[StoredAd], merged: Mapping[str, str]) -> None:
        """Ads read back from the store, counted at once. A slug in `merged` counts as the
        skill it was merged into (and not at all when that one is not counted)."""
        if not rows:
            return
        posted, roles, london, pay_kinds, pay_values, skills = zip(*rows, strict=True)
        count = len(rows)
        days = np.fromiter((day.toordinal() for day in posted), np.int64, count)
        role_slugs = list(dict.fromkeys(roles))
        role_at = {slug: i for i, slug in enumerate(role_slugs)}
        skill_ptr, skill_idx = self._stored_skills(skills, merged)
        self.add_columns(
            AdColumns(
                weeks=days - (days + 6) % 7,  # each day's Monday (ordinal 1 was a Monday)
                roles=np.fromiter(map(role_at.__getitem__, roles), np.int64, count),
                london=np.fromiter(london, dtype=bool, count=count),
                pay_kinds=np.fromiter(
                    (
                        -1 if value is None else _STORED_PAY_KIND.get(kind, -1)
                        for kind, value in zip(pay_kinds, pay_values, strict=True)
                    ),
                    np.int8,
                    count,
                ),
                pay_values=np.fromiter((value or 0.0 for value in pay_values), np.float64, count),
                skill_ptr=skill_ptr,
                skill_idx=skill_idx,
                role_slugs=role_slugs,
            )
        )

    def _stored_skills(
        self, texts: Sequence[str], merged: Mapping[str, str]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each ad's skill indices (sorted, no repeats, unknown slugs left out) in CSR form,
        from its stored slugs joined by "|"; all ads split and looked up in one go."""
        count = len(texts)
        slugs = "|".join(texts).split("|")  # an ad without skills gives one empty slug
        owners = np.repeat(
            np.arange(count), np.fromiter((text.count("|") + 1 for text in texts), np.int64, count)
        )
        lookup = self._stored_skill_index(merged)
        indices = np.fromiter(map(lookup.get, slugs, repeat(-1)), np.int64, len(slugs))
        size = self._size
        known = indices >= 0
        # Sorted by ad, then by skill, without repeats (sorting these nearly sorted codes is
        # much faster than np.unique, which hashes them).
        codes = np.sort(owners[known] * size + indices[known])
        codes = codes[np.diff(codes, prepend=-1) != 0]
        skill_ptr = np.zeros(count + 1, dtype=np.int64)
        np.cumsum(np.bincount(codes // size, minlength=count), out=skill_ptr[1:])
        skill_idx: np.ndarray = codes % size
        return skill_ptr, skill_idx

    def _stored_skill_index(self, merged: Mapping[str, str]) -> dict[str, int]:
        """Skill index of every slug stored ads may hold, merged slugs included."""
        lookup = dict(self.skill_index)
        for slug, into in merged.items():
            if into in self.skill_index:
                lookup[slug] = self.skill_index[into]
            else:
                lookup.pop(slug, None)
        return lookup

    def add_columns(self, ads: AdColumns) -> None:
        """Count many ads at once (each ad's Monday as an ordinal, skills as indices)."""
        if not len(ads):
            return
        self._pay_sorted = None
        role_map = np.fromiter(
            (self._role(slug) for slug in ads.role_slugs), np.int64, len(ads.role_slugs)
        )
        weeks = (ads.weeks - 1) // 7
        uk = (weeks * _ROLE_SLOTS + role_map[ads.roles]) * 2
        size = self._size
        first, second = pairs_of(ads.skill_ptr, ads.skill_idx)
        lengths = np.diff(ads.skill_ptr)
        pair_owner = np.repeat(np.arange(len(ads)), lengths)[first]
        pair_code = ads.skill_idx[first] * size + ads.skill_idx[second]
        skill_owner = np.repeat(np.arange(len(ads)), lengths)
        has_pay = ads.pay_kinds >= 0
        for region in (0, 1):
            if region == 0:
                buckets = uk
                ads_in = None
            else:
                ads_in = ads.london
                if not ads_in.any():
                    break
                buckets = np.where(ads_in, uk + 1, -1)
            chosen = buckets if ads_in is None else buckets[ads_in]
            codes, counts = np.unique(chosen, return_counts=True)
            for code, count in zip(codes.tolist(), counts.tolist(), strict=True):
                self._ads[code] = self._ads.get(code, 0) + count
            owners = skill_owner if ads_in is None else skill_owner[ads_in[skill_owner]]
            skills = ads.skill_idx if ads_in is None else ads.skill_idx[ads_in[skill_owner]]
            self._skill_counts.add(buckets[owners] * size + skills)
            pair_owners = pair_owner if ads_in is None else pair_owner[ads_in[pair_owner]]
            pairs = pair_code if ads_in is None else pair_code[ads_in[pair_owner]]
            self._pairs.add(buckets[pair_owners] * (size * size) + pairs)
            paid = has_pay if ads_in is None else has_pay & ads_in
            if paid.any():
                self._pay_codes.append(buckets[paid] * 3 + ads.pay_kinds[paid])
                self._pay_values.append(ads.pay_values[paid])

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
        size = self._size
        total = Bucket(np.zeros(size, dtype=np.int64))
        role_index = self._roles.get(role)
        if role_index is None:
            return total
        pair_parts: list[tuple[np.ndarray, np.ndarray]] = []
        pay_parts: dict[PayKind, list[np.ndarray]] = {}
        region_index = _REGIONS.index(region)
        for monday in weeks:
            bucket = self._bucket(monday.toordinal(), role_index, region_index)
            ads = self._ads.get(bucket)
            if ads is None:
                continue
            total.ads += ads
            _, counts = self._skill_counts.of(bucket)
            if counts is not None:
                total.skill_counts += counts
            if counts_only:
                continue
            codes, counts = self._pairs.of(bucket)
            if codes is not None and counts is not None:
                pair_parts.append((codes, counts))
            if self._pay_sorted is not None:
                pay_codes, pay_values = self._pay_sorted
                bounds = np.searchsorted(pay_codes, bucket * 3 + _PAY_KIND_BOUNDS).tolist()
                for kind, start, end in zip(PAY_KINDS, bounds[:-1], bounds[1:], strict=True):
                    if end > start:
                        pay_parts.setdefault(kind, []).append(pay_values[start:end])
        if len(pair_parts) == 1:
            codes, counts = pair_parts[0]
            total.pair_codes, total.pair_counts = codes.astype(np.int64), counts.astype(np.int64)
        elif pair_parts:
            total.pair_codes, total.pair_counts = self._merge_pairs(pair_parts)
        for kind, parts in pay_parts.items():
            # Each week's figures are in order already: a stable sort merges the weeks (and,
            # figures being finite, orders them exactly as sorted() would).
            figures = parts[0] if len(parts) == 1 else np.sort(np.concatenate(parts), kind="stable")
            total.pay[kind] = figures.tolist()
        return total

    def _merge_pairs(
        self, parts: list[tuple[np.ndarray, np.ndarray]]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Several weeks' (sorted codes, counts) of skill pairs -> one sorted (codes, counts)."""
        codes = np.concatenate([codes for codes, _ in parts])
        counts = np.concatenate([counts for _, counts in parts]).astype(np.int64)
        slots = self._size * self._size
        if slots <= _DENSE_PAIR_SLOTS:
            # A count for every possible pair costs less than sorting the weeks' codes.
            totals = np.bincount(codes, weights=counts, minlength=slots)
            merged = np.flatnonzero(totals != 0)  # faster on booleans than on numbers
            return merged, totals[merged].astype(np.int64)
        unique, positions = np.unique(codes, return_inverse=True)
        return unique.astype(np.int64), np.bincount(positions, weights=counts).astype(np.int64)

    def _prepare_windows(self) -> None:
        """Merge what waits and sort pay figures by bucket and kind, before windows are read."""
        self._skill_counts.flush()
        self._pairs.flush()
        if self._pay_sorted is None:
            if self._pay_codes:
                codes = np.concatenate(self._pay_codes)
                values = np.concatenate(self._pay_values)
                order = np.lexsort((values, codes))  # by bucket and kind, then figure
                self._pay_sorted = (codes[order], values[order])
                self._pay_codes = [self._pay_sorted[0]]
                self._pay_values = [self._pay_sorted[1]]
            else:
                empty = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64))
                self._pay_sorted = empty

    def _series_weeks(self) -> tuple[list[tuple[str, str]], date, date] | None:
        """The (role, region) series with ads, and the first and last Monday with ads."""
        if not self._ads:
            return None
        slugs = {index: slug for slug, index in self._roles.items()}
        series = set()
        weeks = set()
        for bucket in self._ads:
            rest, region = divmod(bucket, 2)
            week, role = divmod(rest, _ROLE_SLOTS)
            series.add((slugs[role], _REGIONS[region]))
            weeks.add(week)
        first = date.fromordinal(min(weeks) * 7 + 1)
        last = date.fromordinal(max(weeks) * 7 + 1)
        return sorted(series), first, last

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
    ) -> Iterator[ComputedSnapshot]:
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
        return ComputedSnapshot(document, cooccurrences)

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
