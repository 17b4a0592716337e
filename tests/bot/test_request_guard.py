"""The check in HTTP mode's door: whatever it lets through, Bolt can read without raising
(property-based: random payloads built from the fields Bolt looks at)."""

from __future__ import annotations

import inspect
import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_bolt.request import payload_utils
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.bolt_compat import read_checked_request
from bot.request_guard import MalformedBody, is_allowed_response_url


def read_at_the_door(text: str, content_type: str | None) -> dict[str, Any]:
    """What HTTP mode's door lets through to the app, read as the app will read it."""
    headers: dict[str, str | Sequence[str]] = {"content-type": content_type or ""}
    return read_checked_request(text, query="", headers=headers).body


TYPES = [
    "block_actions",
    "interactive_message",
    "view_submission",
    "view_closed",
    "shortcut",
    "message_action",
    "event_callback",
    "block_suggestion",
    "dialog_submission",
    "workflow_step_edit",
    "url_verification",
]
KEYS = [
    "type",
    "team",
    "user",
    "channel",
    "view",
    "event",
    "message",
    "previous_message",
    "container",
    "item",
    "actions",
    "authorizations",
    "response_url",
    "response_urls",
    "callback_id",
    "action_id",
    "command",
    "enterprise",
    "function_data",
    "assistant_thread",
    "workflow_step",
    "team_id",
    "user_id",
    "channel_id",
    "is_enterprise_install",
]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=5), st.sampled_from(TYPES)
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=5),
    ),
    max_leaves=12,
)
payloads = st.dictionaries(st.sampled_from(KEYS), values, max_size=8)

BOLT_READERS = [
    function
    for name, function in inspect.getmembers(payload_utils, inspect.isfunction)
    if (name.startswith(("to_", "is_"))) and len(inspect.signature(function).parameters) == 1
]


def bolt_reads(text: str, content_type: str) -> None:
    request = AsyncBoltRequest(body=text, headers={"content-type": content_type})
    for read in BOLT_READERS:
        read(request.body)


@settings(max_examples=300, deadline=None)
@given(payloads)
def test_every_payload_the_check_accepts_bolt_can_read(payload: dict[str, Any]) -> None:
    for text, content_type in (
        (json.dumps(payload), "application/json"),
        (urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"),
    ):
        try:
            read_at_the_door(text, content_type)
        except MalformedBody:
            continue
        bolt_reads(text, content_type)


@given(st.binary(max_size=64).map(lambda raw: raw.decode("latin-1")))
def test_any_text_is_either_refused_or_readable(text: str) -> None:
    for content_type in ("application/json", "application/x-www-form-urlencoded", None):
        try:
            read_at_the_door(text, content_type)
        except MalformedBody:
            continue
        bolt_reads(text, content_type or "")


def test_only_slacks_response_urls_and_the_configured_base_are_allowed() -> None:
    allowed = "http://127.0.0.1:8123"
    assert is_allowed_response_url("https://hooks.slack.com/commands/T1/2/x")
    assert is_allowed_response_url("http://127.0.0.1:8123/response/1", allowed)
    for url in (
        "http://hooks.slack.com/commands/T1",
        "https://hooks.slack.com.evil.example/x",
        "https://hooks.slack.com@evil.example/x",
        "https://user:pw@hooks.slack.com/x",
        "https://hooks.slack.com:8443/x",
        "https://evil.example/https://hooks.slack.com/",
        "http://127.0.0.1:8124/response/1",
        "http://169.254.169.254/latest/meta-data",
        "file:///etc/passwd",
        "http://127.0.0.1:notaport/x",
    ):
        assert not is_allowed_response_url(url, allowed), url


def test_payloads_as_slack_sends_them_pass() -> None:
    message = {"type": "message", "user": "U1", "team": "T1", "text": "hi", "ts": "1.2"}
    button = {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "x"},
        "user": {"id": "U1", "team_id": "T1"},
        "channel": {"id": "C1", "name": "general"},
        "container": {"type": "message", "message_ts": "1.2"},
        "message": message,
        "enterprise": None,
        "actions": [{"action_id": "a", "type": "button", "value": "v"}],
        "response_url": "https://hooks.slack.com/actions/T1/1/x",
    }
    edited = {
        "type": "message",
        "subtype": "message_changed",
        "channel": "C1",
        "message": message,
        "previous_message": message,
    }
    for payload in (
        button,
        {"type": "event_callback", "team_id": "T1", "event": edited},
        {"type": "event_callback", "event": {"type": "reaction_added", "item": {"channel": "C1"}}},
        {"type": "event_callback", "event": {"type": "app_mention", "user": "U1", "channel": "C1"}},
        {"type": "view_submission", "team": None, "user": {"id": "U1"}, "view": {"type": "modal"}},
        {"type": "url_verification", "challenge": "abc"},
    ):
        text = json.dumps(payload)
        assert read_at_the_door(text, "application/json") == payload
        bolt_reads(text, "application/json")


def test_json_nested_beyond_any_payload_is_refused() -> None:
    for text in ("[" * 100_000, '{"type": "event_callback", "event": ' * 3000):
        try:
            read_at_the_door(text, "application/json")
        except MalformedBody:
            continue
        raise AssertionError("accepted")


@pytest.mark.parametrize(
    ("text", "content_type", "said"),
    [
        ("{oops", "application/json", "is not valid JSON"),
        (urlencode({"payload": "{oops"}), "application/x-www-form-urlencoded", "not valid JSON"),
        ("[1, 2]", "application/json", "Bolt cannot read"),
        (urlencode({"payload": '"x"'}), "application/x-www-form-urlencoded", "Bolt cannot read"),
        ("[" * 50_000, "application/json", "is not valid JSON"),
        ('{"type": "event_callback", "event": "x"}', "application/json", "event is not an object"),
        ('{"type": "view_submission", "view": {}}', "application/json", "the view has no type"),
    ],
)
def test_the_door_says_what_is_wrong_with_a_body(text: str, content_type: str, said: str) -> None:
    with pytest.raises(MalformedBody, match=said):
        read_at_the_door(text, content_type)
