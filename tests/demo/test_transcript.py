"""How the demo's transcript reads Slack: mentions by name, links by their text, cards as
lines and buttons, and never a ping."""

from __future__ import annotations

from bot.demo import transcript
from bot.demo.transcript import render_blocks, slack_text


def test_mrkdwn_reads_as_a_person_would_see_it() -> None:
    transcript.NAMES.update({"U0ANA0001": "Ana", "C0ALR0001": "tns-alerts"})
    text = (
        "*CASE-1* claimed by <@U0ANA0001> in <#C0ALR0001|alerts>, due "
        "<!date^1764000000^{date_short}|23 Nov 10:00>; see <https://x.test/p1|the thread> "
        "&lt;ok&gt; <!channel>"
    )
    assert slack_text(text) == (
        "CASE-1 claimed by @Ana in #tns-alerts, due 23 Nov 10:00; see the thread <ok> @channel"
    )
    assert slack_text("<@U0NOBODY1> and 2*3*4") == "@U0NOBODY1 and 2*3*4"


def test_a_card_becomes_lines_and_buttons() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "REQ-1 · Suspend 2 accounts"}},
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": "*Status*\nwaiting"}, {"type": "mrkdwn", "text": "*P2*"}],
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "a"}, {"type": "mrkdwn", "text": "b"}]},
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Approve"}, "action_id": "x"},
                {"type": "button", "text": {"type": "plain_text", "text": "Reject"}, "action_id": "y"},
            ],
        },
        {"type": "input", "label": {"type": "plain_text", "text": "Reason"}},
    ]
    lines, buttons = render_blocks(blocks)
    assert lines == ["REQ-1 · Suspend 2 accounts", "  Status: waiting", "  P2", "  a · b", "  [Reason]"]
    assert buttons == ["Approve", "Reject"]
    assert render_blocks(None) == ([], [])
    assert render_blocks("not json") == (["not json"], [])
