"""Re-exports that load on first use, for package __init__ files.

A concept's package re-exports its rooms (``from workflows.enforcement import Enforcer``),
but importing every room whenever one is needed made each `vigil` command pay for the whole
concept: the investigation dossier loaded enforcement's executor and jobs to read the ledger.
A package lists its re-exports once, as ordinary imports under ``if TYPE_CHECKING:`` (what
type checkers, import-linter and readers see), and hands them to `exports()`, which reads that
block and imports a room when one of its names is first asked for.
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _type_checking_imports(source: str) -> dict[str, tuple[str, str]]:
    """Exported name → (module, name in it), from the ``if TYPE_CHECKING:`` block's imports."""
    found: dict[str, tuple[str, str]] = {}
    blocks = [
        node.body
        for node in ast.parse(source).body
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
    ]
    for statement in (statement for body in blocks for statement in body):
        if isinstance(statement, ast.ImportFrom) and statement.module and statement.level == 0:
            for alias in statement.names:
                found[alias.asname or alias.name] = (statement.module, alias.name)
    return found


def exports(package: str, init_file: str) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, whose re-exports are the imports
    under ``if TYPE_CHECKING:`` in ``init_file`` (its own ``__file__``)."""
    names = _type_checking_imports(Path(init_file).read_text(encoding="utf-8"))
    namespace = sys.modules[package].__dict__  # the package itself, still being initialised

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attribute = names[name]
        if module == package:  # `from package import room`: the submodule itself
            value = importlib.import_module(f"{package}.{attribute}")
        else:
            value = getattr(importlib.import_module(module), attribute)
        namespace[name] = value  # found directly from now on; __getattr__ is not asked again
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *names})

    return __getattr__, __dir__
