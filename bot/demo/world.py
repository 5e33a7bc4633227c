"""The demo's world: a T&S team, its channels, its vigil.yaml, and the platform's traffic.

Everything here is fixed or drawn from one seeded random generator, so a seed gives the same
week every time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Monday 23 November 2026 08:00 UTC: Vigil starts; the week is 2026-W48 and its digest is
# posted the next Monday at 09:00.
START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
WEEK = "2026-W48"
HISTORY_WEEKS = 4

SIGNING_SECRET = "demo-signing-secret"
BOT_TOKEN = "xoxb-demo-token"
PLATFORM_TOKEN = "demo-enforcement-token"
SIGNALS_TOKEN = "demo-signals-token"
APPEALS_TOKEN = "demo-appeals-token"

ESCALATIONS, APPROVALS, DIGEST, ALERTS, ENGINEERING = (
    "C0ESC0001",
    "C0APR0001",
    "C0DIG0001",
    "C0ALR0001",
    "C0ENG0001",
)
CHANNELS = {
    ESCALATIONS: "tns-escalations",
    APPROVALS: "tns-approvals",
    DIGEST: "tns-digest",
    ALERTS: "tns-alerts",
    ENGINEERING: "eng-handoff",
}


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    role: str


MAYA = Person("U0CX00001", "Maya", "CX agent")
TOMAS = Person("U0CX00002", "Tomás", "CX agent")
PRIYA = Person("U0HST0001", "Priya", "Host Success")
ANA = Person("U0ANA0001", "Ana", "T&S analyst")
BEN = Person("U0ANA0002", "Ben", "T&S analyst")
LENA = Person("U0LEAD001", "Lena", "T&S lead")
OMAR = Person("U0LEAD002", "Omar", "T&S lead")
ADA = Person("U0ADM0001", "Ada", "T&S admin")
PEOPLE = [MAYA, TOMAS, PRIYA, ANA, BEN, LENA, OMAR, ADA]
ZENDESK = ("B0ZENDESK", "Zendesk")  # integration bots post as bot_message
PAYMENTS = ("B0PAYMENT", "Payments alerts")


def names() -> dict[str, str]:
    """Ids → what the transcript calls them."""
    return {
        **{p.id: p.name for p in PEOPLE},
        **CHANNELS,
        ZENDESK[0]: ZENDESK[1],
        PAYMENTS[0]: PAYMENTS[1],
        "U0VIGIL01": "Vigil",
    }


def config_data(playbooks: Path) -> dict[str, Any]:
    """The demo's vigil.yaml."""
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
            "analysts": [ANA.id, BEN.id],
            "approvers": [LENA.id, OMAR.id],
            "admins": [ADA.id],
            "engineers": [],
        },
        "reactions": {"claim": "eyes", "resolve": "white_check_mark", "escalate": "rotating_light"},
        "sla": {"P1": "1h", "P2": "4h", "P3": "24h", "P4": "72h"},
        "digest": {"weekday": "mon", "time": "09:00", "shift_time": "08:00"},
        "playbooks": str(playbooks),
        "enforcement": {"bulk_max": 10000, "concurrency": 16, "second_approval_over": 1000},
        # Statements of reasons (docs/dsa.md): every reason code maps to a category, so every
        # suspension's approval card shows the statement drafted for it.
        "dsa": {
            "categories": {
                "spam": "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
                "fraud": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
                "phishing": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
                "harassment": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
                "ban_evasion": "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
                "payment_abuse": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
                "other": "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
            },
            "illegal": {"fraud": "Section 263 StGB (fraud)"},
            "terms_ground": "Terms of Service, section 4 (prohibited conduct)",
        },
    }


# --- the platform's signals ----------------------------------------------------------------------
REASONS = ["spam", "spam", "spam", "harassment", "harassment", "fake_listing"]
COUNTRIES = ["US", "US", "GB", "DE", "FR", "BR"]


# The scam wave's reports are one template copied by a campaign: other victims' names, other
# links of one domain, typos (so the hourly pattern job finds it as a near-duplicate group).
GIVEAWAY_TEMPLATE = (
    "Hi {name}! Crypto giveaway for our guests: send 1 ETH and get 2 ETH back within "
    "the hour, details at {url}"
)
GIVEAWAY_DOMAIN = "eth-double-host.io"
VICTIMS = ["Anna", "Wei", "Lucía", "Kwame", "Sofia", "Ivan", "Mei", "Jonas", "Leila", "Tom"]


def giveaway_text(rng: random.Random) -> str:
    host = rng.choice(["", "www.", "go."]) + GIVEAWAY_DOMAIN
    url = f"https://{host}/{rng.choice(['claim', 'r', 'go', 'x'])}/{rng.randrange(10**6)}"
    text = GIVEAWAY_TEMPLATE.format(name=rng.choice(VICTIMS), url="")
    for _ in range(rng.randrange(0, 3)):  # a copy-paste typo or two (a dropped letter), not in the link
        at = rng.randrange(len(text) - 1)
        text = text[:at] + text[at + 1 :]
    return text + url


def forwarded_giveaways(seed: int) -> list[str]:
    """Support tickets of guests who got the scam message from a host and forwarded it."""
    rng = random.Random(f"{seed}:forwarded")
    return [
        f"Ticket {5601 + n}: guest got this from host {account}: {giveaway_text(rng)}"
        for n, account in enumerate(["acct_5830", "acct_5831"])
    ]


class Traffic:
    """Abuse reports as the platform streams them: about a dozen an hour with a daily rhythm,
    a planted scam wave (a spike, led by a reason nobody reported before) at ``wave_hour``."""

    def __init__(self, seed: int, wave_hour: datetime) -> None:
        self.seed = seed
        self.wave_hour = wave_hour

    def hour(self, at: datetime) -> list[dict[str, Any]]:
        rng = random.Random(f"{self.seed}:{at.isoformat()}")
        busy = 4 if 9 <= at.hour < 21 else 0
        count = 8 + busy + rng.randint(0, 2)
        rows = [
            {
                "type": "report",
                "account_id": f"acct_{rng.randint(1000, 1099)}",
                "occurred_at": (at + timedelta(minutes=rng.randint(0, 59))).isoformat(),
                "attributes": {"reason": rng.choice(REASONS), "country": rng.choice(COUNTRIES)},
            }
            for _ in range(count)
        ]
        if at == self.wave_hour:
            rows += [
                {
                    "type": "report",
                    "account_id": "acct_5830" if n % 4 else "acct_5831",
                    "occurred_at": (at + timedelta(seconds=50 * n)).isoformat(),
                    "attributes": {
                        "reason": "crypto_giveaway",
                        "country": "US",
                        "text": giveaway_text(rng),
                    },
                }
                for n in range(60)
            ]
        return rows

    def history(self, until: datetime) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        at = until - timedelta(weeks=HISTORY_WEEKS)
        while at < until:
            rows += self.hour(at)
            at += timedelta(hours=1)
        return rows


def platform_accounts(seed: int) -> dict[str, dict[str, Any]]:
    """The accounts the platform knows, with the profile an investigation reads."""
    rng = random.Random(f"{seed}:accounts")
    named = [
        "acct_2210",
        "acct_3380",
        "acct_5120",
        "acct_6612",
        "acct_7781",
        "acct_5501",
        "acct_5830",
        "acct_5831",
        "acct_4471",
        "acct_4472",
    ]
    accounts = {}
    for account in named + [f"acct_{n}" for n in range(1000, 1100)]:
        created = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=rng.randint(0, 900))
        accounts[account] = {
            "type": "host" if rng.random() < 0.4 else "guest",
            "created_at": created.isoformat(),
            "country": rng.choice(COUNTRIES),
            "email_verified": rng.random() < 0.8,
        }
    accounts["acct_5830"].update(created_at="2026-11-20T09:12:00+00:00", email_verified=False)
    return accounts


def bulk_wave(seed: int, size: int = 2000) -> list[str]:
    """The accounts of a spam-bot wave, as the fraud team's export lists them."""
    rng = random.Random(f"{seed}:wave")
    start = rng.randint(10_000, 50_000)
    return [f"bot_{start + n}" for n in range(size)]
