"""The world of the tests: the people, channels and tokens of an ordinary T&S team, and its
Vigil config. Tests import them from here (never from conftest)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
# Monday 23 November 2026, 10:00 UTC: the start of an ordinary T&S week.
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

ANALYST, ANALYST_2 = "U0ANA0001", "U0ANA0002"
LEAD, LEAD_2 = "U0LEAD001", "U0LEAD002"
ADMIN = "U0ADM0001"
GROUP_ANALYST = "U0GRP0001"  # an analyst only through the S0TNS0001 user group
OUTSIDER = "U0CX00001"  # a CX agent: posts escalations, holds no Vigil role
ENGINEER = "U0ENG0001"  # a platform engineer: records manual hand-offs (roles.engineers)
ESCALATIONS, APPROVALS, DIGEST, ALERTS, ENGINEERING = (
    "C0ESC0001",
    "C0APR0001",
    "C0DIG0001",
    "C0ALR0001",
    "C0ENG0001",
)


def config_data() -> dict[str, Any]:
    return {
        "timezone": "UTC",
        "channels": {
            "escalations": [ESCALATIONS],
            "approvals": APPROVALS,
            "digest": DIGEST,
            "alerts": ALERTS,
            "engineering": ENGINEERING,
        },
        "roles": {
            "analysts": [ANALYST, ANALYST_2, "S0TNS0001"],
            "approvers": [LEAD, LEAD_2],
            "admins": [ADMIN],
            "engineers": [ENGINEER],
        },
        "reactions": {"claim": "eyes", "resolve": "white_check_mark", "escalate": "rotating_light"},
        "sla": {"P1": "1h", "P2": "4h", "P3": "24h", "P4": "72h"},
        "digest": {"weekday": "mon", "time": "09:00"},
        "playbooks": "playbooks/",
        "enforcement": {"bulk_max": 10000, "concurrency": 8, "second_approval_over": 1000},
    }
