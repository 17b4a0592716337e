"""Shared helpers for ingestion tests: the parser built from the shipped taxonomy, ad files."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from db.ingest.postings import AdParser
from db.ingest.roles import RoleMapper
from db.taxonomy import load_taxonomy

FIXTURES = Path(__file__).parent / "fixtures"
AD_COLUMNS = [
    "id",
    "title",
    "description",
    "created",
    "location",
    "company",
    "salary",
    "salary_min",
    "salary_max",
    "salary_is_predicted",
    "contract_type",
]


def ad_parser() -> AdParser:
    taxonomy = load_taxonomy()
    return AdParser(taxonomy, RoleMapper(taxonomy))


def write_csv(path: Path, ads: Sequence[Mapping[str, object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=AD_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for ad in ads:
            writer.writerow({key: "" if value is None else value for key, value in ad.items()})
    return path


def write_jsonl(path: Path, records: Sequence[Mapping[str, object]]) -> Path:
    path.write_text("".join(json.dumps(dict(r)) + "\n" for r in records), encoding="utf-8")
    return path
