"""The engineer's example gate: a written module is run on the examples its specification gives
(``f(x) == y``, ``f(x) ➞ y``, a doctest's ``>>> f(x)``), in the sandbox, and written again from
scratch (at most ``MAX_REWRITES`` times) while some fail; the version that meets the most examples
is kept.

Why at write time: the 1.5B model's first write of HumanEval/140 failed three of its four docstring
examples; a plain single completion got all four. Its fix rounds, asked to edit the file, mended
none in 12 calls and 13 minutes, while a fresh write costs one call. Only examples whose every
name is a function of the module or a builtin are run (``is_happy(a) => False`` names no value),
and a value that is not a literal, or a module that cannot be imported here (a third-party
dependency not installed yet), decides nothing.
"""

from __future__ import annotations

import ast
import builtins
import json
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..asking import REPEAT_TEMPERATURE
from ..code_checks import module_name, parse_or_none
from ..errors import ModelOutputError
from ..sandbox import project_env, run_sandboxed
from .base import StageContext
from .hand_checks import parse_literal, same_value, spec_examples

MAX_REWRITES = 2
MAX_EXAMPLES = 12
RUN_SECONDS = 30  # each example stops after 2 s
_MARK = "SWCOMPANY-EXAMPLES:"
# Run in the sandbox: import the module, evaluate each example in its namespace (2 s each), print the results.
_RUNNER = """
import importlib, json, signal, sys
calls = json.loads(sys.argv[2])
try:
    names = vars(importlib.import_module(sys.argv[1]))
except BaseException as exc:
    print("\\n%s" % sys.argv[3] + json.dumps({"import": "%s: %s" % (type(exc).__name__, exc)}))
    raise SystemExit(0)
def stop(*_):
    raise TimeoutError("it ran for over 2 seconds")
signal.signal(signal.SIGALRM, stop)
results = []
for call in calls:
    signal.alarm(2)
    try:
        results.append(["value", repr(eval(call, dict(names)))])
    except BaseException as exc:
        results.append(["error", ("%s: %s" % (type(exc).__name__, exc))[:200]])
    finally:
        signal.alarm(0)
print("\\n%s" % sys.argv[3] + json.dumps({"results": results}))
"""


# Errors of the place an example runs in rather than of the code: a data file the example names is
# not in the scratch copy, stdin is closed, a timer waits past the 2 s an example gets.
_ENVIRONMENT_ERRORS = frozenset({"EOFError", "TimeoutError", "OSError", "FileNotFoundError", "PermissionError",
                                 "IsADirectoryError", "NotADirectoryError", "FileExistsError", "ConnectionError"})


@dataclass
class ExampleResult:
    call: str
    expected: object
    got: str  # the repr the code returned, or the error it raised
    held: bool | None  # None: undecided (a value that is no literal)

    def fact(self) -> str:
        return f"`{self.call}` must be `{self.expected!r}` (the specification's own example); the earlier version gave {self.got}"


def runnable_examples(spec_text: str, code: str) -> list[tuple[str, object]]:
    """The specification's examples that call a function or class the module defines, naming
    nothing else than those and builtins (``Converter().convert(10, "m", "ft") == 32.8084``)."""
    tree = parse_or_none(code)
    if tree is None:
        return []
    defined = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    chosen = []
    for call, value in spec_examples(spec_text):
        expression = parse_or_none(call.strip())
        if expression is None:
            continue
        names = {node.id for node in ast.walk(expression) if isinstance(node, ast.Name)}
        called = {node.func.id for node in ast.walk(expression) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
        if called & defined and names <= defined | set(dir(builtins)):
            chosen.append((call.strip(), value))
    return chosen[:MAX_EXAMPLES]


def run_examples(ctx: StageContext, files: dict[str, str], path: str,
                 examples: list[tuple[str, object]]) -> list[ExampleResult] | None:
    """Each example evaluated on ``files`` (the written project so far, ``path`` among them) in a
    scratch copy, sandboxed; None when the module could not be imported or the run gave no report."""
    with tempfile.TemporaryDirectory(prefix="swcompany-examples-") as scratch:
        root = Path(scratch).resolve()
        for name, text in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text, encoding="utf-8")
        cmd = [sys.executable, "-c", _RUNNER, module_name(path), json.dumps([call for call, _ in examples]), _MARK]
        run = run_sandboxed(cmd, root, timeout=RUN_SECONDS, extra_env=project_env(root), mode=ctx.settings.sandbox)
    report = next((line[len(_MARK):] for line in reversed(run.output.splitlines()) if line.startswith(_MARK)), None)
    try:
        results = json.loads(report)["results"] if report else None
    except (ValueError, KeyError, TypeError):
        results = None
    if not isinstance(results, list) or len(results) != len(examples):
        return None
    found = []
    for (call, expected), (kind, text) in zip(examples, results):
        if kind == "error":  # one the scratch copy may cause (no input file, no stdin, a wait) decides nothing
            undecided = text.split(":", 1)[0] in _ENVIRONMENT_ERRORS
            found.append(ExampleResult(call, expected, f"an error ({text})", None if undecided else False))
            continue
        literal, value = parse_literal(text)
        found.append(ExampleResult(call, expected, f"`{text}`", same_value(value, expected) if literal else None))
    return found


def examples_met(ctx: StageContext, spec_text: str, path: str, content: str, written: dict[str, str],
                 rewrite: Callable[[str, float], str]) -> str:
    """``content``, or a version ``rewrite`` (given what was wrong, and a temperature) wrote afresh
    that meets more of the examples in ``spec_text``; ``written``: the project's other files so far.

    The rewrites are samples, at ``REPEAT_TEMPERATURE``, each prompt naming its attempt: at the
    configured 0.2 the 1.5B model sent HumanEval/140's wrong function back byte for byte, and the
    second identical prompt was answered from the cache."""
    examples = runnable_examples(spec_text, content)
    best, best_held = content, -1
    for attempt in range(MAX_REWRITES + 1) if examples else ():
        results = run_examples(ctx, {**written, path: content}, path, examples)
        if results is None:  # not importable here: nothing to compare
            break
        held = sum(1 for r in results if r.held)
        if held > best_held:
            best, best_held = content, held
        wrong = [r for r in results if r.held is False]
        if not wrong or attempt == MAX_REWRITES:
            break
        ctx.info(f"{path}: {len(wrong)} of the specification's {len(results)} examples fail; written again")
        again = f" (attempt {attempt + 1})" if attempt else ""
        try:
            content = rewrite(f"An earlier version of {path} did not do what the specification's own examples say:\n"
                              + "".join(f"- {r.fact()}\n" for r in wrong)
                              + f"Write {path} again, from scratch, so that these hold{again}.",
                              max(ctx.settings.temperature, REPEAT_TEMPERATURE))
        except ModelOutputError:
            break
    return best


def examples_broken(ctx: StageContext, spec_text: str, path: str, before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The examples of ``spec_text`` that ``path`` met in the project ``before`` and fails ``after``
    (a fix round's change): such a fix is undone like one breaking a docstring example."""
    examples = runnable_examples(spec_text, after.get(path, ""))
    if not examples or before.get(path) == after.get(path):
        return []
    old, new = run_examples(ctx, before, path, examples), run_examples(ctx, after, path, examples)
    if old is None:
        return []
    if new is None:  # it no longer even imports
        return [r.call for r in old if r.held]
    return [o.call for o, n in zip(old, new) if o.held and n.held is False]
