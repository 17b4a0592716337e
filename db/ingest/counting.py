"""Ads and candidates counted into weekly buckets (role, region, week), column-wise with numpy."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import repeat

import numpy as np

from db.constants import PayKind, Region
from db.ingest.batches import PAY_KIND_INDEX, PAY_KINDS, ParsedBatch


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


def columns_of(batch: ParsedBatch) -> AdColumns:
    """A parsed batch's ads, as the counts take them (views on its typed arrays)."""
    roles = np.frombuffer(batch.roles, dtype=np.int64)
    skill_ptr = np.frombuffer(batch.skill_ptr, dtype=np.int64)
    return AdColumns(
        weeks=np.frombuffer(batch.weeks, dtype=np.int64),
        roles=roles,
        london=np.frombuffer(batch.london, dtype=np.int8).astype(bool),
        pay_kinds=np.frombuffer(batch.pay_kinds, dtype=np.int8),
        pay_values=np.frombuffer(batch.pay_values, dtype=np.float64),
        skill_ptr=skill_ptr,
        skill_idx=np.frombuffer(batch.skill_idx, dtype=np.int64),
        role_slugs=batch.role_slugs,
    )


_ROLE_SLOTS = 1 << 12  # roles are a few dozen at most
_DENSE_PAIR_SLOTS = 1 << 20  # up to ~1,000 skills, windows count pairs in one dense array
_REGIONS = (Region.UK, Region.LONDON)
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


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


class WeeklyCounts:
    """Counts ads and candidates into weekly buckets, and merges buckets into windows.

    Demand is counted column-wise with numpy: a bucket (role, region, week) is an int code,
    and skill mentions and skill pairs are codes within it, so millions of ads cost a few
    array operations per batch rather than Python work per ad.
    """

    def __init__(self, skill_slugs: Sequence[str] = ()) -> None:
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
        for region in (Region.UK, Region.LONDON) if is_london else (Region.UK,):
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
