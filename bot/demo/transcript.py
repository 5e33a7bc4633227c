"""The demo's transcript: what people did and what Vigil said, in which channel and thread.

People's actions are recorded as the demo sends them; Vigil's side is read from the calls the
fake Slack Web API actually received (posts, updates, ephemerals, modals, uploaded files), so
the transcript shows what a workspace would have shown, not what the demo meant to happen.
Slack timestamps never appear in it: a line names its thread by the message that opened it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.fakes.slack import Call, FakeSlack

Kind = Literal[
    "scene",
    "message",
    "reaction",
    "command",
    "click",
    "submit",
    "post",
    "update",
    "ephemeral",
    "modal",
    "file",
    "note",
]

# Calls that only read, or are the plumbing of an upload: nothing anyone would see.
_UNSEEN = {
    "auth.test",
    "chat.getPermalink",
    "conversations.history",
    "conversations.replies",
    "conversations.info",
    "users.info",
    "usergroups.users.list",
    "files.getUploadURLExternal",
    "file.upload",
    "files.info",
    "files.download",
    "views.publish",
}


@dataclass
class Entry:
    kind: Kind
    who: str  # a person's id, "vigil", or "" for scene titles
    text: str
    channel: str = ""
    thread: int | None = None  # index of the entry that opened the thread
    buttons: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # a card's blocks as text
    private_to: str | None = None  # ephemeral: only this person sees it
    image: str | None = None  # an uploaded file's id (its bytes are in the fake Slack)
    on: int | None = None  # a reaction's or a click's message (index of its entry)
    day: str = ""  # the demo clock's time when it happened


@dataclass
class Transcript:
    """Entries in the order they happened; ``collect`` reads what Vigil sent since last time."""

    slack: FakeSlack
    entries: list[Entry] = field(default_factory=list)
    _seen_calls: int = 0
    _by_ts: dict[tuple[str, str], int] = field(default_factory=dict)  # (channel, ts) → entry index
    _shown: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # a message's lines now
    on_entry: Any = None  # called with each new entry (the live terminal view)
    # Who acted last, and where: a reply through a response_url goes to them.
    actor: str | None = None
    actor_channel: str = ""

    # --- people -------------------------------------------------------------------------------
    def add(self, entry: Entry, ts: str | None = None) -> int:
        self.entries.append(entry)
        index = len(self.entries) - 1
        if ts is not None and entry.channel:
            self._by_ts[(entry.channel, ts)] = index
        if self.on_entry is not None:
            self.on_entry(entry, self)
        return index

    def add_note(self, text: str, day: str = "") -> None:
        """What happened outside Slack (the platform's backfill, a shadow rule's record)."""
        self.add(Entry("note", "", text, day=day))

    def scene(self, title: str, text: str, day: str) -> None:
        self.add(Entry("scene", "", title, lines=[text] if text else [], day=day))

    def thread_of(self, channel: str, ts: str | None) -> int | None:
        if not ts:
            return None
        return self._by_ts.get((channel, ts))

    def entry_at(self, channel: str, ts: str) -> Entry | None:
        index = self._by_ts.get((channel, ts))
        return self.entries[index] if index is not None else None

    # --- Vigil ----------------------------------------------------------------------------------
    def collect(self, day: str) -> None:
        """Turn the fake Slack's new calls into entries; a message updated several times in one
        step shows once, as it ended (a bulk's progress bar moves as fast as the machine)."""
        with self.slack._lock:
            calls = list(self.slack.calls[self._seen_calls :])
            self._seen_calls = len(self.slack.calls)
        updates: dict[tuple[str, str], Call] = {}
        for call in calls:
            if call.method == "chat.update":
                updates[(str(call.get("channel")), str(call.get("ts")))] = call
        for call in calls:
            if call.method in _UNSEEN or call.method == "chat.update":
                continue
            key = (str(call.get("channel")), str((call.response or {}).get("ts")))
            if call.method == "chat.postMessage" and key in updates:
                # Posted and updated within one step (a progress message): shown as it ended.
                update = updates.pop(key)
                call = Call(
                    call.method,
                    {**call.args, "text": update.get("text"), "blocks": update.get("blocks")},
                    call.token,
                    call.at,
                    call.response,
                )
            self._add_call(call, day)
        for (channel, ts), call in updates.items():
            original = self.entry_at(channel, ts)
            lines, buttons = render_blocks(call.get("blocks"))
            before = set(self._shown.get((channel, ts), []))
            self._shown[(channel, ts)] = lines
            self.add(
                Entry(
                    "update",
                    "vigil",
                    slack_text(str(call.get("text") or "")),
                    channel=channel,
                    thread=original.thread if original is not None else None,
                    lines=[line for line in lines if line not in before],
                    buttons=buttons,
                    day=day,
                )
            )

    def _add_call(self, call: Call, day: str) -> None:
        method = call.method
        if method == "chat.postMessage":
            channel = str(call.get("channel"))
            lines, buttons = render_blocks(call.get("blocks"))
            entry = Entry(
                "post",
                "vigil",
                slack_text(str(call.get("text") or "")),
                channel=channel,
                thread=self.thread_of(channel, call.get("thread_ts")),
                lines=lines,
                buttons=buttons,
                day=day,
            )
            ts = (call.response or {}).get("ts")
            if ts:
                self._shown[(channel, str(ts))] = lines
            self.add(entry, ts=ts)
        elif method == "chat.postEphemeral":
            channel = str(call.get("channel"))
            lines, buttons = render_blocks(call.get("blocks"))
            self.add(
                Entry(
                    "ephemeral",
                    "vigil",
                    slack_text(str(call.get("text") or "")),
                    channel=channel,
                    thread=self.thread_of(channel, call.get("thread_ts")),
                    lines=lines,
                    buttons=buttons,
                    private_to=str(call.get("user")),
                    day=day,
                )
            )
        elif method == "response_url":
            lines, buttons = render_blocks(call.get("blocks"))
            private = call.get("response_type") != "in_channel"
            self.add(
                Entry(
                    "ephemeral" if private else "post",
                    "vigil",
                    slack_text(str(call.get("text") or "")),
                    channel=self.actor_channel,
                    lines=lines,
                    buttons=buttons,
                    private_to=self.actor if private else None,
                    day=day,
                )
            )
        elif method in ("views.open", "views.push", "views.update"):
            view = call.get("view") or {}
            title = (view.get("title") or {}).get("text", "")
            lines, buttons = render_blocks(view.get("blocks"))
            self.add(Entry("modal", "vigil", title, lines=lines, buttons=buttons, day=day))
        elif method == "files.completeUploadExternal":
            channel = str(call.get("channel_id") or call.get("channel") or "")
            for file in call.get("files") or []:
                if isinstance(file, dict):
                    self.add(
                        Entry(
                            "file",
                            "vigil",
                            str(file.get("title") or "chart"),
                            channel=channel,
                            thread=self.thread_of(channel, call.get("thread_ts")),
                            image=str(file.get("id")),
                            day=day,
                        )
                    )
        else:
            self.add(Entry("note", "vigil", f"{method}", day=day))


# --- Slack markup as plain text ----------------------------------------------------------------
_DATE = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>")
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_BARE_LINK = re.compile(r"<(https?://[^>]+)>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)>")

NAMES: dict[str, str] = {}  # filled by the demo's world: ids → display names


def slack_text(text: str) -> str:
    """mrkdwn → what a reader sees: mentions as @name / #channel, links as their text."""
    text = _DATE.sub(r"\1", text)
    text = _LINK.sub(r"\2", text)
    text = _BARE_LINK.sub(r"\1", text)
    text = _SPECIAL.sub(r"@\1", text)
    text = re.sub(r"<@([UWB][A-Z0-9]+)(?:\|[^>]*)?>", lambda m: "@" + NAMES.get(m.group(1), m.group(1)), text)
    text = re.sub(r"<#([CG][A-Z0-9]+)(?:\|[^>]*)?>", lambda m: "#" + NAMES.get(m.group(1), m.group(1)), text)
    text = re.sub(r"<!subteam\^([A-Z0-9]+)(?:\|[^>]*)?>", r"@\1", text)
    text = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", r"\1", text)  # *bold* reads as plain text
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text_of(obj: Any) -> str:
    if isinstance(obj, dict):
        return slack_text(str(obj.get("text", "")))
    return slack_text(str(obj or ""))


def render_blocks(blocks: Any) -> tuple[list[str], list[str]]:
    """Block Kit as lines of text and the labels of its buttons."""
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError:
            return [blocks], []
    lines: list[str] = []
    buttons: list[str] = []
    for block in blocks or []:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind in ("header", "section"):
            if block.get("text"):
                lines.append(_text_of(block["text"]))
            for item in block.get("fields") or []:
                label, _, value = _text_of(item).partition("\n")
                lines.append(f"  {label}: {value}" if value else f"  {label}")
            accessory = block.get("accessory") or {}
            if accessory.get("type") == "button":
                buttons.append(_text_of(accessory.get("text")))
        elif kind == "context":
            parts = [_text_of(e) for e in block.get("elements") or [] if isinstance(e, dict) and "text" in e]
            if parts:
                lines.append("  " + " · ".join(parts))
        elif kind == "actions":
            for element in block.get("elements") or []:
                if isinstance(element, dict):
                    label = element.get("text") or element.get("placeholder") or {}
                    buttons.append(_text_of(label))
        elif kind == "input":
            lines.append(f"  [{_text_of(block.get('label'))}]")
        elif kind == "image":
            lines.append(f"  (image: {block.get('alt_text', '')})")
        elif kind == "rich_text":
            lines.append(_rich_text(block))
    return [line for line in lines if line.strip()], [b for b in buttons if b]


def _rich_text(block: dict[str, Any]) -> str:
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "text":
                out.append(str(node.get("text", "")))
            for child in node.get("elements") or []:
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(block)
    return "".join(out)


# --- the transcript as text --------------------------------------------------------------------
def who_of(entry: Entry) -> str:
    if entry.who == "vigil":
        return "Vigil"
    return NAMES.get(entry.who, entry.who)


def where_of(entry: Entry, transcript: Transcript) -> str:
    """``#channel`` or ``#channel ↳ thread of "…"``."""
    if not entry.channel:
        return ""
    where = "#" + NAMES.get(entry.channel, entry.channel)
    if entry.on is not None:
        target = transcript.entries[entry.on]
        opening = (target.text or (target.lines[0] if target.lines else "")).replace("\n", " ")
        return where + f' on "{opening[:40]}{"…" if len(opening) > 40 else ""}"'
    if entry.thread is not None:
        root = transcript.entries[entry.thread]
        opening = root.text if root.text else (root.lines[0] if root.lines else "")
        opening = opening.replace("\n", " ")
        where += f' ↳ thread of "{opening[:40]}{"…" if len(opening) > 40 else ""}"'
    return where


def headline(entry: Entry, transcript: Transcript) -> str:
    who, text = who_of(entry), entry.text.replace("\n", " ")
    match entry.kind:
        case "scene" | "note":
            return text
        case "message" | "post":
            return f"{who}: {text}"
        case "reaction":
            return f"{who} reacts {text}"
        case "command":
            return f"{who} types {text}"
        case "click":
            return f"{who} clicks {text}"
        case "submit":
            return f"{who} {text}"
        case "update":
            return f"{who} updates its message: {text}"
        case "ephemeral":
            private = NAMES.get(entry.private_to or "", entry.private_to or "")
            return f"{who} (only {private} sees this): {text}"
        case "modal":
            return f"{who} opens a modal: {text}"
        case "file":
            return f"{who} uploads 📎 {text}"
    return text


def body_of(entry: Entry) -> list[str]:
    body = [line for line in entry.lines if line.strip() and line.strip() != entry.text.strip()]
    if entry.buttons:
        body.append(" ".join(f"[ {label} ]" for label in entry.buttons))
    return body


def as_text(transcript: Transcript) -> str:
    out: list[str] = []
    for entry in transcript.entries:
        if entry.kind == "scene":
            out += ["", f"== {entry.day} · {entry.text} =="]
            out += [f"   {line}" for line in entry.lines]
            continue
        where = where_of(entry, transcript)
        out.append(f"{entry.day}  {where}".rstrip())
        out.append(f"    {headline(entry, transcript)}")
        out += [f"      {line}" for line in body_of(entry)]
    return "\n".join(out) + "\n"
