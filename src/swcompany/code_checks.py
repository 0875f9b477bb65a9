"""Pure quality gates over model-written Python: what a small model gets wrong, found by ``ast``.

Each check returns problems as sentences addressed to the model (they become the re-prompt),
or an empty list. Nothing here runs code or touches the disk. Seen on a real 1.5B coder model:
interfaces written as ``pass`` bodies and copied as stubs, imports of modules no design file
provides, tests calling signatures that exist nowhere, tests that paste their own copy of the
code under test.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING
from collections.abc import Callable, Sequence

from .structured import parse_python, undeclared_imports

if TYPE_CHECKING:
    from .artifacts import Design, FileSpec

_STUB_COMMENT = re.compile(r"#\s*(todo|implement|implementation|your code|placeholder|fixme)", re.I)


def module_name(path: str) -> str:
    """``pkg/mod.py`` -> ``pkg.mod``; ``src/`` layouts and ``__init__`` handled."""
    stem = PurePosixPath(path).with_suffix("").as_posix()
    stem = stem[4:] if stem.startswith("src/") else stem
    return stem.replace("/", ".").removesuffix(".__init__")


def _parse(text: str) -> ast.Module | None:
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


def interface_bodies(interface: str) -> tuple[str, list[str]]:
    """(normalised interface, functions whose bodies hold real code).

    An interface is signatures with docstrings. Bodies of only ``pass``/``...`` are rewritten to
    ``...`` (a small model copies ``pass`` into the code otherwise); real code in a body is a
    problem for the architect to fix. Text that is not Python is left alone.
    """
    tree = _parse(interface)
    if tree is None:
        return interface, []
    with_code = [f.name for f in _functions(tree) if not is_stub(f)]
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


def imported_modules(text: str, members: bool = True) -> set[str]:
    """Dotted module names a Python text imports (``from .x`` skipped); with ``members``, also
    ``pkg.name`` for ``from pkg import name`` (which may be a submodule or just a name)."""
    tree = _parse(text)
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
    tree = _parse(interface)
    if tree is not None:
        return {f.name for f in _functions(tree)}
    return set(re.findall(r"(?:def\s+)?([A-Za-z_]\w*)\s*\(", interface)) - {"def", "class", "self"}


def stub_functions(code: str, names: set[str]) -> list[str]:
    """Functions of ``names`` whose body is a stub (protocol and abstract methods excepted)."""
    tree = _parse(code)
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
        if func.name in names and id(func) not in abstract and "abstractmethod" not in decorated \
                and "overload" not in decorated and is_stub(func):
            stubs.append(func.name)
    return sorted(set(stubs))


def defined_names(code: str) -> set[str]:
    """Top-level names a module defines or imports (what ``from module import x`` can take)."""
    tree = _parse(code)
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
    tree = _parse(code)
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


def undefined_attributes(code: str, written: dict[str, str], modules: set[str]) -> list[str]:
    """``import pkg.mod`` then ``pkg.func()``: the name bound is the package, which lacks ``func``.

    Checked for the project's own modules and packages only (``modules``: every design module's
    dotted name); a module's names come from its written text, a package folder without an
    ``__init__.py`` has only its submodules.
    """
    tree = _parse(code)
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

    def names_of(module: str) -> set[str]:  # each written module parsed once, not once per attribute
        if module not in known:
            known[module] = defined_names(written[module])
        return known[module]

    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound):
            continue
        module, attr = bound[node.value.id], node.attr
        if f"{module}.{attr}" in modules or f"{module}.{attr}" in packages:
            continue
        if module in written and attr in names_of(module):
            continue
        if module not in written and module in modules:
            continue  # not written yet (a cycle): nothing to check against
        owners = sorted(m for m in written if attr in names_of(m))
        where = f"; {attr} is defined in {', '.join(owners)}" if owners else ""
        problem = f"{node.value.id}.{attr}: {module} has no {attr!r}{where}"
        if problem not in problems:
            problems.append(problem)
    return problems


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


def code_check(design: "Design", spec: "FileSpec | None", written: dict[str, str]) -> Callable[[str], str | None]:
    """The engineer's gates for one Python file, as a ``check`` for ``Gateway.ask_file``.

    Refused (and re-prompted with the list of what does exist): a third-party import the design
    does not declare, an import of a local module no design file provides, ``from mod import x``
    where the written ``mod`` has no ``x``, and a stub body (``pass``, ``...``,
    ``raise NotImplementedError``) for a function the interface names. ``written`` is a snapshot.
    """
    local = local_modules(design)
    modules = design_modules(design)
    written_modules = {module_name(p): text for p, text in written.items() if p.endswith(".py")}
    promised = interface_names(spec.interface) if spec else set()

    def check(content: str) -> str | None:
        problems = []
        missing = undeclared_imports(content, local, design.dependencies)
        if missing:
            problems.append(f"it imports {', '.join(missing)}, which is not declared: use only the standard library, "
                            f"the design's own modules, and the declared dependencies ({', '.join(design.dependencies) or 'none'})")
        phantom = missing_local_modules(content, modules, {m.split(".")[0] for m in modules})
        if phantom:
            problems.append(f"it imports {', '.join(phantom)}, which no file of the design provides; "
                            f"the project's modules are: {', '.join(sorted(modules))}")
        problems += undefined_imports(content, written_modules)
        problems += undefined_attributes(content, written_modules, set(modules))
        stubs = stub_functions(content, promised)
        if stubs:
            problems.append(f"{', '.join(stubs)} {'has' if len(stubs) == 1 else 'have'} no real body (pass, ... or "
                            "NotImplementedError): implement every function of the interface completely")
        return "; ".join(problems) or None

    return check


# --- QA ------------------------------------------------------------------------------------------


@dataclass
class Signature:
    """What a call must satisfy: positional bounds and keyword names."""

    name: str
    min_args: int
    max_args: int | None  # None: *args
    keywords: set[str]
    any_keyword: bool  # **kwargs


def _signature(name: str, args: ast.arguments, skip_self: bool) -> Signature:
    positional = [*args.posonlyargs, *args.args]
    if skip_self and positional:
        positional = positional[1:]
    required = len(positional) - len(args.defaults)
    keywords = {a.arg for a in [*args.args, *args.kwonlyargs]}
    return Signature(name, max(required, 0), None if args.vararg else len(positional), keywords, args.kwarg is not None)


def public_signatures(code: str) -> dict[str, Signature]:
    """Top-level functions and classes (through ``__init__``) of a module, by name."""
    tree = _parse(code)
    out: dict[str, Signature] = {}
    if tree is None:
        return out
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out[node.name] = _signature(node.name, node.args, skip_self=False)
        elif isinstance(node, ast.ClassDef):
            init = next((f for f in node.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None)
            dataclass_like = any("dataclass" in ast.unparse(d) for d in node.decorator_list) or any(
                getattr(b, "id", "") in ("NamedTuple", "BaseModel", "TypedDict") for b in node.bases)
            if init is not None:
                out[node.name] = _signature(node.name, init.args, skip_self=True)
            elif not dataclass_like and not node.bases:
                out[node.name] = Signature(node.name, 0, 0, set(), False)
    return out


def _call_problem(call: ast.Call, sig: Signature) -> str | None:
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return None  # *args / **kwargs at the call site: cannot count
    given = len(call.args)
    names = {k.arg for k in call.keywords if k.arg}
    unknown = sorted(names - sig.keywords) if not sig.any_keyword else []
    if unknown:
        return f"{sig.name}() has no parameter {unknown[0]!r}"
    if sig.max_args is not None and given > sig.max_args:
        return f"{sig.name}() takes at most {sig.max_args} positional arguments, the test passes {given}"
    if given + len(names & sig.keywords) < sig.min_args:
        return f"{sig.name}() needs {sig.min_args} arguments, the test passes {given + len(names)}"
    return None


@dataclass
class _TestView:
    """What a test file binds to the module under test."""

    imports_it: bool
    aliases: set[str]  # local names bound to the module
    direct: dict[str, str]  # local name -> module attribute


def _bindings(tree: ast.Module, module: str) -> _TestView:
    view = _TestView(False, set(), {})
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name == module:
                    view.imports_it = True
                    view.aliases.add(a.asname or a.name)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            if node.module == module:
                view.imports_it = True
                view.direct.update({a.asname or a.name: a.name for a in node.names if a.name != "*"})
            elif node.module and module.startswith(node.module + ".") and \
                    any(a.name == module.rsplit(".", 1)[1] for a in node.names):
                view.imports_it = True
                view.aliases.update(a.asname or a.name for a in node.names if a.name == module.rsplit(".", 1)[1])
    return view


def _use_problems(node: ast.AST, view: _TestView, module: str, defined: set[str],
                  signatures: dict[str, Signature]) -> list[str]:
    """Uses of the module under ``node`` that its source does not support."""
    problems = []
    for sub in ast.walk(node):
        target: str | None = None
        if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and sub.value.id in view.aliases:
            if sub.attr not in defined and not sub.attr.startswith("__"):
                problems.append(f"{module} has no {sub.attr!r}")
        if isinstance(sub, ast.Call):
            func = sub.func
            if isinstance(func, ast.Name) and func.id in view.direct:
                target = view.direct[func.id]
            elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in view.aliases:
                target = func.attr
            if target in signatures and (problem := _call_problem(sub, signatures[target])):
                problems.append(problem)
    return problems


def _parametrize_problems(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """``@pytest.mark.parametrize("a, b", ...)`` naming an argument the test does not take: pytest
    refuses to collect the whole file, so one such test hides every other."""
    params = {a.arg for a in [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]}
    problems = []
    for deco in func.decorator_list:
        if isinstance(deco, ast.Call) and ast.unparse(deco.func).endswith("parametrize") and deco.args:
            names = deco.args[0]
            if isinstance(names, ast.Constant) and isinstance(names.value, str):
                wanted = [n.strip() for n in names.value.split(",") if n.strip()]
            elif isinstance(names, (ast.List, ast.Tuple)):
                wanted = [e.value for e in names.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            else:
                continue
            problems += [f"{func.name} is parametrized with {n!r} but takes no such argument"
                         for n in wanted if n not in params]
    return problems


def problems_in_test_file(test_code: str, module: str, source: str) -> list[str]:
    """A test file must import the module under test, use only names it defines, with their signatures,
    and must not define its own copy of the code under test."""
    tree = _parse(test_code)
    if tree is None:
        return []
    defined = defined_names(source)
    signatures = public_signatures(source)
    view = _bindings(tree, module)
    if not view.imports_it:
        return [f"it does not import the module under test ({module}); import it and test its real code"]
    problems = [f"{module} has no {name!r}" for name in view.direct.values() if name not in defined]
    test_defs = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    copies = sorted((test_defs & set(signatures)) - set(view.direct))
    if copies:
        problems.append(f"it defines its own {', '.join(copies)} instead of testing the module's")
    problems += _use_problems(tree, view, module, defined, signatures)
    for func in (n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        problems += _parametrize_problems(func)
    return list(dict.fromkeys(problems))[:8]


PYTEST_FIXTURES = frozenset({"capsys", "capfd", "capsysbinary", "capfdbinary", "caplog", "monkeypatch", "tmp_path",
                             "tmp_path_factory", "tmpdir", "tmpdir_factory", "request", "recwarn", "pytestconfig"})


def drop_shadowed_fixtures(test_code: str) -> str:
    """Remove a test file's own fixture named like one of pytest's (``capsys``...).

    Seen on a 1.5B model: ``def capsys(monkeypatch): cap = pytest.Capsys()`` (no such class)
    broke every test using it, and three fix rounds kept it. pytest's own fixture is the one meant.
    """
    tree = _parse(test_code)
    if tree is None:
        return test_code
    shadows = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in PYTEST_FIXTURES
               and any("fixture" in ast.unparse(d) for d in n.decorator_list)]
    if not shadows:
        return test_code
    return _without_functions(test_code, shadows, [f"# swcompany dropped the fixture {f.name}: pytest provides it"
                                                   for f in shadows])


def _without_functions(code: str, functions: Sequence[ast.FunctionDef | ast.AsyncFunctionDef], notes: list[str]) -> str:
    """``code`` with these top-level functions (and their decorators) cut out, ``notes`` on top."""
    lines = code.splitlines()
    for func in sorted(functions, key=lambda f: f.lineno, reverse=True):
        start = min([func.lineno, *(d.lineno for d in func.decorator_list)]) - 1
        del lines[start:func.end_lineno]
    return "\n".join([*notes, *lines]).rstrip() + "\n"


def prune_tests(test_code: str, module: str, source: str) -> str:
    """Drop the test functions that call what the module does not define (or with wrong arguments).

    A small model often writes ten good tests and two that call an invented signature; re-asking
    for the whole file rarely fixes only those two. Dropped tests are named in a comment at the
    top, so the report and a reader see what was removed and why. Left alone when nothing would
    remain, or when the file's problem is not per test (no import, a copy of the code).
    Fixtures shadowing pytest's own are dropped first.
    """
    test_code = drop_shadowed_fixtures(test_code)
    tree = _parse(test_code)
    if tree is None:
        return test_code
    view = _bindings(tree, module)
    if not view.imports_it:
        return test_code
    defined, signatures = defined_names(source), public_signatures(source)
    functions = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test")]
    bad = {f.name: problems for f in functions
           if (problems := _use_problems(f, view, module, defined, signatures) + _parametrize_problems(f))}
    if not bad or len(bad) == len(functions):
        return test_code
    return _without_functions(test_code, [f for f in functions if f.name in bad],
                              [f"# swcompany dropped {name}: {problems[0]}" for name, problems in bad.items()])


def defined_tests(code: str) -> set[str]:
    """Names of the test functions in a pytest file (methods of Test classes as Class.name)."""
    tree = _parse(code)
    if tree is None:
        return set()
    names = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test")}
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef) and n.name.startswith("Test")):
        names |= {f"{cls.name}.{f.name}" for f in cls.body if isinstance(f, ast.FunctionDef) and f.name.startswith("test")}
    return names
