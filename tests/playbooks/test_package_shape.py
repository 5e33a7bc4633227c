"""The playbooks concept keeps the house's rules, so a reader finds each role in its room:
no module imports an adapter or builds SQL, the rooms import each other without a cycle,
none outgrows ~500 lines, and no Slack markup is written in the domain."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import workflows.playbooks

PACKAGE = Path(workflows.playbooks.__file__).parent
MODULES = sorted(PACKAGE.glob("*.py"))
ADAPTERS = ("slack_bolt", "slack_sdk", "httpx", "matplotlib", "starlette", "openai", "bot", "commands")
# A mention, a broadcast, a channel link or an emoji code: what commands/blocks renders.
MARKUP = re.compile(r"<@[UW]|<!(?:channel|here|everyone)|<#C|:[a-z][a-z0-9_+-]*:")
SQL = {"select", "insert", "update", "delete", "func", "text", "and_", "or_", "case"}


def module_name(path: Path) -> str:
    return "workflows.playbooks" + ("" if path.stem == "__init__" else f".{path.stem}")


def runtime_imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) imported when the module runs: ``if TYPE_CHECKING:`` blocks left out."""
    tree = ast.parse(path.read_text())
    found: list[tuple[str, list[str]]] = []

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.Import):
                found.extend((alias.name, []) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.append((node.module, [alias.name for alias in node.names]))
            for child in ("body", "orelse", "handlers", "finalbody"):
                visit(getattr(node, child, []) or [])

    visit(tree.body)
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_a_room_imports_no_adapter_and_builds_no_sql(path: Path) -> None:
    for module, names in runtime_imports(path):
        assert module.split(".")[0] not in ADAPTERS, f"{path.name} imports {module}"
        if module.startswith("sqlalchemy"):
            assert not SQL & set(names), f"{path.name} builds SQL ({module}): store/playbooks.py does"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_a_room_stays_small_and_writes_no_slack_markup(path: Path) -> None:
    text = path.read_text()
    assert len(text.splitlines()) <= 500, f"{path.name} outgrew one role"
    nodes = ast.walk(ast.parse(text))
    for value in [n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str)]:
        assert not MARKUP.search(value), f"{path.name}: Slack markup in {value!r}"


def test_the_rooms_import_each_other_without_a_cycle() -> None:
    graph = {
        module_name(path): {
            module for module, _ in runtime_imports(path) if module.startswith("workflows.playbooks.")
        }
        for path in MODULES
        if path.stem != "__init__"  # the front door imports every room; no room imports it
    }
    for path in MODULES:
        imported = {module for module, _ in runtime_imports(path)}
        assert path.stem == "__init__" or "workflows.playbooks" not in imported, path.name
    done: set[str] = set()

    def visit(module: str, trail: tuple[str, ...]) -> None:
        assert module not in trail, " → ".join((*trail, module))
        if module in done:
            return
        for imported in graph.get(module, set()):
            visit(imported, (*trail, module))
        done.add(module)

    for module in graph:
        visit(module, ())
