"""Digest charts: demand vs supply per skill, and salary over snapshots, as PNG bytes (Agg)."""

from __future__ import annotations

import io
from collections import OrderedDict
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # no display; must be chosen before pyplot is imported

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from digests.content import RoleDigest
from templates import format_money

MAX_SKILLS = 8
_LABEL_LIMIT = 40


@dataclass(frozen=True)
class Chart:
    filename: str
    title: str
    alt_text: str  # what a screen reader says instead of the picture
    png: bytes


def _label(name: str) -> str:
    # Names are drawn as plain text: mathtext would treat "$" as markup.
    name = name.replace("$", r"\$")
    return name if len(name) <= _LABEL_LIMIT else name[: _LABEL_LIMIT - 1] + "…"


def role_chart(role: RoleDigest) -> Chart | None:
    """Demand vs supply for the largest gaps; salary over snapshots when there are several."""
    if role.latest is None:
        return None
    skills = role.latest.skills_by_gap()[:MAX_SKILLS]
    if not skills:
        return None
    history = role.salary_history if len(role.salary_history) >= 2 else ()
    figure = Figure(figsize=(8, 4.5 + (2.5 if history else 0)), dpi=80)
    if history:
        bars, line = figure.subplots(2, 1, gridspec_kw={"height_ratios": [3, 2]})
    else:
        bars, line = figure.subplots(1, 1), None
    names = [_label(s.name) for s in skills][::-1]
    demand = [s.demand_pct or 0 for s in skills][::-1]
    supply = [s.supply_pct or 0 for s in skills][::-1]
    positions = range(len(skills))
    bars.barh(
        [p + 0.2 for p in positions], demand, height=0.4, label="Employer demand", color="#2b6cb0"
    )
    bars.barh(
        [p - 0.2 for p in positions], supply, height=0.4, label="Candidate supply", color="#dd6b20"
    )
    bars.set_yticks(list(positions), names, fontsize=8)
    bars.set_xlabel("% of ads / candidates")
    bars.set_xlim(0, 100)
    bars.legend(loc="lower right", fontsize=8)
    snapshot = role.latest.snapshot
    bars.set_title(
        _label(f"{role.role_title}: demand vs supply ({snapshot.period_label})"), fontsize=10
    )
    if line is not None:
        line.plot([p.period_label for p in history], [p.median for p in history], marker="o")
        line.set_title("UK median salary", fontsize=10)
        line.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"£{value:,.0f}"))
        line.tick_params(labelsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    gaps = ", ".join(
        f"{s.name} {s.demand_pct:.0f}% demand vs {s.supply_pct:.0f}% supply"
        for s in skills[:5]
        if s.demand_pct is not None and s.supply_pct is not None
    )
    alt = (
        "Bar chart of employer demand against candidate supply for "
        f"{role.role_title}, {snapshot.provenance_dated}: {gaps}."
    )
    if history:
        trend = ", ".join(f"{p.period_label} {format_money(p.median)}" for p in history)
        alt += f" Line chart of the UK median salary: {trend}."
    return Chart(
        filename=f"skillgap-{role.role_slug}-{snapshot.id}.png",
        title=f"{role.role_title}: demand vs supply",
        alt_text=alt[:1000],
        png=buffer.getvalue(),
    )


class ChartCache:
    """Charts depend only on the snapshots drawn, so thousands of digests share a few PNGs."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._charts: OrderedDict[tuple[object, ...], Chart | None] = OrderedDict()

    def chart_for(self, role: RoleDigest) -> Chart | None:
        key = (
            role.role_slug,
            None if role.latest is None else role.latest.snapshot.id,
            tuple((p.period_end, p.median) for p in role.salary_history),
        )
        if key in self._charts:
            self._charts.move_to_end(key)
            return self._charts[key]
        chart = role_chart(role)
        self._charts[key] = chart
        if len(self._charts) > self.size:
            self._charts.popitem(last=False)
        return chart
