"""Block Kit for playbooks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from slack_sdk.models.blocks import Block

from commands.blocks.common import as_dicts, context, escape, header, section, sections, user_text
from workflows.playbooks import RuleSet, RulesOverview

MODE_EMOJI = {"live": ":large_green_circle:", "shadow": ":new_moon_with_face:", "off": ":white_circle:"}


def rules_blocks(overview: RulesOverview) -> list[dict[str, Any]]:
    rules, counts, last_error = overview.rules, overview.hits, overview.last_error
    blocks: list[Block] = [header(f"Playbook rules ({len(rules.rules)})")]
    if not rules.rules:
        blocks.append(
            section(f"No rules loaded from `{escape(str(rules.folder))}`: built-in triage is in use.")
        )
    lines = []
    for compiled in sorted(rules.rules, key=lambda r: (r.rule.trigger, r.id)):
        rule = compiled.rule
        live, shadow = counts.get((rule.id, "live"), 0), counts.get((rule.id, "shadow"), 0)
        hits = f"{live} live" + (f", {shadow} shadow" if shadow else "")
        lines.append(
            f"{MODE_EMOJI[rule.mode]} `{escape(rule.id)}` {rule.trigger} · {rule.mode} · *{hits}* in 7d — "
            f"{user_text(rule.description, 120)}"
        )
    blocks += sections(lines)
    note = f"Version `{rules.version}` from {', '.join(rules.files) or 'no files'}."
    if last_error:
        note += f" :warning: The last reload was refused ({len(last_error)} problems); these rules stay live."
    blocks.append(context(note))
    return as_dicts(blocks[:50])


def reloaded_text(rules: RuleSet) -> str:
    return f":white_check_mark: Playbooks reloaded: {len(rules.rules)} rules, version `{rules.version}`."


def reload_failed_text(folder: Path, problems: list[str]) -> str:
    shown = "\n".join(f"• {escape(p)}" for p in problems[:15])
    more = f"\n…and {len(problems) - 15} more" if len(problems) > 15 else ""
    return (
        f":warning: Playbook change in `{escape(str(folder))}` refused; the previous rules stay live.\n"
        f"{shown}{more}\nFix the files, then `vigil rules check`."
    )
