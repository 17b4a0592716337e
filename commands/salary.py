"""`/skillgap salary [ROLE]`: salaries and day rates, and their change since the last snapshot."""

from __future__ import annotations

from dataclasses import dataclass

from commands.lookup import (
    card_context,
    places_for,
    previous_comparison,
    role_with_stats,
)
from commands.router import CommandRequest, Subcommand, register_subcommand
from db.constants import Region
from db.market_comparison import PayChange
from db.market_figures import PAY_UNITS
from db.models import PayKind
from templates import SlackMessage, render_message

PAY_LABELS = {
    PayKind.ANNUAL: "Permanent salary",
    PayKind.DAILY: "Contract day rate",
    PayKind.HOURLY: "Hourly rate",
}


@dataclass(frozen=True)
class PayKindEntry:
    label: str
    kind: PayKind


@dataclass(frozen=True)
class PayChangeRow:
    label: str
    unit: str
    change: PayChange


async def answer_salary(request: CommandRequest) -> SlackMessage:
    found = await role_with_stats(request)
    if isinstance(found, SlackMessage):
        return found
    chosen, stats = found
    comparison = await previous_comparison(request, chosen, stats.pay_source(Region.UK))
    present = {pay.kind for pay in stats.pay}
    # Salaries and day rates are always shown (as "not enough data" if missing); hourly
    # rates only where a source gives them.
    kinds = [
        PayKindEntry(PAY_LABELS[kind], kind)
        for kind in PayKind
        if kind in present or kind is not PayKind.HOURLY
    ]
    changes = (
        [
            PayChangeRow(f"{PAY_LABELS[c.kind]} · {c.region}", PAY_UNITS[c.kind], c)
            for c in comparison.pay_changes
        ]
        if comparison
        else []
    )
    return render_message(
        "salary.j2",
        stats=stats,
        places=places_for(chosen.region),
        kinds=kinds,
        changes=changes,
        older=comparison.older if comparison else None,
        title=f"Pay · {stats.role.title}",
        region_note="",
        **card_context(request, "salary", chosen),
    )


register = register_subcommand(
    Subcommand(
        "salary",
        answer_salary,
        usage="salary [ROLE] [in REGION]",
        summary="salaries and contractor day rates, and how they changed since last time",
        examples=("salary", "salary ai engineer in London"),
        aliases=("salaries", "pay", "rates", "dayrate"),
        shareable=True,
    )
)
