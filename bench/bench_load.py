"""Load benchmark: signed `/skillgap role` requests against `skillgap serve` vs a bare Bolt app.

Both servers run as subprocesses on loopback under uvicorn with Bolt's ASGI adapter; their
Web API is a SlackStub in this process, which also receives response_url posts. Each request
is timed until its answer reaches the user: the ack body if it carries the answer, else the
first response_url post or Web API call that does. The baseline is a bare Bolt app acking a
fixed text with process_before_response=True (Bolt's fastest setting).

    .venv/bin/python bench/bench_load.py            # prints p50/p99, requests/s and ratios

Each setting (4 and 16 concurrent clients) runs 2 alternating rounds of at least 1,000
requests per server; every ratio is printed beside its target (issue 15: p50 and p99 within
1.2x of bare Bolt, requests/s at least 0.85x).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.slack_requests import SlackUser, signed_headers, slash_command_body  # noqa: E402
from bot.slack_stub import RESPONSE_URL_METHOD, RecordedCall, SlackStub  # noqa: E402

SIGNING_SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench"
COMMAND_TEXT = "role ai engineer"
# Both answers name the role: the card's title, and the bare app's fixed text.
ANSWER_MARKER = "AI Engineer"
BARE_TEXT = "AI Engineer: a fixed answer"
WARMUP_REQUESTS = 30
# A p99 from a few hundred samples is noise on a small machine: each round is at least this.
REQUESTS_PER_ROUND = 1_000
CONCURRENCY = (4, 16)
# Servers and clients share the machine's cores with whatever else runs: alternating rounds
# of the two servers spreads that noise evenly over both.
ROUNDS = 2
# Issue 15: p50 and p99 within 1.2x of bare Bolt, and at least 0.85x its requests/s.
TARGETS = {"p50": 1.2, "p99": 1.2, "rps": 0.85}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- the bare Bolt app (run as: bench_load.py --bare-server PORT API_URL) --------------------


def run_bare_server(port: int, api_url: str) -> None:
    import uvicorn
    from slack_bolt.adapter.asgi.async_handler import AsyncSlackRequestHandler
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    async def main() -> None:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=api_url, session=aiohttp.ClientSession())
        app = AsyncApp(client=client, signing_secret=SIGNING_SECRET, process_before_response=True)

        @app.command("/skillgap")
        async def fixed(ack: AsyncAck) -> None:
            await ack(response_type="ephemeral", text=BARE_TEXT)

        config = uvicorn.Config(
            AsyncSlackRequestHandler(app),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="on",
        )
        await uvicorn.Server(config).serve()

    asyncio.run(main())


# -- measuring ------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    clients: int
    latencies: list[float]
    seconds: float
    failures: int

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies)

    @property
    def p99(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds


def _carries_answer(payload: Any) -> bool:
    return ANSWER_MARKER in json.dumps(payload, ensure_ascii=False)


class Bench:
    def __init__(self, stub: SlackStub) -> None:
        self.stub = stub

    async def one_request(self, session: aiohttp.ClientSession, url: str, number: int) -> float:
        response_id = uuid.uuid4().hex
        channel = f"C{number:08d}"
        user = SlackUser(channel_id=channel)
        body = slash_command_body(
            COMMAND_TEXT, user=user, response_url=self.stub.response_url(response_id)
        )
        headers = signed_headers(SIGNING_SECRET, body)
        started = time.monotonic()
        async with session.post(url, data=body.encode(), headers=headers) as response:
            text = await response.text()
            acked = time.monotonic()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}: {text[:200]}")
        if ANSWER_MARKER in text:  # plain substring: same client cost for either server
            return acked - started
        # The answer follows the ack: wait for the call that carries it.

        def carries_ours(call: RecordedCall) -> bool:
            if call.method == RESPONSE_URL_METHOD:
                mine = call.response_url_id == response_id
            else:
                mine = call.args.get("channel") == channel
            return mine and _carries_answer(call.args)

        first = (await self.stub.wait_for(carries_ours, within=10))[0]
        return first.monotonic - started

    async def load(self, name: str, url: str, clients: int, per_client: int) -> Result:
        latencies: list[float] = []
        failures = 0
        counter = iter(range(10**9))

        async def client() -> None:
            nonlocal failures
            connector = aiohttp.TCPConnector(limit=1)
            async with aiohttp.ClientSession(connector=connector) as session:
                for _ in range(per_client):
                    try:
                        latencies.append(await self.one_request(session, url, next(counter)))
                    except Exception as error:
                        failures += 1
                        print(f"  {name}: request failed: {error}", file=sys.stderr)

        started = time.monotonic()
        await asyncio.gather(*(client() for _ in range(clients)))
        seconds = time.monotonic() - started
        self.stub.calls.clear()
        return Result(name, clients, latencies, seconds, failures)


async def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    async with asyncio.timeout(60), aiohttp.ClientSession() as session:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}")
            try:
                async with session.post(url, data=b"") as response:
                    if response.status in (200, 401, 404):
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)


def start_servers(
    api_url: str, database: Path
) -> tuple[dict[str, str], list[subprocess.Popen[bytes]]]:
    skillgap_port, bare_port = free_port(), free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "SKILLGAP_")) and key != "DATABASE_URL"
    }
    env.update(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=api_url,
        SKILLGAP_RESPONSE_URL_BASE=api_url.removesuffix("/api/"),
        SKILLGAP_DATABASE_URL=f"sqlite:///{database}",
        SKILLGAP_LOG_LEVEL="warning",
    )
    skillgap_bin = Path(sys.executable).parent / "skillgap"
    skillgap = subprocess.Popen(
        [str(skillgap_bin), "serve", "--host", "127.0.0.1", "--port", str(skillgap_port)],
        env=env,
        cwd=database.parent,
    )
    bare = subprocess.Popen(
        [sys.executable, __file__, "--bare-server", str(bare_port), api_url], env=env
    )
    urls = {
        "bare Bolt": f"http://127.0.0.1:{bare_port}/slack/events",
        "skillgap": f"http://127.0.0.1:{skillgap_port}/slack/events",
    }
    return urls, [bare, skillgap]


def pooled(results: list[Result]) -> Result:
    first = results[0]
    return Result(
        first.name,
        first.clients,
        [latency for result in results for latency in result.latencies],
        sum(result.seconds for result in results),
        sum(result.failures for result in results),
    )


def report(bare: Result, ours: Result) -> list[str]:
    lines = []
    for result in (bare, ours):
        lines.append(
            f"  {result.name:<10} clients={result.clients:<3} n={len(result.latencies):<5} "
            f"p50={result.p50 * 1000:7.2f} ms  p99={result.p99 * 1000:7.2f} ms  "
            f"{result.rps:8.1f} req/s  failures={result.failures}"
        )
    for what, ratio, met in verdicts(bare, ours):
        target = TARGETS[what]
        bound = f">= {target:.2f}x" if what == "rps" else f"<= {target:.2f}x"
        verdict = "met" if met else "NOT MET"
        lines.append(f"  {what:<4} skillgap/bare {ratio:5.2f}x  (target {bound})  {verdict}")
    return lines


def verdicts(bare: Result, ours: Result) -> list[tuple[str, float, bool]]:
    p50, p99, rps = ours.p50 / bare.p50, ours.p99 / bare.p99, ours.rps / bare.rps
    return [
        ("p50", p50, p50 <= TARGETS["p50"]),
        ("p99", p99, p99 <= TARGETS["p99"]),
        ("rps", rps, rps >= TARGETS["rps"]),
    ]


async def main(requests: int = REQUESTS_PER_ROUND) -> int:
    async with SlackStub() as stub:
        with tempfile.TemporaryDirectory() as scratch:
            urls, processes = start_servers(stub.api_url, Path(scratch) / "bench.db")
            try:
                for url, process in zip(urls.values(), processes, strict=True):
                    await wait_until_up(url, process)
                bench = Bench(stub)
                for name, url in urls.items():
                    await bench.load(name, url, 4, WARMUP_REQUESTS // 4)
                print("bench_load: signed /skillgap role requests, timed until the answer arrives")
                print(
                    f"  ({ROUNDS} alternating rounds per setting of >= {requests:,} requests, "
                    "pooled; ratios are skillgap/bare)"
                )
                missed = []
                for clients in CONCURRENCY:
                    per_client = -(-requests // clients)
                    rounds: dict[str, list[Result]] = {"bare Bolt": [], "skillgap": []}
                    for _ in range(ROUNDS):
                        for name, url in urls.items():
                            rounds[name].append(await bench.load(name, url, clients, per_client))
                    bare, ours = pooled(rounds["bare Bolt"]), pooled(rounds["skillgap"])
                    print("\n".join(report(bare, ours)))
                    missed += [
                        f"{what} at c={clients}" for what, _, met in verdicts(bare, ours) if not met
                    ]
                print(
                    "  targets: " + ("all met" if not missed else "NOT MET: " + ", ".join(missed))
                )
            finally:
                for process in processes:
                    process.terminate()
                for process in processes:
                    process.wait(timeout=10)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bare-server", nargs=2, metavar=("PORT", "API_URL"))
    parser.add_argument(
        "--requests", type=int, default=REQUESTS_PER_ROUND, help="requests per round (>= 1000)"
    )
    arguments = parser.parse_args()
    if arguments.bare_server:
        run_bare_server(int(arguments.bare_server[0]), arguments.bare_server[1])
    else:
        sys.exit(asyncio.run(main(arguments.requests)))
