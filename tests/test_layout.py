"""The layout's promises, read from the source: no import cycles between modules (imports inside
functions included: they hide cycles, they do not remove them), and the engine never imports the
command line, the chat or measurement code."""

from __future__ import annotations

import ast
import subprocess
import sys

from conftest import REPO

# The command line and measurement: free to use the engine, never used by it.
OUTER = {
    "rag.cli", "rag.cli_options", "rag.eval_cli", "rag.attacks", "rag.bench", "rag.evaluate", "rag.baseline",
    "rag.datasets", "rag.list_eval", "rag.planted", "rag.doctor", "rag.paths",
}  # fmt: skip


def _graph() -> dict[str, set[str]]:
    modules = {f"{p.parent.name}.{p.stem}": p for d in ("rag", "tui") for p in (REPO / d).glob("*.py") if p.stem != "__init__"}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        out = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                out |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
            elif isinstance(node, ast.Import):
                out |= {a.name for a in node.names}
        graph[name] = {m for m in out if m in modules and m != name}
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


def test_the_engine_imports_no_command_line_chat_or_measurement():
    graph = _graph()
    engine = [m for m in graph if m.startswith("rag.") and m not in OUTER]
    assert "rag.pipeline" in engine and "rag.listing" in engine
    leaks = {m: sorted(_reach(graph, m) & (OUTER | {t for t in graph if t.startswith("tui.")})) for m in engine}
    assert {m: v for m, v in leaks.items() if v} == {}


def test_importing_the_pipeline_loads_no_outer_module():
    code = "import sys, rag.pipeline; print(' '.join(sorted(m for m in sys.modules if m.startswith(('rag.', 'tui')))))"
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO).stdout.split())
    assert "rag.pipeline" in loaded and not loaded & OUTER and not any(m.startswith("tui") for m in loaded)
