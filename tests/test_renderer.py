"""The template renderer: hostile text stays text, JSON stays valid, limits are kept."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from templates import (
    ENVIRONMENT,
    escape_mrkdwn,
    fit_blocks,
    parse_rendered,
    render_json,
    validate_blocks,
)

HOSTILE = [
    "<!channel>",
    "<!here|here>",
    "<@U012345>",
    "<https://evil.example|click me>",
    '"}], "blocks": [{"type": "divider"}]} ',
    "a\\b\\\\c",
    "Tom & Jerry's <b>",
    "line\nbreak\ttab\x00nul\u2028sep",
    "\u202eevil\u200b",
]


def render_section(value: object) -> dict[str, object]:
    template = ENVIRONMENT.from_string(
        '{"text": "Hi {{ value }}", "blocks": [{"type": "section",'
        ' "text": {"type": "mrkdwn", "text": "*{{ value }}*"}},]}'
    )
    return dict(parse_rendered(template.render(value=value)))


def test_hostile_strings_cannot_ping_link_or_break_json() -> None:
    for value in HOSTILE:
        document = render_section(value)
        text = document["blocks"][0]["text"]["text"]  # type: ignore[index]
        assert "<" not in text and ">" not in text
        assert text == f"*{escape_mrkdwn(value)}*"
        assert len(document["blocks"]) == 1  # type: ignore[arg-type]


@given(st.text(max_size=500))
def test_any_text_renders_to_valid_blocks(value: str) -> None:
    document = render_section(value)
    blocks = fit_blocks(document["blocks"], 50)  # type: ignore[arg-type]
    validate_blocks(blocks)
    assert "<" not in json.dumps(blocks, ensure_ascii=False)


def test_trailing_commas_are_allowed_but_strings_untouched() -> None:
    template = ENVIRONMENT.from_string('{"text": "{{ value }}", "blocks": [],}')
    raw = template.render(value="keep ,] and ,} inside")
    assert raw.endswith(",}")
    assert parse_rendered(raw)["text"] == "keep ,] and ,} inside"


def test_long_content_is_cut_to_slack_limits_with_a_note() -> None:
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 5000}} for _ in range(70)
    ]
    fitted = fit_blocks(blocks, 50)
    validate_blocks(fitted)
    assert len(fitted) == 50
    assert len(fitted[0]["text"]["text"]) == 3000
    assert "21 more not shown" in fitted[-1]["elements"][0]["text"]


def test_render_json_rejects_a_missing_template() -> None:
    try:
        render_json("no-such-template.j2")
    except Exception as problem:  # jinja2's TemplateNotFound
        assert "no-such-template" in str(problem)
    else:
        raise AssertionError("a missing template must not render")
