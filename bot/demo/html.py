"""demo.html: the week's transcript as a self-contained, Slack-like page (charts inline as
data URIs, no script, no outside resource)."""

from __future__ import annotations

import base64
from html import escape as _escape
from pathlib import Path
from typing import Any

from rich.emoji import Emoji

from bot.demo import transcript as t
from bot.demo.transcript import Entry, Transcript

_CSS = """
body{font:15px/1.45 -apple-system,'Segoe UI',Lato,Helvetica,Arial,sans-serif;margin:0;
background:#f8f8f8;color:#1d1c1d}
header{background:#3f0e40;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;opacity:.85;font-size:13px}main{max-width:920px;margin:0 auto;padding:8px 24px 48px}
.scene{margin:28px 0 8px;padding:6px 0;border-bottom:2px solid #e01e5a;font-weight:700;color:#611f69}
.scene small{display:block;font-weight:400;color:#616061}
.msg{background:#fff;border:1px solid #e8e8e8;border-radius:6px;margin:6px 0;padding:8px 12px}
.msg.thread{margin-left:36px;border-left:3px solid #1264a3}
.where{font-size:12px;color:#616061}.who{font-weight:700}.vigil .who{color:#2eb67d}
.ephemeral{background:#fffbe6}.ephemeral .tag{font-size:12px;color:#946c00}
.action{color:#1264a3;font-size:14px;margin:4px 0 4px 12px}
.note{color:#616061;font-size:13px;margin:4px 0 4px 12px}
.lines{white-space:pre-wrap;margin-top:4px;font-size:14px}.btn{display:inline-block;border:1px solid #bbb;
border-radius:4px;padding:1px 10px;margin:4px 6px 0 0;font-size:13px;font-weight:700;background:#fff}
img{max-width:100%;border:1px solid #ddd;border-radius:4px;margin-top:6px}
table{border-collapse:collapse;margin-top:8px}td{padding:2px 12px 2px 0}
"""


def write(
    path: Path, transcript: Transcript, uploads: dict[str, bytes], outcomes: dict[str, Any], seconds: float
) -> Path:
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<meta name=viewport content='width=device-width,initial-scale=1'>",
        f"<title>Vigil demo week</title><style>{_CSS}</style></head><body>",
        "<header><h1>Vigil — a week of Trust &amp; Safety in Slack</h1>",
        f"<p>{len(transcript.entries)} moments · {outcomes.get('cases')} cases · "
        f"{len(outcomes.get('requests') or {})} enforcement requests · played in {seconds:.0f} s "
        "against a fake Slack and a fake enforcement API</p></header><main>",
    ]
    for entry in transcript.entries:
        parts.append(_entry(entry, transcript, uploads))
    parts.append("</main></body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _entry(entry: Entry, transcript: Transcript, uploads: dict[str, bytes]) -> str:
    if entry.kind == "scene":
        lines = "".join(f"<small>{escape(line)}</small>" for line in entry.lines)
        return f"<div class=scene>{escape(entry.day)} · {escape(entry.text)}{lines}</div>"
    if entry.kind == "note":
        return f"<div class=note>· {escape(entry.text)}</div>"
    if entry.kind in ("reaction", "click", "submit", "command", "modal"):
        where = t.where_of(entry, transcript)
        return (
            f"<div class=action><span class=where>{escape(entry.day)} {escape(where)}</span><br>"
            f"{escape(t.headline(entry, transcript))}{_body(entry)}</div>"
        )
    classes = ["msg"]
    if entry.who == "vigil":
        classes.append("vigil")
    if entry.thread is not None:
        classes.append("thread")
    if entry.kind == "ephemeral":
        classes.append("ephemeral")
    where = t.where_of(entry, transcript) or "(a reply only the person sees)"
    head = (
        f"<div class=where>{escape(entry.day)} · {escape(where)}</div>"
        f"<span class=who>{escape(t.who_of(entry))}</span>"
    )
    if entry.kind == "ephemeral":
        private = t.NAMES.get(entry.private_to or "", entry.private_to or "")
        head += f" <span class=tag>only visible to {escape(private)}</span>"
    if entry.kind == "update":
        head += " <span class=tag>(edited)</span>"
    text = entry.text
    if entry.kind == "file":
        data = uploads.get(entry.image or "")
        image = ""
        if data:
            encoded = base64.b64encode(data).decode()
            image = f"<br><img alt='{escape(text)}' src='data:image/png;base64,{encoded}'>"
        return f"<div class='{' '.join(classes)}'>{head}<div>📎 {escape(text)}</div>{image}</div>"
    return f"<div class='{' '.join(classes)}'>{head}<div>{escape(text)}</div>{_body(entry)}</div>"


def escape(text: str) -> str:
    """HTML-escaped, with Slack's :emoji: codes as the characters (those rich knows)."""
    return _escape(Emoji.replace(text))


def _body(entry: Entry) -> str:
    lines = [line for line in entry.lines if line.strip() and line.strip() != entry.text.strip()]
    out = f"<div class=lines>{escape(chr(10).join(lines))}</div>" if lines else ""
    if entry.buttons:
        out += "<div>" + "".join(f"<span class=btn>{escape(b)}</span>" for b in entry.buttons) + "</div>"
    return out
