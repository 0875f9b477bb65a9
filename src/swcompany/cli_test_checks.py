"""Tests of a command-line module, read against the module: the exit codes it really gives, the
command lines its argparse parser really accepts (``cli_usage``), and the shapes a small model
gets wrong (the program's name first, a ``Path`` in ``sys.argv``). Pure: ``ast`` only.
"""

from __future__ import annotations

import ast
import re
import sys

from .cli_usage import CommandLine, command_line
from .code_checks import is_main_guard, parse_or_none, replace_nodes, returns_a_value
from .test_view import TestView, bindings, enclosing_test, instances_in, module_function, plain_result, read_as_container
from .text_as_path import single_assignments


def _raises_system_exit(expr: ast.expr) -> bool:
    """``pytest.raises(SystemExit ...)``: a test expecting the code to exit."""
    return isinstance(expr, ast.Call) and ast.unparse(expr.func).endswith("raises") and bool(expr.args) \
        and ast.unparse(expr.args[0]).split(".")[-1] == "SystemExit"


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
    codes other than 0 and 2, or any code where the written parser takes the test's literal command
    line as it is (``_parsed_without_exit``). Each change is named in a comment on top.
    """
    tree = parse_or_none(test_code)
    exits = exit_behaviour(source)
    if tree is None or exits == "any":
        return test_code
    cli = command_line(source) if exits == "argparse" else None
    # an exit code is an int: a function declared to return text (`convert(path) -> str`) is not one
    functions = {n.name: returns_a_value(n) for n in (parse_or_none(source) or ast.Module(body=[], type_ignores=[])).body
                 if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and (n.returns is None or ast.unparse(n.returns) in {"int", "int | None", "Optional[int]"})}
    edits: list[tuple[int, int, str]] = []  # (first line, last line, replacement) 1-based, inclusive
    reads: list[tuple[ast.AST, str]] = []
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
            printed = _printed_reads(func, name) if name else []
            uses = [n for n in ast.walk(func) if isinstance(n, ast.Name) and n.id == name and n is not item.optional_vars]
            if name and len(uses) != (1 if check else 0) + len(printed):
                continue  # the test reads the exception otherwise: leave it
            if exits == "argparse" and (code is None or code in ARGPARSE_EXIT_CODES) \
                    and not (code == 0 and not _asks_for_help(func)) and not _parsed_without_exit(call, cli, func):
                continue  # argparse may well exit so (with 0 only for --help or --version)
            expected = f"== {code}" if code is not None else "!= 0"
            indent = " " * node.col_offset
            returns = functions[ast.unparse(call.func).split(".")[-1]]
            text = f"{indent}assert {ast.unparse(call)} {expected}" if returns or code != 0 else f"{indent}{ast.unparse(call)}"
            edits.append((node.lineno, node.end_lineno or node.lineno, text))
            if check is not None:
                edits.append((check.lineno, check.end_lineno or check.lineno, ""))
            reads += [(read, f"capsys.readouterr().{_PRINTED_STREAMS[read.attr]}") for read in printed]
    if not edits:
        return test_code
    if reads:  # `e.value.stdout` read as what main printed: the lines the edits keep hold them
        test_code = replace_nodes(test_code, reads) or test_code
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


_OUTPUT_ATTRIBUTES = frozenset({"stdout", "output", "out"})  # what CliRunner and subprocess results call it
_PRINTED_STREAMS = {**dict.fromkeys(_OUTPUT_ATTRIBUTES, "out"), "stderr": "err", "err": "err"}


def _printed_reads(func: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> list[ast.Attribute]:
    """``<name>.value.stdout`` (``.output``, ``.stderr``...) on a one-line node: a SystemExit holds no
    printed text; the test means what the program printed (the word counter's ten CLI tests)."""
    return [n for n in ast.walk(func) if isinstance(n, ast.Attribute) and n.attr in _PRINTED_STREAMS
            and ast.unparse(n.value) == f"{name}.value" and n.lineno == n.end_lineno]


def _parsed_without_exit(call: ast.Call, cli: CommandLine | None, func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """``main([...])`` whose literal command line the written parser takes as it is (no usage error,
    no ``--help``): argparse cannot raise ``SystemExit`` there. The key-value store's eight CLI tests
    expected code 2 from ``main(['store', 'key12'])``, which printed an error and returned 0; a bare
    ``main()`` reads the ``sys.argv`` the test set (the word counter's ten CLI tests)."""
    name = ast.unparse(call.func).split(".")[-1]
    if cli is None or not cli.entries.get(name):
        return False
    given = _argv_given(call)
    found = _string_list(given) if given is not None else _process_argv(func) if not call.args and not call.keywords else None
    return found is not None and not found[1] and cli.accepts(found[0])


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


def _argv_set(node: ast.AST) -> ast.expr | None:
    """What ``node`` puts in ``sys.argv``: ``sys.argv = X`` or ``monkeypatch.setattr(sys, "argv", X)``
    (or ``("sys.argv", X)``), ``unittest.mock``'s ``patch("sys.argv", X)`` and ``patch.object(sys,
    "argv", X)`` (the pomodoro timer's CLI tests); None for any other node."""
    if isinstance(node, ast.Assign) and any(ast.unparse(t) == "sys.argv" for t in node.targets):
        return node.value
    if isinstance(node, ast.Call) and ast.unparse(node.func).endswith(("setattr", "patch", "patch.object")):
        where = [ast.unparse(a).strip("'\"") for a in node.args]
        if where[:2] == ["sys", "argv"] and len(node.args) == 3:
            return node.args[2]
        if where[:1] == ["sys.argv"] and len(node.args) == 2:
            return node.args[1]
    return None


def _process_argv(func: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[list[str], bool] | None:
    """What the test's ``sys.argv`` holds after the program's name: a literal it sets
    (``sys.argv = [...]``, ``monkeypatch.setattr(sys, "argv", [...])``), ``[]`` when it never
    touches it (conftest empties it for every test), or None when it cannot be read."""
    text = ast.unparse(func)
    if "argv" not in text:
        return [], False
    for node in ast.walk(func):
        if (value := _argv_set(node)) is not None:
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


def _argv_lists(tree: ast.Module, view: TestView, entries: set[str]) -> list[ast.List | ast.Tuple]:
    """The command lines a test file builds as list literals: ``sys.argv = [...]``,
    ``monkeypatch.setattr(sys, "argv", [...])`` and ``main([...])`` of a CLI entry."""
    found: list[ast.expr | None] = []
    for node in ast.walk(tree):
        if (value := _argv_set(node)) is not None:
            found.append(value)
        elif isinstance(node, ast.Call) and (module_function(node, view) or "") in entries:
            found.append(_argv_given(node))
    return [n for n in found if isinstance(n, (ast.List, ast.Tuple))]


def _process_argv_lists(tree: ast.Module) -> list[ast.List | ast.Tuple]:
    """The lists a test puts in ``sys.argv`` (by assignment or ``monkeypatch.setattr``)."""
    return _argv_lists(tree, TestView(False, set(), {}), set())


def program_names_added(test_code: str) -> str:
    """``sys.argv`` set to a list that starts with an option (or to nothing) gets ``"prog"`` first:
    ``sys.argv[0]`` is the program's name, so argparse read ``--length`` as the name and ``10`` as
    an unknown argument (the password generator's CLI test, then three rounds rewriting it around
    the usage error), and an empty ``sys.argv`` makes ``ArgumentParser()`` fail with IndexError."""
    tree = parse_or_none(test_code) if "argv" in test_code else None
    if tree is None:
        return test_code
    edits: list[tuple[ast.AST, str]] = []
    for argv in _process_argv_lists(tree):
        first = argv.elts[0] if argv.elts else None
        if first is None or (isinstance(first, ast.Constant) and isinstance(first.value, str)
                             and first.value.startswith("-")):
            rest = ", ".join(ast.get_source_segment(test_code, e) or ast.unparse(e) for e in argv.elts)
            edits.append((argv, f"['prog'{', ' if rest else ''}{rest}]"))
    return (replace_nodes(test_code, edits) or test_code) if edits else test_code


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
    for argv in _argv_lists(tree, bindings(tree, module, source), entries):
        func = enclosing_test(tree, argv.lineno)
        assigned = single_assignments(func.body) if func else {}
        for item in argv.elts:
            if not _is_text(item, assigned) and (segment := ast.get_source_segment(test_code, item)) is not None:
                edits.append((item, f"str({segment})"))
    return (replace_nodes(test_code, edits) or test_code) if edits else test_code


def _held_list(func: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> ast.expr | None:
    """The list or tuple literal ``name`` is given in ``func``, when that is its one assignment."""
    values = [node.value for node in ast.walk(func) if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign))
              for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
              if isinstance(target, ast.Name) and target.id == name]
    return values[0] if len(values) == 1 and isinstance(values[0], (ast.List, ast.Tuple)) else None


def program_names_stripped(test_code: str, module: str, source: str) -> str:
    """``main(["convert_csv_to_cli", "--input", ...])``: a command line starting with the program's
    name, as ``sys.argv`` does, loses that name when the written parser rejects the line with it and
    accepts it without (the CSV converter's user run: its two CLI tests, `unrecognized arguments`).
    A first item that may be meant (a value, a subcommand) is never touched: the parser decides;
    nor is a call the test expects to exit (a usage error may be what it checks)."""
    cli, tree = command_line(source), parse_or_none(test_code)
    if cli is None or tree is None:
        return test_code
    view = bindings(tree, module, source)
    edits: list[tuple[ast.AST, str]] = []
    functions = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    expected_to_exit = {i for func in functions for i in _exits_expected(func)}  # there the name may be the point
    home = {id(node): func for func in functions for node in ast.walk(func)}
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call) and id(n) not in expected_to_exit):
        given = _argv_given(call) if cli.entries.get(module_function(call, view) or "") else None
        if isinstance(given, ast.Name) and id(call) in home:  # `args = ["csv_to_json", path]` then `main(args)`
            given = _held_list(home[id(call)], given.id)
        if not isinstance(given, (ast.List, ast.Tuple)) or not given.elts or any(isinstance(e, ast.Starred) for e in given.elts):
            continue
        # a name or expression stands in for a value (its text), as in the usage gate
        argv = [e.value if isinstance(e, ast.Constant) and isinstance(e.value, str) else ast.unparse(e) for e in given.elts]
        if isinstance(given.elts[0], ast.Constant) and _looks_like_program(argv[0], module) and cli.refusal(argv) and not cli.refusal(argv[1:]):
            rest = ", ".join(ast.get_source_segment(test_code, e) or ast.unparse(e) for e in given.elts[1:])
            edits.append((given, f"[{rest}]" if isinstance(given, ast.List) else f"({rest}{',' if len(given.elts) == 2 else ''})"))
    return (replace_nodes(test_code, edits) or test_code) if edits else test_code


def usage_problems(func: ast.FunctionDef | ast.AsyncFunctionDef, view: TestView, cli: CommandLine | None) -> list[str]:
    """``main([...])`` with a command line the written parser rejects, where the test expects it to run
    (the password generator's ``main()`` without its two required options: ``cli_usage``)."""
    if cli is None:
        return []
    problems, guarded = [], _exits_expected(func)
    for call in (n for n in ast.walk(func) if isinstance(n, ast.Call) and id(n) not in guarded):
        name = module_function(call, view)
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


def exit_never_raised(func: ast.FunctionDef | ast.AsyncFunctionDef, view: TestView, exits: str) -> list[str]:
    """``pytest.raises(SystemExit)`` around calls of a module that never exits (no ``sys.exit``, no
    ``raise SystemExit``, no argparse): no code of it can pass. Seen on the 1.5B CSV converter: its
    core's ``convert_csv_to_json(path)`` returns text, and the one core test expected SystemExit
    code 2 for every row; three fix rounds changed nothing. Methods of the module's classes count
    (the key-value store's `store.set(...)` expected to exit 2 on a duplicate key)."""
    if exits != "never":
        return []
    for node in ast.walk(func):
        if not (isinstance(node, ast.With) and len(node.items) == 1 and _raises_system_exit(node.items[0].context_expr)):
            continue
        calls = [c for stmt in node.body for c in ast.walk(stmt) if isinstance(c, ast.Call)]
        held = instances_in(func, view)  # `store.set(...)` on a module class's instance (the key-value store)
        called = [module_function(c, view) or (f"{held[c.func.value.id]}.{c.func.attr}" if isinstance(c.func, ast.Attribute)
                                                and isinstance(c.func.value, ast.Name) and c.func.value.id in held else None)
                  for c in calls]
        if calls and all(called):
            return [f"{func.name} expects SystemExit from {called[0]}(), which never exits (the module has no "
                    "sys.exit and no argparse): check what it returns instead"]
    return []


def printed_output_read(test_code: str, module: str, source: str) -> str:
    """``result = main([...])`` then ``'3' in result`` (a loop over it, ``len``, an index, or
    ``result.stdout`` as if main were a subprocess) where
    ``main`` returns its exit code and prints its answer: the test means what main printed, so
    those reads take ``result_output = capsys.readouterr().out``, read right after the call
    (``capsys`` becomes a parameter later). The expression calculator's CLI tests read the exit
    code as the output in every test, and the file was refused three times and left out; the word
    counter's read ``result.stdout`` in seven tests of twelve, all dropped."""
    tree = parse_or_none(test_code)
    if tree is None or not re.search(r"\bprint\(|stdout\.write\(", source):
        return test_code
    view = bindings(tree, module, source)
    edits: list[tuple[ast.AST, str]] = []
    for func in (n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        assigns = [n for n in ast.walk(func) if isinstance(n, ast.Assign) and len(n.targets) == 1
                   and isinstance(n.targets[0], ast.Name)]
        for assign in assigns:
            name = assign.targets[0].id  # type: ignore[attr-defined]
            if plain_result(assign.value, view) is None or \
                    sum(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store) for n in ast.walk(func)) != 1:
                continue
            reads: list[ast.expr] = [held for n in ast.walk(func) if isinstance(held := read_as_container(n), ast.Name)
                                     and held.id == name]
            reads += [n for n in ast.walk(func) if isinstance(n, ast.Attribute) and n.attr in _OUTPUT_ATTRIBUTES
                      and isinstance(n.value, ast.Name) and n.value.id == name]  # `result.stdout` as from a subprocess
            if reads:
                indent = " " * assign.col_offset
                edits.append((assign, f"{ast.unparse(assign)}\n{indent}{name}_output = capsys.readouterr().out"))
                edits += [(read, f"{name}_output") for read in reads]
    return (replace_nodes(test_code, edits) or test_code) if edits else test_code


_PRINTS = re.compile(r"\b(?:print|pprint|input|stdout|echo|subprocess|system|popen|help)\b")


def prints_nothing(source: str) -> bool:
    """The module cannot write to standard output: no ``print``, ``input``, ``sys.stdout``, echo or
    child process, and it imports only the standard library (a project module might print)."""
    tree = parse_or_none(source)
    if tree is None or _PRINTS.search(source):
        return False
    imported = [a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names] + \
        [node.module or "" if node.level == 0 else "." for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    return all(name.split(".")[0] in sys.stdlib_module_names for name in imported)


def _captured_output(func: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[set[str], set[str]]:
    """(names holding ``capsys.readouterr().out``, names holding ``capsys.readouterr()``) in ``func``."""
    texts, captures = set(), set()
    for node in ast.walk(func):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = ast.unparse(node.value)
            if re.fullmatch(r"(?:capsys|capfd)\.readouterr\(\)\.out", value):
                texts.add(node.targets[0].id)
            elif re.fullmatch(r"(?:capsys|capfd)\.readouterr\(\)", value):
                captures.add(node.targets[0].id)
    return texts, captures


def _asks_for_printed_text(test: ast.expr, texts: set[str], captures: set[str]) -> bool:
    """``'2.0' in out``, ``out == 'x'``, ``out.strip() == 'x'``, ``captured.out`` alike: a check
    that needs something printed (an `and` of checks, any of them)."""
    def printed(node: ast.expr) -> bool:
        while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.args:
            node = node.func.value  # out.strip(), out.lower()
        return (isinstance(node, ast.Name) and node.id in texts) or (
            isinstance(node, ast.Attribute) and node.attr == "out" and
            (isinstance(node.value, ast.Name) and node.value.id in captures
             or re.fullmatch(r"(?:capsys|capfd)\.readouterr\(\)", ast.unparse(node.value)) is not None))

    def text(node: ast.expr) -> bool:
        return isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip() != ""

    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return any(_asks_for_printed_text(value, texts, captures) for value in test.values)
    if not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return False
    left, op, right = test.left, test.ops[0], test.comparators[0]
    if isinstance(op, ast.In):
        return text(left) and printed(right)
    return isinstance(op, ast.Eq) and (printed(left) and text(right) or printed(right) and text(left))


def _unprinted_asserts(func: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[list[ast.Assert], int]:
    """(the asserts of ``func`` needing printed text, how many asserts it has); none when the
    test prints itself."""
    texts, captures = _captured_output(func)
    asserts = [n for n in ast.walk(func) if isinstance(n, ast.Assert)]
    if _PRINTS.search(ast.unparse(func)):
        return [], len(asserts)
    return [n for n in asserts if _asks_for_printed_text(n.test, texts, captures)], len(asserts)


def unprinted_output_unasked(test_code: str, source: str) -> str:
    """An assert that needs printed text (``'2.0' in capsys.readouterr().out``) from a module that
    prints nothing (``prints_nothing``) cannot pass: it becomes ``pass`` with a comment saying why,
    in a test that checks something else too (one that checks nothing else is dropped:
    ``unprinted_output_problems``). HumanEval/20's loop: the function returned the right pair, the
    test also wanted it printed, and the fix round could only add a print to a function that returns."""
    tree = parse_or_none(test_code) if "readouterr" in test_code else None
    if tree is None or not prints_nothing(source):
        return test_code
    lines = test_code.splitlines(keepends=True)
    edits: list[ast.Assert] = []
    for func in (n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        bad, total = _unprinted_asserts(func)
        if bad and (len(bad) < total or "raises" in ast.unparse(func)):
            edits += bad
    for node in sorted(edits, key=lambda n: n.lineno, reverse=True):
        indent = lines[node.lineno - 1][:node.col_offset]
        lines[node.lineno - 1:node.end_lineno] = [f"{indent}pass  # swcompany removed `{ast.unparse(node.test)[:80]}`: "
                                                  "the module prints nothing\n"]
    return "".join(lines)


def unprinted_output_problems(func: ast.FunctionDef | ast.AsyncFunctionDef, silent: bool) -> list[str]:
    """A test whose every check needs printed text from a module that prints nothing (``silent``)."""
    if not silent or "raises" in ast.unparse(func):
        return []
    bad, total = _unprinted_asserts(func)
    return [f"{func.name} checks only printed output, and the module prints nothing"] if bad and len(bad) == total else []
