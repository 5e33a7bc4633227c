"""Run every benchmark and rewrite the figures table in docs/benchmarks.md.

    python -m bench                 # every benchmark, full size (long: tens of minutes)
    python -m bench --quick         # small sizes: a smoke run that the table can be made
    python -m bench --only ack,cli_start --doc /tmp/benchmarks.md

Each module in MODULES exposes ``figures(quick: bool = False) -> list[dict]`` whose rows
have the keys measure, baseline, now, target, note; the baseline is measured in the same
run wherever there is one, so the ratios carry over to other machines better than the
absolute figures. The table between the markers is replaced; the rest of the document
(the detailed write-ups of each benchmark) is left as it is.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Every benchmark, in the order of the table. Add a module here and give it figures().
MODULES = [
    "ack",
    "cli_start",
    "enforcement_bulk",
    "signals",
    "digest",
    "playbooks_eval",
    "anomalies",
    "patterns",
    "scale",
]

START = "<!-- bench:figures:start (written by `python -m bench`; edit the modules, not this table) -->"
END = "<!-- bench:figures:end -->"
DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
KEYS = ("measure", "baseline", "now", "target", "note")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ""
    if hasattr(os, "getloadavg"):
        load = f", load average {os.getloadavg()[0]:.1f} at the start"
    return f"{cores} cores ({cpu_model()}), Python {platform.python_version()}, {platform.system()}{load}"


def run_module(name: str, quick: bool) -> tuple[list[dict[str, Any]], float]:
    started = time.perf_counter()
    try:
        module = importlib.import_module(f"bench.{name}")
        rows = [{key: str(row.get(key, "")) for key in KEYS} for row in module.figures(quick=quick)]
    except Exception as exc:  # one broken benchmark must not hide the others' figures
        traceback.print_exc()
        rows = [
            {
                "measure": f"bench.{name}",
                "baseline": "",
                "now": "not measured",
                "target": "",
                "note": f"the run failed: {type(exc).__name__}: {exc}"[:300],
            }
        ]
    return rows, time.perf_counter() - started


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def kept_rows(doc: Path, ran: list[str]) -> dict[str, list[str]]:
    """The table's rows of benchmarks not run this time (``--only``), by benchmark."""
    if not doc.exists():
        return {}
    text = doc.read_text(encoding="utf-8")
    if START not in text or END not in text:
        return {}
    kept: dict[str, list[str]] = {}
    for line in text.split(START, 1)[1].split(END, 1)[0].splitlines():
        cells = line.split(" | ")
        name = cells[0].removeprefix("| ").strip("`") if line.startswith("| `") else None
        if name and name not in ran:
            kept.setdefault(name, []).append(line)
    return kept


def render(
    results: list[tuple[str, list[dict[str, Any]], float]],
    quick: bool,
    when: datetime,
    kept: dict[str, list[str]] | None = None,
) -> str:
    lines = [
        START,
        "",
        f"Generated {when:%Y-%m-%d %H:%M} UTC on {machine()}"
        + (" — **quick run** (small sizes, a smoke test; not the figures to quote)." if quick else "."),
        "",
        "| benchmark | measure | baseline, same run | now | target | note |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    fresh = {name: rows for name, rows, _seconds in results}
    kept = kept or {}
    for name in [*MODULES, *(n for n in kept if n not in MODULES)]:
        if name in fresh:
            for row in fresh[name]:
                cells = [f"`{name}`", *(_cell(row[key]) for key in KEYS)]
                lines.append("| " + " | ".join(cells) + " |")
        else:
            lines += kept.get(name, [])
    if kept:
        lines += [
            "",
            f"Rows of {', '.join(f'`{n}`' for n in kept)} are from an earlier run (not run this time).",
        ]
    lines += ["", END]
    return "\n".join(lines)


def rewrite(doc: Path, table: str) -> None:
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    if START in text and END in text:
        before, rest = text.split(START, 1)
        _, after = rest.split(END, 1)
        text = before + table + after
    else:
        # First run: the table goes under the title, above the detailed write-ups.
        head, newline, body = text.partition("\n")
        text = head + newline + "\n" + table + "\n" + body
    doc.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--only", help=f"comma-separated, of: {', '.join(MODULES)}")
    parser.add_argument("--doc", type=Path, default=DOC, help="the document to rewrite")
    args = parser.parse_args(argv)
    names = MODULES
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in MODULES]
        if unknown:
            parser.error(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(MODULES)}")
    when = datetime.now(UTC)
    results = []
    for name in names:
        print(f"bench.{name} …", file=sys.stderr, flush=True)
        rows, seconds = run_module(name, args.quick)
        print(f"bench.{name}: {len(rows)} figures in {seconds:.0f} s", file=sys.stderr, flush=True)
        results.append((name, rows, seconds))
    kept = kept_rows(args.doc, names) if args.only else {}
    rewrite(args.doc, render(results, args.quick, when, kept))
    print(f"wrote the figures table in {args.doc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    raise SystemExit(main())
