"""Per-figure precedence: one card's figures from several snapshots (rule: db/sources.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from db.constants import PayKind, Region
from db.market_figures import Pay, RoleStats, SkillStat
from db.sources import (
    Choice,
    Offer,
    choose,
    pay_differs,
    pay_is_sound,
    shares_are_sound,
    shares_differ,
    supply_is_sound,
)


def pay_order(key: tuple[PayKind, str]) -> tuple[int, bool, str]:
    """Annual, daily, hourly; the UK before other regions."""
    return (list(PayKind).index(key[0]), key[1] != Region.UK, key[1])


def _offer(stats: RoleStats, figure: Any, sound: bool) -> Offer[Any]:
    info = stats.snapshot
    return Offer(figure, sound, info.team_id, info.period_start, info.period_end, info.id)


def _sound_choice(choice: Choice[RoleStats]) -> RoleStats | None:
    return choice.chosen.figure if choice.chosen is not None and choice.chosen.sound else None


def blend_stats(candidates: Sequence[RoleStats]) -> RoleStats:
    """One card's figures from single-snapshot stats of one role and region (at least one).

    Skills, gaps, emerging skills and each pay figure are chosen apart, each from the
    freshest series whose own sample for it is sound; pay of the other kind of owner (a
    team's own ads against a report) is kept beside when it is sound and differs materially.
    """
    skills = choose(
        [_offer(c, c, shares_are_sound(c.snapshot.sample_size)) for c in candidates if c.skills]
    )
    main = skills.chosen.figure if skills.chosen is not None else candidates[0]
    gap_choice = choose(
        [
            _offer(
                c,
                c,
                supply_is_sound(
                    c.snapshot.sample_size,
                    c.snapshot.supply_sample_size,
                    any(s.gap_points is not None for s in c.skills),
                ),
            )
            for c in candidates
        ]
    )
    gaps = _sound_choice(gap_choice)
    gaps_beside = _gaps_differing(gaps, gap_choice.beside)
    emerging = _sound_choice(
        choose(
            [
                _offer(c, c, shares_are_sound(c.snapshot.sample_size))
                for c in candidates
                if any(s.is_emerging for s in c.skills)
            ]
        )
    )
    pay: list[Pay] = []
    beside: list[Pay] = []
    for kind, region in sorted(
        {(p.kind, p.region) for c in candidates for p in c.pay}, key=pay_order
    ):
        choice: Choice[Pay] = choose(
            [
                _offer(c, figure, pay_is_sound(figure.median, figure.sample_size))
                for c in candidates
                if (figure := c.pay_for(kind, region)) is not None
            ]
        )
        assert choice.chosen is not None
        chosen = choice.chosen.figure
        pay.append(chosen)
        other = None if choice.beside is None else choice.beside.figure
        if (
            other is not None
            and chosen.median is not None
            and other.median is not None
            and pay_differs(chosen.median, other.median)
        ):
            beside.append(other)
    return replace(
        main,
        pay=tuple(pay),
        gap_skills=None if gaps is None else gaps.skills,
        gap_snapshot=None if gaps is None else gaps.snapshot,
        emerging_from=None if emerging is None else emerging.skills,
        emerging_snapshot=None if emerging is None else emerging.snapshot,
        pay_beside=tuple(beside),
        gaps_beside=gaps_beside,
        gaps_beside_snapshot=(
            None
            if not gaps_beside or gap_choice.beside is None
            else gap_choice.beside.figure.snapshot
        ),
    )


def _gaps_differing(
    shown: RoleStats | None, other: Offer[RoleStats] | None
) -> tuple[SkillStat, ...]:
    """The other source's gaps for skills whose gap it puts materially apart from ours."""
    if shown is None or other is None:
        return ()
    ours = {s.slug: s.gap_points for s in shown.skills if s.gap_points is not None}
    return tuple(
        s
        for s in other.figure.skills
        if s.gap_points is not None
        and (mine := ours.get(s.slug)) is not None
        and shares_differ(mine, s.gap_points)
    )
