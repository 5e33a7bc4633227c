"""`python -m bench` rewrites the figures table in docs/benchmarks.md and nothing else.

The runner is driven in quick mode on a copy of the document; figures are never checked
for speed here (timing belongs to bench/, not to tests)."""

from __future__ import annotations

import shutil
import sys
import types
from pathlib import Path

import pytest

from bench import __main__ as runner

DOC = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"


def table_of(text: str) -> str:
    start, end = text.index(runner.START), text.index(runner.END)
    return text[start:end]


def test_a_quick_run_writes_the_table_once_and_keeps_the_write_ups(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    shutil.copy(DOC, doc)
    original = doc.read_text()

    assert runner.main(["--quick", "--only", "playbooks_eval", "--doc", str(doc)]) == 0
    first = doc.read_text()
    assert first.count(runner.START) == 1 and first.count(runner.END) == 1
    table = table_of(first)
    assert "| benchmark | measure | baseline, same run | now | target | note |" in table
    assert "`playbooks_eval`" in table and "raw CEL" in table
    assert "quick run" in table and "cores (" in table  # the machine and the kind of run
    # The hand-written document is all still there: only the table between the markers changed.
    if runner.START in original:
        assert first.replace(table, "") == original.replace(table_of(original), "")
    else:  # a document without a table gets one under its title
        title, _, rest = original.partition("\n")
        assert first.startswith(title + "\n") and rest.strip() in first

    assert runner.main(["--quick", "--only", "playbooks_eval", "--doc", str(doc)]) == 0
    second = doc.read_text()
    assert second.count(runner.START) == 1  # rewritten in place, not appended
    assert second.replace(table_of(second), "") == first.replace(table, "")


def test_a_benchmark_that_fails_is_a_row_saying_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = types.ModuleType("bench.broken")

    def figures(quick: bool = False) -> list[dict[str, str]]:
        raise RuntimeError("the fake API did not start")

    broken.figures = figures  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bench.broken", broken)
    monkeypatch.setattr(runner, "MODULES", [*runner.MODULES, "broken"])
    doc = tmp_path / "benchmarks.md"
    earlier = "| `digest` | weekly digest | loading: 9 s | 3.4 s | < 5 s | charts 1 s |"
    doc.write_text(f"# Benchmarks\n\n{runner.START}\n\n{earlier}\n\n{runner.END}\n\nHow we measure.\n")

    assert runner.main(["--quick", "--only", "broken", "--doc", str(doc)]) == 0
    text = doc.read_text()
    assert text.startswith("# Benchmarks\n")
    assert "How we measure." in text
    assert "not measured" in text and "RuntimeError: the fake API did not start" in text
    # A benchmark not run this time keeps its last figures, said to be from an earlier run.
    assert earlier in text and "Rows of `digest` are from an earlier run" in text


def test_an_unknown_benchmark_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        runner.main(["--only", "nope", "--doc", str(tmp_path / "b.md")])
    assert exit_.value.code == 2
    assert "unknown benchmark nope" in capsys.readouterr().err
    assert not (tmp_path / "b.md").exists()
