"""QA's tests: written once per testable module (QA's prompt, gates and repairs), run in the
sandbox, and reported. The fix rounds that mend them live in ``fix_rounds``; the stage in ``qa``.
"""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import PurePosixPath
from textwrap import shorten
from typing import Literal

from pydantic import BaseModel, Field

from ..artifacts import PRD, Design, FileSpec, QAReport
from ..code_checks import add_missing_imports, design_modules, docstring_holders, module_name, parse_or_none, undefined_names
from ..errors import ModelOutputError
from ..pytest_output import trim_failures
from ..sandbox import TestCounts, pytest_args
from ..structured import parse_python
from ..test_checks import defined_tests, problems_in_test_file, prune_tests, tests_that_cannot_pass
from ..test_imports import unprovided_imports, unused_unprovided_dropped
from .base import StageContext

FIX_STEP = "fix"  # fix-round commits carry the trailer "qa-fix", never taken for the finished stage
REPORT_JSON, REPORT_MD = "docs/qa_report.json", "docs/qa_report.md"
CONFTEST = "tests/conftest.py"
# The longest of 120 test files the 1.5B model wrote and QA accepted was 1,531 tokens; the replies
# that reached 4,096 were runaways (300 rows of test data), four minutes each at 10 tokens a second.
TEST_FILE_MAX_TOKENS = 2048



class QAProgress(BaseModel):
    """Where the QA stage is, so a resume neither rewrites tests nor repeats fix rounds."""

    run_checked: bool = False  # the design's run command tried (and mended) before the tests
    tests_written: bool = False
    tests_committed: bool = False  # red tests get a commit of their own before the rounds change them
    test_files: list[str] = Field(default_factory=list)
    unwritten: list[str] = Field(default_factory=list)  # test files the model never got right, and why
    rounds_done: int = 0
    fix_seconds: float = 0.0  # wall time of the rounds so far, across resumes (for fix_minutes)
    focused: list[str] = Field(default_factory=list)  # the test file each round worked on, in order
    fixed_files: list[str] = Field(default_factory=list)
    fix_notes: list[str] = Field(default_factory=list)
    undone: list[str] = Field(default_factory=list)  # fixes rolled back, told to the next rounds
    hand_checked: list[str] = Field(default_factory=list)  # "<test file>: <check key>" asked once, never again
    rewritten_for_tests: list[str] = Field(default_factory=list)  # sources written afresh for their failing tests
    rewrites: list[str] = Field(default_factory=list)  # every source written afresh, whatever for (each says its attempt)
    unchanged_fixes: int = 0  # edits the model sent back unchanged: later rounds write a file afresh first
    unchanged_edit_seconds: float = 0.0  # the time those took: no part of a later round's pace
    report: QAReport | None = None


def qa_file_for(source: str) -> str:
    """tests/test_<dotted path>.py: unique per module, stable across runs."""
    stem = PurePosixPath(source).with_suffix("").as_posix()
    stem = stem[4:] if stem.startswith("src/") else stem
    return f"tests/test_{stem.replace('/', '_')}.py"


def has_behaviour(text: str) -> bool:
    """A module worth testing defines at least one function or class."""
    try:
        tree = parse_python(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return True  # let the tests say so
    return any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for node in tree.body)


def has_examples(text: str) -> bool:
    """A docstring (module, class or function) holding a ``>>>`` example."""
    tree = parse_or_none(text)
    if tree is None:
        return False
    return any(">>> " in (ast.get_docstring(n) or "") for n in docstring_holders(tree))


def example_files(ctx: StageContext, design: Design) -> list[str]:
    """Source files whose docstring examples run with the tests: an example in the docs is a
    promise (HumanEval's prompts carry theirs; a model's own example that is wrong is a bug too)."""
    scripts = {"__main__.py", "setup.py", "conftest.py"}  # importing them runs them
    return [f.path for f in design.files if f.path.endswith(".py") and PurePosixPath(f.path).name not in scripts
            and ctx.exists(f.path) and has_examples(ctx.read(f.path))]


def testable_modules(ctx: StageContext, design: Design) -> list[FileSpec]:
    return [f for f in design.files if f.path.endswith(".py") and ctx.exists(f.path) and has_behaviour(ctx.read(f.path))]


def write_tests(ctx: StageContext, prd: PRD, design: Design, unwritten: list[str]) -> list[str]:
    """One LLM call per testable module (concurrently), files written as they come.

    A test file the model never gets right (after the repair attempts) is left out and noted in
    ``unwritten``, so the other modules' tests still run; only when none can be written does
    the stage stop (exit 4, resumable).
    """
    modules = testable_modules(ctx, design)

    def ask(spec: FileSpec) -> tuple[str, str | ModelOutputError]:
        try:
            return qa_file_for(spec.path), ask_test_file(ctx, prd, design, spec)
        except ModelOutputError as exc:
            return qa_file_for(spec.path), exc

    pool = ThreadPoolExecutor(max_workers=ctx.settings.jobs, thread_name_prefix="qa")
    try:
        results = list(pool.map(ask, modules))
    finally:  # on a stop, don't wait for the other calls in flight (the gateway drops them)
        pool.shutdown(wait=False, cancel_futures=True)
    failures = [(path, r) for path, r in results if isinstance(r, ModelOutputError)]
    if failures and len(failures) == len(results):
        raise failures[0][1]
    written = []
    for path, content in results:
        if isinstance(content, ModelOutputError):
            reason = content.message.split(" attempts: ", 1)[-1]
            unwritten.append(reason if reason.startswith(path) else f"{path}: {reason}")
            ctx.info(f"{path} left out: the model's replies stayed unusable ({shorten(reason, 300, placeholder=' ...')})")
            continue
        ctx.write(path, content)
        written.append(path)
    ctx.write(CONFTEST, ctx.render("templates/tests_conftest.py.j2"))
    return sorted(written)


def ask_test_file(ctx: StageContext, prd: PRD, design: Design, spec: FileSpec, problem: str = "") -> str:
    """The test file of ``spec``'s module: QA's prompt (plus ``problem``, what an earlier version got
    wrong), its gates and repairs. Raises ``ModelOutputError`` when no usable file comes back."""
    deps = [design.file(d) for d in spec.depends_on]
    module, source, path = module_name(spec.path), ctx.read(spec.path), qa_file_for(spec.path)
    messages = ctx.messages("qa", prd=prd, design=design, file=spec, module=module,
                            source=source, dependencies=deps, test_path=path)
    if problem:
        messages[-1] = {**messages[-1], "content": messages[-1]["content"] + "\n" + problem.rstrip() + "\n"}
    elsewhere = {name: module_name(f.path) for f in design.files if f.path != spec.path and f.path.endswith(".py")
                 and ctx.exists(f.path) for name in public_definitions(ctx.read(f.path))}
    check = TestsCheck(module, source, elsewhere, modules=set(design_modules(design)), dependencies=design.dependencies)
    try:
        return ctx.gateway.ask_file(ctx.stage, messages, path, check=check, salvage=True, max_tokens=TEST_FILE_MAX_TOKENS,
                                    transform=lambda text: mended_tests(add_missing_imports(text), design, module, source))
    except ModelOutputError:
        if check.fallback is not None:
            return check.fallback
        raise


def mended_tests(test_code: str, design: Design, module: str, source: str,
                 shared_fixtures: frozenset[str] = frozenset()) -> str:
    """A test file of ``module`` (QA's own or a fix round's) with the repairs every one gets: unused
    imports of what nothing provides cut, slips mended, the tests that cannot pass dropped."""
    unprovided = unprovided_imports(test_code, set(design_modules(design)), design.dependencies)
    return prune_tests(unused_unprovided_dropped(test_code, unprovided), module, source, shared_fixtures)


def public_definitions(code: str) -> set[str]:
    """The functions and classes a module defines at top level, not private ones."""
    tree = parse_or_none(code)
    return {node.name for node in (tree.body if tree else []) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and not node.name.startswith("_")}


class TestsCheck:
    """QA's gate: the test file imports the module under test and calls only what it really defines.

    Once per file, a reply most of whose tests had to be dropped (``prune_tests``) is asked again
    with the reasons, and kept as the fallback should the next replies be unusable: the roman
    numeral CLI's file kept two of eight tests, six having called ``main([path])`` where the CLI
    requires ``--input``; told the usage, a model can write the six again."""

    def __init__(self, module: str, source: str, elsewhere: dict[str, str] | None = None,
                 modules: set[str] | None = None, dependencies: Sequence[str] = ()) -> None:
        self.module, self.source = module, source
        self.modules = modules  # every design module's dotted name (None: imports not checked)
        self.dependencies = list(dependencies)
        self.elsewhere = elsewhere or {}  # public names of the project's other modules -> the module
        self.fallback: str | None = None

    def belongs_elsewhere(self, content: str) -> str:
        """For a file using another module's names unimported (the word counter's core tests
        called the CLI's ``main`` in every test, three replies alike, and the file was left out):
        which module they belong to, and what to test here instead."""
        others = {name: self.elsewhere[name] for name in undefined_names(content)
                  if name in self.elsewhere and name not in public_definitions(self.source)}
        if not others:
            return ""
        where = "; ".join(f"{name} belongs to {other}" for name, other in list(others.items())[:3])
        own = ", ".join(sorted(public_definitions(self.source))[:8])
        return f" ({where}, which has tests of its own: here test {self.module}'s own {own})" if own else f" ({where})"

    def __call__(self, content: str) -> str | None:
        problems = problems_in_test_file(content, self.module, self.source)
        unprovided = unprovided_imports(content, self.modules, self.dependencies) if self.modules is not None else []
        if unprovided:  # used, or the repair would have cut them
            problems.insert(0, f"it imports {', '.join(unprovided)}, which nothing where the tests run provides: the "
                               f"project's modules are {', '.join(sorted(self.modules or ()))}; installed are the standard "
                               f"library, pytest{''.join(', ' + d for d in self.dependencies)}")
        if not problems:
            # what prune_tests left alone because not one test would remain (the pomodoro timer's
            # core tests all expected fixed timestamps from code that reads the clock)
            functions, bad = tests_that_cannot_pass(content, self.module, self.source)
            if functions and len(bad) == len(functions):
                self.fallback = self.fallback or content  # kept as before should every reply be so
                reasons = list(dict.fromkeys(found[0] for found in bad.values()))
                problems = [f"not one of its {len(functions)} tests can pass as written: " + "; ".join(reasons[:3])]
        if problems:
            return "; ".join(problems) + self.belongs_elsewhere(content) + f". Use only what {self.module} defines, as shown in its source"
        dropped, kept = _DROPPED.findall(content), len(defined_tests(content))
        if self.fallback is None and len(dropped) > kept:
            self.fallback = content
            reasons = list(dict.fromkeys(reason for _, reason in dropped))
            return (f"{len(dropped)} of its {len(dropped) + kept} tests cannot pass as written: "
                    + "; ".join(reasons[:3]) + f". Write them again; use only what {self.module} defines, as shown in its source")
        return None


_DROPPED = re.compile(r"^# swcompany dropped (test_\w+): (.+)$", re.M)


def tested_module(design: Design, test_file: str) -> FileSpec | None:
    """The design file a test file of QA's own tests (``qa_file_for``), if any."""
    return next((f for f in design.files if qa_file_for(f.path) == test_file), None)


def report_for(counts: TestCounts, run, progress: QAProgress, install_error: str | None, examples: Sequence[str] = (),
               out_of_fix_time: bool = False, no_fix_found: bool = False) -> QAReport:
    green = run.exit_code == 0 and counts.failures == 0 and counts.errors == 0 and counts.tests > 0
    verdict: Literal["passed", "failed", "error"] = "passed" if green else "error" if counts.tests == 0 else "failed"
    return QAReport(verdict=verdict, tests_run=counts.tests, passed=counts.passed, failed=counts.failures,
                    errors=counts.errors, skipped=counts.skipped, rounds_used=progress.rounds_done,
                    fix_minutes=round(progress.fix_seconds / 60, 1), out_of_fix_time=out_of_fix_time, no_fix_found=no_fix_found,
                    timed_out=run.timed_out, flooded=run.flooded, install_error=install_error,
                    last_output="" if green else trim_failures(run.output), test_files=list(progress.test_files),
                    fixed_files=list(progress.fixed_files), fix_notes=list(progress.fix_notes), sandbox=run.sandbox,
                    unwritten_tests=list(progress.unwritten),
                    command=" ".join(["python -m pytest", *(shlex.quote(a) for a in pytest_args(examples))]))


