"""Every cut of text for Slack goes through one helper, clip(): it never leaves half a mention,
a broken ``&amp;``, half a link or half an emoji, and it always fits the limit Slack counts."""

from __future__ import annotations

import re

import pytest
import regex

from commands.blocks.common import ELLIPSIS, clip, slack_len, truncate, user_text

CORPUS = [
    "please look at <@U0ANA0001> and <@U0ANA0002|maria> before <!here> wakes up",
    "moved from <#C0ESC0001|escalations> to <#C0APR0001> by <!subteam^S0TNS0001|@tns-oncall>",
    "due <!date^1795000000^{date_short_pretty} {time}|2026-11-23 10:00 UTC> — see "
    "<https://example.com/a?b=c&amp;d=e|the ticket>",
    "Tom &amp; Jerry &lt;script&gt; &#39;quoted&#39; &amp;&amp;&amp;",
    "evidence: https://example.com/very/long/path/to/a/screenshot.png?signature=abcdef0123456789 and more",
    "Мошенник продаёт аккаунты acct_123 и acct_456, пишите в поддержку немедленно пожалуйста",
    "👍🏽👍🏽 family 👨‍👩‍👧‍👦 flags 🇫🇷🇩🇪🇯🇵 keycap 1️⃣ accents e\u0301e\u0301e\u0301 done",
    "a" * 50 + "<@U0ANA0001>" + "b" * 50,
]
ENTITY = re.compile(r"<[^<>\n]*>|&(?:amp|lt|gt|#\d+);|https?://[^\s<>]+")


def _safe_cut(original: str, kept: str) -> bool:
    """The cut falls between grapheme clusters and outside every entity and bare link."""
    cut = len(kept)
    if not original.startswith(kept):
        return False
    if any(m.start() < cut < m.end() for m in ENTITY.finditer(original)):
        return False
    boundaries = {0}
    for cluster in regex.finditer(r"\X", original):
        boundaries.add(cluster.end())
    return cut in boundaries


@pytest.mark.parametrize("text", CORPUS)
def test_every_cut_of_the_corpus_is_safe_and_fits(text: str) -> None:
    for limit in range(0, slack_len(text) + 2):
        clipped = clip(text, limit)
        assert slack_len(clipped) <= limit, (limit, clipped)
        if slack_len(text) <= limit:
            assert clipped == text
            continue
        if limit == 0:
            assert clipped == ""
            continue
        assert clipped.endswith(ELLIPSIS)
        assert _safe_cut(text, clipped[: -len(ELLIPSIS)]), (limit, clipped)


def test_a_mention_across_the_cut_is_dropped_whole_not_split() -> None:
    text = "a" * 50 + "<@U0ANA0001>" + "b" * 50
    assert clip(text, 56) == "a" * 50 + ELLIPSIS
    assert clip(text, 63) == "a" * 50 + "<@U0ANA0001>" + ELLIPSIS


def test_emoji_count_as_slack_counts_them_and_are_never_split() -> None:
    assert slack_len("👍") == 2 and slack_len("Мошенник") == 8
    thumbs = "👍🏽" * 10  # each is two code points, four UTF-16 units
    assert clip(thumbs, 9) == "👍🏽👍🏽" + ELLIPSIS
    family = "👨‍👩‍👧‍👦 ok"
    assert clip(family, 5) == ELLIPSIS


def test_user_text_escapes_before_it_cuts_so_an_entity_is_never_half_kept() -> None:
    assert user_text("Tom & Jerry", 8) == "Tom " + ELLIPSIS
    assert user_text("<!channel> now", 100) == "&lt;!channel&gt; now"
    assert user_text("x" * 10 + "&", 12) == "x" * 10 + ELLIPSIS
    assert truncate("fits", 4) == "fits"
