"""Rule evaluations per second: 50 rules over 100,000 case subjects, through Vigil's
evaluate() (context defaults, one CEL context per subject, rule bookkeeping), as a ratio
of the raw CEL library evaluating the same 50 programs over the same contexts.

    python bench/playbooks_eval.py [--subjects 100000] [--rules 50]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cel

from workflows.playbooks import CompiledRule, Rule, RuleSet, evaluate, with_defaults

CONDITIONS = [
    "case.text.contains('{w}')",
    "case.priority == 'P{p}' && account.cases_7d > {n}",
    "account.reports_24h >= {n} || case.category == 'host_report'",
    "size(case.accounts) > {n} && case.author_is_bot",
    "case.text.matches('(?i){w}') && case.escalations < {n}",
]
WORDS = ["giveaway", "scam", "phish", "refund", "crypto", "threat", "spam", "hacked", "ticket", "appeal"]


def make_rules(count: int) -> RuleSet:
    compiled = []
    for i in range(count):
        condition = CONDITIONS[i % len(CONDITIONS)].format(w=WORDS[i % len(WORDS)], p=1 + i % 4, n=i % 5)
        rule = Rule(
            id=f"rule-{i:02d}",
            description="bench",
            trigger="case.created",
            condition=condition,
            actions=[{"add_label": f"l{i}"}],
        )
        compiled.append(CompiledRule(rule, "bench.yaml", "bench", cel.compile(condition), []))
    return RuleSet(compiled, "bench", Path("."), ["bench.yaml"])


def make_subjects(count: int) -> list[dict]:
    rng = random.Random(7)
    subjects = []
    for n in range(count):
        words = " ".join(rng.choice(WORDS) for _ in range(8))
        subjects.append(
            {
                "case": {
                    "id": f"CASE-{n}",
                    "text": f"user acct_{n} {words}",
                    "priority": f"P{rng.randint(1, 4)}",
                    "category": rng.choice(["host_report", "user_report", "other"]),
                    "accounts": [f"acct_{n}"],
                    "author_is_bot": rng.random() < 0.1,
                    "escalations": rng.randint(0, 2),
                },
                "account": {
                    "id": f"acct_{n}",
                    "cases_7d": rng.randint(0, 6),
                    "reports_24h": rng.randint(0, 6),
                },
            }
        )
    return subjects


def measure(subject_count: int, rule_count: int) -> dict[str, Any]:
    rules = make_rules(rule_count)
    subjects = make_subjects(subject_count)
    now = datetime(2026, 11, 23, tzinfo=UTC)
    programs = [r.program for r in rules.rules]

    # Raw CEL: the same programs over the same full contexts, one cel.Context per subject.
    contexts = [with_defaults("case.created", s) for s in subjects]
    started = time.perf_counter()
    raw_matches = 0
    for context in contexts:
        cel_context = cel.Context()
        cel_context.update(context)
        for program in programs:
            raw_matches += program.execute(cel_context) is True
    raw_seconds = time.perf_counter() - started

    started = time.perf_counter()
    vigil_matches = 0
    for subject in subjects:
        vigil_matches += len(evaluate(rules, "case.created", subject["case"]["id"], subject, now).matches)
    vigil_seconds = time.perf_counter() - started
    assert raw_matches == vigil_matches, (raw_matches, vigil_matches)
    return {
        "evaluations": subject_count * rule_count,
        "matches": vigil_matches,
        "raw_seconds": raw_seconds,
        "vigil_seconds": vigil_seconds,
    }


def figures(quick: bool = False) -> list[dict[str, Any]]:
    subjects = 2_000 if quick else 100_000
    r = measure(subjects, 50)
    return [
        {
            "measure": f"playbook rules: 50 rules over {subjects:,} case subjects",
            "baseline": f"raw CEL: {r['evaluations'] / r['raw_seconds']:,.0f} evaluations/s",
            "now": f"{r['raw_seconds'] / r['vigil_seconds']:.2f} of raw CEL "
            f"({r['evaluations'] / r['vigil_seconds']:,.0f} evaluations/s)",
            "target": "",
            "note": "Vigil's evaluate() with defaults, guardrails and mode bookkeeping",
        }
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--rules", type=int, default=50)
    args = parser.parse_args()
    r = measure(args.subjects, args.rules)
    evaluations, raw_seconds, vigil_seconds = r["evaluations"], r["raw_seconds"], r["vigil_seconds"]
    print(
        f"{args.rules} rules x {args.subjects} subjects = {evaluations:,} evaluations, "
        f"{r['matches']:,} matches"
    )
    print(f"raw CEL:          {evaluations / raw_seconds:12,.0f} evaluations/s ({raw_seconds:.2f} s)")
    print(f"vigil evaluate(): {evaluations / vigil_seconds:12,.0f} evaluations/s ({vigil_seconds:.2f} s)")
    print(f"ratio vigil/raw:  {raw_seconds / vigil_seconds:.2f}")


if __name__ == "__main__":
    main()
