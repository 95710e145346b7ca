"""The package's import graph has no cycle.

Edges are the explicit imports of every module of ``autoforecast``: at module level and inside
functions, and ``importlib.import_module`` calls with a literal name; not those under
``if TYPE_CHECKING:``, nor a module's import of its own parent packages. Importing
``autoforecast.data.csv`` also imports the package ``autoforecast.data`` (its ``__init__`` runs
first).
"""

from __future__ import annotations

import ast
from pathlib import Path

import autoforecast

ROOT = Path(autoforecast.__file__).resolve().parent


def module_names() -> dict[str, Path]:
    names = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _under_type_checking(node, parents) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def imports_of(module: str, path: Path, known: set[str]) -> set[str]:
    """The package modules that ``module`` imports (resolved to modules that exist)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    targets = set()
    for node in ast.walk(tree):
        if _under_type_checking(node, parents):
            continue
        if isinstance(node, ast.Import):
            targets |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, path.name == "__init__.py", node)
            for alias in node.names:  # `from pkg import mod` imports pkg.mod, else pkg itself
                targets.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
        elif (isinstance(node, ast.Call) and ast.unparse(node.func).endswith("import_module")
              and node.args and isinstance(node.args[0], ast.Constant)):
            targets.add(node.args[0].value)
    # importing a.b.c runs a/__init__ and a/b/__init__ first: those are imported too, except
    # the importing module's own parent packages
    targets |= {p for t in targets for p in _parents(t)}
    return {t for t in targets if t in known and t != module and t not in _parents(module)}


def _parents(module: str) -> set[str]:
    return {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)}


def import_graph() -> dict[str, set[str]]:
    names = module_names()
    return {module: imports_of(module, path, set(names)) for module, path in names.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a list of modules (first == last), or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_graph_is_read_as_intended():
    graph = import_graph()
    assert "autoforecast.search.loop" in graph["autoforecast.search.parallel"]  # module level
    assert "autoforecast.persistence" in graph["autoforecast"]
    assert "autoforecast" not in graph["autoforecast.cli"]  # a parent package: not an edge
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)
