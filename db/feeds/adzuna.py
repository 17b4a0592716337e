"""Adzuna's search API: newest ads first, page by page, until ads the feed already has."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from db.feeds.fetching import Batch, FeedSource, HeldIds, Now, PoliteClient, SourceFailed

DEFAULT_API_URL = "https://api.adzuna.com/v1/api"
PAGE_SIZE = 50  # Adzuna's most per page
FIRST_RUN_DAYS = 30  # how far back a feed's first run reaches
MAX_PAGES_PER_RUN = 20  # a long backlog is read over several runs, within the budget


def _created(item: dict[str, Any]) -> datetime | None:
    text = str(item.get("created") or "")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def ad_row(item: dict[str, Any]) -> dict[str, Any]:
    """An Adzuna result as an ingest row (the pipeline reads Adzuna's own field names)."""
    company = item.get("company") or {}
    location = item.get("location") or {}
    return {
        "id": f"adzuna-{item.get('id')}",
        "title": item.get("title") or "",
        "description": item.get("description") or "",
        "created": item.get("created"),
        "company": company.get("display_name", "") if isinstance(company, dict) else "",
        "location": location.get("display_name", "") if isinstance(location, dict) else "",
        "location.area": location.get("area", []) if isinstance(location, dict) else [],
        "salary_min": item.get("salary_min"),
        "salary_max": item.get("salary_max"),
        # Never dropped: the pipeline needs it to leave predicted salaries out.
        "salary_is_predicted": item.get("salary_is_predicted", "0"),
        "contract_type": item.get("contract_type") or "",
        "redirect_url": item.get("redirect_url") or "",
    }


class AdzunaSource(FeedSource):
    def __init__(
        self,
        client: PoliteClient,
        params: dict[str, Any],
        *,
        app_id: str,
        app_key: str,
        api_url: str,
        held: HeldIds,
        now: Now,
    ) -> None:
        self.client = client
        self.params = params
        self.app_id = app_id
        self.app_key = app_key
        self.api_url = api_url.rstrip("/")
        self.held = held
        self.now = now

    def _query(self, max_days_old: int) -> dict[str, Any]:
        query: dict[str, Any] = {
            "app_id": self.app_id,
            "app_key": self.app_key,
            "results_per_page": PAGE_SIZE,
            "what": self.params.get("what", ""),
            "max_days_old": max_days_old,
            "sort_by": "date",
            "content-type": "application/json",
        }
        if self.params.get("where"):
            query["where"] = self.params["where"]
        return query

    def _max_days_old(self, high_water: dict[str, Any] | None) -> int:
        reach = int(self.params.get("max_days_old") or FIRST_RUN_DAYS)
        if high_water is None:
            return reach
        since = datetime.fromisoformat(high_water["created"])
        return max(1, min(reach, (self.now() - since).days + 2))

    async def _page(self, number: int, max_days_old: int) -> tuple[list[dict[str, Any]], int]:
        country = self.params.get("country", "gb")
        url = f"{self.api_url}/jobs/{country}/search/{number}"
        data = await self.client.get_json(url, params=self._query(max_days_old))
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
            raise SourceFailed("Adzuna's answer has no list of results; nothing from it was stored")
        count = data.get("count")
        return results, count if isinstance(count, int) else -1

    async def batches(self, state: dict[str, Any]) -> AsyncIterator[Batch]:
        high_water: dict[str, Any] | None = state.get("high_water")
        pending: dict[str, Any] = state.get("pending") or {"page": 1, "newest": None}
        page = int(pending["page"])
        newest = pending.get("newest")
        max_days_old = int(pending.get("max_days_old") or self._max_days_old(high_water))
        for _ in range(MAX_PAGES_PER_RUN):
            results, count = await self._page(page, max_days_old)
            if newest is None and results:
                newest = _high_water(results)
            rows, reached_old = [], False
            for item in results:
                if _is_old(item, high_water):
                    reached_old = True
                else:
                    rows.append(ad_row(item))
            ids = [str(row["id"]) for row in rows]
            if ids and not reached_old:
                # No checkpoint yet (or an ad came in by a file): a page all held ends it too.
                reached_old = len(await self.held(ids)) == len(ids)
            last = (
                reached_old
                or len(results) < PAGE_SIZE
                or (count >= 0 and page * PAGE_SIZE >= count)
            )
            if last:
                done = {"high_water": newest or high_water, "pending": None}
                yield Batch(f"Adzuna page {page}", done, rows=rows)
                return
            page += 1
            carry_on = {"page": page, "newest": newest, "max_days_old": max_days_old}
            yield Batch(
                f"Adzuna page {page - 1}",
                {"high_water": high_water, "pending": carry_on},
                rows=rows,
            )


def _high_water(results: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest ad's time and the ids posted at that time: where the next run stops."""
    times = [(moment, item) for item in results if (moment := _created(item)) is not None]
    if not times:
        return None
    newest = max(moment for moment, _ in times)
    ids = sorted(str(item.get("id")) for moment, item in times if moment == newest)
    return {"created": newest.isoformat(), "ids": ids}


def _is_old(item: dict[str, Any], high_water: dict[str, Any] | None) -> bool:
    if high_water is None:
        return False
    moment = _created(item)
    if moment is None:
        return False
    mark = datetime.fromisoformat(high_water["created"])
    return moment < mark or (moment == mark and str(item.get("id")) in high_water["ids"])
