"""A snapshot's checksum decides whether a re-import is unchanged: it must never drift."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from db.importers.document import (
    PayDocument,
    Problem,
    RoleDocument,
    SkillDocument,
    SnapshotDocument,
)
from db.importers.files import load_file
from db.models import PayKind, SourceKind
from db.names import slugify
from tests.db.import_helpers import APRIL_REPORT, BUNDLED_APRIL, DATA_ENGINEER_REPORT, MAY_REPORT


def reference_checksum(document: SnapshotDocument) -> str:
    """The checksum as first written (deep copies through asdict): stored checksums hold it."""
    facts = {
        "role": document.role.slug,
        "tenure": document.role.typical_tenure_months,
        "progression": list(document.role.progression),
        "lateral": list(document.role.lateral_moves),
        "region": document.region,
        "team": document.team_id,
        "published_on": document.published_on.isoformat(),
        "source": document.source,
        "period": [document.period_start, document.period_end],
        "sample": [document.sample_size, document.supply_sample_size],
        "pay": sorted(
            # A qualifier ("around") counts only where given: checksums stored before it existed
            # stay valid.
            (
                {k: v for k, v in asdict(pay).items() if k != "qualifier" or v}
                for pay in document.pay
            ),
            key=lambda p: (str(p["kind"]), p["region"]),
        ),
        "skills": sorted(
            (
                {
                    key: value
                    for key, value in asdict(skill).items()
                    if key not in ("note", "members")
                }
                | {"name": slugify.__wrapped__(skill.name), "aliases": sorted(skill.aliases)}
                # A family's examples came later: only snapshots that give some carry them.
                | ({"members": sorted(skill.members)} if skill.members else {})
                for skill in document.skills
            ),
            key=lambda s: s["name"],
        ),
    }
    canonical = json.dumps(facts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


text = st.text(max_size=12)
names = st.sampled_from(["Python", "python!", "C#", "C++", "R&D", "Café", "  ", "Ünïcode", "Go"])
maybe_float = st.none() | st.floats(allow_nan=False, allow_infinity=False, width=64)
maybe_int = st.none() | st.integers(-(10**6), 10**6)

pay_documents = st.builds(
    PayDocument,
    kind=st.sampled_from(list(PayKind)),
    region=st.sampled_from(["UK", "London", "uk", ""]),
    median=maybe_float,
    low=maybe_float,
    high=maybe_float,
    p10=maybe_float,
    p25=maybe_float,
    p75=maybe_float,
    p90=maybe_float,
    sample_size=maybe_int,
)
skill_documents = st.builds(
    SkillDocument,
    name=names | text,
    aliases=st.lists(names | text, max_size=4).map(tuple),  # often out of order
    demand_pct=maybe_float,
    supply_pct=maybe_float,
    demand_low_pct=maybe_float,
    demand_high_pct=maybe_float,
    is_essential=st.booleans(),
    is_emerging=st.booleans(),
    is_gap=st.booleans(),
    rank=maybe_int,
    sample_size=maybe_int,
    note=text,
    members=st.lists(names | text, max_size=3).map(tuple),
)
snapshot_documents = st.builds(
    SnapshotDocument,
    role=st.builds(
        RoleDocument,
        title=names | text,
        aliases=st.lists(text, max_size=3).map(tuple),
        summary=text,
        typical_tenure_months=maybe_int,
        progression=st.lists(text, max_size=3).map(tuple),
        lateral_moves=st.lists(text, max_size=3).map(tuple),
    ),
    published_on=st.dates(),
    period_label=text,
    period_start=st.dates(),
    period_end=st.dates(),
    source=text,
    source_kind=st.sampled_from(list(SourceKind)),
    region=st.sampled_from(["UK", "London"]),
    team_id=st.sampled_from(["", "T1"]),
    sample_size=maybe_int,
    supply_sample_size=maybe_int,
    pay=st.lists(pay_documents, max_size=4).map(tuple),
    skills=st.lists(skill_documents, max_size=8).map(tuple),
    warnings=st.lists(st.builds(Problem, text, maybe_int, text), max_size=2).map(tuple),
)


@settings(max_examples=500, deadline=None)
@given(snapshot_documents)
def test_checksum_matches_the_reference_computation(document: SnapshotDocument) -> None:
    assert document.checksum() == reference_checksum(document)


def test_checksum_of_imported_documents_matches_the_reference_computation() -> None:
    paths = (BUNDLED_APRIL, APRIL_REPORT, MAY_REPORT, DATA_ENGINEER_REPORT)
    for document in map(load_file, paths):
        assert document.skills and document.pay
        assert document.checksum() == reference_checksum(document)


def test_checksum_sees_every_fact_and_ignores_prose() -> None:
    skill = SkillDocument("Python", aliases=("py", "CPython"), demand_pct=41.5, note="a")
    pay = PayDocument(PayKind.DAILY, "London", median=550.0, sample_size=12)
    document = SnapshotDocument(
        role=RoleDocument("AI Engineer", summary="builds things"),
        published_on=date(2026, 4, 30),
        period_label="April 2026",
        period_start=date(2026, 4, 1),
        period_end=date(2026, 4, 30),
        source="report",
        source_kind=SourceKind.REPORT,
        pay=(pay,),
        skills=(skill,),
    )
    same = SnapshotDocument(
        **{
            **vars(document),
            "role": RoleDocument("AI Engineer", summary="other prose"),
            "skills": (SkillDocument("Python", ("CPython", "py"), demand_pct=41.5, note="b"),),
        }
    )
    assert same.checksum() == document.checksum()
    for changed in (
        SkillDocument("Python", aliases=("py",), demand_pct=41.5),
        SkillDocument("Python", aliases=("py", "CPython"), demand_pct=41.6),
        SkillDocument("Python", aliases=("py", "CPython"), demand_pct=41.5, is_gap=True),
    ):
        other = SnapshotDocument(**{**vars(document), "skills": (changed,)})
        assert other.checksum() != document.checksum()
    hourly = PayDocument(PayKind.HOURLY, "London", median=550.0, sample_size=12)
    assert SnapshotDocument(**{**vars(document), "pay": (hourly,)}).checksum() != (
        document.checksum()
    )
