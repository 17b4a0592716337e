"""What someone typed is echoed inside a code span, so Slack shows it as typed: `*bold*`,
`_this_`, `~that~` and bare URLs stay literal; `<!channel>` and JSON stay neutralised."""

from __future__ import annotations

import json

from templates import as_typed, render_message
from tests.slack_helpers import SlackAppHarness

MARKUP = "*bold* _slanted_ ~struck~ https://evil.example/x"


def mrkdwn_texts(message: dict[str, object] | object) -> str:
    return json.dumps(message, ensure_ascii=False)


def test_typed_text_becomes_one_code_span() -> None:
    assert as_typed(MARKUP) == f"`{MARKUP}`"
    assert as_typed("  two\nlines ") == "`two lines`"
    assert as_typed("") == ""
    # A backtick would close the span and let the rest be formatted.
    assert as_typed("a` *b*") == "`aˋ *b*`"


def test_an_unknown_role_is_quoted_as_typed_in_blocks_and_fallback() -> None:
    typed = f"{MARKUP} <!channel> `x`"
    message = render_message(
        "did_you_mean.j2", kind="role", typed=typed, ambiguous=False, suggestions=[], known=[]
    )
    expected = "`*bold* _slanted_ ~struck~ https://evil.example/x &lt;!channel&gt; ˋxˋ`"
    assert f"doesn't know the role {expected}." in message.text
    section = message.blocks[0]["text"]["text"]
    assert f"doesn't know the role {expected}." in section
    assert "<!channel>" not in mrkdwn_texts(message.blocks)


def test_unrecognised_skills_are_quoted_as_typed() -> None:
    message = render_message(
        "check_nothing.j2", unknown=["*rust*", "http://x.example"], ambiguous=[], suggestions=[]
    )
    assert "`*rust*`, `http://x.example`" in message.text
    assert "`*rust*`, `http://x.example`" in mrkdwn_texts(message.blocks)


def test_an_unknown_subcommand_cannot_close_its_code_span() -> None:
    message = render_message("problem.j2", problem="unknown_command", command="x` *loud*")
    assert "`/skillgap xˋ *loud*`" in message.text


async def test_a_typed_role_comes_back_verbatim_through_the_app(
    slack_app: SlackAppHarness,
) -> None:
    answer = await slack_app.command("role *underwater* https://weld.example")
    assert "`*underwater* https://weld.example`" in answer.text
