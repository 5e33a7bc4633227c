"""The enforcement concept keeps the house's rules, so a reader finds each role in its room:
no module imports an adapter or builds SQL (store/enforcement does), the rooms import each
other without a cycle, none outgrows ~500 lines without saying why, and no Slack markup is
written in the domain (commands/blocks/enforcement.py renders it)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import workflows.enforcement

PACKAGE = Path(workflows.enforcement.__file__).parent
MODULES = sorted(PACKAGE.glob("*.py"))
ADAPTERS = ("slack_bolt", "slack_sdk", "httpx", "matplotlib", "starlette", "openai", "bot", "commands")
# A mention, a broadcast, a channel link, an emoji code or bold: what commands/blocks renders.
MARKUP = re.compile(r"<@|<!(?:channel|here|everyone)|<#C|:[a-z][a-z0-9_+-]*:|\*[A-Za-z][^*]*\*")
SQL = {"select", "insert", "update", "delete", "exists", "func", "text", "and_", "or_", "case", "true"}


def module_name(path: Path) -> str:
    return "workflows.enforcement" + ("" if path.stem == "__init__" else f".{path.stem}")


def runtime_imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) imported when the module runs: ``if TYPE_CHECKING:`` blocks left out."""
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

    visit(ast.parse(path.read_text()).body)
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_a_room_imports_no_adapter_and_builds_no_sql(path: Path) -> None:
    for module, names in runtime_imports(path):
        assert module.split(".")[0] not in ADAPTERS, f"{path.name} imports {module}"
        if module.startswith("sqlalchemy"):
            assert not SQL & set(names), f"{path.name} builds SQL ({module}): store/enforcement does"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_a_room_stays_small_or_says_why_and_writes_no_slack_markup(path: Path) -> None:
    text = path.read_text()
    tree = ast.parse(text)
    if len(text.splitlines()) > 500:
        assert "500 lines" in (ast.get_docstring(tree) or ""), (
            f"{path.name} outgrew one role without a reason"
        )
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef) and ast.get_docstring(node)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            assert not MARKUP.search(node.value), f"{path.name}: Slack markup in {node.value!r}"


def test_the_rooms_import_each_other_without_a_cycle() -> None:
    graph = {
        module_name(path): {
            module for module, _ in runtime_imports(path) if module.startswith("workflows.enforcement.")
        }
        for path in MODULES
        if path.stem != "__init__"  # the front door imports every room; no room imports it
    }
    for path in MODULES:
        imported = {module for module, _ in runtime_imports(path)}
        assert path.stem == "__init__" or "workflows.enforcement" not in imported, path.name
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


def test_the_front_door_still_serves_what_other_concepts_and_adapters_import() -> None:
    """Other concepts and adapters import these by their old names (bot/gateways/platform.py,
    bot/cli/, workflows/investigations/, bench/): the package re-exports them."""
    for name in (
        "ActionCall",
        "Outcome",
        "EnforcementGateway",
        "Enforcer",
        "EnforcerOptions",
        "Draft",
        "OpenRequestConflict",
        "check_draft",
        "read_id_file",
        "list_requests",
        "actions_of",
        "load_view",
        "parse_ref",
        "retry_failed",
        "account_history",
        "open_requests_of",
        "ReversedSuspensionLabels",
    ):
        assert hasattr(workflows.enforcement, name), name
