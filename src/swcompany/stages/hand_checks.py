"""Failing assertions checked by hand: is the test's expected value wrong, or the code?

Most red QA runs on a 1.5B model are wrong oracles, not wrong code (HumanEval loop: 10 of 19
red runs had right code; the tip calculator's ``tip(100, 15) == 16.5``), and a fix round shown
a failure mostly sends the files back unchanged. So before a round, each failing
``assert <call> == <value>`` is put to the model as a question that shows neither side's
answer: "what does ``<call>`` return, by the specification?". Its hand-worked value decides:

- equal to what the code returned (two independent derivations against the test's): the
  test's expected value is corrected in place, mechanically, and the report says so;
- equal to the test's value: the fix round is told the code is wrong (advice only: a model
  that repeats the test's own mistake must not bend right code, and the undo guard holds);
- neither, or no readable value: nothing is decided, the round goes on as before.

On nine real failures (five wrong tests, three wrong code, one wrong both ways) the 1.5B model
gave six right verdicts, two no-answers and one wrong one, on the advice side. Pure: the QA
stage asks the model and applies the result.
"""

from __future__ import annotations

import ast
import builtins
import difflib
import math
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..code_checks import parse_or_none, replace_nodes
from ..pytest_output import failure_blocks, rejected_on_purpose
from ..test_checks import parametrize_tables
from ..test_view import enclosing_test

if TYPE_CHECKING:
    from ..artifacts import PRD, FileSpec

ASSERT_LOCATION = re.compile(r"^(\S+\.py):(\d+): (?:AssertionError|assert)", re.M)
_ASSERT_LINE = re.compile(r"^E\s+(?:AssertionError: )?assert (.+)$", re.M)
_WHERE = re.compile(r"^E\s+\+\s+where (.+?) = (.+)$", re.M)
_FUNCTION_REPR = re.compile(r"<function (?:[\w.]+\.)?(\w+) at 0x[0-9a-f]+>")
_RAISES_LOCATION = re.compile(r"^(\S+\.py):(\d+): Failed$", re.M)
_DID_NOT_RAISE = re.compile(r"^E\s+Failed: DID NOT RAISE (?:<class '(?:[\w.]+\.)?(\w+)'>|(?:[\w.]+\.)?(\w+))", re.M)
COMPLETES, FAILS = "completes", "fails"  # the two answers a raise check takes
MAX_CHECKS = 3  # the failures a fix round shows in full (pytest_output.MAX_SHOWN_FAILURES)


@dataclass
class FailedCheck:
    """One failing assertion: the call, what the test expects, what the code returned."""

    test: str
    line: int  # of the assert in the test file
    call: str
    expected: object
    actual: object
    param: str | None = None  # the parametrize argument holding the expected value, if not a literal
    self_contained: bool = True  # the call is in the assert (or a name it holds), not a row of values
    setup: str = ""  # the test's own lines before the assert, when the call needs them (an object's state)
    holder: str | None = None  # a local name the test put the expected value in (``expected = "x"``)
    raises: str | None = None  # the exception a ``pytest.raises`` expected and the call never raised
    raised: str | None = None  # the error the code raised on purpose where the test expected a result
    given: bool = False  # the value came from an example the specification gives, not from a hand check

    @property
    def key(self) -> str:
        """Which check this is, across runs of the tests (``failed_checks``' ``skip``)."""
        return f"{self.test}: {self.call}"

    @property
    def how(self) -> str:
        return "the specification's own example" if self.given else "worked out by hand from the specification"

    def correction(self) -> str:
        """What the report says of a test corrected by hand check."""
        if self.raises:
            return (f"{self.test}: `{self.call}` completes ({self.how}, as the code "
                    f"does), so the test no longer expects {self.raises}")
        return (f"{self.test}: `{self.call}` is `{self.actual!r}` ({self.how}, as the "
                f"code returns), not `{self.expected!r}` as the test expected")

    def test_wrong(self) -> str:
        """Advice for the fix round: the test is wrong, in a way that could not be corrected in place."""
        if self.raised:
            return (f"`{self.call}` must fail ({self.how}, as the code does: "
                    f"{self.raised}), so {self.test} expecting a result is wrong: correct the test (expect the error "
                    f"with pytest.raises, or pass what the specification allows)")
        if self.raises:
            return (f"`{self.call}` completes ({self.how}, as the code does), so "
                    f"{self.test} expecting {self.raises} is wrong: correct the test")
        return (f"`{self.call}` is `{self.actual!r}` ({self.how}, as the code returns), "
                f"so {self.test} expecting `{self.expected!r}` is wrong: correct the test")

    def code_wrong(self) -> str:
        """Advice for the fix round: the code is wrong."""
        if self.raised:
            return (f"`{self.call}` must complete normally ({self.how}, as "
                    f"{self.test} expects), but the code refuses it ({self.raised}): the code must accept it")
        if self.raises:
            return (f"`{self.call}` must fail with {self.raises} ({self.how}, as "
                    f"{self.test} expects), but the code completes normally: the code must reject it")
        return (f"`{self.call}` must return `{self.expected!r}` ({self.how}, as "
                f"{self.test} expects), but the code returns `{self.actual!r}`: the code is wrong there")

    def fact(self) -> str:
        """What a rewrite of the module is told the earlier version got wrong."""
        after = f"after `{self.setup.replace(chr(10), '; ')}`, " if self.setup else ""
        if self.raised:
            return f"{after}`{self.call}` must complete normally; the earlier version refused it ({self.raised})"
        if self.raises:
            return f"{after}`{self.call}` must raise {self.raises}; the earlier version completed normally"
        example = " (the specification's own example)" if self.given else ""
        return f"{after}`{self.call}` must be `{self.expected!r}`{example}; the earlier version gave `{self.actual!r}`"


def literal(node: ast.AST) -> tuple[bool, object]:
    """A literal's value; never one holding ``...`` (how pytest shortens a long value)."""
    if any(isinstance(n, ast.Constant) and n.value is Ellipsis for n in ast.walk(node)):
        return False, None
    try:
        return True, ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def parse_literal(text: str) -> tuple[bool, object]:
    try:
        return literal(ast.parse(text.strip(), mode="eval").body)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False, None


def _plain_call(node: ast.AST, local: set[str]) -> bool:
    """A call of a module's function whose arguments are all literals: a question the model can
    work out alone (not a method of an object the test built: ``tm.view_tasks()`` needs its setup)."""
    root = node.func if isinstance(node, ast.Call) else None
    while isinstance(root, ast.Attribute):
        root = root.value
    return isinstance(node, ast.Call) and isinstance(root, ast.Name) and root.id not in local and \
        all(literal(a)[0] for a in [*node.args, *(k.value for k in node.keywords)]) and \
        not any(isinstance(a, ast.Starred) for a in node.args) and all(k.arg for k in node.keywords)


_CHANGES_THE_WORLD = (ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While, ast.Try, ast.If)


def _world_changed(func: ast.FunctionDef | ast.AsyncFunctionDef, node: ast.stmt) -> bool:
    """The test does something before ``node`` that a call with literal arguments may depend on: a
    block (``with open("input.txt", "w")``), or a call made for its effect (``monkeypatch.setattr``,
    ``store.add("k", 1)``). The expression calculator's six CLI tests each wrote another expression
    to input.txt and asserted ``main(["input.txt"])``: asked without the file, one answer was cached
    for all six."""
    before = func.body[:func.body.index(node)] if node in func.body else func.body
    return any(isinstance(s, _CHANGES_THE_WORLD) or (isinstance(s, ast.Expr) and isinstance(s.value, (ast.Call, ast.Await)))
               for s in before)


def _local_names(func: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Names a test binds itself: its parameters and whatever it assigns."""
    names = {a.arg for a in [*func.args.args, *func.args.kwonlyargs]}
    return names | {n.id for n in ast.walk(func) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _assigned_once(func: ast.FunctionDef | ast.AsyncFunctionDef, name: str, before: int) -> ast.Assign | None:
    """The one ``name = ...`` a test makes before line ``before``, or None if it makes none or several."""
    found = [n for n in ast.walk(func) if isinstance(n, ast.Assign) and n.lineno < before
             and any(isinstance(t, ast.Name) and t.id == name for t in n.targets)]
    return found[0] if len(found) == 1 else None


def _assigned_call(func: ast.FunctionDef | ast.AsyncFunctionDef, name: str, before: int) -> ast.Call | None:
    """The call a local name holds (``result = tip(100, 15)``), when assigned once before the assert."""
    node = _assigned_once(func, name, before)
    return node.value if node and _plain_call(node.value, _local_names(func)) else None  # type: ignore[return-value]


# An earlier assert of the test passed (pytest stops at the first failing one): a true fact about
# the object, shown as it is (the roman numeral tests: eight checks on `converter` before `CXIX`).
_SETUP_STATEMENTS = (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Expr, ast.Import, ast.ImportFrom, ast.Assert)
MAX_SETUP_LINES = 12
# a folder, and pytest's patcher whose every use the setup shows (`monkeypatch.setattr(sys, "argv", [...])`):
# the model needs to know nothing else of them
_PLAIN_FIXTURES = {"tmp_path", "monkeypatch"}


def plain_fixtures(tree: ast.Module) -> dict[str, list[str]]:
    """The test file's own fixtures a question can show inline: ``@pytest.fixture`` functions taking
    at most ``tmp_path``, a few plain steps (writing a file included) ending in ``return value``;
    name -> their lines, the return becoming ``name = value``. The word counter's tests read a
    ``tmp_file`` fixture that wrote "Hello world\\nHello again\\nHello world\\n"."""
    found: dict[str, list[str]] = {}
    for node in tree.body:
        marks = [d for d in getattr(node, "decorator_list", []) if ast.unparse(d).split("(")[0].endswith("fixture")]
        if not isinstance(node, ast.FunctionDef) or not marks or any(isinstance(d, ast.Call) and d.keywords for d in marks):
            continue
        body = node.body[1:] if node.body and isinstance(node.body[0], ast.Expr) and \
            isinstance(node.body[0].value, ast.Constant) else node.body
        if {a.arg for a in node.args.args} - _PLAIN_FIXTURES or not body or not isinstance(body[-1], ast.Return) \
                or body[-1].value is None:
            continue
        steps = body[:-1]
        if all(isinstance(s, (*_SETUP_STATEMENTS, ast.With)) for s in steps) and not any(
                isinstance(n, (ast.Return, ast.Yield, ast.YieldFrom)) for s in steps for n in ast.walk(s)):
            found[node.name] = [ast.unparse(s) for s in steps] + [f"{node.name} = {ast.unparse(body[-1].value)}"]
    return found


def _setup_before(func: ast.FunctionDef | ast.AsyncFunctionDef, node: ast.stmt, hidden: str | None = None,
                  fixtures: dict[str, list[str]] | None = None) -> str | None:
    """The statements a test runs before ``node``, when they are a few plain steps (no loop, branch,
    ``with``, or fixture it uses but ``tmp_path`` and the file's plain ones, shown inline; earlier
    asserts, which passed, are kept): what the model needs to work a method's result out
    (``tm = TaskManager(db)``, ``tm.add_task("milk")``, then ``tm.view_tasks()``).
    The assignment of ``hidden`` (the name holding the expected value) is left out: the question
    shows neither answer."""
    fixtures = fixtures or {}
    if func.decorator_list or node not in func.body:
        return None
    before = func.body[:func.body.index(node)]
    if before and isinstance(before[0], ast.Expr) and isinstance(before[0].value, ast.Constant):
        before = before[1:]  # the docstring
    used = {n.id for s in [*before, node] for n in ast.walk(s) if isinstance(n, ast.Name)}
    params = [a.arg for a in func.args.args]
    if (set(params) - _PLAIN_FIXTURES - fixtures.keys()) & used:
        return None
    before = [s for s in before if not (isinstance(s, ast.Assign) and any(isinstance(t, ast.Name) and t.id == hidden
                                                                         for t in s.targets))]
    if not all(isinstance(s, _SETUP_STATEMENTS) for s in before):
        return None
    lines = [line for name in params if name in used and name in fixtures for line in fixtures[name]]
    lines += [ast.unparse(s) for s in before]
    return "\n".join(lines) if sum(len(line.splitlines()) for line in lines) <= MAX_SETUP_LINES else None


def held_literal(func: ast.FunctionDef | ast.AsyncFunctionDef, name: str, before: int) -> ast.expr | None:
    """The literal a local name holds (``expected = "Example_1"``), when assigned once before ``before``."""
    node = _assigned_once(func, name, before)
    return node.value if node and len(node.targets) == 1 and literal(node.value)[0] else None


def assert_at(func: ast.AST, line: int) -> ast.Assert | None:
    return next((n for n in ast.walk(func) if isinstance(n, ast.Assert) and n.lineno == line), None)


def loop_tables(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[tuple[list[str], ast.expr | None]]:
    """``for x, n, expected in cases:`` over a literal list of rows (written there, or bound once
    to the name looped over) read like a parametrize table: its names and its rows. HumanEval/76's
    test checked six cases in one loop; pytest names only the failing row's call."""
    tables: list[tuple[list[str], ast.expr | None]] = []
    for loop in (n for n in ast.walk(func) if isinstance(n, ast.For)):
        if not isinstance(loop.target, ast.Tuple) or not all(isinstance(e, ast.Name) for e in loop.target.elts):
            continue
        rows = held_literal(func, loop.iter.id, loop.lineno) if isinstance(loop.iter, ast.Name) else loop.iter
        if isinstance(rows, (ast.List, ast.Tuple)) and literal(rows)[0]:
            tables.append(([e.id for e in loop.target.elts if isinstance(e, ast.Name)], rows))
    return tables


def value_tables(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[tuple[list[str], ast.expr | None]]:
    """The rows of values a test runs through: its parametrize tables and its loops over literal rows."""
    return [*parametrize_tables(func), *loop_tables(func)]


def parametrized(func: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """The names a row of values gives a test (``value_tables``)."""
    return {name for names, _ in value_tables(func) for name in names}


def _where_call(block: str) -> tuple[str, str] | None:
    """pytest's first ``+  where <value> = <call>`` line, function reprs turned back into names."""
    match = _WHERE.search(block)
    return (match.group(1), _FUNCTION_REPR.sub(r"\1", match.group(2)).strip()) if match else None


def shown_sides(block: str) -> list[tuple[bool, object]] | None:
    """The two values of pytest's ``assert <a> == <b>`` line, or None when it shortened one."""
    shown = _ASSERT_LINE.search(block)
    compared = parse_or_none(shown.group(1).strip()) if shown else None
    if compared is None or not isinstance(compared.body[0], ast.Expr) or \
            not isinstance(compared.body[0].value, ast.Compare) or len(compared.body[0].value.comparators) != 1:
        return None  # pytest shortened a long value ("[1, 2, ...]"): no exact value to compare
    return [literal(compared.body[0].value.left), literal(compared.body[0].value.comparators[0])]


def _is_constant(probe: ast.Compare) -> bool:
    """``f(x) is True`` (or ``False``, ``None``): an equality check on a constant, spelled with ``is``."""
    return isinstance(probe.ops[0], ast.Is) and any(isinstance(side, ast.Constant) and (
        side.value is None or isinstance(side.value, bool)) for side in (probe.left, probe.comparators[0]))


def _values(probe: ast.expr, block: str, where: tuple[str, str] | None,
            func: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[ast.expr, object, object, str | None] | None:
    """(the computed expression, the expected value, the actual value, the parametrize argument
    holding the expected value) of a failing ``a == b``, ``f(x)`` or ``not f(x)``, or None."""
    if isinstance(probe, ast.Compare) and len(probe.ops) == 1 and (isinstance(probe.ops[0], ast.Eq) or _is_constant(probe)):
        sides = [probe.left, probe.comparators[0]]
        literal_at = [i for i, side in enumerate(sides) if literal(side)[0]]
        shown = shown_sides(block)
        if shown is None or len(literal_at) > 1:
            return None
        param = None
        held = [i for i, side in enumerate(sides) if isinstance(side, ast.Name) and held_literal(func, side.id, probe.lineno)]
        if literal_at:
            computed_at = 1 - literal_at[0]
        elif len(held) == 1:  # `expected = "Example_1"` a line before: HumanEval/140's tests
            computed_at = 1 - held[0]
        else:  # `f(x) == expected` in a parametrized test: the side pytest's where line computed
            computed_at = next((i for i in (0, 1) if where and parse_literal(where[0]) == shown[i]), -1)
            row = [i for i, side in enumerate(sides) if isinstance(side, ast.Name) and side.id in _row_values(block)
                   and side.id in parametrized(func)]
            if computed_at < 0 and len(row) == 1:  # `result == expected`: no where line for a name
                computed_at = 1 - row[0]
            other = sides[1 - computed_at] if computed_at >= 0 else None
            if not isinstance(other, ast.Name) or other.id not in parametrized(func):
                return None
            param = other.id
        (ok, actual), (known, expected) = shown[computed_at], shown[1 - computed_at]
        return (sides[computed_at], expected, actual, param) if ok and known else None
    negated = isinstance(probe, ast.UnaryOp) and isinstance(probe.op, ast.Not)
    computed = probe.operand if isinstance(probe, ast.UnaryOp) and negated else probe
    if isinstance(computed, ast.Call) and where and (found := parse_literal(where[0]))[0]:
        return computed, not negated, found[1], None
    return None


# Printed output is not asked about: the 1.5B cannot work a program's exact output out from the
# specification (the CSV converter's four questions on `captured_output.getvalue()`: 190 s, none decided).
_PRINTED = re.compile(r"\b(?:getvalue|readouterr|capsys|capfd|stdout|stderr)\b")
_ROW_VALUE = re.compile(r"(\w+) = (.*?)(?=, \w+ = |$)")


def _row_values(block: str) -> dict[str, object]:
    """The arguments pytest prints atop a parametrized test's failure (``value = 20, unit1 = 'F'``)."""
    first = next((line for line in block.splitlines() if line.strip()), "")
    if not re.match(r"\w+ = ", first):
        return {}
    found = {}
    for name, text in _ROW_VALUE.findall(first):
        ok, value = parse_literal(text)
        if ok:
            found[name] = value
    return found


def _with_row(call: ast.expr, func: ast.FunctionDef | ast.AsyncFunctionDef, row: dict[str, object]) -> ast.expr | None:
    """``convert(value, unit1, unit2)`` with this row's values for the parametrize names, if that
    makes it a call of literals (the unit converter's ``result = convert_weight(value, ...)``)."""
    names = parametrized(func) & row.keys()

    class Substitute(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.expr:
            return ast.parse(repr(row[node.id]), mode="eval").body if node.id in names else node

    replaced = Substitute().visit(ast.parse(ast.unparse(call), mode="eval")).body
    ast.fix_missing_locations(replaced)
    return replaced if names and _plain_call(replaced, _local_names(func) - names) else None


def _question(computed: ast.expr, func: ast.FunctionDef | ast.AsyncFunctionDef, node: ast.Assert,
              where: tuple[str, str] | None, actual: object, hidden: str | None,
              fixtures: dict[str, list[str]], row: dict[str, object]) -> tuple[str, bool, str] | None:
    """(the call to ask about, whether it is self-contained, the setup lines it needs), or None."""
    assigned = _assigned_once(func, computed.id, node.lineno) if isinstance(computed, ast.Name) else None
    if _PRINTED.search(ast.unparse(assigned.value if assigned else computed)):
        return None
    alone = not _world_changed(func, node)
    if alone and _plain_call(computed, _local_names(func)):
        return ast.unparse(computed), True, ""
    if alone and isinstance(computed, ast.Name) and (held := _assigned_call(func, computed.id, node.lineno)) is not None:
        return ast.unparse(held), True, ""
    if row and (made := _with_row(assigned.value if assigned else computed, func, row)) is not None:
        return ast.unparse(made), False, ""  # a row of a parametrize table: its cell is corrected
    if (setup := _setup_before(func, node, hidden, fixtures)) is not None and \
            isinstance(computed, (ast.Call, ast.Name, ast.Attribute)):
        return ast.unparse(computed), True, setup  # `tm.view_tasks()` after `tm = TaskManager(...)`
    if where and parse_literal(where[0]) == (True, actual) and parse_or_none(where[1]) is not None:
        return where[1], False, ""  # a parametrized row: pytest shows the call with its values
    return None


def _check_in_block(block: str, test: str, line: int, tree: ast.Module,
                    fixtures: dict[str, list[str]]) -> FailedCheck | None:
    func = enclosing_test(tree, line)
    node = assert_at(func, line) if func else None
    if func is None or node is None:
        return None
    where = _where_call(block)
    values = _values(node.test, block, where, func)
    if values is None or values[1] == values[2]:
        return None
    computed, expected, actual, param = values
    sides = [node.test.left, node.test.comparators[0]] if isinstance(node.test, ast.Compare) else []
    holder = next((side.id for side in sides if side is not computed and isinstance(side, ast.Name)
                   and held_literal(func, side.id, line) is not None), None)
    question = _question(computed, func, node, where, actual, holder, fixtures, _row_values(block))
    if question is None:
        return None
    call, self_contained, setup = question
    return FailedCheck(test=test, line=line, call=call, expected=expected, actual=actual, param=param,
                       self_contained=self_contained, setup=setup, holder=holder)


def _raise_check(block: str, test: str, line: int, tree: ast.Module,
                 fixtures: dict[str, list[str]]) -> FailedCheck | None:
    """``with pytest.raises(X): <call>`` where the call completed: the question is whether it must fail."""
    raised = _DID_NOT_RAISE.search(block)
    func = enclosing_test(tree, line)
    node = next((n for n in func.body if isinstance(n, ast.With) and n.lineno == line), None) if func else None
    if raised is None or func is None or node is None or func.decorator_list or len(node.body) != 1:
        return None  # a parametrized test shares its body with rows that may raise: not rewritten
    statement = node.body[0]
    call = statement.value if isinstance(statement, (ast.Expr, ast.Assign)) else None
    if not isinstance(call, ast.Call):
        return None
    setup = "" if _plain_call(call, _local_names(func)) else _setup_before(func, node, None, fixtures)
    if setup is None:
        return None
    return FailedCheck(test=test, line=line, call=ast.unparse(call), expected=FAILS, actual=COMPLETES, setup=setup,
                       raises=raised.group(1) or raised.group(2))


_BUILTINS = frozenset(dir(builtins))


def _rejected_check(block: str, test_file: str, test: str, tree: ast.Module,
                    fixtures: dict[str, list[str]]) -> FailedCheck | None:
    """A call the code refused on purpose (``raise ValueError(...)`` in the source) where the test
    expected a result: the question is whether the specification lets it complete. The password
    generator refused every character set without punctuation, on purpose; every test met it, an
    error raised on purpose is no crash to rewrite for, and the fix rounds changed nothing."""
    found = rejected_on_purpose(block, test_file)
    func = enclosing_test(tree, found[0]) if found else None
    node = next((n for n in func.body if n.lineno <= found[0] <= (n.end_lineno or n.lineno)), None) \
        if func and found else None
    if found is None or func is None or node is None or func.decorator_list or isinstance(node, ast.With):
        return None
    local = _local_names(func)
    calls = [n for n in ast.walk(node) if isinstance(n, ast.Call) and _plain_call(n, local)]
    setup = "" if calls else _setup_before(func, node, None, fixtures)
    if not calls and setup is not None:  # the outermost call that is not a builtin (`len(...)`, `str(...)`)
        calls = [n for n in ast.walk(node) if isinstance(n, ast.Call) and ast.unparse(n.func) not in _BUILTINS]
    if not calls or setup is None:
        return None
    return FailedCheck(test=test, line=node.lineno, call=ast.unparse(calls[0]), expected=COMPLETES, actual=FAILS,
                       setup=setup, raised=found[1])


def failed_checks(output: str, test_file: str, test_code: str, skip: Collection[str] = ()) -> list[FailedCheck]:
    """The failing value assertions of ``test_file`` in pytest's output, at most ``MAX_CHECKS``,
    leaving out those whose ``key`` is in ``skip`` (asked in an earlier round)."""
    tree = parse_or_none(test_code)
    if tree is None:
        return []
    fixtures = plain_fixtures(tree)
    found: list[FailedCheck] = []
    refusals: set[str | None] = set()  # the errors already asked about
    for test, block in failure_blocks(output):
        location = next((m for m in ASSERT_LOCATION.finditer(block) if m.group(1).endswith(test_file)), None)
        raise_at = next((m for m in _RAISES_LOCATION.finditer(block) if m.group(1).endswith(test_file)), None)
        check = _check_in_block(block, test, int(location.group(2)), tree, fixtures) if location else None
        if check is None and raise_at:
            check = _raise_check(block, test, int(raise_at.group(2)), tree, fixtures)
        if check is None and not location:
            check = _rejected_check(block, test_file, test, tree, fixtures)
            if check and check.raised in refusals:
                continue  # one question per refusal: tests share one
            if check:
                refusals.add(check.raised)
        if check is None:
            continue
        if check.key not in skip:
            found.append(check)
        if len(found) == MAX_CHECKS:
            break
    return found


_RESULT = re.compile(r"Result:\**\s*`*([^`\n]+?)`*\**\s*\.?\s*$", re.M)
_SAYS = re.compile(r"(?:is|returns|return|outputs|be|equals|gives)\s*:?\s*\**`([^`\n]+)`")


_BOXED = re.compile(r"\\boxed\{(?:\\text\{)?([^{}\n]+)\}")
_BARE_WORD = re.compile(r"[A-Za-z]\w*")


# `f(x) == y`, `f(x) ➞ y`, `f(x) => y`, `f(x) -> y`, `f(x) returns y`, `f(x) should return y`
_EXAMPLE = re.compile(r"^(?:>>>\s*)?(?P<call>[A-Za-z_][\w.]*\(.*\))\s*(?:==|➞|=>|->|→|returns?|should (?:return|be)|"
                      r"gives|is)\s*:?\s*(?P<value>.+?)[\s.,;]*$")
_CALL_START = re.compile(r"(?<![\w.])[A-Za-z_][\w.]*\(")
_LOWER_WORDS = {"true": "True", "false": "False", "none": "None", "null": "None"}


def _example_value(text: str) -> tuple[bool, object]:
    """A value as a specification writes it: a Python literal, or ``true``/``false`` in lower case."""
    found = parse_literal(text)
    if found[0] or text.strip().lower() not in _LOWER_WORDS:
        return found
    return parse_literal(_LOWER_WORDS[text.strip().lower()])


def _same_call(a: str, b: str) -> bool:
    """One call written two ways (quotes, spacing, ``storage.tip`` for ``tip``): the same function
    name, the same arguments."""
    calls = []
    for text in (a, b):
        tree = parse_or_none(text.strip())
        node = tree.body[0].value if tree and len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr) else None
        if not isinstance(node, ast.Call):
            return False
        name = node.func.attr if isinstance(node.func, ast.Attribute) else ast.unparse(node.func)
        calls.append((name, [ast.dump(x) for x in node.args], sorted(ast.dump(k) for k in node.keywords)))
    return calls[0] == calls[1]


def _is_call(text: str) -> bool:
    """``text`` is one call, as Python reads it (``f(x)``, not ``f(x) then g(y)``)."""
    return _same_call(text, text)


def specification_text(prd: "PRD", spec: "FileSpec") -> str:
    """Every text of the PRD and the file's interface (its docstrings hold HumanEval's examples)."""
    texts: list[str] = []

    def collect(value: object) -> None:
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    collect(prd.model_dump())
    return "\n".join([*texts, spec.interface])


def _written_examples(spec: str) -> list[tuple[str, object]]:
    """Every (call, value) the text gives as an example: ``f(x) == y``, ``f(x) ➞ y``, ``f(x) => y``,
    mid-line too ("Example: g(2) ➞ 4"), and a doctest's ``>>> f(x)`` with the line after."""
    # a one-line docstring's quotes go, and markdown's backticks (a PRD's "`to_roman(4)` returns `'IV'`")
    lines = [re.sub(r'^(?:"""|\'\'\')|(?:"""|\'\'\')$', "", line.strip()).strip().replace("`", "") for line in spec.splitlines()]
    found: list[tuple[str, object]] = []
    for i, line in enumerate(lines):
        if line.startswith(">>>") and _is_call(line[3:]):
            after = next((x for x in lines[i + 1:] if x), "")
            if not after.startswith(">>>") and (value := _example_value(after))[0]:
                found.append((line[3:].strip(), value[1]))
            continue
        for at in (m.start() for m in _CALL_START.finditer(line)):
            if (match := _EXAMPLE.match(line[at:])) and (value := _example_value(match.group("value")))[0] \
                    and _is_call(match.group("call")):
                found.append((match.group("call"), value[1]))
                break
    return found


def spec_example(spec: str, call: str) -> tuple[bool, object]:
    """(True, the value) when the specification itself gives ``call``'s result as an example (a
    docstring's ``fix_spaces("Example 1") == "Example_1"``, ``is_simple_power(1, 4) => true``,
    or a doctest's ``>>> f(x)`` and the line after): no hand check is needed, and a 1.5B model's
    hand work is less sure than the example. (False, None) otherwise, or when two examples disagree."""
    values = [value for written, value in _written_examples(spec) if _same_call(written, call)]
    return (True, values[0]) if values and all(same_value(v, values[0]) for v in values) else (False, None)


def spec_examples(spec: str) -> list[tuple[str, object]]:
    """The calls the specification gives a result for, each once, with that result (a call given
    two different results is left out: the text contradicts itself)."""
    found = _written_examples(spec)
    chosen: list[tuple[str, object]] = []
    for call, value in found:
        if not any(_same_call(call, seen) for seen, _ in chosen) and \
                all(same_value(other, value) for written, other in found if _same_call(written, call)):
            chosen.append((call, value))
    return chosen


def hand_value(reply: str) -> tuple[bool, object]:
    """The value a hand-check reply arrives at: its ``Result:`` line, else its last ``\\boxed{x}``
    (how Qwen ends a worked answer: the roman numeral check ended "is \\(\\boxed{119}\\)"), else
    the last "is `x`". A bare word is a string (``Result: CXCIX``)."""
    candidates = [found[-1] for found in (_RESULT.findall(reply), _BOXED.findall(reply)) if found]
    candidates += list(reversed(_SAYS.findall(reply)))[:1]
    for text in candidates:
        text = text.strip().strip("*").strip().rstrip(".").strip()
        ok, value = parse_literal(text)
        if ok:
            return True, value
        if _BARE_WORD.fullmatch(text):
            return True, text
    return False, None


def same_value(a: object, b: object) -> bool:
    """Equal, numbers within rounding (a hand-worked -12.22 is the code's -12.222...)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b if isinstance(a, bool) and isinstance(b, bool) else False
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-3, abs_tol=1e-3)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and type(a) is type(b) and len(a) == len(b):
        return all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
        return all(same_value(a[k], b[k]) for k in a)
    return a == b


def verdict(check: FailedCheck, hand: object) -> str | None:
    """"test" (the code is wrong), "code" (the test is wrong) or None (nothing decided)."""
    if same_value(check.expected, check.actual):
        return None  # too close to tell apart (a float the test compares exactly)
    if (check.raises or check.raised) and isinstance(hand, str):  # "Completes", "fail", "error"
        word = hand.lower()
        hand = COMPLETES if word.startswith("complet") else FAILS if word.startswith(("fail", "error")) else hand
    if same_value(hand, check.actual):
        return "code"
    if same_value(hand, check.expected):
        return "test"
    return None


def moved_lines(before: str, after: str) -> dict[int, int]:
    """Each line of ``before`` that ``after`` still has unchanged -> its line there (1-based)."""
    matcher = difflib.SequenceMatcher(a=before.splitlines(), b=after.splitlines(), autojunk=False)
    return {a + k + 1: b + k + 1 for a, b, size in matcher.get_matching_blocks() for k in range(size)}


def corrected(test_code: str, check: FailedCheck) -> str | None:
    """The test file with that assert expecting what the code returned, or None if it cannot be done."""
    tree = parse_or_none(test_code)
    func = enclosing_test(tree, check.line) if tree else None
    if check.raised:
        return None  # the test expected a result the specification does not give: the fix round is told
    if func is not None and check.raises:
        return _without_raises(test_code, func, check.line)
    node = assert_at(func, check.line) if func else None
    if func is None or node is None:
        return None
    probe = node.test
    if isinstance(probe, ast.Compare):
        literals = [side for side in (probe.left, probe.comparators[0]) if literal(side)[0]]
        if check.holder:
            literals = [value] if (value := held_literal(func, check.holder, check.line)) is not None else []
        found = (literals[0] if check.self_contained else None) if literals else _parametrize_cell(func, check)
        if found is None:
            return None
        target, replacement = found, repr(check.actual)
    elif check.self_contained:
        target, replacement = probe, ast.unparse(probe.operand) if isinstance(probe, ast.UnaryOp) else f"not {ast.unparse(probe)}"
    else:
        return None
    return replace_node(test_code, target, lambda _: replacement)


def replace_node(code: str, node: ast.expr, make: Callable[[str], str]) -> str | None:
    """``code`` with ``node``'s text replaced by ``make(text)``, or None when the node spans several
    lines (a literal over several lines is left to the fix round) or the result does not parse."""
    text = ast.get_source_segment(code, node)
    return replace_nodes(code, [(node, make(text))]) if text is not None and node.lineno == node.end_lineno else None


def _without_raises(test_code: str, func: ast.FunctionDef | ast.AsyncFunctionDef, line: int) -> str | None:
    """The test with its ``with pytest.raises(...) [as e]:`` at ``line`` reduced to the call inside,
    and the asserts that read ``e`` gone (a later statement of another kind reading it: None)."""
    node = next((n for n in func.body if isinstance(n, ast.With) and n.lineno == line), None)
    if node is None or node.end_lineno is None:
        return None
    name = node.items[0].optional_vars.id if isinstance(node.items[0].optional_vars, ast.Name) else None
    readers = [n for n in func.body[func.body.index(node) + 1:]
               if name and any(isinstance(sub, ast.Name) and sub.id == name for sub in ast.walk(n))]
    if any(not isinstance(n, ast.Assert) or n.end_lineno is None for n in readers):
        return None
    lines = test_code.splitlines(keepends=True)
    indent = " " * node.col_offset
    inner = node.body[0]
    body = [indent + text.strip() + "\n" for text in lines[inner.lineno - 1:inner.end_lineno]] \
        if inner.lineno == inner.end_lineno else None
    if body is None:
        return None  # a call over several lines: leave it to the fix round
    for reader in sorted(readers, key=lambda n: n.lineno, reverse=True):
        del lines[reader.lineno - 1:reader.end_lineno]
    lines[node.lineno - 1:node.end_lineno] = body
    fixed = "".join(lines)
    return fixed if parse_or_none(fixed) is not None else None


def _parametrize_cell(func: ast.FunctionDef | ast.AsyncFunctionDef, check: FailedCheck) -> ast.expr | None:
    """The one cell of the parametrize table (or looped-over rows) that holds this row's expected value: the row whose
    cell under ``check.param`` is the expected value and whose other cells are the call's arguments."""
    call = parse_or_none(check.call)
    node = call.body[0].value if call and isinstance(call.body[0], ast.Expr) else None
    if not isinstance(node, ast.Call):
        return None
    arguments = [literal(a)[1] for a in [*node.args, *(k.value for k in node.keywords)]]
    cells = []
    for names, rows in value_tables(func):
        if check.param not in names or len(names) < 2 or not isinstance(rows, (ast.List, ast.Tuple)):
            continue
        at = names.index(check.param)
        for row in rows.elts:
            if not isinstance(row, (ast.Tuple, ast.List)) or len(row.elts) != len(names):
                continue
            values = [literal(cell) for cell in row.elts]
            others = [value for i, (ok, value) in enumerate(values) if i != at and ok]
            if values[at][0] and same_value(values[at][1], check.expected) and len(others) == len(names) - 1 and \
                    all(any(same_value(v, a) for a in arguments) for v in others):
                cells.append(row.elts[at])
    return cells[0] if len(cells) == 1 else None
