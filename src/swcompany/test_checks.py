"""QA's gates over model-written pytest files: what a small model gets wrong in tests, found by ``ast``.

A test file must import the module under test and use only what its source really defines
(names, signatures, methods of its classes); a file's own fixture named like pytest's is dropped;
tests that cannot be right are cut out one by one rather than the whole file re-asked.
Pure: nothing here runs code or touches the disk.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .cli_usage import CommandLine, command_line
from .text_as_path import single_assignments, text_written_to_files
from .code_checks import (
    defined_names, insert_imports, is_main_guard, parse_or_none, replace_nodes, returns_a_value, undefined_names,
    undefined_names_at,
)


@dataclass
class Signature:
    """What a call must satisfy: positional bounds and keyword names."""

    name: str
    min_args: int
    max_args: int | None  # None: *args
    keywords: set[str]
    any_keyword: bool  # **kwargs
    positional: list[str] = field(default_factory=list)  # parameter names, in order
    annotations: dict[str, str] = field(default_factory=dict)  # parameter -> its annotation's text


_CONTAINERS = {ast.List: "a list", ast.ListComp: "a list", ast.Tuple: "a tuple", ast.Dict: "a dict",
               ast.DictComp: "a dict", ast.Set: "a set", ast.SetComp: "a set"}


def _wrong_type(annotation: str, given: ast.expr) -> str | None:
    """What a literal argument is, when it plainly is not what the annotation asks for (a list for
    a ``str``, text for an ``int``), else None. Only sure cases: a union or an alias decides nothing."""
    wanted = re.sub(r"^Optional\[(.*)\]$", r"\1", annotation).replace(" | None", "").replace("None | ", "")
    kind = _CONTAINERS.get(type(given))
    if kind is None and isinstance(given, (ast.Constant, ast.JoinedStr)) and \
            isinstance(getattr(given, "value", ""), str):
        kind = "text"
    accepted = {"str": {"text"}, "int": set(), "float": set(), "bool": set(), "dict": {"a dict"}}.get(wanted)
    return kind if accepted is not None and kind is not None and kind not in accepted else None


def _signature(name: str, args: ast.arguments, skip_self: bool) -> Signature:
    positional = [*args.posonlyargs, *args.args]
    if skip_self and positional:
        positional = positional[1:]
    required = len(positional) - len(args.defaults)
    keywords = {a.arg for a in [*args.args, *args.kwonlyargs]}
    annotations = {a.arg: ast.unparse(a.annotation) for a in [*positional, *args.kwonlyargs] if a.annotation is not None}
    return Signature(name, max(required, 0), None if args.vararg else len(positional), keywords, args.kwarg is not None,
                     [a.arg for a in positional], annotations)


def public_signatures(code: str) -> dict[str, Signature]:
    """Top-level functions and classes (through ``__init__``) of a module, by name."""
    tree = parse_or_none(code)
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
    if sig.max_args == 0 and given:
        return f"{sig.name}() takes no positional arguments, the test passes {given}"
    if sig.max_args is not None and given > sig.max_args:
        return f"{sig.name}() takes at most {sig.max_args} positional arguments, the test passes {given}"
    if given + len(names & sig.keywords) < sig.min_args:
        return f"{sig.name}() needs {sig.min_args} arguments, the test passes {given + len(names)}"
    passed = [*zip(sig.positional, call.args), *((k.arg, k.value) for k in call.keywords if k.arg)]
    for name, value in passed:
        if name in sig.annotations and (kind := _wrong_type(sig.annotations[name], value)):
            # the word counter's core tests: count_words([str(path)]) on `file_path: str` (TypeError in open)
            return f"{sig.name}() takes {name}: {sig.annotations[name]}, the test passes {kind} ({ast.unparse(value)[:60]})"
    return None


@dataclass
class Method:
    """A method of a module class: how it is called on an instance, and whether on the class too."""

    on_instance: Signature  # ``obj.m(...)``: self is bound
    on_class: Signature | None  # ``Cls.m(...)``: a static or class method; None for a plain method (needs an instance)


def method_signatures(source: str) -> dict[str, dict[str, Method]]:
    """The methods of the module's classes whose attributes are known (``known_attributes``), by class."""
    tree = parse_or_none(source)
    known = known_attributes(source)
    out: dict[str, dict[str, Method]] = {}
    for cls in (n for n in (tree.body if tree else []) if isinstance(n, ast.ClassDef) and n.name in known):
        methods = out.setdefault(cls.name, {})
        for node in (n for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
            kinds = {ast.unparse(d) for d in node.decorator_list}
            if kinds - {"staticmethod", "classmethod"}:
                continue  # a property or another wrapper: its call shape is not the def's
            static = "staticmethod" in kinds
            bound = _signature(f"{cls.name}.{node.name}", node.args, skip_self=not static)
            methods[node.name] = Method(bound, bound if kinds else None)
    return out


@dataclass
class _TestView:
    """What a test file binds to the module under test."""

    imports_it: bool
    aliases: set[str]  # local names bound to the module
    direct: dict[str, str]  # local name -> module attribute
    classes: dict[str, set[str]] = field(default_factory=dict)  # the module's classes whose attributes are all known
    fixtures: dict[str, str] = field(default_factory=dict)  # fixture name -> the module class it returns
    methods: dict[str, dict[str, Method]] = field(default_factory=dict)  # class -> its methods (``method_signatures``)


_PLAIN_RESULTS = {"int": int, "str": str, "bool": bool, "float": float, "bytes": bytes, "None": type(None)}
_UNPACKABLE = ("-> int", "-> bool", "-> float", "-> None")  # plain values no `a, b = ...` can take apart


def plain_results(source: str) -> dict[str, set[str]]:
    """``main() -> int`` as ``{"main() -> int": dir(int)}``: top-level functions declared to return a plain
    value, with the attributes that value has. A small model's tests read ``main([...]).stdout``
    as if main were a subprocess or click's CliRunner; an int has no ``stdout``."""
    tree = parse_or_none(source)
    out: dict[str, set[str]] = {}
    for node in (tree.body if tree else []):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None \
                and (kind := _PLAIN_RESULTS.get(ast.unparse(node.returns))) is not None:
            out[f"{node.name}() -> {ast.unparse(node.returns)}"] = set(dir(kind))
    return out


def _bindings(tree: ast.Module, module: str, source: str = "") -> _TestView:
    view = _TestView(False, set(), {}, {**known_attributes(source), **plain_results(source)},
                     methods=method_signatures(source))
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
    for func in tree.body:
        if isinstance(func, ast.FunctionDef) and any("fixture" in ast.unparse(d) for d in func.decorator_list):
            instances = _instances(func, view)
            for node in ast.walk(func):
                value = node.value if isinstance(node, (ast.Return, ast.Yield)) else None
                cls = _class_called(value, view) or (instances.get(value.id) if isinstance(value, ast.Name) else None)
                if cls:
                    view.fixtures[func.name] = cls
    return view


def known_attributes(source: str) -> dict[str, set[str]]:
    """Top-level classes of ``source`` and every attribute an instance can have: methods, class
    attributes, fields and ``self.x`` assignments. Classes with bases or ``__getattr__`` are left
    out: their attributes cannot be known from the text."""
    tree = parse_or_none(source)
    classes: dict[str, set[str]] = {}
    for cls in (n for n in (tree.body if tree else []) if isinstance(n, ast.ClassDef)):
        if any(ast.unparse(b) != "object" for b in cls.bases) or cls.keywords:
            continue
        names: set[str] = set()
        for node in cls.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names.update(t.id for t in targets if isinstance(t, ast.Name))
        names.update(n.attr for n in ast.walk(cls) if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store)
                     and isinstance(n.value, ast.Name) and n.value.id == "self")
        if not names & {"__getattr__", "__getattribute__", "__slots__"}:
            classes[cls.name] = names
    return classes


def _class_called(expr: ast.AST | None, view: _TestView) -> str | None:
    """The module class ``expr`` instantiates (``Cls(...)`` or ``module.Cls(...)``), or ``f()`` for
    a module function returning a plain value (see ``plain_results``), if any."""
    name = _called(expr, view) if isinstance(expr, ast.Call) else None
    if name in view.classes:
        return name
    return next((key for key in view.classes if key.startswith(f"{name}() -> ")), None) if name else None


def _instances(func: ast.FunctionDef | ast.AsyncFunctionDef, view: _TestView) -> dict[str, str]:
    """Local names that only ever hold an instance of one module class (a call, ``with``, or a fixture)."""
    seen: dict[str, set[str | None]] = {a.arg: {view.fixtures.get(a.arg)} for a in func.args.args}
    for node in ast.walk(func):
        pairs: list[tuple[ast.AST, ast.AST | None]] = []
        if isinstance(node, ast.Assign):
            pairs = [(t, node.value) for t in node.targets]
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
            pairs = [(node.target, node.value)]
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            pairs = [(node.target, None)]
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            pairs = [(node.optional_vars, node.context_expr)]
        for target, value in pairs:
            for name in _bound_names(target):
                seen.setdefault(name, set()).add(_class_called(value, view) if isinstance(target, ast.Name) else None)
    return {name: only for name, classes in seen.items() if len(classes) == 1 and (only := next(iter(classes))) is not None}


def _bound_names(target: ast.AST) -> list[str]:
    """Names an assignment target rebinds (``a``, ``a, b``), not those it only uses (``a.x = ``, ``a[0] = ``)."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for element in target.elts for name in _bound_names(element)]
    return _bound_names(target.value) if isinstance(target, ast.Starred) else []


def _instance_problems(node: ast.AST, view: _TestView) -> list[str]:
    """``tm = TaskManager(); tm.connect()`` where the written TaskManager has no ``connect``."""
    problems = []
    for func in (n for n in ast.walk(node) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        instances = _instances(func, view)
        for sub in ast.walk(func):
            if isinstance(sub, ast.Assign) and any(isinstance(t, (ast.Tuple, ast.List)) for t in sub.targets) and \
                    (made := _class_called(sub.value, view)) and made.endswith(_UNPACKABLE):
                # the tip calculator's CLI tests: `total, tip, each = main([...])` on main's int exit code
                name, kind = made.split("() -> ")
                problems.append(f"{name} returns {kind}, which cannot be unpacked into several names: "
                                "read printed output with capsys")
            if isinstance(sub, ast.Attribute) and isinstance(sub.ctx, ast.Load) and isinstance(sub.value, ast.Name) \
                    and sub.value.id in instances and not sub.attr.startswith("__"):
                cls = instances[sub.value.id]
                if sub.attr in view.classes[cls]:
                    continue
                if "() -> " in cls:
                    name, kind = cls.split("() -> ")
                    problems.append(f"{name} returns {kind}, which has no {sub.attr!r}: read printed output with capsys")
                    continue
                have = ", ".join(sorted(a for a in view.classes[cls] if not a.startswith("_"))) or "nothing public"
                problems.append(f"{cls} has no {sub.attr!r} (it has: {have})")
            if isinstance(sub, ast.Call) and (problem := _method_call_problem(sub, instances, view)):
                problems.append(problem)
    return problems


def _method_call_problem(call: ast.Call, instances: dict[str, str], view: _TestView) -> str | None:
    """``store.load(path)`` where the written ``load`` takes no argument (the key-value store), or
    ``PomodoroSession.start("s1", 25)``, a plain method called on the class (the pomodoro timer's
    four tests): the call fails whatever the code does."""
    if not isinstance(call.func, ast.Attribute):
        return None
    owner, name = call.func.value, call.func.attr
    if isinstance(owner, ast.Name) and owner.id in instances:
        method = view.methods.get(instances[owner.id], {}).get(name)
        return _call_problem(call, method.on_instance) if method else None
    cls = view.direct.get(owner.id) if isinstance(owner, ast.Name) else \
        owner.attr if isinstance(owner, ast.Attribute) and _is_module(owner.value, view) else None
    method = view.methods.get(cls or "", {}).get(name)
    if method is None:
        return None
    if method.on_class is not None:
        return _call_problem(call, method.on_class)
    first = call.args[0] if call.args else None
    if isinstance(first, ast.Name) and instances.get(first.id) == cls:
        return None  # `Cls.m(obj, ...)`: an explicit self
    return f"{cls}.{name}() is a method of {cls} objects: call it on one (`{cls}(...).{name}(...)`)"


def _is_module(expr: ast.expr, view: _TestView) -> bool:
    """``expr`` names the module under test: an alias (``conv``), or the dotted name of a plain
    ``import pkg.mod`` (the CSV converter's tests called ``csv_to_json.parser.main``, which does
    not exist, and the check looked only at bare names)."""
    return isinstance(expr, (ast.Name, ast.Attribute)) and ast.unparse(expr) in view.aliases


def _called(call: ast.Call, view: _TestView) -> str | None:
    """The module name a call calls (``f(...)`` imported from it, or ``module.f(...)``)."""
    func = call.func
    if isinstance(func, ast.Name) and func.id in view.direct:
        return view.direct[func.id]
    if isinstance(func, ast.Attribute) and _is_module(func.value, view):
        return func.attr
    return None


def enclosing_test(tree: ast.Module, line: int) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The innermost function (a test, a fixture, a helper) whose lines hold ``line``."""
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and n.lineno <= line <= (n.end_lineno or n.lineno)]
    return min(functions, key=lambda n: (n.end_lineno or n.lineno) - n.lineno) if functions else None


def _raises_system_exit(expr: ast.expr) -> bool:
    """``pytest.raises(SystemExit ...)``: a test expecting the code to exit."""
    return isinstance(expr, ast.Call) and ast.unparse(expr.func).endswith("raises") and bool(expr.args) \
        and ast.unparse(expr.args[0]).split(".")[-1] == "SystemExit"


def _read_after(tree: ast.Module, call: ast.Call, removed: list[ast.expr]) -> bool:
    """A removed argument is a name the test reads again after the call: the test checks what the
    call was to write into it (the CSV converter's ``convert(path, output=buffer)`` then
    ``buffer.getvalue()``), so without the argument it would check an empty buffer. Such a call is
    left for the signature check, which drops the test."""
    names = {arg.id for arg in removed if isinstance(arg, ast.Name)}
    end = call.end_lineno or call.lineno
    scope = enclosing_test(tree, call.lineno) or tree
    return any(isinstance(n, ast.Name) and n.id in names and n.lineno > end for n in ast.walk(scope))


def trim_extra_arguments(test_code: str, module: str, source: str) -> str:
    """Drop trailing positional arguments, and keywords, that the called function does not take.

    Seen on a 1.5B model: a fixture ``TodoList("test.db", TaskDB)`` where ``TodoList`` takes only
    the path; the file was refused three times with the same fixture (every test used it). The
    extra arguments cannot mean anything to the real code, so they go, named in a comment on top.
    """
    tree = parse_or_none(test_code)
    if tree is None:
        return test_code
    view, signatures = _bindings(tree, module, source), public_signatures(source)
    edits: list[tuple[ast.Call, ast.Call]] = []
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        sig = signatures.get(_called(call, view) or "")
        if sig is None or any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
            continue
        args = call.args[:sig.max_args] if sig.max_args is not None else call.args
        keywords = call.keywords if sig.any_keyword else [k for k in call.keywords if k.arg in sig.keywords]
        removed = [*call.args[len(args):], *(k.value for k in call.keywords if k not in keywords)]
        if removed and not _read_after(tree, call, removed):
            edits.append((call, ast.Call(func=call.func, args=args, keywords=keywords)))
    if not edits:
        return test_code
    lines = test_code.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line.encode()))
    data = test_code.encode()
    notes = []
    for old, new in sorted(edits, key=lambda e: (e[0].lineno, e[0].col_offset), reverse=True):
        start = offsets[old.lineno - 1] + old.col_offset
        end = offsets[old.end_lineno - 1] + old.end_col_offset  # type: ignore[operator]
        notes.append(f"# swcompany removed arguments {ast.unparse(old.func)}() does not take: "
                     f"{' '.join(data[start:end].decode().split())} -> {ast.unparse(new)}")
        data = data[:start] + ast.unparse(new).encode() + data[end:]
    return "\n".join(reversed(notes)) + "\n" + data.decode()


_EXIT_CALLS = ("sys.exit", "exit", "quit", "os._exit")
ARGPARSE_EXIT_CODES = (0, 2)  # --help and a usage error: the only codes argparse exits with


def exit_behaviour(source: str) -> str:
    """How the module's functions can raise ``SystemExit``: ``"never"``, ``"argparse"`` (only
    ``parse_args``/``parser.error``, with code 0 or 2) or ``"any"``; a ``__main__`` block does not count
    (tests call the functions, not the script)."""
    tree = parse_or_none(source)
    if tree is None:
        return "any"
    body = [n for n in tree.body if not is_main_guard(n)]
    kind = "never"
    for node in (sub for top in body for sub in ast.walk(top)):
        if isinstance(node, ast.Raise) and node.exc is not None and "SystemExit" in ast.unparse(node.exc):
            return "any"
        if isinstance(node, ast.Call):
            called = ast.unparse(node.func)
            if called in _EXIT_CALLS or called.endswith(".exit") and not called.endswith("parser.exit"):
                return "any"
            if called.endswith((".parse_args", ".error", "parser.exit", ".parse_known_args")):
                kind = "argparse"
    return kind


def _expected_exit_code(func: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> tuple[ast.Assert | None, int | None]:
    """The ``assert <name>.value.code == N`` that follows a ``pytest.raises(SystemExit) as <name>``."""
    for node in ast.walk(func):
        if isinstance(node, ast.Assert) and isinstance(node.test, ast.Compare) and len(node.test.ops) == 1 \
                and isinstance(node.test.ops[0], ast.Eq):
            sides = [node.test.left, node.test.comparators[0]]
            texts = [ast.unparse(side) for side in sides]
            if f"{name}.value.code" in texts:
                other = sides[1 - texts.index(f"{name}.value.code")]
                if isinstance(other, ast.Constant) and isinstance(other.value, int):
                    return node, other.value
    return None, None


_HELP_FLAGS = ("-h", "--help", "--version")


def _asks_for_help(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """The test (its parametrize rows included) names ``--help`` or ``--version`` somewhere."""
    return any(isinstance(n, ast.Constant) and n.value in _HELP_FLAGS for n in ast.walk(func))


def returned_exit_codes(test_code: str, source: str) -> str:
    """``with pytest.raises(SystemExit) as e: main([...])`` then ``assert e.value.code == 1``, where
    ``main`` returns its exit code and never raises ``SystemExit``, becomes ``assert main([...]) == 1``.

    Seen on the 1.5B model: the word counter's CLI tests (five of seven) all expected
    ``SystemExit`` code 1 from a ``main(argv) -> int`` that returns 1, the design's convention; the
    fix rounds sent them back unchanged. Only where the source shows it cannot exit so: no
    ``sys.exit`` or ``raise SystemExit`` outside its ``__main__`` block, and with argparse only
    codes other than 0 and 2. Each change is named in a comment on top.
    """
    tree = parse_or_none(test_code)
    exits = exit_behaviour(source)
    if tree is None or exits == "any":
        return test_code
    # an exit code is an int: a function declared to return text (`convert(path) -> str`) is not one
    functions = {n.name: returns_a_value(n) for n in (parse_or_none(source) or ast.Module(body=[], type_ignores=[])).body
                 if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and (n.returns is None or ast.unparse(n.returns) in {"int", "int | None", "Optional[int]"})}
    edits: list[tuple[int, int, str]] = []  # (first line, last line, replacement) 1-based, inclusive
    for func in (n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        for node in ast.walk(func):
            if not (isinstance(node, ast.With) and len(node.items) == 1 and len(node.body) == 1
                    and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Call)):
                continue
            item, call = node.items[0], node.body[0].value
            raises = item.context_expr
            if not (_raises_system_exit(raises) and isinstance(raises, ast.Call) and not raises.keywords
                    and ast.unparse(call.func).split(".")[-1] in functions):
                continue
            name = item.optional_vars.id if isinstance(item.optional_vars, ast.Name) else None
            check, code = _expected_exit_code(func, name) if name else (None, None)
            uses = [n for n in ast.walk(func) if isinstance(n, ast.Name) and n.id == name and n is not item.optional_vars]
            if name and len(uses) != (1 if check else 0):
                continue  # the test reads the exception otherwise: leave it
            if exits == "argparse" and (code is None or code in ARGPARSE_EXIT_CODES) \
                    and not (code == 0 and not _asks_for_help(func)):
                continue  # argparse may well exit so (with 0 only for --help or --version)
            expected = f"== {code}" if code is not None else "!= 0"
            indent = " " * node.col_offset
            returns = functions[ast.unparse(call.func).split(".")[-1]]
            text = f"{indent}assert {ast.unparse(call)} {expected}" if returns or code != 0 else f"{indent}{ast.unparse(call)}"
            edits.append((node.lineno, node.end_lineno or node.lineno, text))
            if check is not None:
                edits.append((check.lineno, check.end_lineno or check.lineno, ""))
    if not edits:
        return test_code
    lines = test_code.splitlines()
    notes = []
    for first, last, text in sorted(edits, reverse=True):
        lines[first - 1:last] = [text] if text else []
        if text.strip().startswith("assert "):
            notes.append(f"# swcompany: {text.strip().removeprefix('assert ')} expected, not SystemExit: the function "
                         "returns its exit code")
        elif text:
            notes.append(f"# swcompany: {text.strip()} expected to run, not to raise SystemExit: the function "
                         "returns when it succeeds")
    return "\n".join([*dict.fromkeys(reversed(notes)), *lines]) + "\n"


def _use_problems(node: ast.AST, view: _TestView, module: str, defined: set[str],
                  signatures: dict[str, Signature]) -> list[str]:
    """Uses of the module under ``node`` that its source does not support."""
    problems = []
    for sub in ast.walk(node):
        target: str | None = None
        if isinstance(sub, ast.Attribute) and _is_module(sub.value, view):
            if sub.attr not in defined and not sub.attr.startswith("__"):
                problems.append(f"{module} has no {sub.attr!r}")
        if isinstance(sub, ast.Call):
            target = _called(sub, view)
            if target in signatures and (problem := _call_problem(sub, signatures[target])):
                problems.append(problem)
    return problems + _instance_problems(node, view)


def _exits_expected(func: ast.FunctionDef | ast.AsyncFunctionDef) -> set[int]:
    """Ids of the calls a test runs where a SystemExit is expected or caught (``pytest.raises``, ``except``)."""
    guarded: list[ast.AST] = []
    for node in ast.walk(func):
        if isinstance(node, (ast.With, ast.AsyncWith)) and any(
                "raises" in ast.unparse(item.context_expr) and "Exit" in ast.unparse(item.context_expr)
                for item in node.items):
            guarded += node.body
        elif isinstance(node, ast.Try) and any(h.type is None or "Exit" in ast.unparse(h.type) or
                                                ast.unparse(h.type) == "BaseException" for h in node.handlers):
            guarded += node.body
    return {id(sub) for statement in guarded for sub in ast.walk(statement)}


def _process_argv(func: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[list[str], bool] | None:
    """What the test's ``sys.argv`` holds after the program's name: a literal it sets
    (``sys.argv = [...]``, ``monkeypatch.setattr(sys, "argv", [...])``), ``[]`` when it never
    touches it (conftest empties it for every test), or None when it cannot be read."""
    text = ast.unparse(func)
    if "argv" not in text:
        return [], False
    for node in ast.walk(func):
        value = None
        if isinstance(node, ast.Assign) and any(ast.unparse(t) == "sys.argv" for t in node.targets):
            value = node.value
        elif isinstance(node, ast.Call) and ast.unparse(node.func).endswith("setattr"):
            where = [ast.unparse(a).strip("'\"") for a in node.args]
            if where[:2] == ["sys", "argv"] and len(node.args) == 3:
                value = node.args[2]
            elif where[:1] == ["sys.argv"] and len(node.args) == 2:
                value = node.args[1]
        if value is not None:
            found = _string_list(value)
            return (found[0][1:], found[1]) if found and found[0] else None
    return None


def _string_list(node: ast.AST) -> tuple[list[str], bool] | None:
    """A command line a test passes, and whether part of it is built at run time: literal strings,
    and ``str(path)`` or an f-string (a file path) as its own source text, which stands in for a
    value (never an option)."""
    if not isinstance(node, (ast.List, ast.Tuple)):
        return None
    argv, built = [], False
    for element in node.elts:
        if isinstance(element, ast.Constant) and isinstance(element.value, str):
            argv.append(element.value)
        elif isinstance(element, ast.JoinedStr) or (isinstance(element, ast.Call) and ast.unparse(element.func) == "str"):
            text = ast.unparse(element)
            if text.lstrip("f'\"").startswith("-"):
                return None
            argv.append(text)
            built = True
        else:
            return None
    return argv, built


_ARGV_KEYWORDS = ("argv", "args", "arguments")
_PROGRAM_WORDS = {"prog", "program", "main", "cli", "app"}


def _argv_given(call: ast.Call) -> ast.expr | None:
    """The command line a call passes: ``main([...])`` or ``main(argv=[...])``; None for anything else."""
    if len(call.args) == 1 and not call.keywords:
        return call.args[0]
    if not call.args and len(call.keywords) == 1 and call.keywords[0].arg in _ARGV_KEYWORDS:
        return call.keywords[0].value
    return None


def _words(name: str) -> set[str]:
    return {w for w in re.split(r"[^a-z0-9]+", name.lower().removesuffix(".py")) if len(w) >= 3}


def _looks_like_program(first: str, module: str) -> bool:
    """``"calc"``, ``"main.py"``, ``"convert_csv_to_cli"`` for ``csv_to_json.cli``: a word the
    module's name holds, a script, or a generic program name; never an option."""
    return not first.startswith("-") and re.fullmatch(r"[\w.-]+", first) is not None and (
        first.endswith(".py") or bool(_words(first) & (_words(module) | _PROGRAM_WORDS)))


def _argv_lists(tree: ast.Module, view: _TestView, entries: set[str]) -> list[ast.List | ast.Tuple]:
    """The command lines a test file builds as list literals: ``sys.argv = [...]``,
    ``monkeypatch.setattr(sys, "argv", [...])`` and ``main([...])`` of a CLI entry."""
    found: list[ast.expr | None] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(ast.unparse(t) == "sys.argv" for t in node.targets):
            found.append(node.value)
        elif isinstance(node, ast.Call) and ast.unparse(node.func).endswith("setattr"):
            where = [ast.unparse(a).strip("'\"") for a in node.args]
            found.append(node.args[2] if where[:2] == ["sys", "argv"] and len(node.args) == 3 else
                         node.args[1] if where[:1] == ["sys.argv"] and len(node.args) == 2 else None)
        elif isinstance(node, ast.Call) and (_called(node, view) or "") in entries:
            found.append(_argv_given(node))
    return [n for n in found if isinstance(n, (ast.List, ast.Tuple))]


_TEXT_CALLS = ("str", "os.fspath", "os.path.join", "repr", "format", "hex")


def _is_text(item: ast.expr, assigned: dict[str, ast.expr]) -> bool:
    """``item`` surely is text (or may be: a name bound to text, ``a + b``), never a ``Path`` or number."""
    if isinstance(item, ast.Name) and item.id in assigned:
        return _is_text(assigned[item.id], {})
    return isinstance(item, (ast.JoinedStr, ast.Starred)) or (
        isinstance(item, ast.Constant) and isinstance(item.value, str)) or (
        isinstance(item, ast.Call) and ast.unparse(item.func) in _TEXT_CALLS) or (
        isinstance(item, ast.Attribute) and item.attr == "name") or (
        isinstance(item, ast.BinOp) and isinstance(item.op, (ast.Add, ast.Mod)))


def argv_items_as_text(test_code: str, module: str, source: str) -> str:
    """Each item of a command line that is not text becomes ``str(item)``: argparse reads every item
    as a string, so a ``Path`` (``tmp_path / "input.csv"``) or a number in ``sys.argv`` fails with
    TypeError inside argparse (the CSV converter's two CLI tests; the crash sent the CLI to be
    written afresh twice). ``str()`` of text changes nothing, so only sure cases need no care."""
    tree = parse_or_none(test_code)
    if tree is None or "argv" not in test_code and "main" not in test_code:
        return test_code
    cli = command_line(source)
    entries = set(cli.entries) if cli else {"main"}
    edits: list[tuple[ast.AST, str]] = []
    for argv in _argv_lists(tree, _bindings(tree, module, source), entries):
        func = enclosing_test(tree, argv.lineno)
        assigned = single_assignments(func.body) if func else {}
        for item in argv.elts:
            if not _is_text(item, assigned) and (segment := ast.get_source_segment(test_code, item)) is not None:
                edits.append((item, f"str({segment})"))
    return (replace_nodes(test_code, edits) or test_code) if edits else test_code


def program_names_stripped(test_code: str, module: str, source: str) -> str:
    """``main(["convert_csv_to_cli", "--input", ...])``: a command line starting with the program's
    name, as ``sys.argv`` does, loses that name when the written parser rejects the line with it and
    accepts it without (the CSV converter's user run: its two CLI tests, `unrecognized arguments`).
    A first item that may be meant (a value, a subcommand) is never touched: the parser decides;
    nor is a call the test expects to exit (a usage error may be what it checks)."""
    cli, tree = command_line(source), parse_or_none(test_code)
    if cli is None or tree is None:
        return test_code
    view = _bindings(tree, module, source)
    edits: list[tuple[ast.AST, str]] = []
    functions = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    expected_to_exit = {i for func in functions for i in _exits_expected(func)}  # there the name may be the point
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call) and id(n) not in expected_to_exit):
        given = _argv_given(call) if cli.entries.get(_called(call, view) or "") else None
        if not isinstance(given, (ast.List, ast.Tuple)) or not given.elts or any(isinstance(e, ast.Starred) for e in given.elts):
            continue
        # a name or expression stands in for a value (its text), as in the usage gate
        argv = [e.value if isinstance(e, ast.Constant) and isinstance(e.value, str) else ast.unparse(e) for e in given.elts]
        if isinstance(given.elts[0], ast.Constant) and _looks_like_program(argv[0], module) and cli.refusal(argv) and not cli.refusal(argv[1:]):
            rest = ", ".join(ast.get_source_segment(test_code, e) or ast.unparse(e) for e in given.elts[1:])
            edits.append((given, f"[{rest}]" if isinstance(given, ast.List) else f"({rest}{',' if len(given.elts) == 2 else ''})"))
    return (replace_nodes(test_code, edits) or test_code) if edits else test_code


def _usage_problems(func: ast.FunctionDef | ast.AsyncFunctionDef, view: _TestView, cli: CommandLine | None) -> list[str]:
    """``main([...])`` with a command line the written parser rejects, where the test expects it to run
    (the password generator's ``main()`` without its two required options: ``cli_usage``)."""
    if cli is None:
        return []
    problems, guarded = [], _exits_expected(func)
    for call in (n for n in ast.walk(func) if isinstance(n, ast.Call) and id(n) not in guarded):
        name = _called(call, view)
        given = _argv_given(call)
        if name not in cli.entries or (given is None and (call.args or call.keywords)):
            continue
        if cli.entries[name] and given is not None and not (isinstance(given, ast.Constant) and given.value is None):
            found = _string_list(given)
        else:
            found = _process_argv(func)
        if found is None:
            continue
        argv, built = found
        if (why := cli.refusal(argv)) and not (built and "invalid" in why):
            # a value built at run time may well be a valid number or choice: only the shape is judged
            problems.append(f"{ast.unparse(call)} is a usage error for the written command line ({why}), "
                            f"so argparse exits with SystemExit 2")
    return problems


def parametrize_tables(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[tuple[list[str], ast.expr | None]]:
    """Each ``@pytest.mark.parametrize`` of a test: its argument names, in either form pytest
    takes (``"a, b"`` or ``["a", "b"]``), and its rows (None when not given)."""
    tables: list[tuple[list[str], ast.expr | None]] = []
    for deco in func.decorator_list:
        if isinstance(deco, ast.Call) and ast.unparse(deco.func).endswith("parametrize") and deco.args:
            names, wanted = deco.args[0], []
            if isinstance(names, ast.Constant) and isinstance(names.value, str):
                wanted = [n.strip() for n in names.value.split(",") if n.strip()]
            elif isinstance(names, (ast.List, ast.Tuple)):
                wanted = [e.value for e in names.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            tables.append((wanted, deco.args[1] if len(deco.args) > 1 else None))
    return tables


def _parametrized_names(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """The argument names ``@pytest.mark.parametrize`` gives a test."""
    return [name for names, _ in parametrize_tables(func) for name in names]


def _parametrize_problems(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """``@pytest.mark.parametrize("a, b", ...)`` naming an argument the test does not take: pytest
    refuses to collect the whole file, so one such test hides every other."""
    params = {a.arg for a in [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]}
    return [f"{func.name} is parametrized with {n!r} but takes no such argument"
            for n in _parametrized_names(func) if n not in params]


_RELATIVE_SCRIPT = re.compile(r"(?:^|\s)(?![/~])[\w.-]+(?:/[\w.-]+)*\.py(?:\s|$)")
_DATA_FILE = re.compile(r"^(?![/~])[\w.-]+(?:/[\w.-]+)+\.(?:txt|csv|json|md|db|sqlite|log|ini|ya?ml|toml|xml|html|dat)$")
_WRITES = ("write_text", "write_bytes", "touch", "mkdir", "dump", "write", "copy", "copyfile", "writer", "writerow",
           "writerows", "connect")
_PLACEHOLDER_PATH = re.compile(r"(?:^|[/\\])path[/\\]to[/\\]|^/?your[_-]", re.I)


def never_raised(source: str) -> set[str]:
    """Exception classes the module defines but never raises: a test expecting one cannot pass."""
    tree = parse_or_none(source)
    if tree is None:
        return set()
    defined = {node.name for node in tree.body if isinstance(node, ast.ClassDef)
               and any(ast.unparse(base).endswith(("Error", "Exception")) for base in node.bases)}
    raised = {ast.unparse(node.exc.func if isinstance(node.exc, ast.Call) else node.exc).split(".")[-1]
              for node in ast.walk(tree) if isinstance(node, ast.Raise) and node.exc is not None}
    return defined - raised


def _oracle_problems(func: ast.FunctionDef | ast.AsyncFunctionDef, unraisable: set[str]) -> list[str]:
    """Expectations no code can meet: ``pytest.raises`` of an exception the module never raises (the
    1.5B todo app's tests expected three such), placeholder paths (``/path/to/text/files``)
    that exist on no machine, and programs started by path (``python csv_to_json/cli.py`` from
    the test's own empty folder: "can't open file")."""
    problems = []
    for node in ast.walk(func):
        if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("raises") and node.args:
            name = ast.unparse(node.args[0]).split(".")[-1]
            if name in unraisable:
                problems.append(f"{func.name} expects {name}, which the module never raises")
        elif isinstance(node, ast.Call) and ast.unparse(node.func).startswith(("subprocess.", "os.system", "os.popen")) \
                and (script := next((found.group().strip() for c in ast.walk(node) if isinstance(c, ast.Constant)
                                     and isinstance(c.value, str) and (found := _RELATIVE_SCRIPT.search(c.value))), None)):
            problems.append(f"{func.name} runs {script} by a relative path, which is not there in the test's "
                            "own empty folder; call the code directly (main([...]) and capsys for a CLI)")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _PLACEHOLDER_PATH.search(node.value):
            problems.append(f"{func.name} uses the placeholder path {node.value!r}; create real files under tmp_path")
    missing = _files_never_created(func)
    if missing:
        problems.append(f"{func.name} reads {missing[0]!r}, which it never creates: each test runs in its own empty "
                        "folder, so write the file first (under tmp_path)")
    return problems


def writes_a_file(node: ast.AST) -> bool:
    """A call that may create a file: ``write_text``, ``touch``, ``json.dump``..., ``open(p, "w")``."""
    if not isinstance(node, ast.Call):
        return False
    if ast.unparse(node.func).split(".")[-1] in _WRITES:
        return True
    modes = [*node.args[1:2], *(k.value for k in node.keywords if k.arg == "mode")]
    return ast.unparse(node.func) == "open" and any(isinstance(m, ast.Constant) and isinstance(m.value, str)
                                                    and set(m.value) & set("wax") for m in modes)


def _files_never_created(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """Relative data-file paths (``test_files/sample.txt``) in a test that writes nothing at all.

    Seen on the 1.5B model: the word counter's five core tests read ``test_files/sample.txt``; the
    generated conftest runs each test in its own empty folder, so no such file can exist. A test
    that writes anything (``write_text``, ``open(..., "w")``, ``touch``...) is trusted to create it;
    so is one passing a command-line option (the program may write ``out/result.json``), and a
    path without a folder (``result.json`` may be the code's own output).
    """
    strings = [n.value for n in ast.walk(func) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    if any(writes_a_file(n) for n in ast.walk(func)) or any(text.startswith("-") for text in strings):
        return []
    return [text for text in strings if _DATA_FILE.match(text)]


# What a test may replace: the clock, randomness, the command line, input and the environment
# (a timer that sleeps, a password that is random); never what the code computes with.
_REPLACEABLE = frozenset({"sleep", "time", "monotonic", "perf_counter", "now", "today", "utcnow", "argv", "stdin",
                          "stdout", "stderr", "input", "environ", "getenv", "random", "randint", "randrange", "choice",
                          "choices", "shuffle", "sample", "uniform", "seed", "urandom", "token_hex", "token_urlsafe",
                          "uuid4", "getpass", "platform", "system", "home", "cwd", "expanduser"})
_WORKING_MODULES = frozenset({"json", "csv", "io", "open", "builtins", "os", "pathlib", "shutil", "sqlite3", "sys",
                              "argparse", "re", "math", "statistics", "collections", "Path"})
_PATCHERS = ("setattr", "patch", "patch.object", "mock.patch", "mock.patch.object", "unittest.mock.patch",
             "unittest.mock.patch.object")


def _replaced(call: ast.Call) -> str | None:
    """The dotted name a ``monkeypatch.setattr`` / ``mock.patch`` call replaces, or None."""
    func = ast.unparse(call.func)
    if not func.endswith(_PATCHERS) or not call.args or (func.endswith("setattr") and "monkeypatch" not in func
                                                            and func != "setattr"):
        return None
    first = call.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value if func.endswith(("setattr", "patch")) else None
    second = call.args[1] if len(call.args) > 1 else None
    if isinstance(second, ast.Constant) and isinstance(second.value, str):
        return f"{ast.unparse(first)}.{second.value}"
    return None


def _stand_ins(func: ast.FunctionDef | ast.AsyncFunctionDef, module: str) -> list[str]:
    """What ``func`` replaces that the code computes with: the project's own functions (the module
    under test included) or the standard library's files, JSON and the like. Seen on the 1.5B CSV
    converter: fixtures replaced ``json.loads``, ``json.dumps``, ``open`` and the converter itself,
    so every test checked its own stand-ins."""
    project = module.split(".")[0]
    found = []
    for node in ast.walk(func):
        name = _replaced(node) if isinstance(node, ast.Call) else None
        if not name or name.split(".")[-1] in _REPLACEABLE:
            continue
        root = name.split(".")[0]
        if root in _WORKING_MODULES or root == project or root == module.split(".")[-1]:
            found.append(name)
    return found


def _fixture_stand_ins(tree: ast.Module, fixtures: set[str], module: str) -> dict[str, list[str]]:
    """The file's fixtures that replace what the code computes with, and what they replace."""
    return {f.name: found for f in tree.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
            and f.name in fixtures and (found := _stand_ins(f, module))}


def _stand_in_problems(func: ast.FunctionDef | ast.AsyncFunctionDef, module: str,
                       fixture_stand_ins: dict[str, list[str]]) -> list[str]:
    own = _stand_ins(func, module)
    through = [(a.arg, fixture_stand_ins[a.arg][0]) for a in func.args.args if fixture_stand_ins.get(a.arg)]
    if own:
        return [f"{func.name} replaces {own[0]} with a stand-in, so it tests the stand-in, not the code: call the "
                "real code with real values (files under tmp_path)"]
    return [f"{func.name} uses the fixture {fixture}, which replaces {name} with a stand-in, so it tests the "
            "stand-in, not the code: call the real code with real values (files under tmp_path)"
            for fixture, name in through[:1]]


def _file_fixtures(tree: ast.Module) -> set[str]:
    """Fixtures the test file defines (``@pytest.fixture`` functions, by name or ``name=``)."""
    names: set[str] = set()
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for deco in node.decorator_list:
            if "fixture" in ast.unparse(deco):
                named = [str(k.value.value) for k in getattr(deco, "keywords", [])
                         if k.arg == "name" and isinstance(k.value, ast.Constant)]
                names.add(named[0] if named else node.name)
    return names


def _unknown_fixtures(func: ast.FunctionDef | ast.AsyncFunctionDef, fixtures: set[str]) -> list[str]:
    """Arguments of a test that no fixture provides: pytest errors with "fixture not found".
    Seen on the 1.5B CSV converter: every test took a `csv_to_json_core` nothing defined."""
    if not func.name.startswith("test"):
        return []
    unknown = [a.arg for a in func.args.args
               if a.arg not in fixtures | set(_parametrized_names(func)) | BUILTIN_FIXTURES | {"self", "cls"}]
    return [f"{func.name} takes {', '.join(unknown)}, which no fixture provides "
            f"(define it with @pytest.fixture in the file, or use tmp_path, capsys, monkeypatch)"] if unknown else []


def _used_in(func: ast.FunctionDef | ast.AsyncFunctionDef, unknown: list[tuple[str, int]]) -> list[str]:
    """The names of ``unknown`` (name, line) that ``func``'s lines use, sorted."""
    return sorted({name for name, line in unknown if func.lineno <= line <= (func.end_lineno or func.lineno)})


def _undefined_in(func: ast.FunctionDef | ast.AsyncFunctionDef, unknown: list[tuple[str, int]]) -> list[str]:
    """Names ``func`` uses that the test file never defines or imports."""
    names = _used_in(func, unknown)
    return [f"{func.name} uses {', '.join(names)}, which the file never defines or imports"] if names else []


def problems_in_test_file(test_code: str, module: str, source: str) -> list[str]:
    """A test file must import the module under test, hold a test, use only names the module
    defines, with their signatures, and must not define its own copy of the code under test."""
    tree = parse_or_none(test_code)
    if tree is None:
        return []
    defined = defined_names(source)
    signatures = public_signatures(source)
    view = _bindings(tree, module, source)
    if not view.imports_it:
        return [f"it does not import the module under test ({module}); import it and test its real code"]
    if not defined_tests(test_code):  # HumanEval/16: a salvaged reply whose only test was one endless line
        return ["it defines no test: write test functions named test_<what it checks>"]
    problems = [f"{module} has no {name!r}" for name in view.direct.values() if name not in defined]
    test_defs = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    copies = sorted((test_defs & set(signatures)) - set(view.direct))
    if copies:
        problems.append(f"it defines its own {', '.join(copies)} instead of testing the module's")
    problems += _use_problems(tree, view, module, defined, signatures)
    unraisable, fixtures, cli = never_raised(source), _file_fixtures(tree), command_line(source)
    stand_ins, replaced = _fixture_stand_ins(tree, fixtures, module), set[str]()
    for func in (n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        problems += _parametrize_problems(func) + _fixture_problems(func) + _oracle_problems(func, unraisable)
        problems += _usage_problems(func, view, cli)
        problems += _unknown_fixtures(func, fixtures) + _fixtures_called(func, fixtures)
        if func.name.startswith("test"):  # what prune_tests left: every test had one
            replaced.update([*_stand_ins(func, module), *(n for a in func.args.args for n in stand_ins.get(a.arg, []))])
    if replaced:
        problems.append(f"its tests replace {', '.join(sorted(replaced)[:4])} with stand-ins, so they test the stand-ins, "
                        f"not the code: call the real code with real values (files under tmp_path); monkeypatch only "
                        f"sys.argv, input, the clock and randomness")
    unknown = undefined_names(test_code)
    if unknown:
        problems.append(f"it uses {', '.join(unknown)}, which it never defines or imports")
    return list(dict.fromkeys(problems))[:8]


PYTEST_FIXTURES = frozenset({"capsys", "capfd", "capsysbinary", "capfdbinary", "caplog", "monkeypatch", "tmp_path",
                             "tmp_path_factory", "tmpdir", "tmpdir_factory", "request", "recwarn", "pytestconfig"})
# every fixture plain pytest provides (a file may define its own `cache`; only the above are dropped as shadows)
BUILTIN_FIXTURES = PYTEST_FIXTURES | {"cache", "doctest_namespace", "record_property", "record_testsuite_property",
                                     "record_xml_attribute", "testdir", "pytester", "capteesys"}


def drop_shadowed_fixtures(test_code: str) -> str:
    """Remove a test file's own fixture named like one of pytest's (``capsys``...).

    Seen on a 1.5B model: ``def capsys(monkeypatch): cap = pytest.Capsys()`` (no such class)
    broke every test using it, and three fix rounds kept it. pytest's own fixture is the one meant.
    """
    tree = parse_or_none(test_code)
    if tree is None:
        return test_code
    shadows = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in PYTEST_FIXTURES
               and any("fixture" in ast.unparse(d) for d in n.decorator_list)]
    if not shadows:
        return test_code
    return without_functions(test_code, shadows, [f"# swcompany dropped the fixture {f.name}: pytest provides it"
                                                   for f in shadows])


# What small models call on pytest's capture fixtures, and what they mean (``capsys.getvalue()``
# is io.StringIO's name; pytest's is ``readouterr()``, returning ``.out`` and ``.err``).
_CAPTURE_REPAIRS = [
    (re.compile(r"\b(capsys|capfd)\.(?:getvalue|get_output|read_output|read)\(\)"), r"\1.readouterr().out"),
    (re.compile(r"\.readouterr\(\)\.stdout\b"), ".readouterr().out"),
    (re.compile(r"\.readouterr\(\)\.stderr\b"), ".readouterr().err"),
]
CAPTURE_API = frozenset({"readouterr", "disabled"})


def paths_of_temp_dirs(test_code: str) -> str:
    """``with TemporaryDirectory() as tmpdir: tmpdir / "input.csv"``: the name is a ``str``, so ``/``
    raises TypeError; each such ``tmpdir /`` becomes ``Path(tmpdir) /``. Seen on the 1.5B CSV
    converter: all five CLI tests failed on that line, and the fix round sent them back unchanged."""
    tree = parse_or_none(test_code)
    if tree is None:
        return test_code
    names = {item.optional_vars.id for node in ast.walk(tree) if isinstance(node, (ast.With, ast.AsyncWith))
             for item in node.items if isinstance(item.optional_vars, ast.Name)
             and ast.unparse(item.context_expr.func if isinstance(item.context_expr, ast.Call) else item.context_expr)
             .split(".")[-1] == "TemporaryDirectory"}
    edits: list[tuple[ast.AST, str]] = [(node.left, f"Path({node.left.id})") for node in ast.walk(tree)
                                        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)
                                        and isinstance(node.left, ast.Name) and node.left.id in names]
    fixed = replace_nodes(test_code, edits) if edits else None
    if fixed is None:
        return test_code
    return fixed if "Path" in defined_names(fixed) else insert_imports(fixed, ["from pathlib import Path"])


def texts_as_files(test_code: str, module: str, source: str) -> str:
    """File content passed to a module function's path parameter is written to a file under
    ``tmp_path`` first, and that path passed (``text_as_path``)."""
    tree = parse_or_none(test_code)
    if tree is None:
        return test_code
    view = _bindings(tree, module, source)
    return text_written_to_files(test_code, public_signatures(source), lambda call: _called(call, view))


def repair_capture_calls(test_code: str) -> str:
    """``capsys.getvalue()`` -> ``capsys.readouterr().out``: the intent is unambiguous, and a fix round
    asked about it wrote in circles (seen on a 1.5B model: eight tests, one wrong method name)."""
    for pattern, replacement in _CAPTURE_REPAIRS:
        test_code = pattern.sub(replacement, test_code)
    return test_code


def _fixtures_called(func: ast.FunctionDef | ast.AsyncFunctionDef, fixtures: set[str]) -> list[str]:
    """The file's fixtures a function calls or reads as plain objects instead of asking for them as
    parameters: pytest fails the test ("Fixture called directly"; the CSV converter's
    ``with monkeypatch_open() as file:`` in three tests, ``monkeypatch_argparse.ArgumentParser``)."""
    params = {a.arg for a in func.args.args}
    used = sorted({n.id for n in ast.walk(func) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
                   and n.id in fixtures - params})
    return [f"{func.name} uses the fixture {name} as a plain function or object; pytest refuses that: ask for it "
            f"as a parameter (def {func.name}(..., {name}))" for name in used[:1]]


def _fixture_problems(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """Methods pytest's capture fixtures do not have (what the repair above could not mend)."""
    params = {a.arg for a in func.args.args} & {"capsys", "capfd"}
    return [f"{sub.value.id} has no {sub.attr!r}: read printed output with `{sub.value.id}.readouterr().out`"
            for sub in ast.walk(func) if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name)
            and sub.value.id in params and sub.attr not in CAPTURE_API]


def without_functions(code: str, functions: Sequence[ast.FunctionDef | ast.AsyncFunctionDef], notes: list[str]) -> str:
    """``code`` with these top-level functions (and their decorators, and the indented comments
    trailing their last statement) cut out, ``notes`` on top; a note already there is not repeated."""
    lines = code.splitlines()
    for func in sorted(functions, key=lambda f: f.lineno, reverse=True):
        start = min([func.lineno, *(d.lineno for d in func.decorator_list)]) - 1
        end = func.end_lineno or func.lineno
        while end < len(lines) and (not lines[end].strip() or
                                    (lines[end][:1].isspace() and lines[end].lstrip().startswith("#"))):
            end += 1
        del lines[start:end]
        lines.insert(start, "")
    notes = [note for note in dict.fromkeys(notes) if note not in lines]
    return "\n".join([*notes, *lines]).rstrip() + "\n"


def add_fixture_parameters(test_code: str) -> str:
    """``capsys`` (or ``tmp_path``, ``monkeypatch``...) used in a test that does not take it becomes
    a parameter: the unit converter's CLI tests read ``capsys.readouterr()`` in every test without
    asking for the fixture, were refused three times, and the file was left out."""
    tree = parse_or_none(test_code)
    if tree is None:
        return test_code
    unknown = undefined_names_at(test_code)
    lines = test_code.splitlines(keepends=True)
    for func in tree.body:
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)) or not func.name.startswith("test"):
            continue
        wanted = [name for name in _used_in(func, unknown) if name in BUILTIN_FIXTURES]
        line = lines[func.lineno - 1]
        match = re.match(rf"(\s*(?:async\s+)?def\s+{func.name}\s*\()(.*)(\)\s*(?:->[^:]*)?:.*)$", line, re.S)
        if wanted and match:
            params = ", ".join(p for p in (match.group(2).strip(), *wanted) if p)
            lines[func.lineno - 1] = match.group(1) + params + match.group(3)
    return "".join(lines)


def import_used_names(test_code: str, module: str, source: str) -> str:
    """``from module import name`` added for names the tests use unimported that the module under
    test defines (a small model imports the module, then calls its functions bare)."""
    names = [name for name in undefined_names(test_code) if name in defined_names(source) and not name.startswith("_")]
    return insert_imports(test_code, [f"from {module} import {', '.join(names)}"] if names else [])


def fixtures_defined(code: str) -> set[str]:
    """The fixtures a file such as ``tests/conftest.py`` defines (a fix round may add some there)."""
    tree = parse_or_none(code)
    return _file_fixtures(tree) if tree is not None else set()


_RANDOM_MODULES = ("random", "secrets", "uuid")


def random_functions(source: str) -> set[str]:
    """Top-level functions of ``source`` whose result is random: they call ``random``, ``secrets`` or
    ``uuid`` (or a name imported from them), or another such function of the module."""
    tree = parse_or_none(source)
    if tree is None:
        return set()
    imported = {a.asname or a.name for n in tree.body if isinstance(n, ast.ImportFrom)
                and (n.module or "").split(".")[0] in _RANDOM_MODULES for a in n.names}
    functions = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    calls = {name: {ast.unparse(c.func) for c in ast.walk(f) if isinstance(c, ast.Call)} for name, f in functions.items()}
    found = {name for name, called in calls.items()
             if any(c.split(".")[0] in _RANDOM_MODULES or c in imported for c in called)}
    for _ in range(3):  # a helper of a helper
        found |= {name for name, called in calls.items() if called & found}
    return found


def _random_compared(func: ast.FunctionDef | ast.AsyncFunctionDef, view: _TestView, randoms: set[str]) -> list[str]:
    """A random result compared with a fixed value (``generate_password(8, charset) == "aBcD..."``): no
    code can pass it. Seen on the 1.5B password generator: three such rows, and the fix round sent
    the file back unchanged. A test that seeds or patches the randomness is left alone."""
    if not randoms or re.search(r"seed|monkeypatch|patch|mock", ast.unparse(func)):
        return []
    params = set(_parametrized_names(func))
    held: dict[str, str] = {}  # a name -> the random function whose result it holds
    for node in ast.walk(func):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                and isinstance(node.value, ast.Call) and (called := _called(node.value, view)) in randoms:
            held[node.targets[0].id] = called
    for node in ast.walk(func):
        if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq)):
            continue
        sides = [node.left, node.comparators[0]]
        for i, side in enumerate(sides):
            called = held.get(side.id) if isinstance(side, ast.Name) else \
                _called(side, view) if isinstance(side, ast.Call) else None
            other = sides[1 - i]
            fixed = (isinstance(other, ast.Constant) and isinstance(other.value, str) and len(other.value) > 1) or \
                (isinstance(other, ast.Name) and other.id in params)
            if called in randoms and fixed:
                return [f"{func.name} compares the result of {called}(), which is random, with a fixed value: check "
                        "what the specification fixes instead (its length, which characters it uses)"]
    return []


def _exit_never_raised(func: ast.FunctionDef | ast.AsyncFunctionDef, view: _TestView, exits: str) -> list[str]:
    """``pytest.raises(SystemExit)`` around calls of a module that never exits (no ``sys.exit``, no
    ``raise SystemExit``, no argparse): no code of it can pass. Seen on the 1.5B CSV converter: its
    core's ``convert_csv_to_json(path)`` returns text, and the one core test expected SystemExit
    code 2 for every row; three fix rounds changed nothing."""
    if exits != "never":
        return []
    for node in ast.walk(func):
        if not (isinstance(node, ast.With) and len(node.items) == 1 and _raises_system_exit(node.items[0].context_expr)):
            continue
        calls = [c for stmt in node.body for c in ast.walk(stmt) if isinstance(c, ast.Call)]
        called = [_called(c, view) for c in calls]
        if calls and all(called):
            return [f"{func.name} expects SystemExit from {called[0]}(), which never exits (the module has no "
                    "sys.exit and no argparse): check what it returns instead"]
    return []


def _copies(functions: list[ast.FunctionDef | ast.AsyncFunctionDef]) -> dict[str, list[str]]:
    """Tests whose decorators, arguments and statements are those of an earlier test (comments and
    docstrings aside): they check nothing new. Seen on the 1.5B markdown formatter: four tests named
    ``..._no_header_and_no_data_and_no_data...`` with one body, each failing on the same line."""
    def shape(func: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
        body = func.body[1:] if func.body and isinstance(func.body[0], ast.Expr) and \
            isinstance(func.body[0].value, ast.Constant) and len(func.body) > 1 else func.body
        return "\n".join(ast.dump(node) for node in [*func.decorator_list, func.args, *body])

    first: dict[str, str] = {}
    found: dict[str, list[str]] = {}
    for func in functions:
        key = shape(func)
        if key in first:
            found[func.name] = [f"{func.name} is a copy of {first[key]}: it checks nothing new"]
        else:
            first[key] = func.name
    return found


def prune_tests(test_code: str, module: str, source: str, shared_fixtures: frozenset[str] = frozenset()) -> str:
    """Drop the test functions that call what the module does not define (or with wrong arguments).

    A small model often writes ten good tests and two that call an invented signature; re-asking
    for the whole file rarely fixes only those two. Dropped tests are named in a comment at the
    top, so the report and a reader see what was removed and why. Left alone when nothing would
    remain, or when the file's problem is not per test (no import, a copy of the code).
    Fixtures shadowing pytest's own are dropped first, ``capsys.getvalue()`` becomes
    ``capsys.readouterr().out``, and ``SystemExit`` expected from a function that returns its
    exit code becomes a check of the returned code, and file content passed where a path belongs is
    written to a file first. ``shared_fixtures``: those ``conftest.py``
    provides.
    """
    test_code = trim_extra_arguments(drop_shadowed_fixtures(repair_capture_calls(paths_of_temp_dirs(test_code))), module, source)
    test_code = import_used_names(add_fixture_parameters(texts_as_files(test_code, module, source)), module, source)
    test_code = program_names_stripped(returned_exit_codes(test_code, source), module, source)
    test_code = argv_items_as_text(test_code, module, source)
    tree = parse_or_none(test_code)
    if tree is None:
        return test_code
    view = _bindings(tree, module, source)
    if not view.imports_it:
        return test_code
    defined, signatures, unraisable = defined_names(source), public_signatures(source), never_raised(source)
    functions = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test")]
    unknown, fixtures = undefined_names_at(test_code), _file_fixtures(tree) | shared_fixtures
    cli = command_line(source)
    copies, randoms, exits = _copies(functions), random_functions(source), exit_behaviour(source)
    stand_ins = _fixture_stand_ins(tree, fixtures, module)
    bad = {f.name: problems for f in functions
           if (problems := _use_problems(f, view, module, defined, signatures) + _parametrize_problems(f)
               + _usage_problems(f, view, cli)
               + _fixture_problems(f) + _oracle_problems(f, unraisable) + _undefined_in(f, unknown)
               + _unknown_fixtures(f, fixtures) + _fixtures_called(f, fixtures) + copies.get(f.name, []) + _random_compared(f, view, randoms)
               + _exit_never_raised(f, view, exits) + _stand_in_problems(f, module, stand_ins))}
    if not bad or len(bad) == len(functions):
        return test_code
    return without_functions(test_code, [f for f in functions if f.name in bad],
                              [f"# swcompany dropped {name}: {problems[0]}" for name, problems in bad.items()])


def defined_tests(code: str) -> set[str]:
    """Names of the test functions in a pytest file (methods of Test classes as Class.name)."""
    tree = parse_or_none(code)
    if tree is None:
        return set()
    names = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test")}
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef) and n.name.startswith("Test")):
        names |= {f"{cls.name}.{f.name}" for f in cls.body if isinstance(f, ast.FunctionDef) and f.name.startswith("test")}
    return names
