"""QA: write pytest tests, run them in the sandbox, drive bounded fix rounds, report honestly.

Test files are written once (one per source module with behaviour); each fix round is one
LLM call for whole-file replacements, applied, committed as ``qa: fix round N`` and
recorded in state, so a resume neither rewrites the tests nor repeats a round.
"""

from __future__ import annotations

import ast
from concurrent.futures import ThreadPoolExecutor
from pathlib import PurePosixPath

from ..artifacts import PRD, Design, FileSpec, FixReply, QAReport
from ..errors import EXIT_TESTS_FAILED
from ..pytest_output import files_in_traceback, trim_failures
from ..sandbox import TestCounts, project_python, run_pytest, sandbox_warning
from ..structured import ReplyError, check_syntax
from .base import StageContext, StageResult

NAME = "qa"
TITLE = "QA"
FIX_COMMIT_STAGE = "qa-fix"  # its own trailer, so a fix round is never taken for the finished QA stage
REPORT_JSON, REPORT_MD = "docs/qa_report.json", "docs/qa_report.md"
MAX_FIX_CONTEXT_CHARS = 60_000


def qa_file_for(source: str) -> str:
    """tests/test_<dotted path>.py: unique per module, stable across runs."""
    stem = PurePosixPath(source).with_suffix("").as_posix()
    stem = stem[4:] if stem.startswith("src/") else stem
    return f"tests/test_{stem.replace('/', '_')}.py"


def module_name(source: str) -> str:
    stem = PurePosixPath(source).with_suffix("").as_posix()
    stem = stem[4:] if stem.startswith("src/") else stem
    return stem.replace("/", ".").removesuffix(".__init__")


def has_behaviour(text: str) -> bool:
    """A module worth testing defines at least one function or class."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return True  # let the tests say so
    return any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for node in tree.body)


def testable_modules(ctx: StageContext, design: Design) -> list[FileSpec]:
    return [f for f in design.files
            if f.path.endswith(".py") and ctx.workspace.exists(f.path) and has_behaviour(ctx.workspace.read(f.path))]


def write_tests(ctx: StageContext, prd: PRD, design: Design) -> list[str]:
    """One LLM call per testable module (concurrently), files written as they come."""
    modules = testable_modules(ctx, design)

    def ask(spec: FileSpec) -> tuple[str, str]:
        deps = [design.file(d) for d in spec.depends_on]
        messages = ctx.messages(NAME, prd=prd, design=design, file=spec, module=module_name(spec.path),
                                source=ctx.workspace.read(spec.path), dependencies=deps,
                                test_path=qa_file_for(spec.path))
        return qa_file_for(spec.path), ctx.gateway.ask_file(NAME, messages, qa_file_for(spec.path))

    with ThreadPoolExecutor(max_workers=ctx.settings.jobs, thread_name_prefix="qa") as pool:
        results = list(pool.map(ask, modules))
    written = []
    for path, content in results:
        ctx.workspace.write(path, content)
        written.append(path)
    ctx.workspace.write("tests/conftest.py", ctx.render("templates/tests_conftest.py.j2"))
    return sorted(written)


def check_fix(design: Design, test_files: list[str]):
    """Fix replies may only replace design files or tests, and Python must parse."""
    allowed = {f.path for f in design.files} | set(test_files)

    def check(reply: FixReply) -> None:
        problems = []
        for fixed in reply.files:
            if fixed.path not in allowed and not fixed.path.startswith("tests/"):
                problems.append(f"{fixed.path} is not a design file or a test file")
            elif (error := check_syntax(fixed.path, fixed.content)):
                problems.append(f"{fixed.path} {error}")
        if problems:
            raise ReplyError("The fix cannot be applied:\n" + "\n".join(f"- {p}" for p in problems)
                             + "\nReply with the corrected JSON object only.")

    return check


def fix_context(ctx: StageContext, design: Design, test_files: list[str], output: str) -> list[dict[str, str]]:
    """The files a fix needs: tests and the sources named in tracebacks (else all sources), capped."""
    sources = [f.path for f in design.files if ctx.workspace.exists(f.path)]
    named = files_in_traceback(output, set(sources))
    chosen, used = [], 0
    for path in [*test_files, *(named or sources)]:
        text = ctx.workspace.read(path) if ctx.workspace.exists(path) else ""
        if path in (c["path"] for c in chosen) or used + len(text) > MAX_FIX_CONTEXT_CHARS:
            continue
        chosen.append({"path": path, "content": text})
        used += len(text)
    return chosen


def report_for(counts: TestCounts, run, rounds: int, tests: list[str], fixed: list[str], install_error: str | None) -> QAReport:
    green = run.exit_code == 0 and counts.failures == 0 and counts.errors == 0 and counts.tests > 0
    verdict = "passed" if green else "error" if counts.tests == 0 else "failed"
    return QAReport(verdict=verdict, tests_run=counts.tests, passed=counts.passed, failed=counts.failures,
                    errors=counts.errors, skipped=counts.skipped, rounds_used=rounds, timed_out=run.timed_out,
                    flooded=run.flooded, install_error=install_error,
                    last_output="" if green else trim_failures(run.output), test_files=tests, fixed_files=fixed,
                    sandbox=run.sandbox)


def run(ctx: StageContext) -> StageResult:
    if not ctx.settings.run_tests:
        ctx.info(NAME, "QA skipped (--no-tests)")
        return StageResult(commit=False, status="skipped")
    prd, design = ctx.load_prd(), ctx.load_design()
    progress = ctx.state.qa_progress
    if not progress.tests_written:
        progress.test_files = write_tests(ctx, prd, design)
        progress.tests_written = True
        ctx.checkpoint()
    mode = ctx.settings.sandbox
    if (warning := sandbox_warning(mode)):
        ctx.info("", warning)
    python, install_error = project_python(ctx.workspace.root, design.dependencies, ctx.settings.install_deps,
                                           ctx.settings.test_timeout, mode=mode)
    run_, counts = run_pytest(ctx.workspace.root, python, timeout=ctx.settings.test_timeout, mode=mode)
    report = report_for(counts, run_, progress.rounds_done, progress.test_files, progress.fixed_files, install_error)
    ctx.info(NAME, f"tests: {report.passed} passed, {report.failed} failed, {report.errors} errors")

    while report.verdict != "passed" and progress.rounds_done < ctx.settings.fix_rounds:
        n = progress.rounds_done + 1
        failure = trim_failures(run_.output)
        messages = ctx.messages("fix", schema=FixReply, prd=prd, design=design, failure=failure, round=n,
                                files=fix_context(ctx, design, progress.test_files, run_.output))
        reply = ctx.gateway.ask_model(NAME, messages, FixReply, label=f"fix round {n}",
                                      check=check_fix(design, progress.test_files))
        for fixed in reply.files:
            ctx.workspace.write(fixed.path, fixed.content)
            if fixed.path not in progress.fixed_files:
                progress.fixed_files.append(fixed.path)
            if fixed.path.startswith("tests/") and fixed.path not in progress.test_files:
                progress.test_files.append(fixed.path)  # a new test file joins the next rounds' context
        ctx.commit(FIX_COMMIT_STAGE, f"qa: fix round {n}\n\n{reply.explanation.strip()[:2000]}".rstrip())
        progress.rounds_done = n
        ctx.checkpoint()
        run_, counts = run_pytest(ctx.workspace.root, python, timeout=ctx.settings.test_timeout, mode=mode)
        report = report_for(counts, run_, n, progress.test_files, progress.fixed_files, install_error)
        ctx.info(NAME, f"fix round {n}: {report.passed} passed, {report.failed} failed, {report.errors} errors")

    ctx.state.qa = report
    files = {REPORT_JSON: report.model_dump_json(indent=2) + "\n",
             REPORT_MD: ctx.render("templates/qa_report.md.j2", report=report, prd=prd)}
    summary = f"{report.passed} passed, {report.failed} failed, {report.errors} errors"
    return StageResult(files=files, message=f"qa: {report.verdict}: {summary}\n\nfix rounds used: {report.rounds_used}",
                       exit_code=0 if report.verdict == "passed" else EXIT_TESTS_FAILED)
