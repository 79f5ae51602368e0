"""The import graph of `cnnlabs` and `autograder`: layers point one way, no cycle.

Every module under `cnnlabs/` and `autograder/` is parsed with `ast` (nothing is
imported), and every import statement is an edge, those inside functions
included: a function-level import that goes back up is still a cycle
(docs/design.md, STYLE.md "Layers point one way"). `from package import name`
is an edge to `package.name` when that is a module, else to `package`; an
`importlib.import_module("literal")` call counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("cnnlabs", "autograder")


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """`{"cnnlabs.models.vgg": path, ...}` for every module of the two packages."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _imported(node: ast.AST, module: str, is_package: bool, known: set[str]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:  # relative: from the module's package, up level - 1 more
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            target = ".".join([*base, node.module] if node.module else base)
        else:
            target = node.module or ""
        return [
            f"{target}.{alias.name}" if f"{target}.{alias.name}" in known else target
            for alias in node.names
        ]
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "import_module"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return [node.args[0].value]
    return []


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """`{module: {module it imports, ...}}`, restricted to the two packages' modules."""
    files = module_files(root)
    known = set(files)
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        is_package = path.name == "__init__.py"
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            for name in _imported(node, module, is_package, known):
                # `import a.b.c` names a.b.c; keep the longest prefix that is one of ours.
                while name and name not in known:
                    name = name.rpartition(".")[0]
                if name and name != module:
                    edges.add(name)
        graph[module] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """`"cnnlabs.x -> autograder.y"` for every edge from the library to the grader."""
    return sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        if module.split(".")[0] == "cnnlabs"
        for target in targets
        if target.split(".")[0] == "autograder"
    )


@pytest.fixture(scope="module")
def graph():
    return import_graph()


def test_the_graph_sees_function_level_and_relative_imports(graph):
    # The walk is real: the CLI's handlers import their modules inside functions.
    assert "cnnlabs.errors" in graph["cnnlabs.train_cli"]
    assert "cnnlabs.errors" in graph["autograder.cli"]
    assert len(graph) > 100


def test_cnnlabs_never_imports_autograder(graph):
    assert upward_imports(graph) == []


def test_no_import_cycle_among_modules(graph):
    assert cycles(graph) == []


def test_the_checks_fail_on_a_bad_import(tmp_path):
    """A function-level import back up, in a copy of the tree, is caught by both checks."""
    import shutil

    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package)
    arithmetic = tmp_path / "cnnlabs" / "arithmetic.py"
    arithmetic.write_text(
        arithmetic.read_text(encoding="utf-8")
        + "\n\ndef _up():\n    from autograder import grade\n\n\ndef _around():\n"
        "    from .analysis import table\n",
        encoding="utf-8",
    )
    bad = import_graph(tmp_path)
    assert upward_imports(bad) == ["cnnlabs.arithmetic -> autograder.grade"]
    assert any({"cnnlabs.arithmetic", "cnnlabs.analysis.table"} <= set(c) for c in cycles(bad))
