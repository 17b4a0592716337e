"""The same card asked for again: answered from what was worked out the first time."""

from __future__ import annotations

from commands.lookup import render_card
from templates import SlackMessage
from tests.slack_helpers import SlackAppHarness


async def test_a_card_asked_for_again_reuses_its_encoded_ack(slack_app: SlackAppHarness):
    first = await slack_app.command("role ai engineer")
    again = await slack_app.command("role ai engineer")
    assert first.ack_body is not None and "AI Engineer" in first.ack_body["text"]
    assert first.response.body == again.response.body
    # The very same text object: encoded once, not again for the second ack.
    assert first.response.body is again.response.body
    assert again.response.headers["content-type"] == first.response.headers["content-type"]
    london = await slack_app.command("role ai engineer in London")
    assert london.response.body != first.response.body
    assert london.ack_body is not None and "London" in london.ack_body["text"]


def test_a_rendered_card_does_not_work_out_its_context_again() -> None:
    worked_out: list[int] = []
    figures = object()

    def context() -> dict[str, object]:
        worked_out.append(1)
        return {"problem": "internal", "command": "role"}

    first = render_card(figures, ("key",), "problem.j2", context)
    again = render_card(figures, ("key",), "problem.j2", context)
    assert isinstance(first, SlackMessage) and again is first
    assert len(worked_out) == 1
    other = render_card(object(), ("key",), "problem.j2", context)
    assert other == first and len(worked_out) == 2
