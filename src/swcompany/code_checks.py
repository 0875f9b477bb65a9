"""Pure quality gates over the design and model-written source: what a small model gets wrong, by ``ast``.

Each check returns problems as sentences addressed to the model (they become the re-prompt),
or an empty list. Nothing here runs code or touches the disk. Seen on a real 1.5B coder model:
interfaces written as ``pass`` bodies and copied as stubs, imports of modules no design file
provides, functions that print what they are declared to return, a ``def`` hiding an import.
The engineer's gates are assembled in ``code_gates.py``; the gates on test files are in
``test_checks.py``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from .artifacts import ENTRY_POINTS
from .structured import parse_python

if TYPE_CHECKING:
    from .artifacts import Design

_STUB_COMMENT = re.compile(r"#\s*(todo|implement|implementation|your code|placeholder|fixme)", re.I)
_STAND_IN_COMMENT = re.compile(r"#.*\b(placeholder|for simplicity|dummy)\b", re.I)


def module_name(path: str) -> str:
    """``pkg/mod.py`` -> ``pkg.mod``; ``src/`` layouts and ``__init__`` handled."""
    stem = PurePosixPath(path).with_suffix("").as_posix()
    stem = stem[4:] if stem.startswith("src/") else stem
    return stem.replace("/", ".").removesuffix(".__init__")


def parse_or_none(text: str) -> ast.Module | None:
    try:
        return parse_python(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return body[1:]
    return body


def _is_stub_statement(node: ast.stmt) -> bool:
    if isinstance(node, ast.Pass):
        return True
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and node.value.value is Ellipsis:
        return True
    if isinstance(node, ast.Raise) and node.exc is not None:
        exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"
    return False


def is_stub(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A body of only ``pass``, ``...``, ``raise NotImplementedError`` (comments are invisible to ast)."""
    body = _without_docstring(func.body)
    return not body or all(_is_stub_statement(s) for s in body)


# --- design ------------------------------------------------------------------------------------


def _sets_fields_only(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """``__init__`` that only stores its parameters (``self.filename = filename``, or a literal such
    as ``self.data = {}``): it says which fields an object has, as an interface should, and holds no
    logic. The key-value store's designs wrote it so three times in a row, and the run stopped at
    the architect with exit 4 when that counted as code."""
    params = {a.arg for a in [*func.args.args, *func.args.kwonlyargs]}
    body = [s for s in _without_docstring(func.body) if not _is_stub_statement(s)]
    return bool(body) and all(
        isinstance(s, (ast.Assign, ast.AnnAssign)) and len(targets := (s.targets if isinstance(s, ast.Assign) else [s.target])) == 1
        and isinstance(targets[0], ast.Attribute) and isinstance(targets[0].value, ast.Name) and targets[0].value.id == "self"
        and s.value is not None and ((isinstance(s.value, ast.Name) and s.value.id in params) or _constant_value(s.value))
        for s in body)


def _holds_code(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A body an interface should not show: neither a stub nor an ``__init__`` naming fields."""
    return not is_stub(func) and not _sets_fields_only(func)


def interface_bodies(interface: str) -> tuple[str, list[str]]:
    """(normalised interface, functions whose bodies hold real code).

    An interface is signatures with docstrings. Bodies of only ``pass``/``...`` are rewritten to
    ``...`` (a small model copies ``pass`` into the code otherwise); real code in a body is a
    problem for the architect to fix. Text that is not Python is left alone.
    """
    tree = parse_or_none(interface)
    if tree is None:
        return interface, []
    with_code = [f.name for f in _functions(tree) if _holds_code(f)]
    if with_code:
        return interface, with_code
    lines = interface.splitlines()
    for func in _functions(tree):
        for stmt in _without_docstring(func.body):
            if isinstance(stmt, ast.Pass) and stmt.lineno == stmt.end_lineno:
                line = lines[stmt.lineno - 1]
                lines[stmt.lineno - 1] = line[: stmt.col_offset] + "..." + line[stmt.end_col_offset:]
    text = "\n".join(lines)
    return _STUB_COMMENT.sub("#", text), []


def without_bodies(interface: str) -> str:
    """``interface`` with the code of each function body replaced by ``...`` (a docstring kept):
    what the architect was asked for. Seen on the 1.5B key-value store: its design gave `main`'s
    whole body three times over the question, and the run stopped with exit 4 at the architect."""
    tree = parse_or_none(interface)
    if tree is None:
        return interface
    lines = interface.splitlines()
    coded = [f for f in _functions(tree) if _holds_code(f)
             and _without_docstring(f.body)[0].lineno > f.lineno]  # `def f(): return 1` on one line stays
    outer = [f for f in coded if not any(g is not f and g.lineno <= f.lineno and (g.end_lineno or 0) >= (f.end_lineno or 0)
                                         for g in coded)]  # a function inside one that is cut goes with it
    for func in sorted(outer, key=lambda f: f.lineno, reverse=True):  # from the bottom up: line numbers hold
        body = _without_docstring(func.body)
        lines[body[0].lineno - 1:func.end_lineno] = [" " * body[0].col_offset + "..."]
    return "\n".join(lines) + ("\n" if interface.endswith("\n") else "")


def imported_modules(text: str, members: bool = True) -> set[str]:
    """Dotted module names a Python text imports (``from .x`` skipped); with ``members``, also
    ``pkg.name`` for ``from pkg import name`` (which may be a submodule or just a name)."""
    tree = parse_or_none(text)
    names: set[str] = set()
    if tree is None:
        for match in re.finditer(r"^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w.]+))", text, re.M):
            names.add(match.group(1) or match.group(2))
        return names
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            if members:
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def referenced_files(text: str, modules: dict[str, str]) -> set[str]:
    """Design files a text refers to: imports of their module, or their dotted module name."""
    found = set()
    imported = imported_modules(text)
    for name, path in modules.items():
        used_as_module = re.search(rf"(?<![\w.]){re.escape(name)}\.[A-Za-z_]", text)
        named_whole = "." in name and re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", text)
        if name in imported or used_as_module or named_whole:
            found.add(path)
    return found


def class_owners(interfaces: dict[str, str]) -> dict[str, str]:
    """Class name -> the one design file whose interface defines it (names defined twice left out)."""
    owners: dict[str, list[str]] = {}
    for path, interface in interfaces.items():
        for name in set(re.findall(r"(?m)^\s*class\s+([A-Za-z_]\w*)", interface)):
            owners.setdefault(name, []).append(path)
    return {name: paths[0] for name, paths in owners.items() if len(paths) == 1}


_TOP_DEFINITION = re.compile(r"^(?:async\s+def|def|class)\s+([A-Za-z_]\w*)")


def defined_in_interface(interface: str) -> list[str]:
    """Top-level functions and classes an interface defines, in order (Python or bare signatures)."""
    return [m.group(1) for line in interface.splitlines() if (m := _TOP_DEFINITION.match(line))]


def drop_definitions(interface: str, names: set[str]) -> str:
    """The interface without the top-level ``def``/``class`` blocks of ``names`` (their decorators,
    signature lines, docstrings and indented bodies), for text that may not parse as Python."""
    kept: list[str] = []
    skipping, depth = False, 0
    for line in interface.splitlines():
        match = _TOP_DEFINITION.match(line)
        if match:
            skipping, depth = match.group(1) in names, 0
            if skipping:
                while kept and kept[-1].startswith("@"):
                    kept.pop()
        elif skipping and depth == 0 and line.strip() and not line[0].isspace():
            skipping = False
        if skipping:
            depth = max(0, depth + line.count("(") - line.count(")"))
            continue
        kept.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip("\n")


def missing_local_modules(text: str, modules: dict[str, str], local_roots: set[str]) -> list[str]:
    """Imports of the project's own packages naming a module that no design file provides."""
    missing = []
    for name in sorted(imported_modules(text, members=False)):
        if name.split(".")[0] in local_roots and name not in modules:
            missing.append(name)
    return missing


# --- engineer ----------------------------------------------------------------------------------


def interface_names(interface: str) -> set[str]:
    """Function and method names an interface promises (Python, or ``name(...)`` text)."""
    tree = parse_or_none(interface)
    if tree is not None:
        return {f.name for f in _functions(tree)}
    return set(re.findall(r"(?:def\s+)?([A-Za-z_]\w*)\s*\(", interface)) - {"def", "class", "self"}


def promised_top_level(interface: str) -> set[str]:
    """The module-level functions and classes an interface names: unindented ``def``/``class`` lines,
    with or without bodies, or bare ``name(...)`` signatures (designs give all three)."""
    found = re.findall(r"^(?:(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\((?!\s*(?:self|cls)\b)|class\s+([A-Za-z_]\w*)|"
                       r"([A-Za-z_]\w*)\s*\((?!\s*(?:self|cls)\b))", interface, re.M)
    return {name for groups in found for name in groups if name}  # `def start(self)` unindented is a method gone astray


def stub_functions(code: str, names: set[str] | None) -> list[str]:
    """Functions of ``names`` (``None``: any but dunders) whose body is a stub, or a placeholder
    value under a comment saying so (protocol and abstract methods excepted)."""
    tree = parse_or_none(code)
    if tree is None:
        return []
    abstract: set[int] = set()  # id() of methods of protocols and ABCs
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        bases = {getattr(b, "id", getattr(b, "attr", "")) for b in cls.bases}
        if bases & {"Protocol", "ABC"}:
            abstract.update(id(f) for f in _functions(cls))
    stubs = []
    for func in _functions(tree):
        decorated = {getattr(d, "id", getattr(d, "attr", "")) for d in func.decorator_list}
        wanted = func.name in names if names is not None else not func.name.startswith("__")
        if wanted and id(func) not in abstract and "abstractmethod" not in decorated \
                and "overload" not in decorated and (is_stub(func) or _placeholder(func, code)):
            stubs.append(func.name)
    return sorted(set(stubs))


def _placeholder(func: ast.FunctionDef | ast.AsyncFunctionDef, code: str) -> bool:
    """A body that only returns a constant (``0.0``, ``[]``, ``None``) under a comment saying it is a
    placeholder: the expression calculator's CLI had `# This is a placeholder for the actual
    implementation` and `return 0.0` in ``evaluate_expression``, and every result printed 0.0.
    Any one-line return counts when the comment owns up to standing in (its re-run: the same comment,
    "For simplicity, we'll just return the sum of the tokens", and ``return sum(...)``)."""
    body = _without_docstring(func.body)
    if len(body) != 1 or not isinstance(body[0], ast.Return):
        return False
    text = "\n".join(code.splitlines()[func.lineno - 1:func.end_lineno or func.lineno])
    if body[0].value is None or _constant_value(body[0].value):
        return bool(_STUB_COMMENT.search(text))
    return bool(_STAND_IN_COMMENT.search(text))


def _constant_value(node: ast.expr) -> bool:
    """A value that does not depend on the arguments: a literal, or an empty list, dict, tuple or set."""
    try:
        ast.literal_eval(node)
        return True
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False


def called_names(code: str) -> set[str]:
    """Names the module itself calls (``f(...)``, ``self.f(...)``): a stub among them breaks its
    caller (the expression calculator's ``parse_expression`` returned ``self._evaluate(...)``, a
    ``pass``, so every test got None)."""
    tree = parse_or_none(code)
    calls = [n.func for n in ast.walk(tree) if isinstance(n, ast.Call)] if tree is not None else []
    return {f.id if isinstance(f, ast.Name) else f.attr for f in calls if isinstance(f, (ast.Name, ast.Attribute))}


def defined_names(code: str) -> set[str]:
    """Top-level names a module defines or imports (what ``from module import x`` can take)."""
    tree = parse_or_none(code)
    return _names_in(tree.body) if tree is not None else set()


def _names_in(body: list[ast.stmt]) -> set[str]:
    names: set[str] = set()
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.If, ast.Try, ast.With)):  # try: import x / except: ... and the like
            nested = [*node.body, *getattr(node, "orelse", []), *getattr(node, "finalbody", [])]
            for handler in getattr(node, "handlers", []):
                nested += handler.body
            names |= _names_in(nested)
    return names


def undefined_imports(code: str, written: dict[str, str]) -> list[str]:
    """``from mod import name`` where ``mod`` is a written module (by dotted name) lacking ``name``."""
    tree = parse_or_none(code)
    if tree is None:
        return []
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in written:
            have = defined_names(written[node.module])
            submodules = {m.rsplit(".", 1)[-1] for m in written if m.startswith(node.module + ".")}
            for alias in node.names:
                if alias.name != "*" and alias.name not in have and alias.name not in submodules:
                    problems.append(f"{node.module} has no {alias.name!r} (it defines: "
                                    f"{', '.join(sorted(n for n in have if not n.startswith('_'))) or 'nothing public'})")
    return problems


def _module_reached(expr: ast.expr, bound: dict[str, str], dotted: set[str]) -> tuple[str, str] | None:
    """(the text, the project module) an expression like ``pkg`` or ``pkg.core`` names, or None."""
    if isinstance(expr, ast.Name):
        return (expr.id, bound[expr.id]) if expr.id in bound else None
    if isinstance(expr, ast.Attribute) and (outer := _module_reached(expr.value, bound, dotted)) is not None:
        module = f"{outer[1]}.{expr.attr}"
        return (f"{outer[0]}.{expr.attr}", module) if module in dotted else None
    return None


def undefined_attributes(code: str, written: dict[str, str], modules: set[str]) -> list[str]:
    """``import pkg.mod`` then ``pkg.func()``: the name bound is the package, which lacks ``func``;
    and ``pkg.mod.func`` when ``mod`` lacks it (the 1.5B todo app's CLI used
    ``sqlite_todo_list.core.add_task``, a method of a class there: every CLI test failed).

    Checked for the project's own modules and packages only (``modules``: every design module's
    dotted name); a module's names come from its written text, a package folder without an
    ``__init__.py`` has only its submodules.
    """
    tree = parse_or_none(code)
    if tree is None:
        return []
    packages = {m.rsplit(".", i)[0] for m in modules for i in range(1, m.count(".") + 1)}
    bound: dict[str, str] = {}  # local name -> dotted module it refers to
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = alias.name if alias.asname else alias.name.split(".")[0]
                if target in modules or target in packages:
                    bound[alias.asname or target] = target
    problems: list[str] = []
    known: dict[str, set[str]] = {}
    dotted = modules | packages

    def names_of(module: str) -> set[str]:  # each written module parsed once, not once per attribute
        if module not in known:
            known[module] = defined_names(written[module])
        return known[module]

    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or (reached := _module_reached(node.value, bound, dotted)) is None:
            continue
        (shown, module), attr = reached, node.attr
        if f"{module}.{attr}" in modules or f"{module}.{attr}" in packages:
            continue
        if module in written and attr in names_of(module):
            continue
        if module not in written and module in modules:
            continue  # not written yet (a cycle): nothing to check against
        owners = sorted(m for m in written if attr in names_of(m))
        where = f"; {attr} is defined in {', '.join(owners)}" if owners else ""
        problem = f"{shown}.{attr}: {module} has no {attr!r}{where}"
        if problem not in problems:
            problems.append(problem)
    return problems


# Return annotations that promise no value (or a value produced by ``yield``).
_NO_VALUE = frozenset({"None", "NoReturn", "Never", "Iterator", "Iterable", "Generator", "AsyncIterator",
                       "AsyncIterable", "AsyncGenerator"})


def returns_a_value(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A ``return <value>`` or a ``yield`` in the function's own body (nested functions aside)."""
    stack: list[ast.AST] = list(func.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Return) and node.value is not None and \
                not (isinstance(node.value, ast.Constant) and node.value.value is None):
            return True
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return True
        stack.extend(ast.iter_child_nodes(node))
    return False


def _promised_returns(interface: str) -> dict[str, str]:
    tree = parse_or_none(interface)
    return {f.name: ast.unparse(f.returns) for f in _functions(tree) if f.returns is not None} if tree else {}


def undefined_names_at(code: str) -> list[tuple[str, int]]:
    """(name, line) for each use of a name the code never defines or imports (pyflakes' verdict;
    builtins count as defined)."""
    tree = parse_or_none(code)
    if tree is None:
        return []
    from pyflakes import checker, messages  # imported here: only the gates need it

    found = checker.Checker(tree, filename="<generated>").messages
    return [(m.message_args[0], m.lineno) for m in found if isinstance(m, messages.UndefinedName)]


def undefined_names(code: str) -> list[str]:
    """Names the code uses but never defines or imports."""
    return sorted({name for name, _ in undefined_names_at(code)})


def add_missing_imports(code: str) -> str:
    """``import os`` added for a common standard-library module (or pytest) the code uses as
    ``os.attr`` (or patches: ``monkeypatch.setattr(sys, "argv", ...)``) without importing it.

    The 1.5B model's word counter called ``os.chdir`` with no ``import os`` (NameError when run);
    such a repair is mechanical, so it is made rather than re-prompted. Other undefined names are
    left for ``code_check`` to refuse.
    """
    unknown = undefined_names(code)
    if not unknown:
        return code
    tree = ast.parse(code)
    used_as_module = {node.value.id for node in ast.walk(tree)
                      if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)}
    used_as_module |= {node.args[0].id for node in ast.walk(tree)  # monkeypatch.setattr(sys, "argv", [...])
                       if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("setattr")
                       and node.args and isinstance(node.args[0], ast.Name)}
    return insert_imports(code, [f"import {name}" for name in unknown if name in _IMPORTABLE and name in used_as_module])


# Modules a missing import is added for (used as `name.attr`): the common ones, by name, so an
# undefined variable that happens to share a module's name (`code`, `test`) is not imported.
_IMPORTABLE = frozenset({
    "argparse", "collections", "copy", "csv", "dataclasses", "datetime", "decimal", "enum", "fractions", "functools",
    "glob", "hashlib", "io", "itertools", "json", "logging", "math", "operator", "os", "pathlib", "pytest", "random",
    "re", "secrets", "shutil", "sqlite3", "statistics", "string", "subprocess", "sys", "tempfile", "textwrap", "time",
    "typing", "unittest", "uuid",
})


def insert_imports(code: str, imports: list[str]) -> str:
    """``imports`` (lines) added after the module docstring and ``from __future__`` imports, which
    must come first. ``code`` must parse."""
    if not imports:
        return code
    body = ast.parse(code).body
    def must_come_first(at: int, node: ast.stmt) -> bool:
        docstring = at == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) \
            and isinstance(node.value.value, str)
        return docstring or (isinstance(node, ast.ImportFrom) and node.module == "__future__")

    at = 0
    while at < len(body) and must_come_first(at, body[at]):
        at += 1
    line = (body[at - 1].end_lineno or 0) if at else 0
    lines = code.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    lines[line:line] = [f"{text}\n" for text in imports]
    return "".join(lines)


def missing_returns(code: str, interface: str = "") -> list[str]:
    """Functions declared to return a value (their annotation, else the interface's) that never do.

    Seen on a 1.5B model: ``def view_tasks(self) -> list[str]`` that printed each task and returned
    nothing; every test got ``None`` and three fix rounds rewrote the tests instead of the code.
    Stubs, functions that end by raising and abstract methods are other gates' business.
    """
    tree = parse_or_none(code)
    if tree is None:
        return []
    promised = _promised_returns(interface)
    problems = []
    for func in _functions(tree):
        annotation = ast.unparse(func.returns) if func.returns is not None else promised.get(func.name)
        if not annotation or func.name == "__init__":
            continue
        head = annotation.strip("'\" ").split("[")[0].split(".")[-1]
        body = _without_docstring(func.body)
        if head in _NO_VALUE or is_stub(func) or (body and isinstance(body[-1], ast.Raise)) or returns_a_value(func):
            continue
        problems.append(f"{func.name} is declared to return {annotation} but never returns a value (does it print "
                        "instead?): return the result, and let only the command-line module print")
    return problems


def _argv_parameters(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """The parameters of ``func`` that hold a command line (``main(argv)``), in order."""
    return [a.arg for a in [*func.args.posonlyargs, *func.args.args] if a.arg in {"argv", "args", "arguments"}]


def pass_argv_to_parser(code: str) -> str:
    """``parser.parse_args()`` inside ``main(argv)`` becomes ``parser.parse_args(argv)``.

    Seen on the 1.5B word counter: ``main(argv)`` ignored its argument and parsed pytest's own
    command line, so every test calling ``main(["--path", ...])`` stopped with SystemExit 2.
    """
    tree = parse_or_none(code)
    if tree is None:
        return code
    inserts: list[tuple[int, int, str]] = []
    for func in _functions(tree):
        params = _argv_parameters(func)
        if not params:
            continue
        for node in ast.walk(func):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    node.func.attr in {"parse_args", "parse_known_args"} and not node.args and not node.keywords \
                    and node.end_lineno == node.lineno and node.end_col_offset is not None:
                inserts.append((node.lineno, node.end_col_offset - 1, params[0]))
    if not inserts:
        return code
    lines = code.splitlines(keepends=True)
    for lineno, col, name in sorted(inserts, reverse=True):
        line = lines[lineno - 1]
        if line[col:col + 1] == ")":
            lines[lineno - 1] = line[:col] + name + line[col:]
    return "".join(lines)


def docstring_holders(tree: ast.Module) -> list[ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef]:
    """The module and every function and class: what may carry a docstring (and doctest examples)."""
    return [tree, *(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)))]


def _docstring_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in docstring_holders(tree):
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and \
                isinstance(body[0].value.value, str):
            lines.update(range(body[0].lineno, (body[0].end_lineno or body[0].lineno) + 1))
    return lines


_EXAMPLE = re.compile(r"^(\s*)>>> (.+?)\s*$")
_EXAMPLE_ENDS = (">>>", '"""', "'''")


def complete_comparison_examples(code: str) -> str:
    """A docstring example written as a claim, ``>>> count_nums([]) == 0`` with no output line
    under it, gets its ``True``: doctest compares printed output, so as written it fails with
    "Expected nothing, got True" whatever the code does (HumanEval's prompts /108, /128, /156 and
    the engineer's copies of them: a failure no fix round can mend, and it took the rounds' focus)."""
    tree = parse_or_none(code) if ">>> " in code else None
    if tree is None:
        return code
    inside = _docstring_lines(tree)
    lines = code.splitlines(keepends=True)
    out: list[str] = []
    for number, line in enumerate(lines, start=1):
        out.append(line)
        match = _EXAMPLE.match(line)
        following = lines[number].strip() if number < len(lines) else ""
        if not match or number not in inside or (following and not following.startswith(_EXAMPLE_ENDS)):
            continue
        claim = parse_or_none(match.group(2))
        if claim and len(claim.body) == 1 and isinstance(claim.body[0], ast.Expr) and \
                isinstance(claim.body[0].value, ast.Compare):
            out.append(f"{match.group(1)}True\n" if line.endswith("\n") else f"\n{match.group(1)}True")
    return "".join(out)


def repair_code(code: str, written: dict[str, str] | None = None, path: str = "") -> str:
    """The mechanical repairs of model-written source, made instead of a re-prompt: missing
    standard-library imports, ``parse_args(argv)``, ``sys.argv[1:]`` for ``sys.argv``, docstring examples that claim a comparison
    with no output, the ``__main__`` guard of an entry point ``path``, and
    ``from pkg.config import Config`` for a name only a written module of the project defines
    (the password generator's core used ``Config`` from its config module without importing it),
    an imported name a wrapper of the same name calls (``unshadowed_imports``), a hyphen meant
    literally inside a pattern's character class (``hyphens_escaped``), a keyword a builtin
    does not take (``unknown_keywords_dropped``), argparse's text passed where a number is
    declared (``command_line_numbers``), and a closed connection kept where it is reopened only
    while unset (``closed_handles_forgotten``).
    The engineer's first write and every fix round get the same repairs."""
    code = complete_comparison_examples(pass_argv_to_parser(argv_without_program_name(add_missing_imports(code))))
    code = unknown_keywords_dropped(hyphens_escaped(postponed_annotations(unshadowed_imports(code))))
    code = closed_handles_forgotten(code)
    if PurePosixPath(path).name in ENTRY_POINTS:
        code = add_main_guard(code)
    code = command_line_numbers(code, written)
    if not written:
        return code
    owners: dict[str, list[str]] = {}
    for path, text in written.items():
        if path.endswith(".py"):
            for name in defined_names(text):
                owners.setdefault(name, []).append(module_name(path))
    imports = [f"from {owners[name][0]} import {name}" for name in undefined_names(code)
               if len(owners.get(name, [])) == 1 and not name.startswith("_")]
    return insert_imports(code, imports)


_NUMBERS = ("int", "float")


def _numeric_parameters(texts: list[str]) -> dict[str, tuple[list[str], dict[str, str]]]:
    """Top-level functions of these texts with a parameter annotated ``int`` or ``float``: by
    name, (each positional parameter's annotation, the keyword ones by name)."""
    out: dict[str, tuple[list[str], dict[str, str]]] = {}
    for text in texts:
        tree = parse_or_none(text)
        for node in (tree.body if tree else []):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                params = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
                kinds = {a.arg: ast.unparse(a.annotation) if a.annotation else "" for a in params}
                if any(kind in _NUMBERS for kind in kinds.values()):
                    out[node.name] = ([kinds[a.arg] for a in [*node.args.posonlyargs, *node.args.args]], kinds)
    return out


def _text_options(tree: ast.Module) -> set[str]:
    """The ``args.<dest>`` argparse leaves as text: ``add_argument`` without ``type``, ``action`` or ``nargs``."""
    dests: set[str] = set()
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                 and n.func.attr == "add_argument"):
        keywords = {k.arg: k.value for k in call.keywords}
        if {"type", "action", "nargs"} & set(keywords):
            continue
        names = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        dest = keywords.get("dest")
        if isinstance(dest, ast.Constant) and isinstance(dest.value, str):
            dests.add(dest.value)
        elif names:
            long = [n for n in names if n.startswith("--")]
            dests.add((long[0] if long else names[0]).lstrip("-").replace("-", "_"))
    return dests


def command_line_numbers(code: str, written: dict[str, str] | None = None) -> str:
    """``from_int(args.input)`` where argparse left ``input`` as text (no ``type=``) and ``from_int``
    declares ``integer: int``: the value passed becomes ``int(args.input)`` (``float`` likewise).
    The 1.5B roman numeral converter's CLI: "'>=' not supported between instances of 'str' and
    'int'" in three tests, and three rewrites of its core, which was right."""
    tree = parse_or_none(code) if "parse_args" in code and "add_argument" in code else None
    if tree is None:
        return code
    functions = _numeric_parameters([code, *(written or {}).values()])
    text = _text_options(tree)
    parsed = {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
              and isinstance(node.value.func, ast.Attribute) and node.value.func.attr == "parse_args"
              for t in node.targets if isinstance(t, ast.Name)}

    def as_text(arg: ast.expr) -> bool:
        return isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name) and arg.value.id in parsed \
            and arg.attr in text

    edits: list[tuple[ast.AST, str]] = []
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        name = call.func.id if isinstance(call.func, ast.Name) else call.func.attr if isinstance(call.func, ast.Attribute) else ""
        if name not in functions:
            continue
        positional, by_name = functions[name]
        given = [(arg, positional[i] if i < len(positional) else "") for i, arg in enumerate(call.args)]
        given += [(k.value, by_name.get(k.arg or "", "")) for k in call.keywords]
        edits += [(arg, f"{kind}({ast.unparse(arg)})") for arg, kind in given if kind in _NUMBERS and as_text(arg)]
    return (replace_nodes(code, edits) or code) if edits else code


def is_main_guard(node: ast.stmt) -> bool:
    """``if __name__ == "__main__":`` (what runs only when the module is the program)."""
    return isinstance(node, ast.If) and "__main__" in ast.unparse(node.test)


def add_main_guard(code: str) -> str:
    """An entry point defining (or importing) ``main`` but never calling it gets
    ``if __name__ == "__main__": raise SystemExit(main(...))``.

    Seen on the 1.5B model (a temperature converter): ``cli.py`` had ``main(argv=None)`` and no
    guard, so the run command ``python -m pkg.cli --celsius 25`` printed nothing and exited 0.
    """
    tree = parse_or_none(code)
    if tree is None:
        return code
    mains = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main"]
    imported = any(isinstance(n, ast.ImportFrom) and any((a.asname or a.name) == "main" for a in n.names) for n in tree.body)
    guarded = any(is_main_guard(n) for n in tree.body)
    called = any(isinstance(n, ast.Expr) and "main(" in ast.unparse(n) for n in tree.body)
    if not (mains or imported) or guarded or called:
        return code
    required = len(mains[0].args.args) - len(mains[0].args.defaults) if mains else 0
    call = "main(sys.argv[1:])" if required else "main()"
    guard = f'\n\nif __name__ == "__main__":\n    raise SystemExit({call})\n'
    code = code.rstrip() + "\n" + guard
    return insert_imports(code, ["import sys"]) if required and "sys" in undefined_names(code) else code


def _char_offset(row: str, byte_offset: int) -> int:
    """ast's column offsets count UTF-8 bytes."""
    return len(row.encode()[:byte_offset].decode(errors="ignore"))


def without_statements(code: str, statements: Sequence[ast.stmt], notes: Sequence[str]) -> str:
    """``code`` with these top-level statements' lines cut out and ``notes`` (comment lines) on top."""
    lines = code.splitlines()
    for node in sorted(statements, key=lambda n: n.lineno, reverse=True):
        del lines[node.lineno - 1:node.end_lineno or node.lineno]
    return "\n".join([*notes, *lines]).rstrip() + "\n"


def replace_nodes(code: str, edits: list[tuple[ast.AST, str]]) -> str | None:
    """``code`` with each node's text replaced by its new text, or None when a node spans several
    lines, two overlap, or the result does not parse."""
    lines = code.splitlines(keepends=True)
    spans = []
    for node, text in edits:
        line, end_line = getattr(node, "lineno", 0), getattr(node, "end_lineno", None)
        if not line or line != end_line:
            return None
        row = lines[line - 1]
        spans.append((line, _char_offset(row, node.col_offset), _char_offset(row, node.end_col_offset or 0), text))  # type: ignore[attr-defined]
    spans.sort(reverse=True)
    for (line, start, end, text), later in zip(spans, [None, *spans]):
        if later is not None and later[0] == line and later[1] < end:
            return None
        row = lines[line - 1]
        lines[line - 1] = row[:start] + text + row[end:]
    fixed = "".join(lines)
    return fixed if parse_or_none(fixed) is not None else None


def _int(node: ast.AST | None) -> int | None:
    return node.value if isinstance(node, ast.Constant) and type(node.value) is int else None


def _shifted_uses(func: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> list[tuple[ast.AST, str]] | None:
    """The edits that make ``func``'s constant positions in its argument list ``name`` count from the
    first argument instead of the program name, or None when it reads the program name
    (``argv[0]``), a position that is not a constant (``argv[i]``), or its length other than in a
    comparison with a constant (``range(1, len(argv))``)."""
    edits: list[tuple[ast.AST, str]] = []
    compared: set[int] = set()  # id() of the len(name) calls a comparison handles
    for node in ast.walk(func):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == name:
            bounds = [node.slice.lower, node.slice.upper] if isinstance(node.slice, ast.Slice) else [node.slice]
            if isinstance(node.slice, ast.Slice) and node.slice.step is not None:
                return None
            for bound in bounds:
                if bound is None or (isinstance(bound, ast.UnaryOp) and isinstance(bound.op, ast.USub)
                                     and _int(bound.operand) is not None):
                    continue  # open, or counted from the end: the same either way
                k = _int(bound)
                if k is None or k == 0:
                    return None
                edits.append((bound, str(k - 1)))
        elif isinstance(node, ast.Compare) and len(node.comparators) == 1:
            sides = [node.left, node.comparators[0]]
            length = [ast.unparse(side) == f"len({name})" for side in sides]
            if any(length):
                k = _int(sides[length.index(True) ^ 1])
                if k is None:
                    return None
                edits.append((sides[length.index(True) ^ 1], str(k - 1)))
                compared.add(id(sides[length.index(True)]))
    lengths = [n for n in ast.walk(func) if isinstance(n, ast.Call) and ast.unparse(n) == f"len({name})"]
    return edits if all(id(n) in compared for n in lengths) else None


def argv_without_program_name(code: str) -> str:
    """``argv = sys.argv`` in ``main(argv=None)`` becomes ``sys.argv[1:]``, the function's constant
    positions in the list moving down by one (``argv[1]`` -> ``argv[0]``, ``" ".join(argv[1:])`` ->
    ``argv[0:]``, ``len(argv) < 2`` -> ``len(argv) < 1``), and a module-level ``main(sys.argv)``
    becomes ``main(sys.argv[1:])``: the command line and ``main(["2 + 3"])`` then mean the same.
    A function that reads the program name (``argv[0]``) or a computed position is left alone.

    Seen on the 1.5B expression calculator: its CLI was refused three times for ``argv = sys.argv``
    (then ``len(argv) < 2`` and ``" ".join(argv[1:])``), the replies identical, and the run stopped
    at the engineer with exit 4.
    """
    tree = parse_or_none(code)
    if tree is None:
        return code
    edits: list[tuple[ast.AST, str]] = []
    shifted: set[str] = set()
    for func in _functions(tree):
        for name in _argv_parameters(func):
            assigned = [value for node in ast.walk(func) if isinstance(node, ast.Assign)
                        and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
                        for value in (node.value.values if isinstance(node.value, ast.BoolOp) else [node.value])
                        if ast.unparse(value) == "sys.argv"]
            uses = _shifted_uses(func, name) if assigned else None
            if uses is not None:
                edits += [(value, "sys.argv[1:]") for value in assigned] + uses
                shifted.add(func.name)
    edits += [(arg, "sys.argv[1:]") for node in ast.walk(tree) if isinstance(node, ast.Call)
              and ast.unparse(node.func) in shifted for arg in node.args if ast.unparse(arg) == "sys.argv"]
    return (replace_nodes(code, edits) or code) if edits else code


def argv_with_program_name(code: str) -> list[str]:
    """``def main(argv=None)`` that falls back to ``sys.argv`` (program name included) instead of
    ``sys.argv[1:]``: ``main(["add", "milk"])`` then reads "milk" as the command.

    Seen on a 1.5B model: ``if argv is None: argv = sys.argv`` then ``command = argv[1]``; the
    tests calling ``main(["add", ...])`` could never pass, and three fix rounds rewrote the tests.
    """
    tree = parse_or_none(code)
    if tree is None:
        return []
    problems = []
    for func in _functions(tree):
        params = set(_argv_parameters(func))
        for node in ast.walk(func):
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in params for t in node.targets):
                values = node.value.values if isinstance(node.value, ast.BoolOp) else [node.value]
                if any(ast.unparse(v) == "sys.argv" for v in values):
                    problems.append(f"{func.name} sets its argument list to sys.argv, which starts with the program "
                                    f"name: use sys.argv[1:], so {func.name}([\"add\", \"milk\"]) sees \"add\" first")
                    break
    return problems


ARGUMENT_PARSERS = {"argparse", "click", "typer", "optparse", "getopt", "fire", "docopt"}


def promises_help(how_to_run: str, path: str) -> bool:
    """The run command is ``python -m <this module> --help`` (the architect adds ``--help`` to a bare
    module run, the command a user is told to try first)."""
    module = module_name(path).removesuffix(".__main__")
    return re.fullmatch(rf"python3?\s+-m\s+{re.escape(module)}\s+--help", how_to_run.strip()) is not None


def answers_help(code: str) -> bool:
    """The module parses options with a library, names ``--help`` itself, or hands the command line
    to another local module (``from pkg.cli import main`` in ``__main__.py``, or ``app.main()``: the
    word counter's CLI, refused for it on its last try, and the run stopped with exit 4)."""
    tree = parse_or_none(code)
    if tree is None:
        return True  # the syntax gate speaks first
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] in ARGUMENT_PARSERS for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and ((node.module or "").split(".")[0] in ARGUMENT_PARSERS or node.level
                                                 or any(a.name == "main" for a in node.names)):
            return True
        if isinstance(node, ast.Constant) and node.value in ("--help", "-h"):
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "main":
            return True  # `import pkg.app as app; app.main()`: the command line is handed on
    return False


_BUILTIN_TYPES = frozenset({"list", "dict", "set", "tuple", "type", "str", "int", "float", "bool", "bytes", "frozenset"})


# The keywords each builtin takes (no **kwargs): any other raises TypeError on every call.
_BUILTIN_KEYWORDS = {
    "open": frozenset({"file", "mode", "buffering", "encoding", "errors", "newline", "closefd", "opener"}),
    "print": frozenset({"sep", "end", "file", "flush"}),
    "sorted": frozenset({"key", "reverse"}),
    "enumerate": frozenset({"iterable", "start"}),
    "zip": frozenset({"strict"}),
    "round": frozenset({"number", "ndigits"}),
    "sum": frozenset({"start"}),
}


def unknown_keywords_dropped(code: str) -> str:
    """``open(path, mode='w', indent=4)``: a keyword the builtin does not take raises TypeError on
    every call, so it goes (the CSV converter's core: its ``except Exception`` printed "'indent' is
    an invalid keyword argument for open()", wrote nothing, and both core tests failed). One-line
    calls of builtins the module does not redefine."""
    tree = parse_or_none(code)
    if tree is None:
        return code
    redefined = defined_names(code)
    edits: list[tuple[ast.AST, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _BUILTIN_KEYWORDS \
                and node.func.id not in redefined and node.lineno == node.end_lineno:
            kept = [k for k in node.keywords if k.arg is None or k.arg in _BUILTIN_KEYWORDS[node.func.id]]
            if len(kept) < len(node.keywords):
                edits.append((node, ast.unparse(ast.Call(node.func, node.args, kept))))
    return (replace_nodes(code, edits) or code) if edits else code


def _self_attribute(node: ast.AST) -> str | None:
    """``x`` of ``self.x``."""
    return node.attr if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self" \
        else None


def _reopened_lazily(cls: ast.ClassDef) -> set[str]:
    """Attributes a method of ``cls`` opens only while they are unset: ``if self.x is None:`` or
    ``if not self.x:`` around ``self.x = ...``."""
    found = set()
    for node in ast.walk(cls):
        if not isinstance(node, ast.If):
            continue
        test = node.test
        name = _self_attribute(test.operand) if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) else \
            _self_attribute(test.left) if isinstance(test, ast.Compare) and isinstance(test.ops[0], ast.Is) and \
            isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None else None
        if name and any(isinstance(sub, ast.Assign) and any(_self_attribute(t) == name for t in sub.targets)
                        for stmt in node.body for sub in ast.walk(stmt)):
            found.add(name)
    return found


def closed_handles_forgotten(code: str) -> str:
    """``self.x = None`` after ``self.x.close()`` in a class that opens ``self.x`` again only while it
    is unset: kept, the closed connection stops the next call ("Cannot operate on a closed
    database"). The todo list's core closed its SQLite connection after every method and reopened it
    under ``if not self.connection:``; written afresh, it did the same, and nine tests failed both times."""
    tree = parse_or_none(code)
    if tree is None:
        return code
    lines = code.splitlines(keepends=True)
    inserts: list[tuple[int, str]] = []
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        lazy = _reopened_lazily(cls)
        blocks = [body for n in ast.walk(cls) for field in ("body", "orelse", "finalbody")
                  if isinstance(body := getattr(n, field, None), list) and body and isinstance(body[0], ast.stmt)]
        for body in blocks:
            for i, stmt in enumerate(body):
                call = stmt.value if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) else None
                func = call.func if call else None
                name = _self_attribute(func.value) if isinstance(func, ast.Attribute) and func.attr == "close" else None
                reset = any(isinstance(sub, ast.Assign) and any(_self_attribute(t) == name for t in sub.targets)
                            for later in body[i + 1:] for sub in ast.walk(later))
                line = lines[stmt.lineno - 1] if stmt.lineno <= len(lines) else ""
                if name in lazy and not reset and len(line) - len(line.lstrip()) == stmt.col_offset and stmt.end_lineno:
                    inserts.append((stmt.end_lineno, " " * stmt.col_offset + f"self.{name} = None\n"))
    for at, text in sorted(set(inserts), reverse=True):
        lines.insert(at, text)
    fixed = "".join(lines)
    return fixed if inserts and parse_or_none(fixed) is not None else code


def postponed_annotations(code: str) -> str:
    """``from __future__ import annotations`` added to a module whose class defines a method named
    like a builtin type that the class's later annotations use: ``def list(self)`` and then
    ``def main(self, argv: list[str] | None)`` make ``list[str]`` subscript the method, and the
    module fails to import (the key-value store: TypeError: 'function' object is not subscriptable,
    every test an import error). Postponed, annotations are never evaluated."""
    tree = parse_or_none(code)
    if tree is None or any(isinstance(n, ast.ImportFrom) and n.module == "__future__" and
                           any(a.name == "annotations" for a in n.names) for n in tree.body):
        return code
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        shadowing = {f.name for f in cls.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))} & _BUILTIN_TYPES
        annotations = [a for f in cls.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                       for a in [*(arg.annotation for arg in [*f.args.args, *f.args.kwonlyargs]), f.returns] if a is not None]
        annotations += [f.annotation for f in cls.body if isinstance(f, ast.AnnAssign)]
        if shadowing and any(isinstance(n, ast.Name) and n.id in shadowing for a in annotations for n in ast.walk(a)):
            return insert_imports(code, ["from __future__ import annotations"])
    return code


def unshadowed_imports(code: str) -> str:
    """``from pkg.core import main`` then ``def main(argv): return main(argv)``: the import becomes
    ``main as _main`` and the definition's own uses of the name ``_main``, which is what a wrapper
    means (the word counter's CLI was refused twice for it, identically, and the run stopped with
    exit 4). Anything else stays for ``shadowed_imports`` to refuse."""
    tree = parse_or_none(code)
    if tree is None:
        return code
    aliases = {a.name: a for node in tree.body if isinstance(node, ast.ImportFrom) for a in node.names
               if a.asname is None and a.name != "*"}
    edits: list[tuple[ast.AST, str]] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in aliases \
                and f"_{node.name}" not in defined_names(code):
            edits.append((aliases[node.name], f"{node.name} as _{node.name}"))
            edits += [(n, f"_{node.name}") for n in ast.walk(node)
                      if isinstance(n, ast.Name) and n.id == node.name and isinstance(n.ctx, ast.Load)]
    return (replace_nodes(code, edits) or code) if edits else code


def shadowed_imports(code: str) -> list[str]:
    """A top-level ``def``/``class`` with the name of something the module imports.

    Seen on a 1.5B model: ``from roman.core import main`` then ``def main(): ... main()`` in
    cli.py: the definition hides the import and the CLI called itself until RecursionError.
    """
    tree = parse_or_none(code)
    if tree is None:
        return []
    imported: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            imported.update({a.asname or a.name: node.module or "." for a in node.names if a.name != "*"})
        elif isinstance(node, ast.Import):
            imported.update({(a.asname or a.name).split(".")[0]: a.name for a in node.names})
    return [f"{node.name} is imported from {imported[node.name]} and defined again here, so the definition hides "
            f"the import (a call to {node.name} in it calls itself): import the module instead "
            f"(`import {imported[node.name]}`, then `{imported[node.name]}.{node.name}(...)`) or rename one"
            for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in imported]


# SQL's keywords in capitals only: "select a value from the list" is prose, not a query
_TABLE_USE = re.compile(r"\b(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|SELECT\b[^;]*?\bFROM|UPDATE|DELETE\s+FROM)\s+[`\"\[]?(\w+)", re.S)
_TABLE_MADE = re.compile(r"\bCREATE\s+(?:TEMP(?:ORARY)?\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?[`\"\[]?(\w+)", re.I)


def tables_never_created(code: str, others: Sequence[str] = ()) -> list[str]:
    """SQL in the code's strings that uses a table neither it nor the project's other written files
    create: the 1.5B todo app's database class ran ``INSERT INTO tasks`` on a fresh SQLite file,
    and all eight tests failed with "no such table: tasks" through three fix rounds."""
    tree = parse_or_none(code)
    if tree is None or not re.search(r"\b(?:INSERT|SELECT|UPDATE|DELETE)\b", code):
        return []
    texts = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    used = {m.group(1).lower() for text in texts for m in _TABLE_USE.finditer(text)} - {"sqlite_master", "dual"}
    made = {m.group(1).lower() for text in [*texts, *others] for m in _TABLE_MADE.finditer(text)}
    missing = sorted(used - made)
    return [f"its SQL uses the table{'s' if len(missing) > 1 else ''} {', '.join(missing)}, which nothing creates: a new "
            "database file is empty, so create each table first (CREATE TABLE IF NOT EXISTS ...) when connecting"] \
        if missing else []


_WINDOW_MODULES = frozenset({"tkinter", "turtle"})  # need a display: nothing here has one


def window_imports(code: str) -> list[str]:
    """An import of a toolkit that opens windows: the project runs in a terminal and its tests in a
    sandbox without a display (the 1.5B unit converter's design had a "user interface" module,
    written with tkinter: its tests crashed, and two rewrites were undone)."""
    found = sorted({m.split(".")[0] for m in imported_modules(code, members=False)} & _WINDOW_MODULES)
    return [f"it imports {', '.join(found)}, which needs a display; the program runs in a terminal (and its tests "
            "without a display): write a text interface instead (print the results; read arguments with argparse)"] \
        if found else []


def methods_replaced_by_attributes(code: str) -> list[str]:
    """``self.is_running = False`` in a class whose ``def is_running(self)`` it replaces on every
    object: each later ``session.is_running()`` fails ('bool' object is not callable). Seen on the
    1.5B pomodoro timer's core; properties (set through their setter) are left alone."""
    tree = parse_or_none(code)
    problems: list[str] = []
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)) if tree else []:
        methods = {f.name for f in cls.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                   and not any(isinstance(d, ast.Attribute) or "property" in ast.unparse(d) for d in f.decorator_list)}
        for node in ast.walk(cls):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and isinstance(node.value, ast.Name) \
                    and node.value.id == "self" and node.attr in methods:
                problem = (f"`self.{node.attr} = ...` replaces the method {cls.name}.{node.attr} on each object, so "
                           f"`{node.attr}()` then fails: give the attribute another name (`self._{node.attr}`)")
                if problem not in problems:
                    problems.append(problem)
    return problems


def circular_imports(code: str, path: str, entry_points: set[str]) -> list[str]:
    """A package's ``__init__.py`` importing from its own package, or a module importing an entry
    point (``pkg.cli``): both import a half-initialised module. Seen on the 1.5B unit converter,
    whose ``__init__.py`` ran ``from unit_converter import converters`` and
    ``from unit_converter.cli import main`` (ImportError: partially initialized module)."""
    tree = parse_or_none(code)
    if tree is None:
        return []
    own = module_name(path)
    if PurePosixPath(path).name in ENTRY_POINTS:
        entry_points = set()  # `pkg/__main__.py` running `from pkg.cli import main` is fine
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            if path.endswith("__init__.py") and node.module == own:
                problems.append(f"it imports {', '.join(a.name for a in node.names)} from {own}, the package this "
                                f"file initialises (a circular import); import from the package's modules instead")
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            if name in entry_points:
                problems.append(f"it imports {name}, the command-line entry point; the CLI imports the logic, "
                                "never the other way round")
    return list(dict.fromkeys(problems))


def design_modules(design: "Design") -> dict[str, str]:
    """Dotted module name -> path, for every Python file of the design."""
    return {module_name(f.path): f.path for f in design.files if f.path.endswith(".py")}


def local_modules(design: "Design") -> set[str]:
    """Top-level import names the design itself provides (``src/`` layouts included)."""
    names = set()
    for spec in design.files:
        parts = spec.path.split("/")
        parts = parts[1:] if parts[0] == "src" and len(parts) > 1 else parts
        names.add(parts[0].removesuffix(".py"))
    return names


# each ``re`` function and the position of its ``flags`` argument
_RE_FUNCTIONS = {"compile": 1, "match": 2, "search": 2, "fullmatch": 2, "findall": 2, "finditer": 2, "split": 3,
                 "sub": 4, "subn": 4}


def _flags(call: ast.Call, at: int) -> int | None:
    """The flags of an ``re`` call when they are plain ``re.X`` names (0 when none), else None."""
    given = [*call.args[at:at + 1], *(k.value for k in call.keywords if k.arg == "flags")]
    flags = 0
    for expr in given:
        for name in re.findall(r"[\w.]+", ast.unparse(expr)):
            value = getattr(re, name.removeprefix("re."), None)
            if not isinstance(value, re.RegexFlag):
                return None
            flags |= value
    return flags


def _pattern_calls(tree: ast.Module) -> list[tuple[ast.Constant, int | None]]:
    """The literal patterns of ``re.<function>(<literal>, ...)`` calls, with their flags (None: unknown)."""
    return [(node.args[0], _flags(node, _RE_FUNCTIONS[node.func.attr])) for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _RE_FUNCTIONS
            and ast.unparse(node.func.value) == "re" and node.args and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, (str, bytes))]


def hyphens_escaped(code: str) -> str:
    """``[0-9+-*/()]``: a hyphen meant literally between two characters makes a range that does not
    exist (``+-*``, "bad character range"), so the pattern cannot compile; the hyphen is escaped.
    The expression calculator's cores wrote that class in three runs of four, and, asked about it
    once, the 1.5B never changed it. Only one-line literals whose text is the pattern's character
    for character: raw ones, or ones without a backslash."""
    tree = parse_or_none(code)
    if tree is None:
        return code
    edits: list[tuple[ast.AST, str]] = []
    for literal, flags in _pattern_calls(tree):
        text = ast.get_source_segment(code, literal) or ""
        raw = text[:1] in ("r", "R")
        body = text[1:] if raw else text
        if flags is None or not isinstance(literal.value, str) or literal.lineno != literal.end_lineno or len(body) < 2 \
                or body[0] not in "'\"" \
                or body[:3] in ("'''", '"""') or body[1:-1] != literal.value or ("\\" in body and not raw):
            continue
        pattern, compiles = literal.value, False
        for _ in range(5):  # each bad range in turn
            try:
                re.compile(pattern, flags)
                compiles = True
                break
            except re.error as exc:
                hyphen = (exc.pos or 0) + 1
                if not str(exc).startswith("bad character range") or pattern[hyphen:hyphen + 1] != "-":
                    break
                pattern = pattern[:hyphen] + "\\-" + pattern[hyphen + 1:]
        if compiles and pattern != literal.value:
            shown = pattern if raw else pattern.replace("\\", "\\\\")
            edits.append((literal, f"{text[:1] if raw else ''}{body[0]}{shown}{body[0]}"))
    return (replace_nodes(code, edits) or code) if edits else code


def bad_patterns(code: str) -> list[str]:
    """``re.match(r"^[0-9+-*/()]*$", ...)``: a literal pattern that does not compile, so every call
    raises ``re.error`` (the expression calculator twice: its first core, and its core written
    afresh in a fix round, which made every test fail and was undone)."""
    tree = parse_or_none(code)
    problems = []
    for literal, flags in _pattern_calls(tree) if tree is not None else ():
        try:
            if flags is not None:
                re.compile(literal.value, flags)  # type: ignore[type-var]  # str or bytes, as _pattern_calls keeps
        except re.error as exc:
            problems.append(f"the pattern {literal.value!r} (line {literal.lineno}) does not compile: {exc}")
    return problems
