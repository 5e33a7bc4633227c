"""A synthetic week of abuse-report texts: planted campaigns (one template each, copied with
typos, swapped names and other links of the campaign's domain) among unrelated reports written
from a wide vocabulary. Seeded: the same corpus every run."""

from __future__ import annotations

import random
from dataclasses import dataclass

NAMES = ["Anna", "Omar", "Lucía", "Wei", "Priya", "Tom", "Kwame", "Sofia", "Ivan", "Mei", "Jonas", "Leila"]

TEMPLATES = [
    "Hi {name}, congratulations! You won a free stay. Claim it within 24 hours at {url} before it expires",
    "Your booking is on hold. To confirm, pay the deposit by bank transfer here {url} or the host cancels",
    "{name} I am the host, my listing calendar is broken. Message me on whatsapp and pay outside: {url}",
    "Crypto giveaway from the host team: send 0.1 BTC and get 0.2 BTC back, details at {url}",
    "Dear guest {name}, we detected unusual login activity. Verify your account password now at {url}",
    "Cheap followers and five star reviews for your listing, 500 reviews for 20 dollars, order at {url}",
    "{name}, the apartment has a problem with the water. Please move to my other place, book it at {url}",
    "Work from home offer: earn 300 dollars a day rating listings, sign up with code {code} at {url}",
]
DOMAINS = [
    "free-stay-prize.com",
    "secure-deposit-pay.net",
    "host-direct-booking.org",
    "btc-double-host.io",
    "account-verify-login.com",
    "star-reviews-shop.biz",
    "apartment-move-now.com",
    "rate-listings-jobs.co.uk",
]
PATHS = ["claim", "pay", "go", "r", "book", "x", "login", "start", "offer"]

VOCAB = [
    "guest",
    "host",
    "listing",
    "stay",
    "noise",
    "party",
    "smoke",
    "pet",
    "dog",
    "cat",
    "refund",
    "late",
    "checkout",
    "early",
    "check",
    "in",
    "kitchen",
    "bathroom",
    "towel",
    "heating",
    "broken",
    "window",
    "neighbour",
    "parking",
    "garage",
    "elevator",
    "stairs",
    "key",
    "lock",
    "camera",
    "privacy",
    "photo",
    "description",
    "wrong",
    "address",
    "map",
    "location",
    "bus",
    "train",
    "airport",
    "taxi",
    "review",
    "rating",
    "cancel",
    "reschedule",
    "payment",
    "charged",
    "twice",
    "currency",
    "invoice",
    "receipt",
    "tax",
    "fee",
    "cleaning",
    "damage",
    "deposit",
    "furniture",
    "sofa",
    "bed",
    "mattress",
    "insects",
    "mould",
    "smell",
    "cold",
    "hot",
    "wifi",
    "slow",
    "tv",
    "remote",
    "garden",
    "pool",
    "balcony",
    "view",
    "street",
    "loud",
    "music",
    "night",
    "morning",
    "weekend",
    "holiday",
    "family",
    "children",
    "baby",
    "crib",
    "stroller",
    "wheelchair",
    "access",
    "ramp",
    "allergy",
    "dust",
    "carpet",
    "curtain",
    "lamp",
    "light",
    "bulb",
    "shower",
    "water",
    "pressure",
    "toilet",
    "sink",
    "drain",
    "leak",
    "ceiling",
    "floor",
    "wall",
    "paint",
    "door",
    "handle",
    "bell",
    "intercom",
    "message",
    "reply",
    "ignored",
    "rude",
    "polite",
    "friendly",
    "helpful",
    "angry",
    "upset",
    "threat",
    "discrimination",
    "language",
    "translation",
    "support",
    "agent",
    "ticket",
    "escalation",
    "manager",
    "policy",
    "rule",
    "house",
    "quiet",
    "hours",
    "visitor",
]


@dataclass(frozen=True)
class Text:
    text: str
    account_id: str
    campaign: int | None  # the planted template, None for an unrelated report


def _typo(rng: random.Random, text: str, count: int) -> str:
    chars = list(text)
    for _ in range(count):
        i = rng.randrange(len(chars))
        op = rng.random()
        if op < 0.4:
            chars[i] = rng.choice("abcdefghijklmnopqrstuvwxyz")
        elif op < 0.7 and len(chars) > 10:
            del chars[i]
        else:
            chars.insert(i, rng.choice("abcdefghijklmnopqrstuvwxyz"))
    return "".join(chars)


def campaign_text(rng: random.Random, campaign: int) -> str:
    host = rng.choice(["", "www.", "pay.", "go."]) + DOMAINS[campaign]
    url = f"https://{host}/{rng.choice(PATHS)}/{rng.randrange(10**6)}"
    text = TEMPLATES[campaign].format(name=rng.choice(NAMES), url=url, code=rng.randrange(1000, 9999))
    return _typo(rng, text, rng.randrange(0, 4))


def unrelated_text(rng: random.Random) -> str:
    words = rng.sample(VOCAB, rng.randrange(9, 16))
    return f"{rng.choice(['Guest', 'Host', 'User'])} acct_{rng.randrange(10**6)} reports: " + " ".join(words)


def corpus(campaigns: int = 8, per_campaign: int = 15, unrelated: int = 200, seed: int = 7) -> list[Text]:
    """``campaigns`` planted templates of ``per_campaign`` copies each (each copy from its own
    account), among ``unrelated`` reports; shuffled."""
    rng = random.Random(seed)
    rows = [
        Text(campaign_text(rng, c % len(TEMPLATES)), f"acct_c{c}_{n}", c)
        for c in range(campaigns)
        for n in range(per_campaign)
    ]
    rows += [Text(unrelated_text(rng), f"acct_u{n}", None) for n in range(unrelated)]
    rng.shuffle(rows)
    return rows
