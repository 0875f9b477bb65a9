"""The engineer's gates over one model-written Python file, assembled as the ``check`` the
writer re-prompts with: which problems refuse a reply outright and which are asked about once.
The single checks are pure functions in ``code_checks`` (and ``test_view`` for calls into the
project's other modules, read the way a test file's calls are read).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from .artifacts import ENTRY_POINTS
from .code_checks import (
    answers_help, argv_with_program_name, bad_patterns, called_names, circular_imports, defined_names, design_modules,
    interface_names, local_modules, methods_replaced_by_attributes, missing_local_modules, missing_returns, module_name,
    parse_or_none, tables_never_created, window_imports,
    promised_top_level, promises_help, shadowed_imports, stub_functions, undefined_attributes, undefined_imports,
    undefined_names,
)
from .structured import undeclared_imports
from .test_view import bindings, known_attributes, public_signatures, use_problems

if TYPE_CHECKING:
    from .artifacts import Design, FileSpec


def absolute_imports(tree: ast.Module, path: str) -> ast.Module:
    """``from .core import x`` in ``pkg/cli.py`` read as ``from pkg.core import x`` (in place), so
    the calls a package's files make into one another are checked like absolute imports."""
    package = module_name(path).split(".")
    if PurePosixPath(path).name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
            node.module = ".".join([*base, *([node.module] if node.module else [])])
            node.level = 0
    return tree


def _definition(source: str, name: str) -> str | None:
    """``def parse_args()``: how ``name`` (a function, or ``Class.method``) is declared in ``source``."""
    tree = parse_or_none(source)
    scope: list[ast.stmt] = tree.body if tree else []
    *owner, last = name.split(".")
    for part in owner:
        cls = next((n for n in scope if isinstance(n, ast.ClassDef) and n.name == part), None)
        scope = cls.body if cls else []
    for node in scope:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == last:
            return f"def {node.name}({ast.unparse(node.args)})"
        if isinstance(node, ast.ClassDef) and node.name == last:
            init = next((f for f in node.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None)
            return f"class {node.name}: def __init__({ast.unparse(init.args)})" if init else None
    return None


def local_call_problems(code: str, path: str, written: dict[str, str]) -> list[str]:
    """Calls into the project's written modules that fail whatever the code does: the password
    generator's CLI called ``parse_args(argv)`` on its own module's ``parse_args()``, which takes
    nothing, so the run command and every CLI test ended in a TypeError. Also a method its class
    lacks, or a plain method called on the class. ``written``: dotted module -> its text."""
    tree = parse_or_none(code)
    if tree is None:
        return []
    absolute_imports(tree, path)
    problems: list[str] = []
    for module, source in written.items():
        view = bindings(tree, module, source)
        if not view.imports_it or module == module_name(path):
            continue
        for problem in use_problems(tree, view, module, defined_names(source), public_signatures(source)):
            if problem.startswith(f"{module} has no "):
                continue  # a missing name: `undefined_imports` and `undefined_attributes` refuse it already
            called = problem.split("()", 1)[0] if "()" in problem else ""  # `Store.get() takes...` names the callee first
            if called and (declared := _definition(source, called)):
                problem += f" ({module} declares `{declared}`)"
            if problem not in problems:
                problems.append(problem)
    return problems


def _held_class(value: ast.expr | None, annotations: dict[str, str]) -> str | None:
    """The class name an assigned value holds, as written: ``SessionStorage(...)``, or a parameter
    annotated ``SessionStorage`` (``Optional[...]`` and ``| None`` allowed)."""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
        return value.func.id
    if isinstance(value, ast.Name) and value.id in annotations:
        found = re.fullmatch(r"(?:Optional\[)?[\"']?(\w+)[\"']?\]?(?: \| None)?", annotations[value.id])
        return found.group(1) if found else None
    return None


def collaborator_problems(code: str, path: str, written: dict[str, str]) -> list[str]:
    """``self.storage.start_session()`` where ``self.storage`` only ever holds a class of a written
    module (built there, or a parameter annotated with it) that has no ``start_session``: the 1.5B
    pomodoro timer's core called two methods its ``SessionStorage`` never had, and every CLI test
    failed with AttributeError. Likewise ``Cls.attr`` read off such a class itself (the markdown
    formatter's CLI: ``choices=Formatter.alignments``, and its run command failed).
    ``written``: dotted module -> its text."""
    tree = parse_or_none(code)
    if tree is None:
        return []
    absolute_imports(tree, path)
    imported: dict[str, tuple[str, str]] = {}  # local name -> (module, class name there)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in written:
            imported.update({a.asname or a.name: (node.module, a.name) for a in node.names})
    used = {m for m, _ in imported.values()}
    attributes = {module: known_attributes(written[module]) for module in used}
    on_classes = {module: class_level_names(written[module]) for module in used}
    problems: list[str] = []

    def lacks(shown: str, attr: str, module: str, name: str) -> None:
        has = attributes[module].get(name)
        if has is not None and attr not in has and not attr.startswith("__"):
            public = ", ".join(sorted(n for n in has if not n.startswith("_"))) or "nothing public"
            problem = f"{shown}.{attr}: {name} ({module}) has no {attr!r} (it has: {public})"
            if problem not in problems:
                problems.append(problem)

    for node in ast.walk(tree):  # `Formatter.alignments`: the markdown formatter's CLI read it off the class
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and isinstance(node.value, ast.Name) \
                and node.value.id in imported:
            module, name = imported[node.value.id]
            lacks(node.value.id, node.attr, module, name)
            on_class = on_classes[module].get(name)
            if on_class is not None and node.attr in attributes[module].get(name, set()) - on_class:
                problem = (f"{node.value.id}.{node.attr}: {node.attr!r} is set on each {name} object (self.{node.attr}), "
                           f"the class itself has no {node.attr!r}: read it from an instance")
                if problem not in problems:
                    problems.append(problem)
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        held: dict[str, set[str | None]] = {}  # self.<attr> -> the classes assigned to it (None: something else)
        for func in (n for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
            annotations = {a.arg: ast.unparse(a.annotation) for a in [*func.args.args, *func.args.kwonlyargs]
                           if a.annotation is not None}
            for node in ast.walk(func):
                targets = node.targets if isinstance(node, ast.Assign) else \
                    [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else []
                for target in targets:
                    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
                        held.setdefault(target.attr, set()).add(_held_class(getattr(node, "value", None), annotations))
        for attr, kinds in held.items():
            kind = next(iter(kinds)) if len(kinds) == 1 else None
            if kind not in imported:
                continue
            for node in ast.walk(cls):
                if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and ast.unparse(node.value) == f"self.{attr}":
                    lacks(f"self.{attr}", node.attr, *imported[kind])
    return problems


def class_level_names(source: str) -> dict[str, set[str]]:
    """What each top-level class of ``source`` has on the class itself: methods, nested classes and
    class attributes with a value (not the ``self.x`` of its instances)."""
    tree = parse_or_none(source)
    out: dict[str, set[str]] = {}
    for cls in (n for n in (tree.body if tree else []) if isinstance(n, ast.ClassDef)):
        names = out.setdefault(cls.name, set())
        for node in cls.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
            elif isinstance(node, ast.AnnAssign) and node.value is not None and isinstance(node.target, ast.Name):
                names.add(node.target.id)
    return out


def late_imports(code: str, spec: "FileSpec", modules: dict[str, str]) -> list[str]:
    """The design files ``spec``'s code imports although it does not depend on them: they may have
    been written after it, so nothing checked its use of them (``modules``: dotted name -> path).
    The pomodoro timer's core, depending on nothing, imported ``Storage`` from a storage module
    that later defined ``SessionStorage``."""
    tree = parse_or_none(code)
    if tree is None:
        return []
    absolute_imports(tree, spec.path)
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            used.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            used.add(node.module)
            used.update(f"{node.module}.{a.name}" for a in node.names)
    return sorted({modules[m] for m in used if m in modules} - {*spec.depends_on, spec.path})


def cross_module_problems(code: str, path: str, written: dict[str, str]) -> list[str]:
    """What a file gets wrong about the written modules it uses (dotted module -> text): names they
    lack, calls their signatures refuse, methods their classes lack."""
    modules = set(written)
    return [*undefined_imports(code, written), *undefined_attributes(code, written, modules),
            *local_call_problems(code, path, written), *collaborator_problems(code, path, written)]


@dataclass
class CodeCheck:
    """The engineer's gates as a ``check`` for ``Gateway.ask_file``. ``fallback``: the latest reply
    refused only for what is asked once (an undefined name, ``--help``...), which the writer keeps
    when every reply is refused: the word counter's CLI was asked about ``--help`` on its last try,
    and the run stopped with exit 4 for a file that worked."""

    gates: Callable[[str], tuple[list[str], list[str]]]  # content -> (problems, problems asked once)
    fallback: str | None = None

    def __call__(self, content: str) -> str | None:
        problems, soft = self.gates(content)
        if soft and not problems:
            self.fallback = content
        return "; ".join(problems + soft) or None


def code_check(design: "Design", spec: "FileSpec | None", written: dict[str, str],
               first_write: bool = True) -> CodeCheck:
    """The engineer's gates for one Python file, as a ``check`` for ``Gateway.ask_file``.

    Refused (and re-prompted with the list of what does exist): a third-party import the design
    does not declare, an import of a local module no design file provides, ``from mod import x``
    where the written ``mod`` has no ``x``, a stub body (``pass``, ``...``,
    ``raise NotImplementedError``) for a function the interface names, a definition hiding an
    import of the same name, a function declared to return a value that never returns one, a
    circular import (``__init__.py`` from its own package, or anything importing the CLI), and,
    once per file, a name used but never defined (``repair_code`` adds the imports it can first),
    an entry point the run command calls with ``--help`` that never reads it, and a call into a
    written module its signature refuses (``local_call_problems``).
    ``written`` is a snapshot. ``first_write``: the engineer's own write; a fix or a review is not
    asked about ``--help`` again (a fix round is about its failing tests).
    """
    local = local_modules(design)
    modules = design_modules(design)
    written_modules = {module_name(p): text for p, text in written.items() if p.endswith(".py")}
    promised = interface_names(spec.interface) if spec else set()
    entry_points = {module_name(f.path) for f in design.files if PurePosixPath(f.path).name in ENTRY_POINTS}
    asked = {"undefined": False, "stubs": False, "help": False, "argv": False, "promised": False, "patterns": False,
             "calls": False, "replaced": False, "windows": False, "tables": False}
    top_level = promised_top_level(spec.interface) if spec else set()
    help_promised = first_write and spec is not None and promises_help(design.how_to_run, spec.path)
    others = list(written.values())
    asked_once: dict[str, Callable[[str], list[str]]] = {  # the checks asked about once, each with its own turn
        "patterns": bad_patterns, "replaced": methods_replaced_by_attributes, "windows": window_imports,
        "tables": lambda content: tables_never_created(content, others)}

    def check(content: str) -> tuple[list[str], list[str]]:
        problems: list[str] = []
        soft: list[str] = []  # asked once; alone, they never cost the run its file
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
        unknown = undefined_names(content)
        if unknown and not asked["undefined"]:
            # Asked about once: a NameError the model cannot mend is for QA's fix rounds to meet with a
            # traceback, not a reason to stop the run (the password generator stopped so, exit 4).
            asked["undefined"] = True
            soft.append(f"it uses {', '.join(unknown)}, which it never defines or imports")
        problems += shadowed_imports(content)
        problems += circular_imports(content, spec.path, entry_points) if spec else []
        argv = argv_with_program_name(content)
        if argv and not asked["argv"]:
            # What `argv_without_program_name` cannot shift (the program name read, a computed position) is
            # asked about once: a convention the model cannot mend is for QA's tests to meet, not an exit 4.
            asked["argv"] = True
            soft += argv
        if help_promised and not asked["help"] and not answers_help(content):
            # The expression calculator read `--help` as an expression and exited 1: the command the
            # user is told to run first must work. Asked once, like the undefined names.
            asked["help"] = True
            soft.append(f"the project's run command is `{design.how_to_run.strip()}`, but this module never "
                            "reads --help: parse the command line with argparse, so --help prints the usage and exits 0")
        dropped = sorted(top_level - defined_names(content))
        if dropped and not asked["promised"]:
            # Asked once: the expression calculator's core, written afresh in a fix round, turned the
            # interface's `evaluate` into a class, and every test failed to import it.
            asked["promised"] = True
            soft.append(f"it does not define {', '.join(dropped)}, which the design's interface names (the other "
                            "files and the tests use these names): define them, with the interface's signatures")
        problems += missing_returns(content, spec.interface if spec else "")
        calls = [*local_call_problems(content, spec.path, written_modules),
                 *collaborator_problems(content, spec.path, written_modules)] if spec else []
        if calls and not asked["calls"]:
            asked["calls"] = True  # once: a call the model cannot mend is for QA's fix rounds to meet
            soft += [f"{problem}: call it as the written module declares it" for problem in calls]
        for key, find in asked_once.items():  # once: what the model cannot mend is for the tests to meet
            if not asked[key] and (found := find(content)):
                asked[key] = True
                soft += found
        stubs = sorted({*stub_functions(content, promised), *stub_functions(content, called_names(content))})
        if stubs:
            problems.append(f"{', '.join(stubs)} {'has' if len(stubs) == 1 else 'have'} no real body (pass, ..., "
                            "NotImplementedError, or a placeholder value): implement every function the interface names "
                            "or the code calls")
        elif (others := stub_functions(content, None)) and not asked["stubs"]:
            # Methods the interface did not list (it said only `class UnitConverter:`): asked about once;
            # the unit converter kept a `save_settings` of `pass` and "# Implement saving settings logic here".
            asked["stubs"] = True
            soft.append(f"{', '.join(others)} {'has' if len(others) == 1 else 'have'} no real body: implement "
                            "it, or leave it out if nothing needs it")
        return problems, soft

    return CodeCheck(check)
