"""QA's gates over model-written pytest files: what a small model gets wrong in tests, found by ``ast``.

A test file must import the module under test and use only what its source really defines
(names, signatures, methods of its classes); a file's own fixture named like pytest's is dropped;
tests that cannot be right are cut out one by one rather than the whole file re-asked.
What a test binds to the module is read by ``test_view``; tests of a command line are judged by
``cli_test_checks``; text passed for a path is mended by ``text_as_path``.
Pure: nothing here runs code or touches the disk.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Sequence

from .cli_test_checks import (
    argv_items_as_text, exit_behaviour, exit_never_raised, printed_output_read, prints_nothing, program_names_added,
    program_names_stripped, returned_exit_codes, unprinted_output_problems, unprinted_output_unasked, usage_problems,
)
from .cli_usage import command_line
from .code_checks import (
    defined_names, insert_imports, parse_or_none, replace_nodes, undefined_names, undefined_names_at, without_statements,
)
from .test_view import (
    TestView, bindings, enclosing_test, module_function, public_signatures, use_problems,
)
from .text_as_path import folders_as_files, single_assignments, text_written_to_files


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
    view, signatures = bindings(tree, module, source), public_signatures(source)
    edits: list[tuple[ast.Call, ast.Call]] = []
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        sig = signatures.get(module_function(call, view) or "")
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


def module_values(tree: ast.Module) -> dict[str, ast.expr]:
    """Names bound once at a test file's top level, to their value (a table of rows, a path)."""
    found: dict[str, list[ast.expr]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            found.setdefault(node.targets[0].id, []).append(node.value)
    return {name: values[0] for name, values in found.items() if len(values) == 1}


def _row_width_problems(func: ast.FunctionDef | ast.AsyncFunctionDef, values: dict[str, ast.expr]) -> list[str]:
    """``@pytest.mark.parametrize("value, from_unit, to_unit", test_data)`` over rows of four: pytest
    refuses to collect the whole file (the unit converter's core tests shared one table between a
    test of four names and one of three, and not one test ran)."""
    problems = []
    for names, rows in parametrize_tables(func):
        rows = values.get(rows.id) if isinstance(rows, ast.Name) else rows
        if len(names) < 2 or not isinstance(rows, (ast.List, ast.Tuple)):
            continue
        widths = sorted({len(row.elts) for row in rows.elts if isinstance(row, (ast.List, ast.Tuple))} - {len(names)})
        if widths:
            problems.append(f"{func.name} is parametrized with {len(names)} names ({', '.join(names)}) over rows of "
                            f"{widths[0]} values: pytest refuses to collect the file")
    return problems


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
    view = bindings(tree, module, source)
    if not view.imports_it:
        return [f"it does not import the module under test ({module}); import it and test its real code"]
    if not defined_tests(test_code):  # HumanEval/16: a salvaged reply whose only test was one endless line
        return ["it defines no test: write test functions named test_<what it checks>"]
    problems = [f"{module} has no {name!r}" for name in view.direct.values() if name not in defined]
    test_defs = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    copies = sorted((test_defs & set(signatures)) - set(view.direct))
    if copies:
        problems.append(f"it defines its own {', '.join(copies)} instead of testing the module's")
    problems += use_problems(tree, view, module, defined, signatures)
    unraisable, fixtures, cli = never_raised(source), _file_fixtures(tree), command_line(source)
    stand_ins, replaced = _fixture_stand_ins(tree, fixtures, module), set[str]()
    values = module_values(tree)
    for func in (n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        problems += _parametrize_problems(func) + _row_width_problems(func, values) + _fixture_problems(func)
        problems += _oracle_problems(func, unraisable)
        problems += usage_problems(func, view, cli)
        problems += _unknown_fixtures(func, fixtures) + _fixtures_called(func, fixtures)
        if func.name.startswith("test"):  # what prune_tests left: every test had one
            replaced.update([*_stand_ins(func, module), *(n for a in func.args.args for n in stand_ins.get(a.arg, []))])
    at_import = next((n for top in tree.body if not isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                      for n in ast.walk(top) if writes_a_file(n)), None)
    if at_import is not None:
        # The markdown formatter's CLI tests wrote `tmp/input.md` at import: a collection error, and a
        # file written into the project itself (tests run in a folder of their own, imports do not).
        problems.append(f"it writes a file when it is imported (line {at_import.lineno}: "  # type: ignore[attr-defined]
                        f"{ast.unparse(at_import)[:60]}): write files inside the tests, under tmp_path")
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


def fixture_names_unhidden(test_code: str) -> str:
    """A module-level ``tmp_path = Path('tmp')`` (or any name of pytest's fixtures) is cut: it hides
    the fixture from every function that does not ask for it (``add_fixture_parameters`` then does).

    The roman numeral converter's CLI tests had an autouse fixture emptying ``tmp_path`` unasked:
    the module's ``Path('tmp')``, a folder never made, so every test errored in its set-up.
    Kept when other module-level code uses the name (the gates speak of what it writes at import).
    """
    tree = parse_or_none(test_code)
    if tree is None:
        return test_code
    hiding = [node for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
              and len(targets := node.targets if isinstance(node, ast.Assign) else [node.target]) == 1
              and isinstance(targets[0], ast.Name) and targets[0].id in BUILTIN_FIXTURES]
    others = [n for n in tree.body if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    hiding = [node for node in hiding if not any(isinstance(n, ast.Name) and n.id == _assigned(node) and isinstance(n.ctx, ast.Load)
                                                 for other in others if other is not node for n in ast.walk(other))]
    if not hiding:
        return test_code
    notes = [f"# swcompany dropped `{ast.unparse(node)[:80]}`: it hid pytest's {_assigned(node)} fixture" for node in hiding]
    return without_statements(test_code, hiding, list(dict.fromkeys(notes)))


def _assigned(node: ast.Assign | ast.AnnAssign) -> str:
    target = node.targets[0] if isinstance(node, ast.Assign) else node.target
    return target.id if isinstance(target, ast.Name) else ""


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


_FILE_OBJECT_CALLS = {"write": "write_text", "read": "read_text"}  # a file object's names, said to a Path


def path_file_calls(test_code: str) -> str:
    """``input_file = tmp_path / "input.csv"`` then ``input_file.write(data)``: a ``Path`` has no
    ``write`` (nor ``read``); each becomes ``write_text`` (``read_text``). The CSV converter's CLI
    tests wrote every input so, and failed with AttributeError before calling the code."""
    tree = parse_or_none(test_code)
    if tree is None:
        return test_code

    def a_path(expr: ast.expr, assigned: dict[str, ast.expr]) -> bool:
        while isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Div):
            expr = expr.left
        if isinstance(expr, ast.Name) and expr.id in assigned:
            return a_path(assigned.pop(expr.id), assigned)  # popped: `f = f / "x"` cannot loop
        return isinstance(expr, ast.Name) and expr.id == "tmp_path"

    edits: list[tuple[ast.AST, str]] = []
    for func in (n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        assigned = single_assignments(func.body)
        edits += [(node.func, ast.unparse(ast.Attribute(node.func.value, _FILE_OBJECT_CALLS[node.func.attr], ast.Load())))
                  for node in ast.walk(func) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr in _FILE_OBJECT_CALLS and a_path(node.func.value, dict(assigned))]
    return (replace_nodes(test_code, edits) or test_code) if edits else test_code


HUGE_INPUT, SHRUNK_INPUT = 100_000, 1_000


def huge_inputs_shrunk(test_code: str) -> str:
    """A "large file" test sized ``"Hello" * 1000000 for _ in range(1000)`` (5 GB: the word counter's
    QA, MemoryError in the sandbox) or ``range(1000000)``: tests must be small and fast, so each such
    size from ``HUGE_INPUT`` up becomes ``SHRUNK_INPUT`` everywhere in its test (the asserted count
    of a ``range(1000000)`` is the same number, and shrinks with it)."""
    tree = parse_or_none(test_code)
    if tree is None:
        return test_code

    def a_size(node: ast.AST) -> int | None:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range" and len(node.args) == 1:
            return _huge(node.args[0])
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            for size, other in ((node.left, node.right), (node.right, node.left)):
                if _huge(size) is not None and isinstance(other, (ast.Constant, ast.List, ast.Tuple, ast.JoinedStr)) \
                        and not isinstance(getattr(other, "value", ""), (int, float)):
                    return _huge(size)
        return None

    edits: list[tuple[ast.AST, str]] = []
    for func in (n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        sizes = {size for node in ast.walk(func) if (size := a_size(node)) is not None}
        edits += [(node, str(SHRUNK_INPUT)) for node in ast.walk(func) if _huge(node) in sizes]
    return (replace_nodes(test_code, edits) or test_code) if edits else test_code


def _huge(node: ast.AST) -> int | None:
    """The size a literal integer gives, when it is ``HUGE_INPUT`` or more."""
    is_huge = isinstance(node, ast.Constant) and type(node.value) is int and node.value >= HUGE_INPUT
    return node.value if is_huge else None  # type: ignore[attr-defined]


_APPROX_KEYWORDS = {"rel_tol": "rel", "abs_tol": "abs"}  # math.isclose's spelling -> pytest.approx's


def approx_keywords_renamed(test_code: str) -> str:
    """``pytest.approx(x, rel_tol=1e-2)``, math.isclose's keyword given to approx, which calls it
    ``rel`` (and ``abs_tol`` ``abs``): a TypeError in the 1.5B unit converter's tests, whatever the
    code did."""
    tree = parse_or_none(test_code) if "_tol" in test_code else None
    if tree is None:
        return test_code
    edits: list[tuple[ast.AST, str]] = [
        (kw, f"{_APPROX_KEYWORDS[kw.arg]}={ast.get_source_segment(test_code, kw.value) or ast.unparse(kw.value)}") for node in ast.walk(tree)
        if isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] == "approx"
        for kw in node.keywords if kw.arg in _APPROX_KEYWORDS]
    return (replace_nodes(test_code, edits) or test_code) if edits else test_code


def roundings_widened(test_code: str) -> str:
    """``round(x, 2) == 0.000621``: a value rounded to fewer places than the literal it is compared
    with has, which no value can equal (the unit converter's miles, 0.000621371 rounded to 0.0);
    rounded to the literal's own places, the test checks what its author worked out."""
    tree = parse_or_none(test_code) if "round(" in test_code else None
    if tree is None:
        return test_code
    edits: list[tuple[ast.AST, str]] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq)):
            continue
        sides = [node.left, node.comparators[0]]
        for rounded, other in (sides, sides[::-1]):
            places = rounded.args[1] if isinstance(rounded, ast.Call) and isinstance(rounded.func, ast.Name) and \
                rounded.func.id == "round" and len(rounded.args) == 2 else None
            text = ast.get_source_segment(test_code, other) or ""
            if isinstance(places, ast.Constant) and isinstance(places.value, int) and isinstance(other, ast.Constant) \
                    and isinstance(other.value, float) and re.fullmatch(r"-?\d+\.\d+", text) and \
                    len(text.split(".")[1]) > places.value:
                edits.append((places, str(len(text.split(".")[1]))))
    return (replace_nodes(test_code, edits) or test_code) if edits else test_code


def exception_infos_read(test_code: str) -> str:
    """``with pytest.raises(ValueError) as e:`` then ``str(e)``: the text of pytest's wrapper,
    ``<ExceptionInfo ValueError(...) tblen=2>``, never the message; ``str(e.value)`` is (the
    password generator's error-message test compared the wrapper's text)."""
    tree = parse_or_none(test_code) if "raises" in test_code else None
    if tree is None:
        return test_code
    edits: dict[int, tuple[ast.AST, str]] = {}  # by node: a nested function is walked with its outer one too
    for func in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        infos = {item.optional_vars.id for node in ast.walk(func) if isinstance(node, (ast.With, ast.AsyncWith))
                 for item in node.items if isinstance(item.optional_vars, ast.Name) and isinstance(item.context_expr, ast.Call)
                 and ast.unparse(item.context_expr.func).split(".")[-1] == "raises"}
        edits |= {id(node.args[0]): (node.args[0], f"{node.args[0].id}.value") for node in ast.walk(func)
                  if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("str", "repr")
                  and len(node.args) == 1 and isinstance(node.args[0], ast.Name) and node.args[0].id in infos}
    return (replace_nodes(test_code, list(edits.values())) or test_code) if edits else test_code


def folders_entered_by_path(test_code: str) -> str:
    """``monkeypatch.chdir(tmp_path.name)`` (or ``os.chdir``) enters ``tmp_path``: its ``name`` alone
    is a relative folder that does not exist (FileNotFoundError: the expression calculator's eight
    CLI tests)."""
    tree = parse_or_none(test_code) if "chdir" in test_code else None
    if tree is None:
        return test_code
    edits: list[tuple[ast.AST, str]] = [
        (arg, arg.value.id) for node in ast.walk(tree) if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("chdir")
        for arg in node.args[:1] if isinstance(arg, ast.Attribute) and arg.attr == "name"
        and isinstance(arg.value, ast.Name) and arg.value.id in {"tmp_path", "tmpdir"}]
    return (replace_nodes(test_code, edits) or test_code) if edits else test_code


def texts_as_files(test_code: str, module: str, source: str) -> str:
    """File content passed to a module function's path parameter is written to a file under
    ``tmp_path`` first, and that path passed; ``tmp_path`` itself passed for a file becomes a file
    in it (``text_as_path``)."""
    tree = parse_or_none(test_code)
    if tree is None:
        return test_code
    view = bindings(tree, module, source)
    signatures = public_signatures(source)
    test_code = text_written_to_files(test_code, signatures, lambda call: module_function(call, view))
    return folders_as_files(test_code, signatures, lambda call: module_function(call, view), source)


def monkeypatch_contexts(test_code: str) -> str:
    """``with monkeypatch:`` becomes ``with monkeypatch.context() as monkeypatch:``: the fixture is no
    context manager (TypeError), its ``context()`` is, and the body's ``monkeypatch.setattr`` means
    just that (the unit converter's three CLI tests; the markdown formatter's too)."""
    tree = parse_or_none(test_code) if "with monkeypatch" in test_code else None
    if tree is None:
        return test_code
    edits: list[tuple[ast.AST, str]] = [
        (item.context_expr, "monkeypatch.context() as monkeypatch") for node in ast.walk(tree)
        if isinstance(node, (ast.With, ast.AsyncWith)) for item in node.items
        if isinstance(item.context_expr, ast.Name) and item.context_expr.id == "monkeypatch" and item.optional_vars is None]
    # `with monkeypatch() as mp:` (not callable: the unit converter's three CLI tests) and `with monkeypatch as mp:`
    edits += [(item.context_expr, "monkeypatch.context()") for node in ast.walk(tree)
              if isinstance(node, (ast.With, ast.AsyncWith)) for item in node.items
              if item.optional_vars is not None and ast.unparse(item.context_expr) in {"monkeypatch", "monkeypatch()"}]
    return (replace_nodes(test_code, edits) or test_code) if edits else test_code


def _dedented_blocks(test_code: str, blocks: list[ast.With], head: Callable[[ast.With], str | None]) -> str:
    """Each ``with`` block replaced by its body, dedented one level, after the line ``head`` gives
    (None: no line); a block whose body is not indented as expected (a multi-line string) is kept."""
    lines = test_code.splitlines(keepends=True)
    for node in sorted(blocks, key=lambda n: n.lineno, reverse=True):
        extra = " " * (node.body[0].col_offset - node.col_offset)
        body = lines[node.body[0].lineno - 1:node.end_lineno]
        if node.body[0].lineno == node.lineno or not all(line.startswith(extra) or not line.strip() for line in body):
            continue
        first = head(node)
        lines[node.lineno - 1:node.end_lineno] = [*([" " * node.col_offset + first + "\n"] if first else []),
                                                  *(line[len(extra):] if line.strip() else line for line in body)]
    return "".join(lines)


def setup_contexts_widened(test_code: str) -> str:
    """``with monkeypatch.context() as m:`` at a test's top level becomes ``m = monkeypatch`` and its
    body, patched until the test ends (when the fixture undoes it). Holding only set-up
    (``m.setattr(sys, "argv", ...)``, ``m.chdir(...)``) with the call under test after it, the block
    ended before the call, which met pytest's own ``sys.argv`` (the expression calculator's eight
    CLI tests); holding the call too, the test was no plain steps a hand check could show (its
    core tests, every one)."""
    tree = parse_or_none(test_code) if "monkeypatch.context()" in test_code else None
    if tree is None:
        return test_code
    blocks = [node for func in tree.body if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef))
              and func.name.startswith("test") and "monkeypatch" in {a.arg for a in func.args.args}
              for node in func.body if isinstance(node, ast.With) and len(node.items) == 1
              and ast.unparse(node.items[0].context_expr) == "monkeypatch.context()"
              and isinstance(node.items[0].optional_vars, ast.Name)]

    def head(node: ast.With) -> str | None:
        name = ast.unparse(node.items[0].optional_vars or node.items[0].context_expr)
        return None if name == "monkeypatch" else f"{name} = monkeypatch"

    return _dedented_blocks(test_code, blocks, head)


_PATCH_CALLS = frozenset({"setattr", "setitem", "setenv", "delattr", "delitem", "delenv", "chdir", "syspath_prepend"})


def patch_calls_unwrapped(test_code: str) -> str:
    """``with monkeypatch.setattr(sys, "argv", [...]):`` and its body become the call and the body:
    the call returns None, no context manager (TypeError: the expression calculator's re-run, seven
    CLI tests), and the patch lasts the test anyway."""
    tree = parse_or_none(test_code) if "with monkeypatch." in test_code else None
    if tree is None:
        return test_code
    blocks = [node for node in ast.walk(tree) if isinstance(node, ast.With) and len(node.items) == 1
              and node.items[0].optional_vars is None and isinstance(call := node.items[0].context_expr, ast.Call)
              and isinstance(call.func, ast.Attribute) and call.func.attr in _PATCH_CALLS
              and ast.unparse(call.func.value) == "monkeypatch"]
    return _dedented_blocks(test_code, blocks, lambda node: ast.unparse(node.items[0].context_expr))


def capture_blocks_unwrapped(test_code: str) -> str:
    """``with capsys:`` (or ``capfd``) and its body become the body alone: the fixture is no context
    manager (every such test failed with TypeError: the pomodoro timer's core tests), and it
    captures for the whole test anyway. Left alone when a body line is not indented as expected
    (a multi-line string)."""
    test_code = _capture_aliases_named(test_code)
    tree = parse_or_none(test_code) if re.search(r"\bwith (capsys|capfd)\s*:", test_code) else None
    if tree is None:
        return test_code
    blocks = [node for node in ast.walk(tree) if isinstance(node, ast.With) and len(node.items) == 1
              and isinstance(node.items[0].context_expr, ast.Name) and node.items[0].context_expr.id in {"capsys", "capfd"}
              and node.items[0].optional_vars is None]
    return _dedented_blocks(test_code, blocks, lambda node: None)


def _capture_aliases_named(test_code: str) -> str:
    """``with capsys() as cap:`` (or ``with capsys as cap:``) read as ``with capsys:``, its body
    saying ``capsys`` for ``cap`` (the password generator's core test: "'CaptureFixture' object is
    not callable"); what ``cap.getvalue()`` meant, ``repair_capture_calls`` then says."""
    tree = parse_or_none(test_code) if re.search(r"\bwith (capsys|capfd)(\(\))?\s+as\s+\w+\s*:", test_code) else None
    if tree is None:
        return test_code
    lines = test_code.splitlines(keepends=True)
    blocks = [node for node in ast.walk(tree) if isinstance(node, ast.With) and len(node.items) == 1
              and isinstance(item := node.items[0], ast.withitem) and isinstance(item.optional_vars, ast.Name)
              and ast.unparse(item.context_expr) in {"capsys", "capfd", "capsys()", "capfd()"}]
    for node in sorted(blocks, key=lambda n: n.lineno, reverse=True):
        fixture = ast.unparse(node.items[0].context_expr).removesuffix("()")
        alias = node.items[0].optional_vars.id  # type: ignore[union-attr]
        for i in range(node.body[0].lineno - 1, node.end_lineno or node.lineno):
            lines[i] = re.sub(rf"\b{alias}\b", fixture, lines[i])
        lines[node.lineno - 1] = re.sub(rf"with\s+{fixture}(\(\))?\s+as\s+{alias}\s*:", f"with {fixture}:", lines[node.lineno - 1])
    return "".join(lines)


def repair_capture_calls(test_code: str) -> str:
    """``capsys.getvalue()`` -> ``capsys.readouterr().out``: the intent is unambiguous, and a fix round
    asked about it wrote in circles (seen on a 1.5B model: eight tests, one wrong method name)."""
    for pattern, replacement in _CAPTURE_REPAIRS:
        test_code = pattern.sub(replacement, test_code)
    return test_code


def _unasked_fixtures(func: ast.FunctionDef | ast.AsyncFunctionDef, fixtures: set[str]) -> set[str]:
    """The ``fixtures`` a function reads by name without taking them as parameters (a local of the
    same name is no fixture)."""
    bound = {a.arg for a in func.args.args} | {n.id for n in ast.walk(func) if isinstance(n, ast.Name)
                                                and isinstance(n.ctx, ast.Store)}
    return {n.id for n in ast.walk(func) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
            and n.id in fixtures - bound}


def _fixtures_called(func: ast.FunctionDef | ast.AsyncFunctionDef, fixtures: set[str]) -> list[str]:
    """The file's fixtures a function calls or reads as plain objects instead of asking for them as
    parameters: pytest fails the test ("Fixture called directly"; the CSV converter's
    ``with monkeypatch_open() as file:`` in three tests, ``monkeypatch_argparse.ArgumentParser``)."""
    used = sorted(_unasked_fixtures(func, fixtures))
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


def _parameters_added(test_code: str, tree: ast.Module,
                      wanted_for: Callable[[ast.FunctionDef | ast.AsyncFunctionDef], list[str]]) -> str:
    """``test_code`` with the names ``wanted_for`` gives each test or fixture function added to its
    parameters (a ``def`` on one line; others are left as they are)."""
    lines = test_code.splitlines(keepends=True)
    for func in tree.body:
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)) or not (
                func.name.startswith("test") or any("fixture" in ast.unparse(d) for d in func.decorator_list)):
            continue
        wanted = wanted_for(func)
        match = re.match(rf"(\s*(?:async\s+)?def\s+{func.name}\s*\()(.*)(\)\s*(?:->[^:]*)?:.*)$", lines[func.lineno - 1], re.S)
        if wanted and match:
            params = ", ".join(p for p in (match.group(2).strip(), *wanted) if p)
            lines[func.lineno - 1] = match.group(1) + params + match.group(3)
    return "".join(lines)


def add_fixture_parameters(test_code: str) -> str:
    """``capsys`` (or ``tmp_path``, ``monkeypatch``...) used in a test or a fixture that does not take
    it becomes a parameter: the unit converter's CLI tests read ``capsys.readouterr()`` in every test
    without asking for the fixture, were refused three times, and the file was left out."""
    tree = parse_or_none(test_code)
    if tree is None:
        return test_code
    unknown = undefined_names_at(test_code)
    return _parameters_added(test_code, tree, lambda func: [name for name in _used_in(func, unknown) if name in BUILTIN_FIXTURES])


def file_fixtures_as_parameters(test_code: str) -> str:
    """A fixture of the file read as an object in a test that does not ask for it
    (``session_storage.load_sessions()``) becomes a parameter: the pomodoro timer's CLI tests did
    so in every test, and the file was refused and written again, the same, a minute later. A
    fixture called (``session_storage()``) is left to the gate: which value was meant is not plain."""
    tree = parse_or_none(test_code)
    fixtures = _file_fixtures(tree) if tree is not None else set()
    if tree is None or not fixtures:
        return test_code

    def read_as_objects(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
        if func.args.vararg or func.args.kwarg or func.args.kwonlyargs:
            return []
        called = {n.func.id for n in ast.walk(func) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        return sorted(_unasked_fixtures(func, fixtures) - called - {func.name})

    return _parameters_added(test_code, tree, read_as_objects)


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


def _random_compared(func: ast.FunctionDef | ast.AsyncFunctionDef, view: TestView, randoms: set[str]) -> list[str]:
    """A random result compared with a fixed value (``generate_password(8, charset) == "aBcD..."``): no
    code can pass it. Seen on the 1.5B password generator: three such rows, and the fix round sent
    the file back unchanged. A test that seeds or patches the randomness is left alone."""
    if not randoms or re.search(r"seed|monkeypatch|patch|mock", ast.unparse(func)):
        return []
    params = set(_parametrized_names(func))
    held: dict[str, str] = {}  # a name -> the random function whose result it holds
    for node in ast.walk(func):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                and isinstance(node.value, ast.Call) and (called := module_function(node.value, view)) in randoms:
            held[node.targets[0].id] = called
    for node in ast.walk(func):
        if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq)):
            continue
        sides = [node.left, node.comparators[0]]
        for i, side in enumerate(sides):
            called = held.get(side.id) if isinstance(side, ast.Name) else \
                module_function(side, view) if isinstance(side, ast.Call) else None
            other = sides[1 - i]
            fixed = (isinstance(other, ast.Constant) and isinstance(other.value, str) and len(other.value) > 1) or \
                (isinstance(other, ast.Name) and other.id in params)
            if called in randoms and fixed:
                return [f"{func.name} compares the result of {called}(), which is random, with a fixed value: check "
                        "what the specification fixes instead (its length, which characters it uses)"]
    return []


_CLOCK_CALLS = re.compile(r"\b(?:datetime\.now|datetime\.utcnow|datetime\.today|date\.today|time\.time|time\.localtime|"
                          r"time\.strftime|time\.ctime|now|today)\(")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}|\d{2}:\d{2}:\d{2}")


def reads_the_clock(source: str) -> bool:
    """The module takes the current date or time (``datetime.now()``, ``time.time()``...)."""
    return _CLOCK_CALLS.search(source) is not None


def _clock_compared(func: ast.FunctionDef | ast.AsyncFunctionDef, clock: bool) -> list[str]:
    """A fixed timestamp (``"Session started ... at 2023-04-01 12:34:56"``) compared with what code that
    reads the clock wrote: no run can pass it (the pomodoro timer's core tests, every one). A test
    that patches or freezes the clock is left alone."""
    if not clock or re.search(r"monkeypatch|patch|mock|freez", ast.unparse(func)):
        return []
    for node in ast.walk(func):
        if isinstance(node, ast.Compare) and any(
                isinstance(side, ast.Constant) and isinstance(side.value, str) and _TIMESTAMP.search(side.value)
                for side in [node.left, *node.comparators]):
            return [f"{func.name} expects the fixed time in {ast.unparse(node)[:80]}, but the code reads the clock: "
                    "check what does not depend on the time (the text around it, that a line was written)"]
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
    Mechanical slips are repaired first (``capsys.getvalue()`` becomes ``capsys.readouterr().out``,
    ``with capsys:`` its body alone, ``chdir(tmp_path.name)`` ``chdir(tmp_path)``...), fixtures
    shadowing pytest's own are dropped, ``SystemExit`` expected from a function that returns its
    exit code becomes a check of the returned code, file content passed where a path belongs is
    written to a file first, an assert on printed output of a module that cannot print goes,
    inputs of a hundred thousand items or more shrink to a thousand, ``approx(x, rel_tol=...)``
    says ``rel=``, ``round(x, 2) == 0.000621`` rounds to the literal's places, ``str(e)`` of a
    ``pytest.raises(...) as e`` reads ``str(e.value)``, and a fixture of the
    file read as an object becomes a parameter.
    ``shared_fixtures``: those ``conftest.py`` provides.
    """
    for mechanical in (fixture_names_unhidden, paths_of_temp_dirs, path_file_calls, huge_inputs_shrunk, folders_entered_by_path,
                       approx_keywords_renamed, roundings_widened, exception_infos_read, file_fixtures_as_parameters,
                       capture_blocks_unwrapped, repair_capture_calls, patch_calls_unwrapped, monkeypatch_contexts,
                       setup_contexts_widened):  # slips whose meaning is plain
        test_code = mechanical(test_code)
    test_code = printed_output_read(trim_extra_arguments(drop_shadowed_fixtures(test_code), module, source), module, source)
    test_code = unprinted_output_unasked(test_code, source)
    test_code = import_used_names(add_fixture_parameters(texts_as_files(test_code, module, source)), module, source)
    test_code = program_names_stripped(add_fixture_parameters(returned_exit_codes(test_code, source)), module, source)
    test_code = program_names_added(argv_items_as_text(test_code, module, source))
    functions, bad = tests_that_cannot_pass(test_code, module, source, shared_fixtures)
    if not bad or len(bad) == len(functions):
        return test_code
    return without_functions(test_code, [f for f in functions if f.name in bad],
                              [f"# swcompany dropped {name}: {problems[0]}" for name, problems in bad.items()])


def tests_that_cannot_pass(test_code: str, module: str, source: str, shared_fixtures: frozenset[str] = frozenset()
                           ) -> tuple[list[ast.FunctionDef | ast.AsyncFunctionDef], dict[str, list[str]]]:
    """(the file's test functions, the problems of each that cannot pass as written, by name);
    nothing for a file that does not parse or import the module (the file-level gates speak)."""
    tree = parse_or_none(test_code)
    if tree is None:
        return [], {}
    view = bindings(tree, module, source)
    if not view.imports_it:
        return [], {}
    defined, signatures, unraisable = defined_names(source), public_signatures(source), never_raised(source)
    functions = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test")]
    unknown, fixtures = undefined_names_at(test_code), _file_fixtures(tree) | shared_fixtures
    cli = command_line(source)
    copies, randoms, exits = _copies(functions), random_functions(source), exit_behaviour(source)
    clock, silent = reads_the_clock(source), prints_nothing(source)
    stand_ins, values = _fixture_stand_ins(tree, fixtures, module), module_values(tree)
    bad = {f.name: problems for f in functions
           if (problems := use_problems(f, view, module, defined, signatures) + _parametrize_problems(f)
               + _row_width_problems(f, values)
               + usage_problems(f, view, cli)
               + _fixture_problems(f) + _oracle_problems(f, unraisable) + _undefined_in(f, unknown)
               + _unknown_fixtures(f, fixtures) + _fixtures_called(f, fixtures) + copies.get(f.name, []) + _random_compared(f, view, randoms)
               + exit_never_raised(f, view, exits) + _stand_in_problems(f, module, stand_ins)
               + _clock_compared(f, clock) + unprinted_output_problems(f, silent))}
    return functions, bad


def defined_tests(code: str) -> set[str]:
    """Names of the test functions in a pytest file (methods of Test classes as Class.name)."""
    tree = parse_or_none(code)
    if tree is None:
        return set()
    names = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test")}
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef) and n.name.startswith("Test")):
        names |= {f"{cls.name}.{f.name}" for f in cls.body if isinstance(f, ast.FunctionDef) and f.name.startswith("test")}
    return names
