"""Abuse-pattern clustering at volume: 100,000 report texts (planted campaigns among unrelated
reports, tests/harness/pattern_data.py) through Vigil's ``cluster()`` (normalising, MinHash/LSH
near-duplicates with every candidate checked, TF-IDF wording on the leftovers, shared domains)
against the plain library call on the same texts: datasketch's MinHash over the raw texts'
shingles, inserted in and queried from a MinHashLSH, candidates joined as they come.

    python -m bench.patterns [--texts 100000] [--quick]

Each side runs in its own child process (so one's heap does not count for the other): wall
time, and peak RSS of that child (``ru_maxrss``). Purity and recall of the planted campaigns are
reported for both, so the ratio says what the extra time buys.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from tests.harness.pattern_data import TEMPLATES, corpus

AT = datetime(2026, 11, 23, 10, tzinfo=UTC)
CAMPAIGN_SHARE = 0.2  # a fifth of the reports are copies of a campaign


def _texts(total: int) -> tuple[list[str], list[str], list[int | None]]:
    per = max(3, int(total * CAMPAIGN_SHARE) // len(TEMPLATES))
    rows = corpus(campaigns=len(TEMPLATES), per_campaign=per, unrelated=total - per * len(TEMPLATES), seed=3)
    return [r.text for r in rows], [r.account_id for r in rows], [r.campaign for r in rows]


def _quality(groups: list[list[int]], truth: list[int | None], min_size: int = 3) -> tuple[float, float]:
    clusters = [g for g in groups if len(g) >= min_size]
    clustered = sum(len(g) for g in clusters) or 1
    majority = 0
    best: Counter[int] = Counter()
    for g in clusters:
        counts = Counter(truth[i] for i in g)
        top, n = counts.most_common(1)[0]
        majority += n if top is not None else 0
        for campaign, k in counts.items():
            if campaign is not None:
                best[campaign] = max(best[campaign], k)
    sizes = Counter(t for t in truth if t is not None)
    recall = sum(best[c] / sizes[c] for c in sizes) / max(len(sizes), 1)
    return majority / clustered, recall


def _vigil(total: int, out: Any) -> None:
    from workflows.patterns import Item, Settings, cluster

    texts, accounts, truth = _texts(total)
    items = [Item(f"report:{n}", a, t, AT) for n, (t, a) in enumerate(zip(texts, accounts, strict=True))]
    start = time.perf_counter()
    found = cluster(items, [], Settings())
    seconds = time.perf_counter() - start
    position = {item.key: n for n, item in enumerate(items)}
    groups = [[position[i.key] for i in c.items] for c in found if c.kind in ("template", "wording")]
    purity, recall = _quality(groups, truth)
    out.put(
        {
            "seconds": seconds,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "patterns": len(found),
            "purity": purity,
            "recall": recall,
        }
    )


def _plain(total: int, out: Any) -> None:
    from datasketch import MinHash, MinHashLSH

    texts, _accounts, truth = _texts(total)
    start = time.perf_counter()
    hashes = MinHash.bulk(
        ({t[i : i + 5].encode() for i in range(max(1, len(t) - 4))} for t in texts), num_perm=128
    )
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    parent = list(range(len(texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, mh in enumerate(hashes):
        for j in lsh.query(mh):
            a, b = find(i), find(j)
            if a != b:
                parent[max(a, b)] = min(a, b)
        lsh.insert(i, mh)
    seconds = time.perf_counter() - start
    groups: dict[int, list[int]] = {}
    for i in range(len(texts)):
        groups.setdefault(find(i), []).append(i)
    purity, recall = _quality(list(groups.values()), truth)
    out.put(
        {
            "seconds": seconds,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "patterns": sum(1 for g in groups.values() if len(g) >= 3),
            "purity": purity,
            "recall": recall,
        }
    )


def _run(target: Any, total: int) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    child = context.Process(target=target, args=(total, out))
    child.start()
    result = out.get()
    child.join()
    return result


def measure(total: int) -> tuple[dict[str, Any], dict[str, Any]]:
    return _run(_plain, total), _run(_vigil, total)


def figures(quick: bool = False) -> list[dict[str, Any]]:
    """For ``python -m bench``: time and peak memory of clustering, against the plain library."""
    total = 10_000 if quick else 100_000
    plain, vigil = measure(total)
    note = f"{total:,} report texts; plain = datasketch MinHash+LSH on raw shingles"
    return [
        {
            "measure": f"patterns: cluster {total:,} texts (s)",
            "baseline": round(plain["seconds"], 2),
            "now": round(vigil["seconds"], 2),
            "target": "ratio ≤ 3",
            "note": f"{note}; ratio {vigil['seconds'] / plain['seconds']:.2f}",
        },
        {
            "measure": "patterns: peak RSS (MB)",
            "baseline": round(plain["rss_mb"]),
            "now": round(vigil["rss_mb"]),
            "target": "ratio ≤ 3",
            "note": f"ratio {vigil['rss_mb'] / plain['rss_mb']:.2f}",
        },
        {
            "measure": "patterns: purity / recall of planted campaigns",
            "baseline": f"{plain['purity']:.2f} / {plain['recall']:.2f}",
            "now": f"{vigil['purity']:.2f} / {vigil['recall']:.2f}",
            "target": "≥ 0.9 / ≥ 0.9",
            "note": f"{vigil['patterns']} patterns found (plain: {plain['patterns']} groups of 3+)",
        },
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="10,000 texts")
    args = parser.parse_args()
    total = 10_000 if args.quick else args.texts
    plain, vigil = measure(total)
    print(f"{total:,} report texts")
    print(f"{'':<22}{'seconds':>10}{'peak RSS MB':>14}{'purity':>9}{'recall':>9}{'groups':>9}")
    for name, r in (("plain datasketch", plain), ("Vigil cluster()", vigil)):
        row = f"{r['seconds']:>10.2f}{r['rss_mb']:>14.0f}{r['purity']:>9.2f}{r['recall']:>9.2f}"
        print(f"{name:<22}{row}{r['patterns']:>9}")
    time_ratio, memory_ratio = vigil["seconds"] / plain["seconds"], vigil["rss_mb"] / plain["rss_mb"]
    print(f"ratio (Vigil / plain): time {time_ratio:.2f}, memory {memory_ratio:.2f}")


if __name__ == "__main__":
    main()
