"""`skillgap feeds …` end to end against an Adzuna stand-in served from its own thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from bot.cli import app
from db.engine import create_engine
from db.feeds import store
from db.settings import load_settings
from tests.feeds.standins import APP_ID, APP_KEY, AdzunaStandIn

T = TypeVar("T")


@pytest.fixture
def adzuna() -> Iterator[AdzunaStandIn]:
    """The stand-in on a loop of its own: the CLI runs its own asyncio loop."""
    standin = AdzunaStandIn()
    loop = asyncio.new_event_loop()
    started = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(standin.__aenter__())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(10)
    yield standin
    asyncio.run_coroutine_threadsafe(standin.__aexit__(None, None, None), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, adzuna: AdzunaStandIn) -> Path:
    database = tmp_path / "feeds.db"
    monkeypatch.setenv("SKILLGAP_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("ADZUNA_API_URL", adzuna.url)
    monkeypatch.setenv("ADZUNA_APP_ID", APP_ID)
    monkeypatch.setenv("ADZUNA_APP_KEY", APP_KEY)
    return database


def _with_engine(work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    async def go() -> T:
        engine = create_engine(load_settings().database_url)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_add_run_then_only_the_new_ads(cli_env: Path, adzuna: AdzunaStandIn) -> None:
    adzuna.add_ads(0, 120)
    code, out, _ = invoke("feeds", "add", "adzuna", "--what", "ai engineer", "--where", "london")
    assert code == 0, out
    assert out.startswith(
        'Added Feed 1: Adzuna "ai engineer" in london (gb), public, daily at 04:30'
    )

    code, out, err = invoke("feeds", "run", "--all")
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == "Feed 1: 120 new, 0 already known (3 request(s))."
    assert max(int(r["results_per_page"]) for r in adzuna.requests) <= 50

    adzuna.requests.clear()
    adzuna.add_ads(120, 10)
    code, out, _ = invoke("feeds", "run", "--all")
    assert code == 0
    assert out.splitlines()[0] == "Feed 1: 10 new, 0 already known (1 request(s))."
    assert 1 <= len(adzuna.requests) <= 2
    assert all(int(r["results_per_page"]) <= 50 for r in adzuna.requests)

    code, out, _ = invoke("feeds", "list")
    assert code == 0
    assert "    ads stored: 130 over 2 run(s)" in out
    assert "done: 10 new, 0 already known, 1 request(s)" in out
    assert "next run: " in out
    assert "Adzuna's search gives truncated descriptions" in out


def test_a_wrong_key_is_one_clear_line_and_a_failing_status(
    cli_env: Path, adzuna: AdzunaStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    adzuna.add_ads(0, 5)
    monkeypatch.setenv("ADZUNA_APP_KEY", "wrong-key")
    added = invoke(
        "feeds", "add", "adzuna", "--what", "ai engineer", "--team", "T0TEAM", "--admin", "U0ADM"
    )
    assert added[0] == 0
    invoke("feeds", "add", "folder", str(cli_env.parent))
    code, out, err = invoke("feeds", "run", "--all")
    assert code == 1
    assert err == (
        "Feed 1: Adzuna refused the key (HTTP 401): check ADZUNA_APP_ID and ADZUNA_APP_KEY, "
        "then `skillgap feeds run 1`; the feed is stopped until then. "
        "So far: 0 new, 0 already known (1 request(s)).\n"
    )
    assert "Traceback" not in out + err and "wrong-key" not in out + err
    # The other feed went on.
    assert out == "Feed 2: 0 new, 0 already known (0 request(s)).\n"
    code, out, _ = invoke("feeds", "list")
    assert "next run: none, stopped: Adzuna refused the key" in out
    # A stopped feed is left out of --all (saying so) until it is run by its number.
    code, out, err = invoke("feeds", "run", "--all")
    assert (code, err) == (0, "")
    assert out.startswith("Feed 1: stopped, not run (Adzuna refused the key (HTTP 401)")
    assert len(adzuna.requests) == 1
    stored = _with_engine(lambda engine: store.get_feed(engine, 1))
    assert stored is not None and stored.added_by == "U0ADM"


def test_bad_input_gets_one_line_and_no_traceback(cli_env: Path, tmp_path: Path) -> None:
    cases = [
        (("feeds", "run"), "Give one feed number (`skillgap feeds run 3`) or --all.\n"),
        (("feeds", "run", "9"), "No feed 9; `skillgap feeds list` shows them.\n"),
        (("feeds", "remove", "9"), "No feed 9; `skillgap feeds list` shows them.\n"),
        (
            ("feeds", "add", "url", "http://example.com/ads.csv"),
            "'http://example.com/ads.csv' is not an HTTPS URL; a feed fetches https://… "
            "addresses only.\n",
        ),
        (
            ("feeds", "add", "folder", str(tmp_path / "missing")),
            f"{str(tmp_path / 'missing')!r} is not a folder this machine can read.\n",
        ),
        (
            ("feeds", "add", "adzuna", "--what", "ai", "--admin", "@bob"),
            None,
        ),
        (
            ("feeds", "add", "adzuna", "--what", "ai", "--every", "hourly"),
            "unknown schedule 'hourly'; use daily or weekly.\n",
        ),
    ]
    for args, message in cases:
        code, _, err = invoke(*args)
        if message is None:  # refused by the option's own check, as typer words it
            assert code == 2 and "expected a Slack user id such as U0123ABCD" in err
            assert "Traceback" not in err
            continue
        assert (code, err) == (1, message), args


def test_remove(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REED_API_KEY", raising=False)
    code, _, err = invoke("feeds", "add", "reed", "--keywords", "ml engineer", "--every", "weekly")
    assert code == 0 and err == "REED_API_KEY is not set: its runs will fail until it is.\n"
    code, out, _ = invoke("feeds", "list")
    assert 'Feed 1: Reed "ml engineer", public, weekly on Mon at 04:30 Europe/London' in out
    code, out, _ = invoke("feeds", "remove", "1")
    assert (code, out) == (0, "Removed feed 1; the ads it stored stay in the figures.\n")
    assert invoke("feeds", "list")[1].startswith("No feeds yet.")
