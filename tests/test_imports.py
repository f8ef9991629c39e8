"""The stages' boundaries: the import graph of src/gongkai has no cycles, and no stage imports the
command line or the web app (they sit on top of the stages, never under them)."""

from __future__ import annotations

import ast
from pathlib import Path

import gongkai

PACKAGE = Path(gongkai.__file__).parent
TOP_LAYERS = ("gongkai.cli", "gongkai.web")


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, inside functions too, but not under `if TYPE_CHECKING:` (names for
    annotations only, never imported when the program runs)."""
    found: list[ast.Import | ast.ImportFrom] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        stack.extend(child for child in ast.iter_child_nodes(node) if not _type_checking(child))
    return found


def import_graph() -> dict[str, set[str]]:
    """Module → the gongkai modules it imports anywhere in its body (inside functions too: a lazy
    import is still a dependency). `from a import b` is an edge to a.b when b is a module."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges: set[str] = set()
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                edges |= {alias.name for alias in node.names if alias.name in modules}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parent, *([node.module] if node.module else [])])
                for alias in node.names:
                    if f"{base}.{alias.name}" in modules:
                        edges.add(f"{base}.{alias.name}")
                    elif base in modules:
                        edges.add(base)
        edges.discard(name)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_walk_sees_lazy_and_relative_imports():
    graph = import_graph()
    assert "gongkai.read.ocr" in graph["gongkai.read.pdf"]  # imported inside a method
    assert "gongkai.read.page" in graph["gongkai.read.ocr"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    annotated = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import x\ndef f():\n    import y\n")
    assert sorted(alias.name for node in _imports(annotated) for alias in node.names) == ["TYPE_CHECKING", "y"]


def test_import_graph_has_no_cycles():
    assert cycles(import_graph()) == []


def test_nothing_under_the_cli_or_the_web_app_imports_them():
    """The stages (read, parse, check, store, render …) and the shared modules (model, text …) sit
    under the command line and the web app: none of them imports either."""
    graph = import_graph()
    assert {module.split(".")[1] for module in graph if module.count(".") >= 2} >= {"read", "parse", "render", "store"}
    offending = {
        (module, target)
        for module, targets in graph.items()
        if not module.startswith(TOP_LAYERS) and module != "gongkai.__main__"
        for target in targets
        if target.startswith(TOP_LAYERS)
    }
    assert offending == set()


# The stages in the order data flows through them: a stage may import the ones before it, never one
# after it. The parser checks its OCR readings by the sums, so check comes before parse; the store
# keeps what review computes but calls it only through a hook its caller gives.
STAGE_ORDER = ("formats", "read", "check", "parse", "render", "store", "review", "ledger")


def test_no_stage_imports_a_later_one():
    graph = import_graph()
    rank = {stage: i for i, stage in enumerate(STAGE_ORDER)}

    def stage(module: str) -> str | None:
        parts = module.split(".")
        return parts[1] if len(parts) > 1 and parts[1] in rank else None

    backwards = sorted((module, target) for module, targets in graph.items() for target in targets
                       if stage(module) and stage(target) and rank[stage(target)] > rank[stage(module)])
    assert backwards == []
