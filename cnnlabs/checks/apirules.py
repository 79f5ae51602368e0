"""Allowed and forbidden API per question, read from the submitted source (never run).

A question may declare ``api=ApiRule(allow=("numpy",), description="NumPy only")``:
the code that defines its answer may use NumPy and the student's own code, nothing
else. ``ApiRule(forbid=("cnnlabs.models",))`` forbids some names and allows the
rest. Every rule also forbids ``cnnlabs.checks`` and ``autograder`` (the
references and the grader).

``analyse(sources, answer, rule)`` parses the notebook's code cells with ``ast``
(no code runs), finds the statements that bind ``answer`` (its ``def``, ``class``,
assignment or import; the last cell that binds it wins, as in the kernel), follows
the student's own functions, classes and values it uses (transitively), resolves
import aliases in every cell (``import tensorflow as tf``, ``from tensorflow import
nn``, ``from cnnlabs import arithmetic as a``, ``f = tf.nn.conv2d``) and reports:

- ``forbidden``: each use of a name the rule does not allow, with cell and line;
- ``indirection``: ``getattr`` with a computed name, ``importlib``, ``__import__``,
  ``exec``/``eval``/``compile``, ``globals()``/``vars()``, ``sys.modules`` and
  similar ways around the analysis. The grader does not guess what they do: it
  flags the submission for an instructor's review.

The same analysis runs in the student's check cell (on the kernel's ``In``
history) and in the grader (on the submitted notebook's cells), so the student
is told the rule before submitting.
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass, field
from pathlib import Path

ALWAYS_FORBIDDEN = ("cnnlabs.checks", "autograder")
NUMPY_ONLY = ("numpy", "math")

# Builtins and modules that reach code or names the analysis cannot follow.
INDIRECT_BUILTINS = frozenset(
    {"__import__", "exec", "eval", "compile", "globals", "vars", "get_ipython", "__builtins__"}
)
INDIRECT_MODULES = ("importlib", "sys.modules", "builtins", "gc", "ctypes", "runpy")
INDIRECT_ATTRIBUTES = frozenset(
    {
        "__globals__",
        "__dict__",
        "__subclasses__",
        "__builtins__",
        "__code__",
        "__closure__",
        "__getattribute__",
        "f_globals",
        "f_locals",
        "f_back",
        "modules",  # sys.modules through an alias the resolver missed
    }
)
# IPython magics that neither run other files nor hide code from the analysis.
_PLAIN_MAGICS = frozenset(
    {
        "matplotlib",
        "config",
        "load_ext",
        "reload_ext",
        "autoreload",
        "pip",
        "who",
        "whos",
        "pwd",
        "precision",
        "html",
        "markdown",
        "latex",
        "svg",
        "javascript",
        "js",
        "env",
    }
)
_HARMLESS = frozenset({"importlib.invalidate_caches"})
_CODE_MAGICS = frozenset({"time", "timeit", "capture", "prun"})
_BUILTIN_NAMES = frozenset(dir(builtins))
_MAGIC_LINE = re.compile(r"^(\s*)(%{1,2})(\w+)(.*)$")


@dataclass(frozen=True)
class ApiRule:
    """What the code of one answer may use.

    Args:
        allow: tuple of module or name prefixes (``"numpy"``, ``"keras.layers"``);
            when given, anything imported from elsewhere is forbidden. ``None``
            (the default) allows everything not in ``forbid``.
        forbid: tuple of prefixes never allowed (``"tensorflow.nn.conv2d"``,
            ``"cnnlabs.models"``). ``cnnlabs.checks`` and ``autograder`` always are.
        description: str, the rule in words for the student ("NumPy only").

    Example:
        >>> rule = ApiRule(allow=("numpy",), description="NumPy only")
        >>> rule.is_forbidden("numpy.einsum"), rule.is_forbidden("tensorflow.nn.conv2d")
        (False, True)
    """

    allow: tuple[str, ...] | None = None
    forbid: tuple[str, ...] = ()
    description: str = ""

    def __post_init__(self):
        if self.allow is not None:
            object.__setattr__(self, "allow", tuple(self.allow))
        object.__setattr__(self, "forbid", tuple(self.forbid))
        for name in (*(self.allow or ()), *self.forbid):
            if not isinstance(name, str) or not name or name.startswith("."):
                raise ValueError(
                    f"ApiRule names must be dotted module or attribute names, got {name!r}."
                )

    def is_forbidden(self, dotted: str) -> bool:
        """True when the resolved name ``dotted`` breaks the rule."""
        name = _plain(dotted)
        if any(_under(name, p) for p in (*ALWAYS_FORBIDDEN, *self.forbid)):
            return True
        if self.allow is not None:
            return not any(_under(name, p) for p in self.allow)
        return False

    def describe(self) -> str:
        """The rule in words: ``"NumPy only"``, ``"anything but cnnlabs.models, ..."``."""
        if self.description:
            return self.description
        if self.allow is not None:
            return "only " + ", ".join(self.allow)
        return "anything but " + ", ".join((*self.forbid, *ALWAYS_FORBIDDEN))


@dataclass(frozen=True)
class Finding:
    """One use of a forbidden name, or one indirection, in the submitted code."""

    kind: str  # "forbidden" or "indirection"
    text: str  # as written: "tf.nn.conv2d"
    resolved: str  # what it names: "tensorflow.nn.conv2d"
    cell: int  # index of the code cell (0-based) in the sources given
    line: int  # line in that cell (1-based)
    where: str  # the answer or helper it is in
    call: bool = False

    def describe(self, cell_label=None) -> str:
        """``"line 5 (in conv2d_by_hand) calls tf.nn.conv2d"``, optionally with the cell."""
        verb = "calls" if self.call else "uses"
        shown = self.text
        if self.resolved and _plain(self.resolved) != self.text and self.kind == "forbidden":
            shown += f" ({_plain(self.resolved)})"
        place = f"line {self.line}"
        if cell_label is not None:
            place = f"{cell_label(self.cell)}, {place}"
        return f"{place} (in {self.where}) {verb} {shown}"


@dataclass
class Analysis:
    """What ``analyse`` found for one answer."""

    answer: str
    rule: ApiRule
    found: bool = False  # a statement binding the answer was found
    forbidden: list[Finding] = field(default_factory=list)
    indirection: list[Finding] = field(default_factory=list)

    def message(self, cell_label=None, limit: int = 3) -> str:
        """One sentence for the student or the grade report; "" when nothing was found."""
        parts = []
        if self.forbidden:
            shown = "; ".join(f.describe(cell_label) for f in self.forbidden[:limit])
            more = len(self.forbidden) - limit
            shown += f"; and {more} more" if more > 0 else ""
            parts.append(f"this exercise may use {self.rule.describe()}: {shown}")
        if self.indirection:
            shown = "; ".join(f.describe(cell_label) for f in self.indirection[:limit])
            parts.append(f"code the grader cannot check ({shown}) is left to your instructor")
        return ". ".join(parts)


def _plain(dotted: str) -> str:
    return dotted.replace("()", "").replace("[]", "")


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


# ---------------------------------------------------------------- parsing cells


def _strip_magics(source: str) -> tuple[str, list[tuple[int, str]]]:
    """Turns IPython syntax into Python the analysis can read; lists unknown magics.

    ``%time x = f()`` and ``%%time`` cells keep their code; ``!cmd`` and the known
    display magics become ``pass``; ``%run``, ``%%writefile`` and other magics that
    run or hide code are returned (line, name) for review.
    """
    lines = source.splitlines()
    unknown: list[tuple[int, str]] = []
    if lines:
        match = _MAGIC_LINE.match(lines[0])
        if match and match.group(2) == "%%":
            name = match.group(3)
            if name in _CODE_MAGICS:
                return "pass\n" + "\n".join(lines[1:]), unknown
            if name not in _PLAIN_MAGICS:
                unknown.append((1, "%%" + name))
            return "", unknown
    out = []
    for number, line in enumerate(lines, 1):
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        match = _MAGIC_LINE.match(line)
        if match and match.group(2) == "%":
            name, rest = match.group(3), match.group(4).strip()
            if name in _CODE_MAGICS:
                rest = re.sub(r"^(-\S+\s+)*", "", rest)
                out.append(indent + (rest or "pass"))
                continue
            if name not in _PLAIN_MAGICS:
                unknown.append((number, "%" + name))
            out.append(indent + "pass")
        elif stripped.startswith("!") or (stripped.endswith("?") and not stripped.startswith("#")):
            out.append(indent + "pass")
        else:
            out.append(line)
    return "\n".join(out), unknown


def _parse(source: str):
    """(tree or None, unknown magics) for one cell.

    Plain Python first; then with IPython's magics and shell escapes handled by
    ``_strip_magics``; then as IPython itself would transform it (what remains,
    such as ``get_ipython()`` calls, is analysed like any code). A cell none of
    these can read does not compile in the kernel either.
    """
    try:
        return ast.parse(source), []
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        pass
    text, unknown = _strip_magics(source)
    try:
        return ast.parse(text), unknown
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        pass
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return ast.parse(TransformerManager().transform_cell(source)), unknown
    except Exception:  # noqa: BLE001 - not Python, not IPython: it cannot run
        return None, unknown


@dataclass
class _Binding:
    cell: int
    stmt: ast.AST  # the top-level statement (for "last cell wins")
    node: ast.AST  # def/class node, the assigned value, or None
    kind: str  # "import", "def", "value", "opaque"
    module: str = ""


def _iter_top(body):
    """Top-level statements, through if/for/while/try/with but not into defs or classes."""
    for stmt in body:
        yield stmt
        for name in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, name, None)
            if isinstance(inner, list) and not isinstance(
                stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
            ):
                yield from _iter_top(inner)
        for handler in getattr(stmt, "handlers", []) or []:
            yield from _iter_top(handler.body)
        for case in getattr(stmt, "cases", []) or []:
            yield from _iter_top(case.body)


def _target_names(target) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for t in target.elts for n in _target_names(t)]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    return []


def _import_bindings(stmt) -> list[tuple[str, str]]:
    """(bound name, dotted module or attribute) of an import statement."""
    if isinstance(stmt, ast.Import):
        out = []
        for alias in stmt.names:
            if alias.asname:
                out.append((alias.asname, alias.name))
            else:
                root = alias.name.split(".")[0]
                out.append((root, root))
        return out
    if isinstance(stmt, ast.ImportFrom):
        module = "." * stmt.level + (stmt.module or "")
        return [
            (alias.asname or alias.name, f"{module}.{alias.name}")
            for alias in stmt.names
            if alias.name != "*"
        ]
    return []


class _Notebook:
    """Module-level bindings of every cell, in order."""

    def __init__(self, sources):
        self.trees = []
        self.magics: list[tuple[int, int, str]] = []
        self.bindings: dict[str, list[_Binding]] = {}
        self.star: list[tuple[int, str]] = []
        for index, source in enumerate(sources):
            tree, unknown = _parse(source or "")
            self.magics += [(index, line, name) for line, name in unknown]
            self.trees.append(tree)
            if tree is None:
                continue
            for stmt in tree.body:
                for inner in _iter_top([stmt]):
                    self._bind(index, stmt, inner)

    def _add(self, name, binding):
        self.bindings.setdefault(name, []).append(binding)

    def _bind(self, cell, top, stmt):
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for name, module in _import_bindings(stmt):
                self._add(name, _Binding(cell, top, stmt, "import", module))
            if isinstance(stmt, ast.ImportFrom) and any(a.name == "*" for a in stmt.names):
                self.star.append((cell, "." * stmt.level + (stmt.module or "")))
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self._add(stmt.name, _Binding(cell, top, stmt, "def"))
            # `global name` inside a function binds the name when it runs
            for node in ast.walk(stmt):
                if isinstance(node, ast.Global):
                    for name in node.names:
                        self._add(name, _Binding(cell, top, stmt, "def"))
        elif isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                simple = isinstance(target, ast.Name)
                for name in _target_names(target):
                    self._add(
                        name, _Binding(cell, top, stmt.value, "value" if simple else "opaque")
                    )
        elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)) and stmt.value is not None:
            for name in _target_names(stmt.target):
                kind = "value" if isinstance(stmt, ast.AnnAssign) else "opaque"
                self._add(name, _Binding(cell, top, stmt.value, kind))
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            for name in _target_names(stmt.target):
                self._add(name, _Binding(cell, top, stmt.iter, "opaque"))
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                if item.optional_vars is not None:
                    for name in _target_names(item.optional_vars):
                        self._add(name, _Binding(cell, top, item.context_expr, "opaque"))
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for node in ast.walk(stmt):
                if isinstance(node, ast.NamedExpr):
                    self._add(node.target.id, _Binding(cell, top, node.value, "value"))

    def last_bindings(self, name: str) -> list[_Binding]:
        """The bindings of ``name`` in the last top-level statement that binds it."""
        found = self.bindings.get(name, [])
        if not found:
            return []
        last = found[-1]
        return [b for b in found if b.cell == last.cell and b.stmt is last.stmt]


# ---------------------------------------------------------------- resolving names


def _local_names(func) -> tuple[set[str], dict[str, str]]:
    """Names bound inside a function or lambda (not global), and its local imports."""
    local: set[str] = set()
    imports: dict[str, str] = {}
    declared_global: set[str] = set()
    args = func.args
    for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
        if arg is not None:
            local.add(arg.arg)
    body = func.body if isinstance(func.body, list) else [func.body]
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Global):
                declared_global.update(node.names)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
                local.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                local.add(node.name)
            elif isinstance(node, ast.Lambda):
                inner = node.args
                for arg in (*inner.posonlyargs, *inner.args, *inner.kwonlyargs):
                    local.add(arg.arg)
            elif isinstance(node, ast.arg):
                local.add(node.arg)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for name, module in _import_bindings(node):
                    imports[name] = module
            elif isinstance(node, ast.ExceptHandler) and node.name:
                local.add(node.name)
    return local - declared_global, imports


class _Resolver:
    def __init__(self, notebook: _Notebook):
        self.nb = notebook
        self._cache: dict[str, frozenset[str]] = {}
        self._active: set[str] = set()

    def global_name(self, name: str) -> frozenset[str]:
        """What a module-level name may denote: dotted names, or ``@name`` for own code."""
        if name in self._cache:
            return self._cache[name]
        if name in self._active:
            return frozenset()
        self._active.add(name)
        out: set[str] = set()
        bindings = self.nb.bindings.get(name, [])
        for binding in bindings:
            if binding.kind == "import":
                out.add(binding.module)
            elif binding.kind == "def":
                out.add(f"@{name}")
            elif binding.kind == "value":
                out |= self.expr(binding.node)
                out.add(f"@{name}")
            else:
                out |= {r for r in self.expr(binding.node) if not r.startswith("@")}
        if not bindings and name not in _BUILTIN_NAMES:
            out |= {f"{module}.{name}" for _, module in self.nb.star}
        self._active.discard(name)
        self._cache[name] = frozenset(out)
        return self._cache[name]

    def expr(self, node, scope=None) -> frozenset[str]:
        """What an expression may denote (module-level or in ``scope``)."""
        if isinstance(node, ast.Name):
            if scope is not None and node.id in scope[0]:
                module = scope[1].get(node.id)
                return frozenset({module}) if module else frozenset()
            if scope is not None and node.id in scope[1]:
                return frozenset({scope[1][node.id]})
            return self.global_name(node.id)
        if isinstance(node, ast.Attribute):
            return frozenset(
                f"{r}.{node.attr}" for r in self.expr(node.value, scope) if not r.startswith("@")
            )
        if isinstance(node, ast.Call):
            if _constant_getattr(node):
                base = self.expr(node.args[0], scope)
                return frozenset(f"{r}.{node.args[1].value}" for r in base if not r.startswith("@"))
            return frozenset(
                r if r.startswith("@") else f"{r}()" for r in self.expr(node.func, scope)
            )
        if isinstance(node, ast.Subscript):
            return frozenset(
                r if r.startswith("@") else f"{r}[]" for r in self.expr(node.value, scope)
            )
        if isinstance(node, (ast.IfExp, ast.BoolOp)):
            parts = [node.body, node.orelse] if isinstance(node, ast.IfExp) else node.values
            out: set[str] = set()
            for part in parts:
                out |= self.expr(part, scope)
            return frozenset(out)
        if isinstance(node, ast.NamedExpr):
            return self.expr(node.value, scope)
        return frozenset()


def _constant_getattr(node) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "getattr"
        and len(node.args) >= 2
        and isinstance(node.args[1], ast.Constant)
        and isinstance(node.args[1].value, str)
    )


# ---------------------------------------------------------------- the analysis


def _parents(root) -> dict[int, ast.AST]:
    parents = {}
    for node in ast.walk(root):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
    return parents


def _scopes(root) -> dict[int, tuple]:
    """The innermost function scope (locals, local imports) of every node under ``root``."""
    scopes: dict[int, tuple] = {}

    def visit(node, scope):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            local, imports = _local_names(node)
            if scope is not None:
                imports = {**{k: v for k, v in scope[1].items() if k not in local}, **imports}
                local = local | (scope[0] - set(imports))
            scope = (local, imports)
        scopes[id(node)] = scope
        for child in ast.iter_child_nodes(node):
            visit(child, scope)

    visit(root, None)
    return scopes


class _Analyser:
    def __init__(self, notebook: _Notebook, rule: ApiRule, answer: str):
        self.nb = notebook
        self.rule = rule
        self.resolver = _Resolver(notebook)
        self.result = Analysis(answer, rule)
        self.seen_names: set[str] = set()
        self.seen_findings: set[tuple] = set()
        self.queue: list[tuple[str, _Binding]] = []

    def run(self):
        answer = self.result.answer
        bindings = self.nb.last_bindings(answer)
        self.result.found = bool(bindings)
        self.seen_names.add(answer)
        for binding in bindings:
            self.queue.append((answer, binding))
        while self.queue:
            where, binding = self.queue.pop(0)
            self._code(where, binding)
        return self.result

    def _add(self, kind, node, cell, where, text, resolved, call=False):
        key = (kind, cell, node.lineno, text)
        if key in self.seen_findings:
            return
        self.seen_findings.add(key)
        finding = Finding(kind, text, resolved, cell, node.lineno, where, call)
        (self.result.forbidden if kind == "forbidden" else self.result.indirection).append(finding)

    def _helper(self, name: str, used_by: str):
        if name in self.seen_names:
            return
        self.seen_names.add(name)
        for binding in self.nb.bindings.get(name, []):
            if binding.kind in ("def", "value") and binding.node is not None:
                self.queue.append((f"{name}, used by {used_by}", binding))

    def _code(self, where: str, binding: _Binding):
        cell = binding.cell
        if binding.kind == "import":
            node = binding.node
            if self.rule.is_forbidden(binding.module):
                self._add("forbidden", node, cell, where, binding.module, binding.module)
            if _indirect_name(binding.module):
                self._add("indirection", node, cell, where, binding.module, binding.module)
            return
        root = binding.node
        if root is None:
            return
        parents = _parents(root)
        scopes = _scopes(root)
        short = where.split(",")[0]
        for node in ast.walk(root):
            scope = scopes.get(id(node))
            if isinstance(node, ast.Call):
                self._call(node, cell, short, scope)
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for _, module in _import_bindings(node):
                    if self.rule.is_forbidden(module):
                        self._add("forbidden", node, cell, short, module, module)
                    if _indirect_name(module):
                        self._add("indirection", node, cell, short, module, module)
            if isinstance(node, ast.Attribute) and node.attr in INDIRECT_ATTRIBUTES:
                self._add("indirection", node, cell, short, ast.unparse(node), "")
            if not isinstance(node, ast.Name) or not isinstance(node.ctx, ast.Load):
                continue
            if scope is not None and node.id in scope[0] and node.id not in scope[1]:
                continue  # a local variable
            if node.id in INDIRECT_BUILTINS and not self.nb.bindings.get(node.id):
                self._add("indirection", node, cell, short, node.id, "")
                continue
            top, suffix = _chain(node, parents)
            for resolved in self.resolver.expr(node, scope):
                if resolved.startswith("@"):
                    self._helper(resolved[1:], short)
                    continue
                full = resolved + suffix
                call = isinstance(parents.get(id(top)), ast.Call) and parents[id(top)].func is top
                text = ast.unparse(top)
                if self.rule.is_forbidden(full) or self.rule.is_forbidden(resolved):
                    self._add("forbidden", node, cell, short, text, full, call)
                if _indirect_name(full):
                    self._add("indirection", node, cell, short, text, full, call)

    def _call(self, node, cell, where, scope):
        func = node.func
        if (
            isinstance(func, ast.Name)
            and func.id in ("getattr", "setattr")
            and not self.nb.bindings.get(func.id)
        ):
            name = node.args[1] if len(node.args) >= 2 else None
            if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
                self._add("indirection", node, cell, where, f"{func.id} with a computed name", "")
        if isinstance(func, ast.Attribute) and func.attr in (
            "run_cell",
            "run_line_magic",
            "run_cell_magic",
            "ex",
            "ev",
        ):
            self._add("indirection", node, cell, where, ast.unparse(func), "")


def _chain(node, parents) -> tuple[ast.AST, str]:
    """The longest attribute chain starting at a Name: (outermost node, ".a.b")."""
    top, suffix = node, ""
    while True:
        parent = parents.get(id(top))
        if isinstance(parent, ast.Attribute) and parent.value is top:
            top, suffix = parent, suffix + "." + parent.attr
        elif isinstance(parent, ast.Call) and _constant_getattr(parent) and parent.args[0] is top:
            top, suffix = parent, suffix + "." + parent.args[1].value
        else:
            return top, suffix


def _indirect_name(dotted: str) -> bool:
    return any(_under(_plain(dotted), p) for p in INDIRECT_MODULES)


def analyse(sources, answer: str, rule: ApiRule | None = None) -> Analysis:
    """Checks the code that defines ``answer`` in a notebook's code cells against ``rule``.

    Args:
        sources: list of str, the code cells in the order they run.
        answer: str, the name the answer is bound to (``question.answer``).
        rule: ``ApiRule``; default ``ApiRule()`` (only the references are forbidden).

    Returns:
        ``Analysis`` with ``forbidden`` and ``indirection`` findings (cell index
        into ``sources``, line in that cell).

    Example:
        >>> cells = ["import tensorflow as tf", "def f(x):\\n    return tf.nn.relu(x)"]
        >>> result = analyse(cells, "f", ApiRule(allow=("numpy",), description="NumPy only"))
        >>> result.message()
        'this exercise may use NumPy only: line 2 (in f) calls tf.nn.relu (tensorflow.nn.relu)'
    """
    rule = rule or ApiRule()
    notebook = _Notebook(list(sources))
    return _Analyser(notebook, rule, answer).run()


def notebook_indirection(sources, is_installed=None) -> list[tuple[int, int, str]]:
    """Indirection anywhere in a notebook that could rebind an answer unseen.

    Returns (cell, line, what) for calls of ``exec``/``eval``/``compile``/
    ``globals``/``vars``/``__import__``, ``importlib``, ``sys.modules``,
    ``get_ipython().run_cell`` and magics that run other code (``%run``,
    ``%%writefile``), wherever they are. With ``is_installed(module) -> bool``
    (the grader passes one), an import of a module that is not installed (one
    the notebook wrote itself, whose code the analysis cannot read) too.
    """
    notebook = _Notebook(list(sources))
    found = [(cell, line, f"the magic {name}") for cell, line, name in notebook.magics]
    if is_installed is not None:
        for cell, tree in enumerate(notebook.trees):
            for node in ast.walk(tree) if tree is not None else ():
                if isinstance(node, ast.ImportFrom) and node.level:
                    found.append((cell, node.lineno, "a relative import"))
                elif isinstance(node, (ast.Import, ast.ImportFrom)):
                    names = (
                        [a.name for a in node.names]
                        if isinstance(node, ast.Import)
                        else [node.module or ""]
                    )
                    for name in names:
                        if name and not is_installed(name.split(".")[0]):
                            found.append((cell, node.lineno, f"the module {name}, not installed"))
    resolver = _Resolver(notebook)
    for cell, tree in enumerate(notebook.trees):
        if tree is None:
            continue
        parents = _parents(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Name) or not isinstance(node.ctx, ast.Load):
                continue
            if node.id in INDIRECT_BUILTINS and not notebook.bindings.get(node.id):
                found.append((cell, node.lineno, node.id))
                continue
            top, suffix = _chain(node, parents)
            parent = parents.get(id(top))
            for resolved in resolver.expr(node):
                full = _plain(resolved + suffix)
                if not _indirect_name(full) or full in _HARMLESS:
                    continue
                if (
                    full == "sys.modules"
                    and isinstance(parent, ast.Compare)
                    and top in parent.comparators
                    and all(isinstance(op, (ast.In, ast.NotIn)) for op in parent.ops)
                ):
                    continue  # `"google.colab" in sys.modules` reads nothing
                if full in ("importlib", "gc", "ctypes", "builtins", "runpy") and suffix == "":
                    if not isinstance(parent, ast.Call):
                        continue  # the bare module name, as in `import importlib`
                found.append((cell, node.lineno, ast.unparse(top)))
                break
    return sorted(set(found))


# ---------------------------------------------------------------- in the check cell


def kernel_sources(answer=None) -> tuple[list[str], str]:
    """The code the student's kernel ran, for the check cell: (cells, how to name one).

    In IPython/Jupyter: the ``In`` history, in execution order (a cell run again
    later supersedes its earlier run). Elsewhere: the source of the module that
    defines ``answer`` when it is a function or class, else nothing.
    """
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    history = shell.user_ns.get("In") if shell is not None else None
    if isinstance(history, list) and len(history) > 1:
        cells = [text if isinstance(text, str) else "" for text in history]
        return cells, lambda index: f"In [{index}]"
    if answer is not None and callable(answer):
        import inspect

        try:  # a script or module: its whole source, so that its imports are seen
            path = Path(inspect.getsourcefile(answer))
            return [path.read_text()], lambda index: path.name
        except (OSError, TypeError, UnicodeDecodeError):
            pass
    return [], lambda index: f"cell {index + 1}"


def check_cell_note(question, answer) -> str:
    """What the check cell says about the rule: "" when the code follows it."""
    cells, label = kernel_sources(answer)
    if not cells:
        return ""
    analysis = analyse(cells, question.answer, question.api)
    lines = []
    if analysis.forbidden:
        shown = "; ".join(f.describe(label) for f in analysis.forbidden[:3])
        lines.append(
            f"  NOT ALLOWED  this exercise may use {question.api.describe()}: {shown}. "
            "The grader scores this question 0 while it does."
        )
    if analysis.indirection:
        shown = "; ".join(f.describe(label) for f in analysis.indirection[:3])
        lines.append(
            f"  REVIEW  the grader cannot check {shown}: your instructor will read this code."
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- the labs' rules

NUMPY_ONLY_RULE = ApiRule(allow=NUMPY_ONLY, description="NumPy only")
ARITHMETIC_RULE = ApiRule(allow=NUMPY_ONLY, description="Python arithmetic only (math and NumPy)")
OWN_MODEL_RULE = ApiRule(
    forbid=(
        "cnnlabs.models",
        "cnnlabs.layers",
        "keras.applications",
        "keras.src",
        "tensorflow.keras.applications",
        # a model saved elsewhere (a library model) loaded back or copied
        "keras.saving",
        "keras.models.load_model",
        "keras.models.model_from_json",
        "keras.models.clone_model",
        "keras.Model.from_config",
        "keras.Sequential.from_config",
        "tensorflow.keras.saving",
        "tensorflow.keras.models.load_model",
        "tensorflow.keras.models.model_from_json",
        "tensorflow.keras.models.clone_model",
    ),
    description="Keras layers of your own (not cnnlabs.models, cnnlabs.layers or "
    "keras.applications)",
)
