"""The clustering engine: texts and shared attributes in, groups out. Pure: no session, no clock.

Four ways items belong together, tried in this order so each item lands in one pattern:

- ``template``: near-duplicate messages (the same scam text with typos, swapped names, other
  links of one domain): MinHash over character shingles of a normalised text, candidates from
  LSH, each candidate pair checked on its estimated Jaccard before it joins a group, so one
  borderline pair cannot chain two templates together.
- ``wording``: texts left over that say the same thing in other words: TF-IDF cosine between
  the leftovers, above ``wording_similarity``.
- ``domain``: one link domain posted by several accounts (when no template already holds
  those items).
- ``fingerprint``: one device or payment fingerprint shared by several accounts.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

import numpy as np
from datasketch import MinHash, MinHashLSH
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

NUM_PERM = 128
SHINGLE = 5
TEMPLATE_BANDS = (25, 5)
# 32 bands of 4 rows over word sets: candidates from a Jaccard of about 0.4 (p=0.56; 0.87 at
# 0.5), almost never below 0.1; only candidates are scored on TF-IDF.
WORDING_BANDS = (32, 4)
COMMON_WORD_SHARE, COMMON_WORD_MIN = 0.05, 50
SCORE_BATCH = 200_000
KINDS = ("template", "wording", "domain", "fingerprint")

_URL = re.compile(r"(?:https?://|www\.)[^\s<>|\"']+", re.IGNORECASE)
_ACCOUNT = re.compile(r"\b(?:acct|user|host|guest)_[a-z0-9_]+\b", re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[a-z][a-z'-]{2,}")
# Placeholder words of the normalised text: never a label or a rule term.
_NOISE = {"url", "acct", "num"}


@dataclass(frozen=True)
class Item:
    """One thing that may belong to a pattern: a report, a case, or an account's shared value."""

    key: str  # report:12, case:4, device_id=d-9:acct_3
    account_id: str | None
    text: str
    at: datetime


@dataclass(frozen=True)
class Shared:
    """An attribute value an account was seen with (signal_links)."""

    key: str  # device_id, payment_fingerprint
    value: str
    account_id: str
    at: datetime


@dataclass
class Cluster:
    kind: str
    items: list[Item]
    signature: str | None = None  # domain:x / device_id:y: the same group on every run
    terms: list[str] = field(default_factory=list)  # what its texts have in common, most telling first

    @property
    def accounts(self) -> list[str]:
        counts = Counter(i.account_id for i in self.items if i.account_id)
        return [a for a, _ in counts.most_common()]


@dataclass(frozen=True)
class Settings:
    min_size: int = 3
    min_accounts: int = 3
    similarity: float = 0.5
    wording_similarity: float = 0.6
    ignore_domains: frozenset[str] = frozenset()


def domain_of(url: str) -> str | None:
    """The registrable-looking part of a link's host (``pay.evil-shop.com`` → ``evil-shop.com``)."""
    if not url.lower().startswith("http"):
        url = "http://" + url
    host = (urlsplit(url).hostname or "").strip(".").lower()
    if not host or "." not in host:
        return None
    parts = host.split(".")
    # co.uk, com.br…: keep three labels when the second-level one is that short.
    keep = 3 if len(parts) >= 3 and len(parts[-2]) <= 3 and len(parts[-1]) == 2 else 2
    return ".".join(parts[-keep:])


def domains_in(text: str) -> list[str]:
    return [d for d in (domain_of(u) for u in _URL.findall(text)) if d]


def normalise(text: str) -> str:
    """What a template keeps between copies: links become their domain, ids and numbers a
    placeholder, case and spacing are dropped."""

    def link(match: re.Match[str]) -> str:
        return f" url {domain_of(match.group(0)) or ''} "

    text = _URL.sub(link, text)
    text = _ACCOUNT.sub(" acct ", text)
    text = _NUMBER.sub(" num ", text.lower())
    return _SPACE.sub(" ", text).strip()


def shingles(text: str, size: int = SHINGLE) -> set[bytes]:
    if len(text) <= size:
        return {text.encode()}
    return {text[i : i + size].encode() for i in range(len(text) - size + 1)}


def minhashes(texts: Sequence[str]) -> list[MinHash]:
    return MinHash.bulk((shingles(t) for t in texts), num_perm=NUM_PERM)


class _Groups:
    """Union-find over item positions."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def members(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = defaultdict(list)
        for i in range(len(self.parent)):
            out[self.find(i)].append(i)
        return out


def near_duplicates(texts: Sequence[str], threshold: float) -> list[list[int]]:
    """Groups (positions into ``texts``) of near-duplicate normalised texts, singletons included."""
    hashes = minhashes(texts)
    # 25 bands of 5 rows: a pair at Jaccard 0.6 is a candidate with p=0.87, one at 0.1 with
    # p=0.0003; a copy needs to meet only one of its campaign's other copies, so a campaign is
    # rarely split, while unlike texts (sharing only "guest … reports") are rarely even compared.
    # Every candidate is then checked on its estimated Jaccard against ``threshold``.
    lsh = MinHashLSH(num_perm=NUM_PERM, params=TEMPLATE_BANDS)
    groups = _Groups(len(texts))
    first_of: dict[str, int] = {}
    for i, (text, mh) in enumerate(zip(texts, hashes, strict=True)):
        if text in first_of:  # exact copies join without a probe
            groups.join(first_of[text], i)
            continue
        first_of[text] = i
        for j in lsh.query(mh):
            if mh.jaccard(hashes[j]) >= threshold:
                groups.join(i, j)
        lsh.insert(i, mh)
    return list(groups.members().values())


def similar_wording(texts: Sequence[str], threshold: float) -> list[list[int]]:
    """Groups of texts whose TF-IDF vectors are at least ``threshold`` cosine-similar.

    Comparing every pair is quadratic (10^10 products for 100k texts); candidates come instead
    from LSH over each text's word set (``WORDING_BANDS``: texts worded alike share a good
    part of their words), and only those pairs are scored on TF-IDF."""
    if len(texts) < 2:
        return [[i] for i in range(len(texts))]
    # Every word counts in the score, those of one text too: dropping them (min_df=2) leaves
    # each vector only the words it shares, and five unrelated escalations that all name an
    # account ("acct") scored as alike.
    vectorizer = TfidfVectorizer(stop_words="english", min_df=1, sublinear_tf=True)
    try:
        matrix = vectorizer.fit_transform(texts).tocsr()
    except ValueError:  # no words at all: nothing is alike
        return [[i] for i in range(len(texts))]
    analyse = vectorizer.build_analyzer()
    vocabulary = vectorizer.vocabulary_
    # Words in very many texts ("guest", "reports") make every pair look a little alike and
    # flood LSH with candidates; they stay in the TF-IDF score, where their weight is low.
    document_counts = np.bincount(matrix.indices, minlength=len(vocabulary))
    common = document_counts > max(COMMON_WORD_MIN, COMMON_WORD_SHARE * len(texts))
    word_sets = [
        {w.encode() for w in analyse(t) if w in vocabulary and not common[vocabulary[w]]} for t in texts
    ]
    hashes = MinHash.bulk(word_sets, num_perm=NUM_PERM)
    lsh = MinHashLSH(num_perm=NUM_PERM, params=WORDING_BANDS)
    groups = _Groups(len(texts))
    left: list[int] = []
    right: list[int] = []

    def score() -> None:
        # In batches, so a flood of candidates costs time, not memory.
        rows, cols = np.array(left), np.array(right)
        cosine = np.asarray(matrix[rows].multiply(matrix[cols]).sum(axis=1)).ravel()
        for i, j in zip(rows[cosine >= threshold], cols[cosine >= threshold], strict=True):
            groups.join(int(i), int(j))
        left.clear()
        right.clear()

    for i, mh in enumerate(hashes):
        if not word_sets[i]:
            continue
        for j in lsh.query(mh):
            left.append(i)
            right.append(j)
        lsh.insert(i, mh)
        if len(left) >= SCORE_BATCH:
            score()
    if left:
        score()
    return list(groups.members().values())


def words_of(text: str) -> set[str]:
    """The words of a text that can tell a pattern apart (a link's parts are not its words)."""
    words = _WORD.findall(normalise(_URL.sub(" ", text)))
    return {w for w in words if w not in ENGLISH_STOP_WORDS and w not in _NOISE}


def top_terms(
    texts: Iterable[str], background: Counter[str] | None = None, documents: int = 0, limit: int = 5
) -> list[str]:
    """Words most of the texts share, the rarest elsewhere first (``background``: in how many
    of ``documents`` texts each word occurs)."""
    counts: Counter[str] = Counter()
    total = 0
    for text in texts:
        total += 1
        counts.update(words_of(text))
    background = background or counts
    documents = max(documents, total)

    def score(word: str) -> tuple[float, str]:
        share = counts[word] / total
        return (-share * math.log((documents + 1) / (background[word] + 1) + 1), word)

    common = [w for w, n in counts.items() if n * 2 >= total]
    return sorted(common, key=score)[:limit]


def cluster(items: Sequence[Item], shared: Sequence[Shared], settings: Settings) -> list[Cluster]:
    """Every group of at least ``min_size`` items (``min_accounts`` accounts for shared values)."""
    texts = [normalise(i.text) for i in items]
    background: Counter[str] = Counter()
    for item in items:
        background.update(words_of(item.text))
    found: list[Cluster] = []
    taken: set[int] = set()
    for group in near_duplicates(texts, settings.similarity):
        if len(group) >= settings.min_size:
            members = [items[i] for i in group]
            terms = top_terms((m.text for m in members), background, len(items))
            found.append(Cluster("template", members, terms=terms))
            taken.update(group)
    rest = [i for i in range(len(items)) if i not in taken]
    # Links are the domain stage's business: two texts are not worded alike for sharing one.
    words = [normalise(_URL.sub(" ", items[i].text)) for i in rest]
    for group in similar_wording(words, settings.wording_similarity):
        if len(group) >= settings.min_size:
            members = [items[rest[i]] for i in group]
            terms = top_terms((m.text for m in members), background, len(items))
            found.append(Cluster("wording", members, terms=terms))
    found += _domains(items, found, settings)
    found += _fingerprints(shared, settings)
    return found


def _domains(items: Sequence[Item], text_clusters: list[Cluster], settings: Settings) -> list[Cluster]:
    by_domain: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        for domain in set(domains_in(item.text)):
            if domain not in settings.ignore_domains:
                by_domain[domain].append(item)
    owner = {item.key: n for n, c in enumerate(text_clusters) for item in c.items}
    out = []
    for domain, members in sorted(by_domain.items()):
        accounts = {m.account_id for m in members if m.account_id}
        if len(accounts) < settings.min_accounts or len(members) < settings.min_size:
            continue
        # One template already holding most of these items is the same pattern, told once.
        holders = Counter(owner.get(m.key) for m in members)
        holder, held = holders.most_common(1)[0]
        if holder is not None and held * 5 >= len(members) * 4:
            continue
        out.append(Cluster("domain", members, signature=f"domain:{domain}", terms=[domain]))
    return out


def _fingerprints(shared: Sequence[Shared], settings: Settings) -> list[Cluster]:
    by_value: dict[tuple[str, str], dict[str, Shared]] = defaultdict(dict)
    for row in shared:
        by_value[(row.key, row.value)].setdefault(row.account_id, row)
    out = []
    for (key, value), accounts in sorted(by_value.items()):
        if len(accounts) < settings.min_accounts:
            continue
        members = [
            Item(f"{key}={value}:{a}", a, f"{key} {value}", row.at) for a, row in sorted(accounts.items())
        ]
        out.append(Cluster("fingerprint", members, signature=f"{key}:{value}", terms=[key, value]))
    return out
