"""The layout's promises, read from the source: no import cycles between modules (imports inside
functions included: they hide cycles, they do not remove them), and the engine never imports the
command line, the chat or measurement code."""

from __future__ import annotations

import ast
import subprocess
import sys

from conftest import REPO

# The command line and measurement: free to use the engine, never used by it.
OUTER_PACKAGES = ("rag.cli.", "rag.evals.", "tui.")


def _outer(module: str) -> bool:
    return module.startswith(OUTER_PACKAGES)


def _modules() -> dict[str, object]:
    out = {}
    for top in ("rag", "tui"):
        for p in (REPO / top).rglob("*.py"):
            parts = p.relative_to(REPO).with_suffix("").parts
            out[".".join(parts[:-1] if p.stem == "__init__" else parts)] = p
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        out = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                out |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
            elif isinstance(node, ast.Import):
                out |= {a.name for a in node.names}
        graph[name] = {m for m in out if m in modules and m != name and not name.startswith(m + ".")}
    return graph


def _reach(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_no_module_imports_itself_through_others():
    graph = _graph()
    cycles = sorted(m for m in graph if m in _reach(graph, m))
    assert cycles == []


def test_the_layout_follows_the_data():
    packages = {m for m in _modules() if m.count(".") == 1 and (REPO / m.replace(".", "/")).is_dir()}
    assert packages == {"rag.corpus", "rag.models", "rag.store", "rag.answer", "rag.verify", "rag.cli", "rag.evals"}


def test_the_engine_imports_no_command_line_chat_or_measurement():
    graph = _graph()
    engine = [m for m in graph if m.startswith("rag.") and not _outer(m + ".")]
    assert "rag.answer.pipeline" in engine and "rag.answer.listing" in engine
    leaks = {m: sorted(x for x in _reach(graph, m) if _outer(x + ".")) for m in engine}
    assert {m: v for m, v in leaks.items() if v} == {}


def test_importing_the_pipeline_loads_no_outer_module():
    code = "import sys, rag.answer.pipeline; print(' '.join(sorted(m for m in sys.modules if m.startswith(('rag.', 'tui')))))"
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO).stdout.split())
    assert "rag.answer.pipeline" in loaded and not any(_outer(m + ".") for m in loaded)
