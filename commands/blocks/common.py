"""Block Kit helpers shared by every surface. User text is always escaped and truncated."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ContextBlock, DividerBlock, HeaderBlock, MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

SECTION_TEXT_MAX = 3000
HEADER_TEXT_MAX = 150


def escape(text: str) -> str:
    """Slack's three control characters. Escaping `<` and `>` is what stops `<!channel>`."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def user_text(text: str, limit: int = SECTION_TEXT_MAX) -> str:
    """Escape first, then cut, so the cut never splits an entity like ``&amp;`` into ``&am``."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


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
