"""The Bolt internals bot/bolt_compat.py relies on, pinned to the versions it was checked with."""

from __future__ import annotations

import inspect

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.listener.asyncio_runner import AsyncioListenerRunner
from slack_bolt.version import __version__ as bolt_version

from bot.bolt_compat import CHECKED_BOLT_VERSIONS, PromptAckRunner, use_prompt_ack_runner


def test_bolt_is_a_version_the_changes_were_checked_against() -> None:
    assert bolt_version in CHECKED_BOLT_VERSIONS, (
        f"Bolt {bolt_version}: re-check bot/bolt_compat.py against it (the runner's steps, "
        "the lazy-request copy, respond), then add it to CHECKED_BOLT_VERSIONS"
    )


def test_the_runner_bolt_builds_is_the_one_replaced() -> None:
    app = AsyncApp(signing_secret="secret", token="xoxb-test")
    assert type(app._async_listener_runner) is AsyncioListenerRunner
    use_prompt_ack_runner(app)
    assert isinstance(app._async_listener_runner, PromptAckRunner)


def test_the_runner_internals_used_still_have_their_shape() -> None:
    # PromptAckRunner calls and overrides these private methods of Bolt's runner.
    signatures = {
        "_start_lazy_function": ["self", "lazy_func", "request"],
        "_build_lazy_request": ["self", "request", "lazy_func_name"],
        "_debug_log_completion": ["self", "starting_time", "response"],
    }
    for name, parameters in signatures.items():
        method = getattr(AsyncioListenerRunner, name)
        assert list(inspect.signature(method).parameters) == parameters, name


def test_respond_still_takes_a_response_url() -> None:
    assert "response_url" in inspect.signature(AsyncRespond.__init__).parameters
