"""Block Kit helpers shared by every surface. User text is always escaped and truncated."""

from __future__ import annotations

from typing import Any

import regex
from slack_sdk.models.blocks import ContextBlock, DividerBlock, HeaderBlock, MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

SECTION_TEXT_MAX = 3000
HEADER_TEXT_MAX = 150


def escape(text: str) -> str:
    """Slack's three control characters. Escaping `<` and `>` is what stops `<!channel>`."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


ELLIPSIS = "…"
# What a cut must keep whole: a Slack entity (<@U1>, <#C1|name>, <!here>, <!date^…|…>,
# <https://…|label>), an escaped character (&amp;), a bare link (a cut one points elsewhere),
# and a grapheme cluster (é as e + accent, 👍🏽, 👨‍👩‍👧, a flag): \X is Unicode's definition.
_ATOM = regex.compile(r"<[^<>\n]*>|&(?:amp|lt|gt|#\d+);|https?://[^\s<>]+|\X", regex.IGNORECASE)


def slack_len(text: str) -> int:
    """Length as Slack's limits count it. Slack's clients count UTF-16 code units (an emoji is
    two), which is never less than Python's len(): text within this fits either way."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def clip(text: str, limit: int) -> str:
    """``text`` if it fits ``limit``, else as much of it as fits with "…" appended, cut only
    between entities, links and grapheme clusters (see _ATOM). The one way Vigil shortens
    text for Slack: a cut never leaves half a mention, a broken ``&amp;`` or half an emoji."""
    if slack_len(text) <= limit:
        return text
    room = limit - slack_len(ELLIPSIS)
    if room < 0:
        return ""
    kept, used = [], 0
    for atom in _ATOM.finditer(text):
        size = slack_len(atom.group(0))
        if used + size > room:
            break
        kept.append(atom.group(0))
        used += size
    return "".join(kept) + ELLIPSIS


def truncate(text: str, limit: int) -> str:
    """Vigil's own markdown cut to ``limit`` (see clip)."""
    return clip(text, limit)


def user_text(text: str, limit: int = SECTION_TEXT_MAX) -> str:
    """Someone's text, escaped (so it cannot ping or link) and then clipped."""
    return clip(escape(text), limit)


def section(markdown: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(markdown, SECTION_TEXT_MAX)))


def sections(lines: list[str], limit: int = SECTION_TEXT_MAX - 100) -> list[SectionBlock]:
    """One line per row, as few sections as Slack's 3,000-character limit allows: split
    between lines rather than cut one."""
    blocks: list[SectionBlock] = []
    chunk: list[str] = []
    for line in lines:
        if chunk and sum(len(x) + 1 for x in chunk) + len(line) > limit:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(section("\n".join(chunk)))
    return blocks


def header(text: str) -> HeaderBlock:
    return HeaderBlock(text=truncate(text, HEADER_TEXT_MAX))


def context(markdown: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(markdown, 2000))])


def divider() -> DividerBlock:
    return DividerBlock()


def as_dicts(blocks: list[Any]) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks]


def notice_modal(title: str, text: str) -> dict[str, Any]:
    view = View(
        type="modal",
        title=truncate(title, 24),
        close="Close",
        blocks=[section(escape(text))],
    )
    return view.to_dict()


def mention(user: str | None) -> str:
    """``<@U…>`` for a person; anything else (``rule:child-safety``, ``vigil``) as plain text."""
    if not user:
        return "nobody"
    if user[:1] in ("U", "W") and user[1:].isalnum() and user.upper() == user:
        return f"<@{user}>"
    return f"`{escape(user)}`"


LIST_MAX = 8  # lines per list in a section; the rest is summed up


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def bullets(lines: list[str], more: str = "more") -> str:
    shown = lines[:LIST_MAX]
    if len(lines) > LIST_MAX:
        shown.append(f"… and {len(lines) - LIST_MAX} {more}")
    return "\n".join(f"• {line}" for line in shown)
