"""Local stand-ins of Adzuna's and Reed's APIs over real HTTP, in their documented shapes.

Each records the requests it got and can be told to answer the next ones with a status
(429 with Retry-After, 5xx), a body that is not JSON, or to refuse every key.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Self

from aiohttp import web
from aiohttp.test_utils import TestServer

APP_ID = "stand-in-id"
APP_KEY = "stand-in-key"
REED_KEY = "reed-stand-in-key"
START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)

_SKILLS = ("Python", "PyTorch", "RAG pipelines", "LangChain", "Kubernetes", "AWS")


def adzuna_ad(number: int, *, created: datetime | None = None) -> dict[str, Any]:
    """The number-th ad (later numbers are newer), as Adzuna's search returns it."""
    skills = ", ".join(_SKILLS[(number + k) % len(_SKILLS)] for k in range(3))
    return {
        "__CLASS__": "Adzuna::API::Response::Job",
        "id": str(4_000_000_000 + number),
        "title": "Senior AI Engineer" if number % 2 else "AI Engineer",
        "description": f"Build LLM products with {skills}. Team number {number}…",
        "created": (created or START + timedelta(minutes=10 * number)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        ),
        "company": {
            "__CLASS__": "Adzuna::API::Response::Company",
            "display_name": f"Firm {number}",
        },
        "location": {
            "__CLASS__": "Adzuna::API::Response::Location",
            "display_name": "London, UK" if number % 3 == 0 else "Leeds, West Yorkshire",
            "area": ["UK", "London"] if number % 3 == 0 else ["UK", "Yorkshire", "Leeds"],
        },
        "salary_min": 60000 + 500 * (number % 40),
        "salary_max": 70000 + 500 * (number % 40),
        # Every fifth salary is Adzuna's estimate, which must never count.
        "salary_is_predicted": "1" if number % 5 == 0 else "0",
        "contract_type": "permanent",
        "redirect_url": f"https://www.adzuna.co.uk/jobs/land/ad/{4_000_000_000 + number}",
        "category": {"label": "IT Jobs", "tag": "it-jobs"},
    }


class LocalServer:
    """An aiohttp app on a free port of this machine, for `async with`."""

    server: TestServer | None = None

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def url_of(self, path: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(path))

    async def __aenter__(self) -> Self:
        app = web.Application()
        self.routes(app)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        await self.server.close()


@dataclass
class Scripted:
    """Answers to give before the normal ones: (status, headers, body text)."""

    answers: list[tuple[int, dict[str, str], str]] = field(default_factory=list)

    def next(self) -> web.Response | None:
        if not self.answers:
            return None
        status, headers, body = self.answers.pop(0)
        return web.Response(status=status, headers=headers, text=body)


class AdzunaStandIn(LocalServer):
    def __init__(self) -> None:
        self.ads: list[dict[str, Any]] = []
        self.requests: list[dict[str, str]] = []
        self.script = Scripted()
        # Answers for one page only, by page number: e.g. {"2": Scripted([(429, …)])}.
        self.page_script: dict[str, Scripted] = {}
        self.refuse_keys = False

    def add_ads(self, first: int, count: int) -> None:
        self.ads += [adzuna_ad(number) for number in range(first, first + count)]

    async def search(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.requests.append({"page": request.match_info["page"], **query})
        scripted = self.script.next()
        if scripted is None and request.match_info["page"] in self.page_script:
            scripted = self.page_script[request.match_info["page"]].next()
        if scripted is not None:
            return scripted
        if self.refuse_keys or query.get("app_id") != APP_ID or query.get("app_key") != APP_KEY:
            return web.json_response(
                {"exception": "AUTH_FAIL", "display": "Authorisation failed", "doc": ""},
                status=401,
            )
        per_page = int(query.get("results_per_page", 10))
        if per_page > 50:
            return web.json_response({"exception": "BAD_PARAM"}, status=400)
        page = int(request.match_info["page"])
        ordered = sorted(self.ads, key=lambda ad: (ad["created"], ad["id"]), reverse=True)
        chosen = ordered[(page - 1) * per_page : page * per_page]
        return web.json_response(
            {
                "__CLASS__": "Adzuna::API::Response::JobSearchResults",
                "count": len(ordered),
                "mean": 65000,
                "results": chosen,
            }
        )

    @property
    def url(self) -> str:
        return self.url_of("/v1/api")

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/v1/api/jobs/{country}/search/{page}", self.search)


def reed_result(number: int) -> dict[str, Any]:
    """The number-th ad as Reed's search lists it (later numbers are newer)."""
    posted = START + timedelta(days=number // 20)
    return {
        "jobId": 55_000_000 + number,
        "employerId": 1000 + number,
        "employerName": f"Employer {number}",
        "jobTitle": "Machine Learning Engineer" if number % 2 else "AI Engineer",
        "locationName": "London" if number % 2 else "Manchester",
        "minimumSalary": 550.0 if number % 4 == 1 else 65000.0,
        "maximumSalary": 600.0 if number % 4 == 1 else 80000.0,
        "currency": "GBP",
        "expirationDate": (posted + timedelta(days=42)).strftime("%d/%m/%Y"),
        "date": posted.strftime("%d/%m/%Y"),
        "jobDescription": f"Snippet of ad {number}: Python and …",
        "applications": 3,
        "jobUrl": f"https://www.reed.co.uk/jobs/ai-engineer/{55_000_000 + number}",
    }


def reed_detail(number: int) -> dict[str, Any]:
    result = reed_result(number)
    daily = number % 4 == 1
    return {
        **{k: v for k, v in result.items() if k not in ("date", "applications")},
        "datePosted": result["date"],
        "salaryType": "per day" if daily else "per annum",
        "salary": "£550 - £600 per day" if daily else "£65,000 - £80,000 per annum",
        "contractType": "Contract" if daily else "Permanent",
        "jobDescription": (
            f"<p>Ad {number}. You will build <strong>RAG</strong> systems in Python with "
            f"PyTorch and deploy on Kubernetes &amp; AWS.</p>"
        ),
        "applicationCount": 3,
    }


class ReedStandIn(LocalServer):
    def __init__(self) -> None:
        self.numbers: list[int] = []
        self.requests: list[dict[str, str]] = []
        self.script = Scripted()

    def add_ads(self, first: int, count: int) -> None:
        self.numbers += list(range(first, first + count))

    def _authorised(self, request: web.Request) -> bool:
        expected = "Basic " + base64.b64encode(f"{REED_KEY}:".encode()).decode()
        return request.headers.get("Authorization") == expected

    async def search(self, request: web.Request) -> web.Response:
        self.requests.append({"path": "/search", **request.query})
        scripted = self.script.next()
        if scripted is not None:
            return scripted
        if not self._authorised(request):
            return web.Response(status=401, text="Unauthorized")
        take = min(100, int(request.query.get("resultsToTake", 100)))
        skip = int(request.query.get("resultsToSkip", 0))
        ordered = sorted(self.numbers, reverse=True)
        return web.json_response(
            {
                "results": [reed_result(n) for n in ordered[skip : skip + take]],
                "ambiguousLocations": [],
                "totalResults": len(ordered),
            }
        )

    async def detail(self, request: web.Request) -> web.Response:
        self.requests.append({"path": f"/jobs/{request.match_info['job']}"})
        scripted = self.script.next()
        if scripted is not None:
            return scripted
        if not self._authorised(request):
            return web.Response(status=401, text="Unauthorized")
        number = int(request.match_info["job"]) - 55_000_000
        if number not in self.numbers:
            return web.Response(status=404)
        return web.json_response(reed_detail(number))

    @property
    def url(self) -> str:
        return self.url_of("/api/1.0")

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/api/1.0/search", self.search)
        app.router.add_get("/api/1.0/jobs/{job}", self.detail)


class FakeTime:
    """A clock that only moves when something sleeps on it (or a test moves it)."""

    def __init__(self, start: datetime) -> None:
        self.moment = start
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.moment

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.moment += timedelta(seconds=seconds)

    def advance(self, delta: timedelta) -> None:
        self.moment += delta
