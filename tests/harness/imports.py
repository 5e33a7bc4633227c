"""What a package's modules import, read from their source (every import statement, also
those inside functions and ``if TYPE_CHECKING:``), for tests that keep the layers apart."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imports_of(package: str) -> dict[str, set[str]]:
    """Module name → the modules it imports, for every module of ``package``."""
    folder = ROOT / package.replace(".", "/")
    files = sorted(folder.rglob("*.py")) if folder.is_dir() else [folder.with_suffix(".py")]
    out: dict[str, set[str]] = {}
    for path in files:
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
        out[module] = found
    return out


def reaches(imported: set[str], target: str) -> bool:
    """Whether any of ``imported`` is ``target`` or inside it."""
    return any(name == target or name.startswith(target + ".") for name in imported)
