"""Whatever anyone types after /skillgap, the reply is a valid, safe and helpful message."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from commands.parser import clean_text, parse_role_query, split_subcommand
from tests.commands.helpers import assert_valid_message, texts_of
from tests.slack_helpers import SlackAppHarness

WORDS = ["role", "gaps", "skill", "salary", "emerging", "path", "roles", "help", "in", "london"]
HOSTILE = [
    "<!channel>",
    "<!here|here>",
    "<@U123>",
    "<#C123>",
    "<https://evil.example|click>",
    "&amp;",
    "&",
    '"',
    "'",
    "\\",
    "\\n",
    "\n",
    "\t",
    "\x00",
    "\x1b[31m",
    '"}]}',
    "{{ 7*7 }}",
    "{% raw %}",
    "*bold*",
    "`code`",
    "\u202eRTL",
    "\u200bzero\u200dwidth",
    "عربى",
    "😀",
    "ai eng",
]

command_texts = st.one_of(
    st.text(max_size=300),
    st.tuples(st.sampled_from(WORDS), st.text(max_size=120)).map(" ".join),
    st.lists(st.sampled_from(WORDS + HOSTILE), max_size=25).map(" ".join),
    st.tuples(st.sampled_from(WORDS), st.integers(1000, 10_240)).map(
        lambda pair: f"{pair[0]} " + ("<!channel>x" * pair[1])[: pair[1]]
    ),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=command_texts)
@example(text="SKILL C:TE")  # a skill without figures once answered with no way on
async def test_any_command_text_gets_a_valid_helpful_reply(
    slack_app: SlackAppHarness, text: str
) -> None:
    answer = await slack_app.command(text)
    assert answer.status == 200
    assert answer.ack_body is not None
    assert_valid_message(answer.ack_body)
    shown = texts_of(answer.ack_body)
    assert "hit a problem" not in shown  # no handler crashed
    # Either an answer with its source, or words that point somewhere useful.
    assert "Source:" in shown or "/skillgap" in shown or "SkillGap knows" in shown


@given(st.text(max_size=2000))
def test_parsing_never_fails_and_stays_bounded(text: str) -> None:
    cleaned = clean_text(text)
    assert len(cleaned) <= 1000
    assert "\n" not in cleaned and "\x00" not in cleaned
    name, rest = split_subcommand(text)
    assert " " not in name
    query = parse_role_query(rest)
    assert len(query.role) <= 1000


@pytest.mark.parametrize(
    ("text", "role", "region", "unknown"),
    [
        ("ai engineer in London", "ai engineer", "London", ""),
        ("ai engineer in the UK", "ai engineer", "UK", ""),
        ("for ai engineer", "ai engineer", "UK", ""),
        ("in london", "", "London", ""),
        ("software engineer in test", "software engineer in test", "UK", "test"),
        ("ai engineer", "ai engineer", "UK", ""),
    ],
)
def test_role_and_region_are_told_apart(text: str, role: str, region: str, unknown: str):
    query = parse_role_query(text)
    assert (query.role, query.region, query.unknown_region) == (role, region, unknown)
