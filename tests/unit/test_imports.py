"""The package's import graph: no circles (type-only imports included), light start-up path."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "server" / "gemini_chat"


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _target(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        name = node.module or ""
        return name.removeprefix("gemini_chat").removeprefix(".")
    base = module.split(".") if module else []
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level == 0 and not (node.module or "").startswith("gemini_chat"):
                continue
            target = _target(module, path.name == "__init__.py", node)
            for name in [target, *(f"{target}.{a.name}".strip(".") for a in node.names)]:
                if name in modules and name != module:
                    edges[module].add(name)
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component: list[str] = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def test_no_import_circles() -> None:
    """No two modules of gemini_chat import each other, directly or around a loop, counting
    imports under TYPE_CHECKING (a package __init__ re-exporting its own modules excepted)."""
    edges = _graph()
    for module in edges:
        if _modules()[module].name == "__init__.py":
            edges[module] = set()  # a package's __init__ re-exports; its modules may import it
    assert _cycles(edges) == []


def test_the_checker_finds_a_circle() -> None:
    """The cycle finder itself reports a two-module loop (so the test above can fail)."""
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]


def test_the_daemon_starts_without_the_heavy_half() -> None:
    """Importing the daemon's entry and server loads neither pydantic, httpx, the core, the ACP
    SDK, rich nor prompt_toolkit: they load after `initialize` is answered (or never)."""
    code = (
        "import sys, gemini_chat.cli, gemini_chat.server, gemini_chat.stdio\n"
        "heavy = ['pydantic', 'httpx', 'gemini_chat.core', 'gemini_chat.chat', 'acp',"
        " 'rich', 'prompt_toolkit']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_core_loads_without_the_media_models() -> None:
    """Loading the core (what `initialize` brings in) does not build the Files API and Imagen
    models of gemini/media_wire: only an upload or an image request loads them."""
    code = (
        "import sys, gemini_chat.core\n"
        "print([m for m in ['gemini_chat.gemini.media_wire'] if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
