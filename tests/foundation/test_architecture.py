"""The house keeps its shape: no import cycles anywhere in Vigil, no module that has grown
past one role without saying why, and no Slack markup in the domain.

The layers themselves (bot → commands → workflows → store, and the domain free of adapter
libraries) are import-linter contracts in pyproject.toml, checked by `lint-imports` in CI."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "commands", "workflows", "store")
LONG = 500


def _cycles() -> list[list[str]]:
    graph = grimp.build_graph(*PACKAGES)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        index[module] = low[module] = counter[0]
        counter[0] += 1
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_round_a_cycle() -> None:
    assert _cycles() == []


def _modules(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)


def test_a_module_over_500_lines_says_why_at_its_top() -> None:
    silent = []
    for package in PACKAGES:
        for path in _modules(package):
            text = path.read_text()
            if text.count("\n") <= LONG:
                continue
            doc = ast.get_docstring(ast.parse(text)) or ""
            if not re.search(r"\b(lines?|long)\b.*\b(on purpose|because|why)\b", doc, re.S | re.I):
                silent.append(str(path.relative_to(ROOT)))
    assert silent == [], f"split these by role, or say at their top why they are long: {silent}"


SLACK_MARKUP = re.compile(r"<[@#!][A-Za-z0-9^|]|:[a-z0-9_+-]+:(?!\d)")


def test_the_domain_writes_no_slack_markup() -> None:
    """Workflows hand codes and fields to the adapters; mentions, emoji and links are Slack's."""
    found = []
    for path in _modules("workflows"):
        for node in ast.walk(ast.parse(path.read_text())):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and SLACK_MARKUP.search(text):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {text[:60]!r}")
    assert found == []
