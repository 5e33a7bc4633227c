"""Messages about the audit log."""

from __future__ import annotations

from workflows.audit import Verification


def verification_text(result: Verification) -> str:
    if result.ok:
        return f":white_check_mark: Audit log intact: {result.entries} entries, head `{result.head[:16]}…`."
    shown = "\n".join(f"• {p}" for p in result.problems[:10])
    return (
        f":warning: Audit log BROKEN ({len(result.problems)} problems in {result.entries} entries):\n{shown}"
    )
