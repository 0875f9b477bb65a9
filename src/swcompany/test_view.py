"""What a test file binds to the module under test, and what that module offers it: the
module's public signatures and class methods, the names a test imports it by, the calls it
makes into it. Pure: ``ast`` only; the gates (``test_checks``) and the command-line checks
(``cli_test_checks``) read test files through it.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from .code_checks import is_stub, parse_or_none, returns_a_value


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


def call_problem(call: ast.Call, sig: Signature) -> str | None:
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return None  # *args / **kwargs at the call site: cannot count
    given = len(call.args)
    names = {k.arg for k in call.keywords if k.arg}
    unknown = sorted(names - sig.keywords) if not sig.any_keyword else []
    if unknown:
        return f"{sig.name}() has no parameter {unknown[0]!r}"
    if sig.max_args == 0 and given:
        return f"{sig.name}() takes no positional arguments, the call passes {given}"
    if sig.max_args is not None and given > sig.max_args:
        return f"{sig.name}() takes at most {sig.max_args} positional arguments, the call passes {given}"
    if given + len(names & sig.keywords) < sig.min_args:
        return f"{sig.name}() needs {sig.min_args} arguments, the call passes {given + len(names)}"
    passed = [*zip(sig.positional, call.args), *((k.arg, k.value) for k in call.keywords if k.arg)]
    for name, value in passed:
        if name in sig.annotations and (kind := _wrong_type(sig.annotations[name], value)):
            # the word counter's core tests: count_words([str(path)]) on `file_path: str` (TypeError in open)
            return f"{sig.name}() takes {name}: {sig.annotations[name]}, the call passes {kind} ({ast.unparse(value)[:60]})"
    return None


@dataclass
class Method:
    """A method of a module class: how it is called on an instance, and whether on the class too."""

    on_instance: Signature  # ``obj.m(...)``: self is bound
    on_class: Signature | None  # ``Cls.m(...)``: a static or class method; None for a plain method (needs an instance)
    returns_value: bool = True  # a ``return <value>`` (or a stub: unknown)
    prints: bool = False

    @property
    def gives_nothing(self) -> bool:
        """No value returned, nothing printed: it only changes the object (``load``, ``save``)."""
        return not self.returns_value and not self.prints


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
            printed = any(isinstance(n, ast.Call) and ast.unparse(n.func) == "print" for n in ast.walk(node))
            methods[node.name] = Method(bound, bound if kinds else None, returns_a_value(node) or is_stub(node), printed)
    return out


@dataclass
class TestView:
    """What a test file binds to the module under test."""

    imports_it: bool
    aliases: set[str]  # local names bound to the module
    direct: dict[str, str]  # local name -> module attribute
    classes: dict[str, set[str]] = field(default_factory=dict)  # the module's classes whose attributes are all known
    fixtures: dict[str, str] = field(default_factory=dict)  # fixture name -> the module class it returns
    shared: dict[str, str] = field(default_factory=dict)  # a module-level name -> the module class it holds
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


def bindings(tree: ast.Module, module: str, source: str = "") -> TestView:
    view = TestView(False, set(), {}, {**known_attributes(source), **plain_results(source)},
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
    top = [n for n in tree.body if isinstance(n, ast.Assign)]
    for node in top:  # `store = KeyValueStore("store.json")` once at module level, which the tests share
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and (cls := _class_called(node.value, view)) \
                and sum(any(ast.unparse(t) == node.targets[0].id for t in other.targets) for other in top) == 1:
            view.shared[node.targets[0].id] = cls
    for func in tree.body:
        if isinstance(func, ast.FunctionDef) and any("fixture" in ast.unparse(d) for d in func.decorator_list):
            instances = instances_in(func, view)
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
        if cls.decorator_list:  # @dataclass (attrs, ...) writes __repr__ and __eq__
            names.update({"__repr__", "__eq__"})
        if not names & {"__getattr__", "__getattribute__", "__slots__"}:
            classes[cls.name] = names
    return classes


def plain_result(expr: ast.AST | None, view: TestView) -> str | None:
    """``int`` for ``main([...])`` declared ``-> int`` (or another value no test can take apart or
    read lines from: ``bool``, ``float``, ``None``), else None."""
    made = _class_called(expr, view) or ""
    return made.rsplit("-> ", 1)[1] if made.endswith(_UNPACKABLE) else None


def _class_called(expr: ast.AST | None, view: TestView) -> str | None:
    """The module class ``expr`` instantiates (``Cls(...)`` or ``module.Cls(...)``), or ``f()`` for
    a module function returning a plain value (see ``plain_results``), if any."""
    name = module_function(expr, view) if isinstance(expr, ast.Call) else None
    if name in view.classes:
        return name
    return next((key for key in view.classes if key.startswith(f"{name}() -> ")), None) if name else None


def instances_in(func: ast.FunctionDef | ast.AsyncFunctionDef, view: TestView) -> dict[str, str]:
    """Local names that only ever hold an instance of one module class (a call, ``with``, or a fixture)."""
    seen: dict[str, set[str | None]] = {name: {cls} for name, cls in view.shared.items()}
    seen.update({a.arg: {view.fixtures.get(a.arg)} for a in func.args.args})
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


def instance_problems(node: ast.AST, view: TestView) -> list[str]:
    """``tm = TaskManager(); tm.connect()`` where the written TaskManager has no ``connect``."""
    problems = []
    for func in (n for n in ast.walk(node) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        instances = instances_in(func, view)
        for sub in ast.walk(func):
            if isinstance(sub, ast.Assign) and any(isinstance(t, (ast.Tuple, ast.List)) for t in sub.targets) and \
                    (made := _class_called(sub.value, view)) and made.endswith(_UNPACKABLE):
                # the tip calculator's CLI tests: `total, tip, each = main([...])` on main's int exit code
                name, kind = made.split("() -> ")
                problems.append(f"{name} returns {kind}, which cannot be unpacked into several names: "
                                "read printed output with capsys")
            held = read_as_container(sub)
            made = instances.get(held.id, "") if isinstance(held, ast.Name) else _class_called(held, view) or ""
            if made.endswith(_UNPACKABLE):
                # the word counter's CLI test: `result = main()`, then `assert 'hello: 2' in result` on main's int
                name, kind = made.split("() -> ")
                problems.append(f"{name} returns {kind}, which holds no lines or items: read printed output with capsys")
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
        problems += _results_of_nothing(func, instances, view) + _default_texts(func, instances, view)
    return problems


def _default_texts(func: ast.FunctionDef | ast.AsyncFunctionDef, instances: dict[str, str], view: TestView) -> list[str]:
    """``str(converter)`` or ``converter.__str__()`` where the written class defines neither
    ``__str__`` nor ``__repr__``: the text is Python's default, ``<...Converter object at 0x...>``,
    which no expected text matches (the unit converter's test expected "10 meters = 32.8084 feet")."""
    problems = []
    for call in (n for n in ast.walk(func) if isinstance(n, ast.Call)):
        if isinstance(call.func, ast.Name) and call.func.id in ("str", "repr") and len(call.args) == 1:
            held = call.args[0]
        elif isinstance(call.func, ast.Attribute) and call.func.attr in ("__str__", "__repr__") and not call.args:
            held = call.func.value
        else:
            continue
        cls = instances.get(held.id) if isinstance(held, ast.Name) else None
        if cls and cls in view.classes and not view.classes[cls] & {"__str__", "__repr__"}:
            problems.append(f"{cls} defines no __str__ or __repr__, so `{ast.unparse(call)}` is Python's default "
                            f"'<{cls} object at 0x...>': check what its methods return instead")
    return list(dict.fromkeys(problems))


def read_as_container(node: ast.AST) -> ast.expr | None:
    """What ``node`` reads as a container: ``x in <it>``, ``for _ in <it>``, ``<it>[i]``, ``len(<it>)``."""
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn)):
        return node.comparators[0]
    if isinstance(node, (ast.For, ast.comprehension)):
        return node.iter
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
        return node.value
    if isinstance(node, ast.Call) and ast.unparse(node.func) == "len" and len(node.args) == 1:
        return node.args[0]
    return None


def _results_of_nothing(func: ast.FunctionDef | ast.AsyncFunctionDef, instances: dict[str, str],
                        view: TestView) -> list[str]:
    """``deep_dict_equal(store.load(), {...})`` where the written ``load`` returns nothing (it fills
    ``self.data``): the test reads None whatever the code does (the key-value store's user run: two
    CLI tests failed so, and the fix round could not tell why). A method that prints is left out:
    there the code may be what is wrong."""
    discarded = {id(n.value) for n in ast.walk(func) if isinstance(n, ast.Expr)}
    with_none = {id(n.left) for n in ast.walk(func) if isinstance(n, ast.Compare)
                 and any(isinstance(c, ast.Constant) and c.value is None for c in n.comparators)}
    problems = []
    for call in (n for n in ast.walk(func) if isinstance(n, ast.Call) and id(n) not in discarded | with_none):
        if not (isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name)):
            continue
        cls, name = instances.get(call.func.value.id), call.func.attr
        method = view.methods.get(cls, {}).get(name) if cls else None
        if cls and method is not None and method.gives_nothing:
            giving = sorted(m for m, found in view.methods[cls].items() if found.returns_value and not m.startswith("_"))
            problems.append(f"`{ast.unparse(call)}` is used as a value, but {cls}.{name}() returns nothing (it only "
                            f"changes the object): check its effect through {', '.join(giving) or 'the object'} instead")
    return list(dict.fromkeys(problems))


def _method_call_problem(call: ast.Call, instances: dict[str, str], view: TestView) -> str | None:
    """``store.load(path)`` where the written ``load`` takes no argument (the key-value store), or
    ``PomodoroSession.start("s1", 25)``, a plain method called on the class (the pomodoro timer's
    four tests): the call fails whatever the code does."""
    if not isinstance(call.func, ast.Attribute):
        return None
    owner, name = call.func.value, call.func.attr
    if isinstance(owner, ast.Name) and owner.id in instances:
        method = view.methods.get(instances[owner.id], {}).get(name)
        return call_problem(call, method.on_instance) if method else None
    cls = view.direct.get(owner.id) if isinstance(owner, ast.Name) else \
        owner.attr if isinstance(owner, ast.Attribute) and is_module(owner.value, view) else None
    method = view.methods.get(cls or "", {}).get(name)
    if method is None:
        return None
    if method.on_class is not None:
        return call_problem(call, method.on_class)
    first = call.args[0] if call.args else None
    if isinstance(first, ast.Name) and instances.get(first.id) == cls:
        return None  # `Cls.m(obj, ...)`: an explicit self
    return f"{cls}.{name}() is a method of {cls} objects: call it on one (`{cls}(...).{name}(...)`)"


def is_module(expr: ast.expr, view: TestView) -> bool:
    """``expr`` names the module under test: an alias (``conv``), or the dotted name of a plain
    ``import pkg.mod`` (the CSV converter's tests called ``csv_to_json.parser.main``, which does
    not exist, and the check looked only at bare names)."""
    return isinstance(expr, (ast.Name, ast.Attribute)) and ast.unparse(expr) in view.aliases


def module_function(call: ast.Call, view: TestView) -> str | None:
    """The module name a call calls (``f(...)`` imported from it, or ``module.f(...)``)."""
    func = call.func
    if isinstance(func, ast.Name) and func.id in view.direct:
        return view.direct[func.id]
    if isinstance(func, ast.Attribute) and is_module(func.value, view):
        return func.attr
    return None


def enclosing_test(tree: ast.Module, line: int) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The innermost function (a test, a fixture, a helper) whose lines hold ``line``."""
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and n.lineno <= line <= (n.end_lineno or n.lineno)]
    return min(functions, key=lambda n: (n.end_lineno or n.lineno) - n.lineno) if functions else None


def use_problems(node: ast.AST, view: TestView, module: str, defined: set[str],
                 signatures: dict[str, Signature]) -> list[str]:
    """Uses of the module under ``node`` that its source does not support: a name it lacks, a call
    its signature refuses, a method its class lacks (for test files and, in ``code_gates``, for the
    project's own files calling one another)."""
    problems = []
    for sub in ast.walk(node):
        target: str | None = None
        if isinstance(sub, ast.Attribute) and is_module(sub.value, view):
            if sub.attr not in defined and not sub.attr.startswith("__"):
                problems.append(f"{module} has no {sub.attr!r}")
        if isinstance(sub, ast.Call):
            target = module_function(sub, view)
            if target in signatures and (problem := call_problem(sub, signatures[target])):
                problems.append(problem)
    return problems + instance_problems(node, view)
