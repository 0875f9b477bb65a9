"""Repairs of failing tests read from the run's output alone, no model call: the run already
shows the test is wrong (two equal values that differ only by float arithmetic or JSON layout; an
input file the test never wrote; a file written into a folder the test never made).

Pure: the fix rounds apply ``repaired_by_run`` before their hand checks.
"""

from __future__ import annotations

import ast
import datetime
import json
import math
import posixpath
import re
import sys
from functools import partial
from typing import TypeGuard

from ..code_checks import insert_imports, parse_or_none, replace_nodes
from ..pytest_output import crashed_in_test, failure_blocks
from ..test_checks import add_fixture_parameters, without_functions, writes_a_file
from ..test_view import enclosing_test
from ..text_as_path import is_tmp_path
from .hand_checks import ASSERT_LOCATION, assert_at, held_literal, literal, parametrized, replace_node, shown_sides


# A constant's precision: the unit converter's code used 2.2046 lb a kg, its tests 2.20462, and
# three rewrites of the module chased the fifth significant digit (each undone). Past this, a
# difference is a wrong value for the hand checks, not rounding.
CONSTANT_PRECISION = 1e-4


def _float_close(a: object, b: object, rel: float = 1e-9) -> bool:
    """Unequal only by float arithmetic (``114.99999999999999`` vs ``115``; with ``rel``, by a
    constant's precision), within what ``pytest.approx`` accepts: numbers, or flat lists, tuples and
    dicts of them, a float among them."""
    def number(x: object) -> bool:
        return isinstance(x, (int, float)) and not isinstance(x, bool)

    def close(x: object, y: object) -> bool:
        return number(x) and number(y) and math.isclose(x, y, rel_tol=rel, abs_tol=1e-12)  # type: ignore[arg-type]

    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return False
        a, b = list(a.values()), [b[k] for k in a]
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and type(a) is type(b):
        pairs = list(zip(a, b)) if len(a) == len(b) and a else []
    else:
        pairs = [(a, b)]
    return bool(pairs) and all(close(x, y) for x, y in pairs) and any(isinstance(x, float) for pair in pairs for x in pair)


def _failing_equality(code: str, test_file: str, block: str, op: type[ast.cmpop] = ast.Eq
                      ) -> tuple[ast.FunctionDef | ast.AsyncFunctionDef, ast.Compare] | None:
    """The test function and its failing ``a == b`` (one comparison; ``op``: ``ast.In`` for
    ``a in b``) that ``block`` reports, or None."""
    tree = parse_or_none(code)
    location = next((m for m in ASSERT_LOCATION.finditer(block) if m.group(1).endswith(test_file)), None)
    func = enclosing_test(tree, int(location.group(2))) if tree and location else None
    node = assert_at(func, int(location.group(2))) if func and location else None
    if node is None or func is None or not isinstance(node.test, ast.Compare) or len(node.test.ops) != 1 or \
            not isinstance(node.test.ops[0], op):
        return None
    return func, node.test


def _approx(text: str, tolerance: str) -> str:
    return f"pytest.approx({text}{tolerance})"


def approximated(output: str, test_file: str, test_code: str) -> tuple[str, list[str]]:
    """The test file with each failing ``assert a == b`` whose sides differ only by float rounding
    (or by a constant's precision, ``CONSTANT_PRECISION``) comparing with ``pytest.approx`` on the
    expected side, and a note per change. No question is
    needed: the values are already equal (the tip calculator's ``total == 115`` on a float that is
    114.99999999999999; the hand checks can tell nothing apart there)."""
    notes: list[str] = []
    for test, block in failure_blocks(output):
        found = _failing_equality(test_code, test_file, block)
        if found is None or "approx" in ast.unparse(found[1]):
            continue
        func, compare = found
        shown = shown_sides(block)
        if shown is None or not all(ok for ok, _ in shown) or \
                not _float_close(shown[0][1], shown[1][1], CONSTANT_PRECISION):
            continue
        rounding = _float_close(shown[0][1], shown[1][1])
        sides = [compare.left, compare.comparators[0]]
        expected = next((side for side in sides if literal(side)[0]), None) or next(
            (side for side in sides if isinstance(side, ast.Name) and (side.id in parametrized(func) or
                                                                         held_literal(func, side.id, compare.lineno))),
            sides[1])  # else the usual `actual == expected`
        actual, wanted = shown[sides.index(expected) ^ 1][1], shown[sides.index(expected)][1]
        fixed = replace_node(test_code, expected, partial(_approx, tolerance="" if rounding else f", rel={CONSTANT_PRECISION:g}"))
        if fixed is None:
            continue
        test_code = fixed
        notes.append(f"{test}: `{actual!r}` differs from `{wanted!r}` only by float rounding, so the test "
                     f"compares with pytest.approx" if rounding else
                     f"{test}: `{actual!r}` differs from `{wanted!r}` only in the precision of a constant (under "
                     f"{CONSTANT_PRECISION:g} relative), so the test compares with pytest.approx(rel={CONSTANT_PRECISION:g})")
    if notes and not re.search(r"^import pytest\b", test_code, re.M):
        test_code = insert_imports(test_code, ["import pytest"])
    return test_code, notes


def _json_value(value: object) -> tuple[bool, object]:
    """(True, the data) for JSON text holding an object or an array, else (False, None)."""
    if not isinstance(value, str) or not value.strip().startswith(("{", "[")):
        return False, None
    try:
        return True, json.loads(value)
    except ValueError:
        return False, None


def json_compared(output: str, test_file: str, test_code: str) -> tuple[str, list[str]]:
    """The test file with each failing ``assert a == b`` whose sides hold the same JSON data in other
    layouts (``indent=4`` against one line, or text against the list it encodes) comparing the data
    (``json.loads`` on each side that is text), and a note per change. The CSV converter's CLI tests
    on the real model compared the output file's text, indented by the code, with a one-line
    string: five tests failed on whitespace alone, and the rounds stopped."""
    notes: list[str] = []
    for test, block in failure_blocks(output):
        found = _failing_equality(test_code, test_file, block)
        shown = shown_sides(block)
        if found is None or shown is None or not all(ok for ok, _ in shown) or "json.loads" in ast.unparse(found[1]):
            continue
        compare = found[1]
        parsed = [_json_value(value) for _, value in shown]
        data = [value if is_json else shown[i][1] for i, (is_json, value) in enumerate(parsed)]
        if not any(is_json for is_json, _ in parsed) or data[0] != data[1] or shown[0][1] == shown[1][1]:
            continue
        fixed: str | None = test_code
        for side, (is_json, _) in reversed(list(zip([compare.left, compare.comparators[0]], parsed))):
            if is_json and fixed is not None:  # the right side first: the left's columns stay valid
                fixed = replace_node(fixed, side, lambda text: f"json.loads({text})")
        if fixed is None:
            continue
        test_code = fixed
        notes.append(f"{test}: both sides hold the same JSON data, laid out differently, so the test compares "
                     "the data (json.loads)")
    if notes and not re.search(r"^import json\b", test_code, re.M):
        test_code = insert_imports(test_code, ["import json"])
    return test_code, notes


def _line_ends(value: object) -> TypeGuard[list[str]]:
    """A list of text lines as ``readlines()`` gives them: each ending in a newline."""
    return isinstance(value, list) and bool(value) and all(isinstance(x, str) and x.endswith("\n") for x in value)


def _without_ends(lines: list[str]) -> list[str]:
    return [line.rstrip("\r\n") for line in lines]


def line_ends_dropped(output: str, test_file: str, test_code: str) -> tuple[str, list[str]]:
    """The test file with each failing ``'x' in lines`` / ``lines == ['x', ...]`` whose lines are
    ``readlines()``' (each ending in a newline) and hold what the test wants once the newlines go,
    comparing the lines without them, and a note per change. The pomodoro timer's log tests:
    ``assert 'Session 5' in ['Session 5\\n', 'Session 6\\n']``."""
    notes: list[str] = []
    for test, block in failure_blocks(output):
        shown = shown_sides(block)
        if shown is None or not all(ok for ok, _ in shown):
            continue
        (_, left), (_, right) = shown
        side = None
        if (found := _failing_equality(test_code, test_file, block, ast.In)) and isinstance(left, str) \
                and _line_ends(right) and left in _without_ends(right):
            side = found[1].comparators[0]
        elif (found := _failing_equality(test_code, test_file, block)) and _line_ends(left) \
                and _without_ends(left) == right:
            side = found[1].left
        elif found and _line_ends(right) and _without_ends(right) == left:
            side = found[1].comparators[0]
        fixed = replace_node(test_code, side, lambda text: f"[line.rstrip('\\n') for line in {text}]") if side else None
        if fixed is not None:
            test_code = fixed
            notes.append(f"{test}: the lines it reads keep their newlines, and what it wants is there without "
                         "them, so the test compares the lines without their newlines")
    return test_code, notes


_FRAME_CODE = re.compile(r"^(\S+\.py):\d+: in \w+\n\s+(.+)$", re.M)
_SLEEP = re.compile(r"^(?:(\w+)\.)?sleep\(")


def sleeps_skipped(output: str, test_file: str, test_code: str) -> tuple[str, list[str]]:
    """The test file with each test that ran out of time (the generated conftest's TimeoutError)
    while the code slept patching the sleep away first (``monkeypatch.setattr("time.sleep", ...)``,
    or the module's own ``sleep`` when it imported the name), and a note per change. The pomodoro
    timer's ``start()`` counted down 25 minutes with ``time.sleep(1)``: every test of it timed out."""
    notes: list[str] = []
    for test, block in failure_blocks(output):
        frames = [(path, code) for path, code in _FRAME_CODE.findall(block) if not path.endswith("conftest.py")]
        at = block.find(test_file + ":")
        if "TimeoutError: the test ran over" not in block or not frames or at < 0 or \
                (sleep := _SLEEP.match(frames[-1][1].strip())) is None or sleep.group(1) not in (None, "time"):
            continue
        root = block[:at].rsplit("\n", 1)[-1]  # the workspace's folder as pytest printed it
        if not frames[-1][0].startswith(root):
            continue
        module = posixpath.splitext(frames[-1][0][len(root):].removeprefix("src/"))[0].replace("/", ".")
        target = "time.sleep" if sleep.group(1) == "time" else f"{module}.sleep"
        func = next((f for f in _test_functions(test_code) if f.name == test), None)
        if func is None or "sleep" in ast.unparse(func):
            continue
        first = func.body[1] if len(func.body) > 1 and isinstance(func.body[0], ast.Expr) and \
            isinstance(func.body[0].value, ast.Constant) else func.body[0]  # after a docstring
        lines = test_code.splitlines(keepends=True)
        lines.insert(first.lineno - 1, " " * first.col_offset + f'monkeypatch.setattr("{target}", lambda seconds: None)'
                     "  # swcompany: the code sleeps; the test need not wait\n")
        test_code = add_fixture_parameters("".join(lines))
        notes.append(f"{test}: it ran out of time while the code slept, so the test patches {target} to return at once")
    return test_code, notes


# the OSError's words, and those a program prints when it catches one (the word counter's CLI
# printed "File not found: test.txt" for ten tests that never wrote it)
_MISSING_FILE = re.compile(r"No such file or directory: \\?'([^'\\]+)\\?'|"
                           r"[Ff]ile not found:? \\?'?([\w./-]+\.\w+)|\\?'?([\w./-]+\.\w+)\\?'? (?:does not exist|not found)")
_INPUT_DATA = re.compile(r"\.(?:csv|tsv|txt|md|xml|html|log|ini|ya?ml|toml)$")  # data a program reads, not its own store
# a name saying the file is missing on purpose: the test is of the code's error handling (the CSV converter's
# `convert_csv_to_json('nonexistent.csv') == 2`), for the hand checks and the fix round, not a test to drop
_ABSENT_ON_PURPOSE = re.compile(r"non[_-]?exist|missing|not[_-]?(?:exist|found|there)|no[_-]?such|absent", re.I)


def reads_unwritten(output: str, test_file: str, test_code: str) -> dict[str, str]:
    """The tests of ``test_file`` that failed reading a data file they name and never write (each
    test runs in its own empty folder, so no such file can exist): test -> the file's name. A
    store the code should create (``.json``, ``.db``) is the code's business, so only plain data
    files count, and a name saying the file is missing on purpose (``nonexistent.csv``) does not."""
    tree = parse_or_none(test_code)
    if tree is None:
        return {}
    tests = {f.name: f for f in tree.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
             and f.name.startswith("test")}
    found: dict[str, str] = {}
    for test, block in failure_blocks(output):
        func = tests.get(test)
        if func is None or test_file not in block or any(writes_a_file(n) for n in ast.walk(func)):
            continue
        named = {n.value for n in ast.walk(func) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
        missing = [path for groups in _MISSING_FILE.findall(block) for path in groups if path and _INPUT_DATA.search(path)
                   and not _ABSENT_ON_PURPOSE.search(path.rsplit("/", 1)[-1])
                   and any(path == text or path.endswith("/" + text) for text in named)]
        if missing:
            found[test] = missing[0].rsplit("/", 1)[-1]
    return found


def unwritten_inputs(output: str, test_file: str, test_code: str) -> tuple[str, list[str]]:
    """The test file without the tests that read a data file they never write (``reads_unwritten``),
    and a note per test; the file is left whole when no test would remain (QA writes it afresh
    instead). The CSV converter's CLI tests defined ``csv_content`` and passed ``sample.csv``
    without writing it: every one printed "No such file or directory", and no fix round wrote it."""
    dropped = reads_unwritten(output, test_file, test_code)
    return _without_tests(test_code, {test: f"reads {name}, which it never writes (each test runs in its own empty "
                                            "folder)" for test, name in dropped.items()})


# pytest's fixtures that carry nothing of the code (capsys, caplog and tmp_path do: its output, its files)
_UNINVOLVED_FIXTURES = frozenset({"monkeypatch", "request", "recwarn"})


def _project_names(tree: ast.Module) -> set[str]:
    """Names the test file has from the project: imported from any module that is neither the
    standard library nor pytest, and its own helpers and fixtures that use those."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").split(".")[0] not in _NOT_PROJECT):
            names |= {alias.asname or alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {alias.asname or alias.name.split(".")[0] for alias in node.names if alias.name.split(".")[0] not in _NOT_PROJECT}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("test") and _mentions(node, names):
            names.add(node.name)
    return names


_NOT_PROJECT = frozenset(sys.stdlib_module_names) | {"pytest", "_pytest"}


def _mentions(node: ast.AST, names: set[str]) -> bool:
    return any(isinstance(sub, ast.Name) and sub.id in names for sub in ast.walk(node))


def _reaches_the_code(func: ast.FunctionDef | ast.AsyncFunctionDef, line: int, project: set[str]) -> bool:
    """The statement of ``func`` at ``line`` uses the code under test: a project name, a fixture of
    the file's own, or a local set from either before that line."""
    involved = project | {arg.arg for arg in [*func.args.args, *func.args.kwonlyargs] if arg.arg not in _UNINVOLVED_FIXTURES}
    statements = sorted((n for n in ast.walk(func) if isinstance(n, ast.stmt) and n is not func), key=lambda n: n.lineno)
    for node in statements:
        if node.lineno >= line:
            break
        bound: list[ast.expr] = []
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and node.value is not None and _mentions(node.value, involved):
            bound = node.targets if isinstance(node, ast.Assign) else [node.target]
        elif isinstance(node, (ast.For, ast.AsyncFor)) and _mentions(node.iter, involved):
            bound = [node.target]
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            bound = [item.optional_vars for item in node.items if item.optional_vars is not None and _mentions(item.context_expr, involved)]
        involved |= {sub.id for target in bound for sub in ast.walk(target) if isinstance(sub, ast.Name)}
    at = [n for n in statements if n.lineno <= line <= (n.end_lineno or n.lineno) and not isinstance(n, _BLOCKS)]
    return not at or _mentions(at[-1], involved)


_BLOCKS = (ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While, ast.If, ast.Try)


def crashing_before_the_code(output: str, test_file: str, test_code: str) -> dict[str, str]:
    """The tests of ``test_file`` that failed with an error raised by a line of their own that uses
    nothing of the project (``'\\n'.join(rows)`` over lists, building the command line): test -> the
    error and the line. Whatever the code does, they fail there."""
    tree = parse_or_none(test_code)
    if tree is None:
        return {}
    project = _project_names(tree)
    tests = {f.name: f for f in tree.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and f.name.startswith("test")}
    found: dict[str, str] = {}
    for test, block in failure_blocks(output):
        crash = crashed_in_test(block, test_file)
        func = tests.get(test)
        if crash is None or func is None or enclosing_test(tree, crash[0]) is not func or _reaches_the_code(func, crash[0], project):
            continue
        found[test] = f"{crash[1]} (line {crash[0]})"
    return found


def own_crashes_dropped(output: str, test_file: str, test_code: str, as_run: str | None = None) -> tuple[str, list[str]]:
    """The test file without the tests that fail on a line of their own before the code under test
    is involved (``crashing_before_the_code``), a note per test; left whole when no test would
    remain (QA writes it afresh instead). The markdown formatter's CLI tests built their command
    line with `'\\n'.join(data)` over a list of rows, a TypeError in the test itself, and three
    rounds wrote the core and the CLI afresh for them. ``as_run``: the file as the output ran it,
    when earlier repairs have moved its lines (the tests are then dropped by name)."""
    crashed = crashing_before_the_code(output, test_file, as_run or test_code)
    return _without_tests(test_code, {test: f"fails on its own line before the code runs: {error}"
                                      for test, error in crashed.items()})


def _test_functions(test_code: str) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    tree = parse_or_none(test_code)
    return [f for f in (tree.body if tree else []) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
            and f.name.startswith("test")]


def _without_tests(test_code: str, reasons: dict[str, str]) -> tuple[str, list[str]]:
    """The file without the tests ``reasons`` names (test -> why), each named in a comment on top,
    and a note per test; left whole when none, or every test, would go (the file is then asked afresh)."""
    tests = _test_functions(test_code)
    if not reasons or len(reasons) == len(tests):
        return test_code, []
    notes = [f"{test}: {why}, so it was dropped" for test, why in reasons.items()]
    code = without_functions(test_code, [f for f in tests if f.name in reasons],
                             [f"# swcompany dropped {test}: {why}" for test, why in reasons.items()])
    return code, notes


def oversized_writes(output: str, test_file: str, test_code: str) -> tuple[str, list[str]]:
    """The test file without the tests that failed writing a file larger than the sandbox allows
    (``File too large``, the sandbox's file size limit), and a note per test; left whole when no
    test would remain. The word counter's "large file" test wrote 500 MB (``'hello' * 100000``,
    joined 1,000 times): it fails wherever it runs, and no fix round touched it."""
    writing = {f.name for f in _test_functions(test_code) if any(writes_a_file(n) for n in ast.walk(f))}
    dropped = [test for test, block in failure_blocks(output) if test in writing and test_file in block
               and "[Errno 27] File too large" in block]
    return _without_tests(test_code, dict.fromkeys(dropped, "writes a file larger than the sandbox allows (File too large)"))


_EXPECTED_FILE = re.compile(r"^E\s+\+\s+where \w+ = (?:Posix|Windows)?Path\('([^']+)'\)\.(?:exists|is_file)\s*$|"
                            r"^E\s+\+\s+where False = <function (?:exists|isfile) at 0x[0-9a-f]+>\('([^']+)'\)", re.M)
_PATH_CALLS = ("exists", "isfile", "is_file", "Path", "join", "str")  # naming a path, not handing it to the code


def _hands_over(func: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> bool:
    """The test passes ``name`` (or a local holding it) to a call other than one naming a path."""
    holders = {t.id for node in ast.walk(func) if isinstance(node, ast.Assign) and name in ast.unparse(node.value)
               for t in node.targets if isinstance(t, ast.Name)}
    return any(isinstance(node, ast.Call) and not ast.unparse(node.func).endswith(_PATH_CALLS)
               and any(name in ast.unparse(arg) or (isinstance(arg, ast.Name) and arg.id in holders)
                       for arg in [*node.args, *(k.value for k in node.keywords)])
               for node in ast.walk(func))


def unwritten_outputs(output: str, test_file: str, test_code: str, sources: str) -> tuple[str, list[str]]:
    """The test file without the tests that failed asserting a file exists (``Path("output.txt")
    .exists()``) that nothing writes: no source of the project (``sources``, their text) names it,
    and the test hands it to no call. The unit converter's CLI test expected ``output.txt``, the
    tip calculator's a log file, from code that writes no file; no fix round touched them."""
    dropped: dict[str, str] = {}
    functions = {f.name: f for f in _test_functions(test_code)}
    for test, block in failure_blocks(output):
        found = _EXPECTED_FILE.search(block) if test_file in block else None
        name = (found.group(1) or found.group(2)) if found else ""
        if name.startswith(("/", "~")):  # only a file in the test's own folder (tmp_path / "output.txt")
            name = posixpath.basename(name) if "/pytest-of-" in name else ""
        if not name or test not in functions or posixpath.basename(name) in sources or _hands_over(functions[test], name):
            continue
        dropped[test] = f"expects {name} to exist, which no code of the project writes or names"
    return _without_tests(test_code, dropped)


_WRITE_FAILED_AT = re.compile(r"^(\S+\.py):(\d+): FileNotFoundError[ \t]*$", re.M)
_UNMADE_FOLDER = re.compile(r"^E\s+FileNotFoundError: \[Errno 2\] No such file or directory: '([^'/][^']*/[^'/]+)'", re.M)


def folders_made(output: str, test_file: str, test_code: str) -> tuple[str, list[str]]:
    """The test file with ``os.makedirs(folder, exist_ok=True)`` first in each test or fixture whose
    own write failed for a relative folder it never made, and a note per change. Each test runs in
    its own empty folder, so ``open("test_data/simple.csv", "w")`` cannot succeed: the CSV
    converter's eight core tests all failed there, before reaching the code, and the fix round sent
    the file back unchanged. Only a write on the failing line of the test file counts; a folder the
    code under test should make stays the code's business."""
    tree = parse_or_none(test_code)
    if tree is None:
        return test_code, []
    folders: dict[ast.FunctionDef | ast.AsyncFunctionDef, str] = {}
    notes: list[str] = []
    for test, block in failure_blocks(output):
        missing = _UNMADE_FOLDER.search(block)
        ends = list(_WRITE_FAILED_AT.finditer(block))
        if missing is None or not ends or not ends[-1].group(1).endswith(test_file):
            continue
        line = int(ends[-1].group(2))
        func = enclosing_test(tree, line)
        if func is None or func in folders or not any(
                isinstance(n, ast.Call) and writes_a_file(n) and n.lineno <= line <= (n.end_lineno or n.lineno)
                for n in ast.walk(func)):
            continue
        folders[func] = posixpath.dirname(missing.group(1))
        notes.append(f"{test}: writes {missing.group(1)} into a folder nothing makes (each test runs in its own "
                     f"empty folder), so {func.name} makes {folders[func]} first")
    if not folders:
        return test_code, []
    lines = test_code.splitlines(keepends=True)
    for func, folder in sorted(folders.items(), key=lambda item: -item[0].body[0].lineno):
        first = func.body[0]
        docstring = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and len(func.body) > 1
        at = func.body[1] if docstring else first
        indent = lines[at.lineno - 1][:at.col_offset]
        lines.insert(at.lineno - 1, f"{indent}os.makedirs({folder!r}, exist_ok=True)\n")
    code = "".join(lines)
    if not re.search(r"^import os\b", code, re.M):
        code = insert_imports(code, ["import os"])
    return code, notes


_DIRECTORY_OPENED = re.compile(r"^E\s+IsADirectoryError: \[Errno 21\] Is a directory: '([^']*/pytest-[^']*)'", re.M)


def folders_given_files(output: str, test_file: str, test_code: str) -> tuple[str, list[str]]:
    """The test file with the bare ``tmp_path`` a failing line passed (the test's own folder, which
    the code opened as a file: IsADirectoryError) made a file in it, ``tmp_path / "data.json"``. The
    key-value store's user run: its CLI tests' fixture built ``SimpleKeyValueStore(tmp_path)``, all
    four errored, and two rewrites of the store for that "crash" were undone. Before the tests run,
    ``text_as_path.folders_as_files`` does the same from the signature of the module a file tests;
    this is for the other modules' (the run says what the code did)."""
    tree = parse_or_none(test_code)
    if tree is None:
        return test_code, []
    edits: list[tuple[ast.AST, str]] = []
    notes: list[str] = []
    for test, block in failure_blocks(output):
        frames = [int(m.group(2)) for m in re.finditer(r"^(\S+\.py):(\d+):", block, re.M) if m.group(1).endswith(test_file)]
        if not _DIRECTORY_OPENED.search(block) or not frames:
            continue
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call) and n.lineno <= frames[-1] <= (n.end_lineno or n.lineno)):
            for arg in [*call.args, *(k.value for k in call.keywords)]:
                if is_tmp_path(arg) and all(arg is not e for e, _ in edits):
                    bare = arg.args[0] if isinstance(arg, ast.Call) else arg
                    path = f"{ast.unparse(bare)} / 'data.json'"
                    edits.append((arg, f"str({path})" if bare is not arg else path))
                    notes.append(f"{test}: `{ast.unparse(call)[:60]}` passed the test's own folder where the code opens a "
                                 f"file, so it passes {path} instead")
    fixed = replace_nodes(test_code, edits) if edits else None
    return (fixed, notes) if fixed is not None else (test_code, [])


# A time of day as code prints `datetime.now()` (`2026-11-28 21:17:06.007445`, `...T21:17:06`, `21:17:06`).
_CLOCK = re.compile(r"(?P<date>\d{4}-\d{2}-\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?|\b\d{2}:\d{2}:\d{2}(?:\.\d+)?\b")
_CLOCK_PATTERN = r"[\d:. T-]+"


def _without_clock(text: str) -> str:
    """The text with its times (and the `at`/`on` before them) left out, spaces evened."""
    return " ".join(re.sub(r"(?:\s+(?:at|on))?\s*(?:" + _CLOCK.pattern + ")", " ", text).split())


def _between_clocks(text: str) -> list[str]:
    """The pieces of ``text`` around its times."""
    pieces, last = [], 0
    for match in _CLOCK.finditer(text):
        pieces.append(text[last:match.start()])
        last = match.end()
    return [*pieces, text[last:]]


def _read_now(text: str, today: datetime.date) -> bool:
    """Every date in ``text`` is within a day of ``today``: the time the code read from the clock
    while the tests ran, not a date it computed."""
    dates = [m.group("date") for m in _CLOCK.finditer(text) if m.group("date")]
    try:
        return all(abs((datetime.date.fromisoformat(d) - today).days) <= 1 for d in dates)
    except ValueError:
        return False


def clock_text_matched(output: str, test_file: str, test_code: str,
                       today: datetime.date | None = None) -> tuple[str, list[str]]:
    """The test file with each failing ``assert result == "text"`` where the code's text holds the
    current time and differs from the test's only by it (``'Session started at 2026-11-28
    21:17:06.007445 for 15 minutes.'`` against ``'Session started for 15 minutes.'``, the pomodoro
    timer's two core tests) matching the code's text with any time (``re.fullmatch``): no fixed text
    can match the clock, and the rest of the text agrees. A note per change."""
    today = today or datetime.date.today()
    notes: list[str] = []
    for test, block in failure_blocks(output):
        found = _failing_equality(test_code, test_file, block)
        shown = shown_sides(block)
        if found is None or shown is None or not all(ok and isinstance(value, str) for ok, value in shown):
            continue
        func, compare = found
        sides = [compare.left, compare.comparators[0]]
        fixed_at = [i for i, side in enumerate(sides) if literal(side)[0] or
                    (isinstance(side, ast.Name) and held_literal(func, side.id, compare.lineno) is not None)]
        if len(fixed_at) != 1:
            continue
        actual, wanted = str(shown[1 - fixed_at[0]][1]), str(shown[fixed_at[0]][1])
        if not _CLOCK.search(actual) or not _read_now(actual, today) or _without_clock(actual) != _without_clock(wanted):
            continue
        pattern = _CLOCK_PATTERN.join(re.escape(part).replace("\\ ", " ") for part in _between_clocks(actual))
        shown_pattern = f"r'{pattern}'" if "'" not in pattern and not pattern.endswith("\\") else repr(pattern)
        computed = ast.unparse(sides[1 - fixed_at[0]])
        fixed = replace_nodes(test_code, [(compare, f"re.fullmatch({shown_pattern}, {computed})")])
        if fixed is None:
            continue
        test_code = fixed
        notes.append(f"{test}: `{actual}` holds the current time, which no fixed text can match, and differs from "
                     f"`{wanted}` only by it, so the test matches the text with any time (re.fullmatch)")
    if notes and not re.search(r"^import re\b", test_code, re.M):
        test_code = insert_imports(test_code, ["import re"])
    return test_code, notes


def repaired_by_run(output: str, test_file: str, test_code: str, sources: str = "") -> tuple[str, list[str]]:
    """``test_file`` with every repair the run's output alone decides, and a note per change: float
    rounding, JSON laid out differently, a text differing only by the current time, lines read with
    their newlines, a test out of time while the code slept, an output file nothing writes
    (``sources``: the project's source text), data files never
    written, files too large for the sandbox, folders never made, the test's folder opened as a file."""
    notes: list[str] = []
    for repair in (approximated, json_compared, clock_text_matched, line_ends_dropped, sleeps_skipped, unwritten_inputs,
                   oversized_writes, folders_made, folders_given_files, partial(unwritten_outputs, sources=sources),
                   partial(own_crashes_dropped, as_run=test_code)):
        test_code, made = repair(output, test_file, test_code)
        notes += made
    return test_code, notes
