"""QA: write pytest tests, run them in the sandbox, drive bounded fix rounds, report honestly.

The design's run command is tried first (``run_check``); test files are written once, one per
source module with behaviour (``qa_tests``); the fix rounds mend what fails (``fix_rounds``).
Each step is recorded in state, so a resume neither rewrites the tests nor repeats a round.
"""

from __future__ import annotations

from ..config import Settings
from ..errors import EXIT_TESTS_FAILED
from ..events import Event
from ..sandbox import project_python, sandbox_warning
from .base import DESIGN_JSON, PRD_JSON, BuiltinStage, CallPlan, StageContext, StageResult, prompt_templates
from .fix_rounds import FixRounds
from .qa_tests import FIX_STEP, REPORT_JSON, REPORT_MD, QAProgress, write_tests
from .run_check import check_run_command


def run(ctx: StageContext) -> StageResult:
    if not ctx.settings.run_tests:
        ctx.info("QA skipped (--no-tests)")
        return StageResult(commit=False, status="skipped")
    prd, design = ctx.load_prd(), ctx.load_design()
    progress = ctx.progress(QAProgress)
    mode = ctx.settings.sandbox
    if (warning := sandbox_warning(mode)):
        ctx.emit(Event("info", "", warning))  # a line of its own, in every output mode but --quiet
    python, install_error = project_python(ctx.root, design.dependencies, ctx.settings.install_deps,
                                           ctx.settings.test_timeout, mode=mode)
    if not progress.run_checked and not install_error:
        # Before the tests: they are written against the code the command runs.
        if (note := check_run_command(ctx, prd, design, python)) is not None:
            progress.fix_notes.append(note)
            ctx.commit(FIX_STEP, f"qa: run command checked\n\n{note}")
        progress.run_checked = True
        ctx.save_progress(progress)
    if not progress.tests_written:
        progress.test_files = write_tests(ctx, prd, design, progress.unwritten)
        progress.tests_written = True
        ctx.save_progress(progress)

    rounds = FixRounds(ctx, prd, design, progress, python, install_error)
    ctx.info(f"tests: {rounds.counted()}")
    report = rounds.run()
    progress.report = ctx.state.tests = report
    ctx.save_progress(progress)
    files = {REPORT_JSON: report.model_dump_json(indent=2) + "\n",
             REPORT_MD: ctx.render("templates/qa_report.md.j2", report=report, prd=prd)}
    summary = f"{report.passed} passed, {report.failed} failed, {report.errors} errors"
    return StageResult(files=files, message=f"qa: {report.verdict}: {summary}\n\nfix rounds used: {report.rounds_used}",
                       exit_code=0 if report.verdict == "passed" else EXIT_TESTS_FAILED)


def plans(settings: Settings) -> list[CallPlan]:
    if not settings.run_tests:
        return []
    return [CallPlan("test files", (2, settings.max_files), (1_500, 5_000), (400, 2_000)),
            CallPlan("fix rounds", (0, settings.fix_rounds), (3_000, 15_000), (1_000, 5_000)),
            CallPlan("hand checks", (0, 3 * settings.fix_rounds), (500, 1_500), (200, 700)),
            CallPlan("run command", (0, 1), (1_000, 4_000), (400, 3_000)),
            CallPlan("run command samples", (0, 2), (500, 4_000), (50, 400))]


STAGE = BuiltinStage(
    name="qa", title="QA", reads=(PRD_JSON, DESIGN_JSON, "code"), runner=run, plans=plans,
    templates={**prompt_templates("qa", {"prd", "design", "file", "module", "source", "dependencies", "test_path"}),
               **prompt_templates("fix", {"prd", "design", "failure", "round", "focus", "files", "undone", "checked"}),
               **prompt_templates("hand_check", {"prd", "file", "call", "setup", "raises"}),
               **prompt_templates("sample_input", {"prd", "command", "path", "sources"}),
               "templates/qa_report.md.j2": frozenset({"report", "prd"}),
               "templates/tests_conftest.py.j2": frozenset()},
)
