"""Reed's jobseeker API: search pages, then each new ad's full description within the budget."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import AsyncIterator
from typing import Any

from db.feeds.fetching import Batch, Budget, FeedSource, HeldIds, PoliteClient, SourceFailed

DEFAULT_API_URL = "https://www.reed.co.uk/api/1.0"
PAGE_SIZE = 100  # Reed's most per page
MAX_PAGES_PER_RUN = 10
# Requests kept back from full descriptions so the next search pages still fit the budget.
SEARCH_RESERVE = 5

_TAG = re.compile(r"<[^>]+>")


def plain_text(markup: str) -> str:
    """Reed's descriptions are HTML: skills are read from the words, not the tags."""
    return " ".join(html.unescape(_TAG.sub(" ", markup)).split())


def ad_row(item: dict[str, Any], detail: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Reed result (and its full record, when fetched) as an ingest row."""
    merged = {**item, **(detail or {})}
    row: dict[str, Any] = {
        "id": f"reed-{merged.get('jobId')}",
        "title": merged.get("jobTitle") or "",
        "description": plain_text(str(merged.get("jobDescription") or "")),
        # dd/mm/yyyy, which the pipeline reads as a UK date.
        "created": merged.get("datePosted") or merged.get("date"),
        "company": merged.get("employerName") or "",
        "location": merged.get("locationName") or "",
        "salary_min": merged.get("minimumSalary"),
        "salary_max": merged.get("maximumSalary"),
        "contract_type": str(merged.get("contractType") or "").lower(),
        "redirect_url": merged.get("jobUrl") or merged.get("externalUrl") or "",
    }
    salary_type = str(merged.get("salaryType") or "").lower()
    low, high = merged.get("minimumSalary"), merged.get("maximumSalary")
    if salary_type and isinstance(low, int | float) and low:
        # "per day" or "per hour" tells the pipeline which kind of pay it is.
        span = f"£{low:g}" if not high or high == low else f"£{low:g} - £{high:g}"
        row["salary"] = f"{span} {salary_type}"
    return row


class ReedSource(FeedSource):
    def __init__(
        self,
        client: PoliteClient,
        budget: Budget,
        params: dict[str, Any],
        *,
        api_key: str,
        api_url: str,
        held: HeldIds,
    ) -> None:
        self.client = client
        self.budget = budget
        self.params = params
        # HTTP Basic with the key as the user name and no password.
        token = base64.b64encode(f"{api_key}:".encode()).decode()
        self.auth = {"Authorization": f"Basic {token}"}
        self.api_url = api_url.rstrip("/")
        self.held = held

    async def _search(self, skip: int) -> tuple[list[dict[str, Any]], int]:
        query: dict[str, Any] = {
            "keywords": self.params.get("keywords", ""),
            "resultsToTake": PAGE_SIZE,
            "resultsToSkip": skip,
        }
        if self.params.get("location"):
            query["locationName"] = self.params["location"]
        data = await self.client.get_json(f"{self.api_url}/search", params=query, headers=self.auth)
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
            raise SourceFailed("Reed's answer has no list of results; nothing from it was stored")
        total = data.get("totalResults")
        return results, total if isinstance(total, int) else -1

    async def _details(self, items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Full records of new ads while the budget allows; the rest keep the search snippet."""
        found: dict[str, dict[str, Any]] = {}
        for item in items:
            left = await self.budget.remaining()
            if left is not None and left <= SEARCH_RESERVE:
                break
            job = str(item.get("jobId"))
            data = await self.client.get_json(f"{self.api_url}/jobs/{job}", headers=self.auth)
            if isinstance(data, dict):
                found[job] = data
        return found

    async def batches(self, state: dict[str, Any]) -> AsyncIterator[Batch]:
        # Reed documents no order for its results, so a run ends at a page holding nothing new.
        skip = int((state.get("pending") or {}).get("skip", 0))
        for _ in range(MAX_PAGES_PER_RUN):
            results, total = await self._search(skip)
            ids = [f"reed-{item.get('jobId')}" for item in results]
            held = await self.held(ids) if ids else set()
            new = [item for item, key in zip(results, ids, strict=True) if key not in held]
            details = await self._details(new)
            rows = [ad_row(item, details.get(str(item.get("jobId")))) for item in new]
            skip += len(results)
            last = not new or len(results) < PAGE_SIZE or (total >= 0 and skip >= total)
            pending = None if last else {"skip": skip}
            yield Batch(
                f"Reed results from {skip - len(results) + 1}", {"pending": pending}, rows=rows
            )
            if last:
                return
