"""QA's fix rounds: bounded, each one LLM call for whole-file replacements (or a file written
afresh, or a turn to another failing file), applied, committed as ``qa: fix round N`` and
recorded in state, so a resume never repeats a round. Before each round, failing values are
checked by hand (``hand_checks``) and repairs read from the run alone are applied
(``run_repairs``); a fix that makes things worse is undone.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from textwrap import shorten

from ..asking import REPEAT_TEMPERATURE
from ..artifacts import PRD, Design, FileSpec, FixedFile, FixReply, QAReport
from ..code_checks import module_name
from ..errors import ModelOutputError
from ..pytest_output import crashes, failing_files, failing_tests, files_in_traceback, focus_failures
from ..sandbox import SandboxRun, TestCounts, run_pytest
from ..streaming import first_copy
from ..test_checks import fixtures_defined
from ..test_merge import failing_view
from .base import StageContext
from .engineer import write_afresh
from .example_gate import examples_broken
from .fix_replies import NoFixFound, check_fix, fix_reader, same_code
from .hand_checks import FailedCheck, corrected, failed_checks, hand_value, moved_lines, spec_example, specification_text, verdict
from .qa_tests import (
    CONFTEST, FIX_STEP, QAProgress, ask_test_file, example_files, mended_tests, qa_file_for, report_for, tested_module,
)
from .run_repairs import crashing_before_the_code, reads_unwritten, repaired_by_run

MAX_FIX_CONTEXT_CHARS = 60_000


def fix_context(ctx: StageContext, design: Design, test_files: list[str], output: str,
                failing: dict[str, set[str]] | None = None) -> list[dict[str, str]]:
    """The files a fix needs: tests (of a file in ``failing``, only its failing tests: ``failing_view``)
    and the sources named in tracebacks with the design files they depend on (else all sources),
    capped. The markdown table formatter's CLI crashed on `Formatter.alignments`, which only the
    core could define: shown the CLI alone, three fix rounds sent it back unchanged."""
    sources = [f.path for f in design.files if ctx.exists(f.path)]
    named = files_in_traceback(output, set(sources))
    named = list(dict.fromkeys([*named, *(dep for path in named for dep in design.file(path).depends_on if dep in sources)]))
    failing = failing or {}
    chosen: list[dict[str, str]] = []
    used = 0
    for path in [*test_files, *(named or sources)]:
        text = ctx.read(path) if ctx.exists(path) else ""
        if path in failing:
            text = failing_view(text, failing[path]) or text
        if path in (c["path"] for c in chosen) or used + len(text) > MAX_FIX_CONTEXT_CHARS:
            continue
        chosen.append({"path": path, "content": text})
        used += len(text)
    return chosen


@dataclass
class HandChecked:
    """What the hand checks of one round found (``hand_check``)."""

    advice: list[str] = field(default_factory=list)  # for the fix round
    corrections: list[str] = field(default_factory=list)  # test values corrected in the file
    code_wrong: dict[str, list[str]] = field(default_factory=dict)  # test file -> calls the code gets wrong
    tests_wrong: int = 0  # wrong expected values that could not be corrected in place: the fix round is told
    corrected_files: list[str] = field(default_factory=list)  # the test files the corrections were written to
    asked: list[str] = field(default_factory=list)  # the checks looked at ("<test file>: <check key>")


MAX_HAND_CHECKS = 6  # a round's questions over all failing files (each file at most hand_checks.MAX_CHECKS)


def checked_before(done: Collection[str], path: str) -> set[str]:
    """The keys of ``path``'s checks among ``done`` ("<test file>: <check key>")."""
    return {entry[len(path) + 2:] for entry in done if entry.startswith(f"{path}: ")}


def hand_check(ctx: StageContext, prd: PRD, design: Design, files: Sequence[str], output: str,
               done: Collection[str] = ()) -> HandChecked:
    """Each failing value assertion of these test files (the round's focus first, then the other
    failing ones: the password generator's wrong `validate_password('12345678') == True` sat in a
    file no round had turned to) worked out by the model from the specification alone
    (``hand_checks``). A wrong expected value is corrected in the test file (written, not yet
    committed) where it can be told apart, else the fix round is told; a right one becomes
    advice that the code is wrong. A reply that reaches no value decides nothing. A call whose result
    the specification gives as an example (``spec_example``) is not asked about: the example decides.
    A check in ``done`` (looked at in an earlier round) is not asked again: the next ones are."""
    found = HandChecked()
    asked = 0
    sources = "\n".join(ctx.read(f.path) for f in design.files if ctx.exists(f.path))  # what the run repairs read
    for path in files:
        spec = tested_module(design, path)
        if spec is None or not ctx.exists(path):
            continue
        original = ctx.read(path)
        code, repairs = repaired_by_run(output, path, original, sources)  # no question needed for these
        found.corrections += repairs
        written = specification_text(prd, spec)
        # The output's line numbers are the original file's; a repair may have moved them (an added
        # `import pytest`) or changed the assert itself (then it is not asked about).
        moved = moved_lines(original, code)
        checks = [check for check in failed_checks(output, path, original, checked_before(done, path))
                  if moved.get(check.line)][:max(MAX_HAND_CHECKS - asked, 0)]
        for check in checks:
            check.line = moved[check.line]
        decided: list[tuple[FailedCheck, str | None]] = []
        for check in checks:
            found.asked.append(f"{path}: {check.key}")
            readable, hand = spec_example(written, check.call) if not (check.setup or check.raises or check.raised) \
                else (False, None)
            check.given = readable
            if not readable:
                asked += 1
                messages = ctx.messages("hand_check", prd=prd, file=spec, call=check.call, setup=check.setup,
                                        raises=check.raises or check.raised)
                try:
                    readable, hand = hand_value(ctx.gateway.ask_text(ctx.stage, messages, label=f"hand check {check.test}"))
                except ModelOutputError:
                    continue
            decided.append((check, verdict(check, hand) if readable else None))
        code = settled(code, path, decided, found)
        if code != original:
            ctx.write(path, code)
            found.corrected_files.append(path)
    return found


def settled(code: str, path: str, decided: list[tuple[FailedCheck, str | None]], found: HandChecked) -> str:
    """``code`` (test file ``path``) with each expected value the hand checks found wrong corrected
    where it can be, and ``found`` told the rest: a test wrong in a way no correction reaches, or a
    fact the code gets wrong. Corrected from the last line up: a correction that drops lines (a
    `pytest.raises` block and the asserts on its exception) moves every line below it, and the roman
    converter's second such test, checked by hand as rightly completing, stayed red (its line pointed
    at another one)."""
    done: set[int] = set()
    for check, side in sorted(decided, key=lambda pair: pair[0].line, reverse=True):
        if side == "code" and (fixed := corrected(code, check)) is not None:
            code = fixed
            done.add(id(check))
    for check, side in decided:  # noted in the order asked
        if id(check) in done:
            found.corrections.append(check.correction())
        elif side == "code":
            found.advice.append(check.test_wrong())
            found.tests_wrong += 1
        elif side == "test":
            found.advice.append(check.code_wrong())
            found.code_wrong.setdefault(path, []).append(check.fact())
    return code


def tests_afresh(ctx: StageContext, prd: PRD, design: Design, test_file: str, output: str) -> FixReply | None:
    """``test_file`` written afresh by QA, as a fix, when its failing tests read data files they
    never write (the CSV converter's 21 tests passed ``test_data.csv`` and friends to the code, every
    one failed with "No such file", and the fix round sent the file back unchanged), or fail on a
    line of their own before the code is involved (``crashing_before_the_code``: the run repairs
    drop such tests, unless none would remain)."""
    spec = tested_module(design, test_file)
    if spec is None or not ctx.exists(test_file):
        return None
    current = ctx.read(test_file)
    if unread := reads_unwritten(output, test_file, current):
        files = ", ".join(sorted(set(unread.values())))
        problem = (f"An earlier version of {test_file} failed: its tests read {files}, which no test writes, and each "
                   "test runs in its own empty folder. Write the file again, from scratch: a test that needs an input "
                   "file writes it first (under tmp_path) and passes that path.")
        why = f"its tests read {files}, which no test writes"
    elif crashed := crashing_before_the_code(output, test_file, current):
        problem = (f"An earlier version of {test_file} failed on the tests' own lines, before the code under test ran:\n"
                   + "".join(f"- {test}: {error}\n" for test, error in crashed.items())
                   + "Write the file again, from scratch, so that every line of a test runs: build each input the way "
                     "the code's signatures take it.")
        why = f"{len(crashed)} of its tests failed on their own lines, before the code ran"
    else:
        return None
    try:
        content = ask_test_file(ctx, prd, design, spec, problem)
    except ModelOutputError:
        return None
    if same_code(content, current):
        return None
    return FixReply(files=[FixedFile(path=test_file, content=content)], explanation=f"{test_file} written afresh by QA: {why}")


def rewrite_target(design: Design, code_wrong: dict[str, list[str]]) -> tuple[FileSpec | None, list[str]]:
    """The module to write afresh, and the facts its own tests' hand checks found: of the modules
    with such facts, one that another of them depends on (a wrong value starts there). The
    expression calculator's CLI and core tests both had facts; the CLI was rewritten with all of
    them, while its core held the stub that made every value None."""
    found = [(spec, facts) for path, facts in code_wrong.items() if (spec := tested_module(design, path)) is not None]
    used = {dep for spec, _ in found for dep in spec.depends_on}
    chosen = [(spec, facts) for spec, facts in found if spec.path in used] or found
    return chosen[0] if chosen else (None, [])


def failing_tests_target(design: Design, focus: str, output: str, progress: QAProgress) -> tuple[FileSpec, str] | None:
    """(the module to write afresh for its failing tests, its test file): of the focus file's module
    and the modules it depends on whose own tests fail too, one written so the fewest times (at most
    ``MAX_REWRITES_FOR_TESTS``), a dependency first (the CSV converter's CLI tests failed because its
    core did: the core's tests failed too)."""
    tested = tested_module(design, focus)
    if tested is None:
        return None
    failing = set(failing_files(output))
    candidates = [(design.file(dep), qa_file_for(dep)) for dep in tested.depends_on
                  if qa_file_for(dep) in failing and dep.endswith(".py")] + [(tested, focus)]
    tries = {spec.path: progress.rewritten_for_tests.count(spec.path) for spec, _ in candidates}
    open_ = [(spec, test_file) for spec, test_file in candidates if tries[spec.path] < MAX_REWRITES_FOR_TESTS]
    return min(open_, key=lambda candidate: tries[candidate[0].path], default=None)  # the fewest tries, a dependency first


MAX_REWRITES_FOR_TESTS = 2  # samples of one module written afresh for its failing tests: the CSV converter's one
# rewrite left 1 of 4 tests failing (numbers read as text) and the rounds stopped with two of three unused


MAX_FAILURE_CHARS_FOR_REWRITE = 4000  # of the focus file's failures, shown to the engineer writing afresh


ASKED_UNCHANGED = "asked to edit it, the model sent it back unchanged"
NOT_ASKED = "not asked to edit it, since an earlier round's edit came back unchanged"


def rewritten(ctx: StageContext, prd: PRD, design: Design, spec: FileSpec, code_wrong: list[str],
              crashed: list[str], failing: str = "", tried: int = 0, because: str = ASKED_UNCHANGED) -> FixReply | None:
    """``spec``'s file written afresh with the engineer's own prompt plus what the hand checks
    found wrong (or, failing those, where the file crashed in the tests), as a fix: for a model
    that, asked to edit the file, sends it back unchanged.

    Seen on the 1.5B model: HumanEval/108's hand checks were right three times out of three
    ("`count_nums([-1, 11, -11])` must return 1"), and the fix rounds sent solution.py back
    unchanged twice; the markdown table formatter raised IndexError in five tests, and both
    rounds sent the files back unchanged. A rewrite that makes things worse is undone like any fix.
    It is a sample at the raised temperature: the engineer's own write (and the example gate's
    samples) came at the configured one, and the same prompt style tends to the same code.
    Failing all those, ``failing`` (the tests' own failures, which may be wrong themselves) is what
    the rewrite is told: a sample kept only when no fewer tests pass, for a model whose edits of a
    file come back unchanged in about 42 of 44 rounds. ``tried``: earlier rewrites of the file (the
    prompt says so, so a second sample is no cached copy of the first: a BMI calculator's core,
    written afresh for the same crash and undone, came back from the cache three rounds running).
    ``because``: why a rewrite and not an edit, for the report."""
    if code_wrong:
        problem = (f"An earlier version of {spec.path} was wrong. Worked out by hand from the specification:\n"
                   + "".join(f"- {note}\n" for note in code_wrong) + f"Write {spec.path} again, from scratch, so that these hold.")
        why = f"hand checks found {len(code_wrong)} call{'s' if len(code_wrong) > 1 else ''} it got wrong"
    elif crashed:
        problem = (f"An earlier version of {spec.path} crashed in its tests:\n" + "".join(f"- {note}\n" for note in crashed)
                   + f"Write {spec.path} again, from scratch, so that it works on every input the specification allows.")
        why = f"it crashed in {len(crashed)} test{'s' if len(crashed) > 1 else ''}"
    elif failing:
        problem = (f"An earlier version of {spec.path} failed these tests:\n```\n{failing[:MAX_FAILURE_CHARS_FOR_REWRITE]}\n```\n"
                   f"Write {spec.path} again, from scratch, so that they pass; where a test contradicts the "
                   "specification, follow the specification.")
        why = "its tests still failed"
    else:
        return None
    if tried:
        problem += f"\nAttempt {tried + 1}: an earlier rewrite failed too; write it another way."
    try:
        content = write_afresh(ctx, prd, design, spec, problem, temperature=max(ctx.settings.temperature, REPEAT_TEMPERATURE))
    except ModelOutputError:
        return None
    if same_code(content, ctx.read(spec.path)):
        return None
    return FixReply(files=[FixedFile(path=spec.path, content=content)],
                    explanation=f"{spec.path} rewritten by the engineer from scratch: {because}, and {why}")


def apply_fix(ctx: StageContext, design: Design, progress: QAProgress, reply: FixReply) -> None:
    """Write a fix's files (not yet committed); a test file gets the same repairs as a new one."""
    tested = {qa_file_for(f.path): f.path for f in design.files}
    conftest = next((f.content for f in reply.files if f.path == CONFTEST), None) or \
        (ctx.read(CONFTEST) if ctx.exists(CONFTEST) else "")
    for fixed in reply.files:
        if fixed.path in tested and ctx.exists(tested[fixed.path]):
            source = next((f.content for f in reply.files if f.path == tested[fixed.path]), None)
            fixed.content = mended_tests(fixed.content, design, module_name(tested[fixed.path]),
                                         source or ctx.read(tested[fixed.path]), frozenset(fixtures_defined(conftest)))
        ctx.write(fixed.path, fixed.content)
        if fixed.path not in progress.fixed_files:
            progress.fixed_files.append(fixed.path)
        if fixed.path.startswith("tests/") and fixed.path not in progress.test_files:
            progress.test_files.append(fixed.path)  # a new test file joins the next rounds' context


@dataclass
class TestRun:
    """One run of the tests: pytest's output, the counts, the docstring examples run with them."""

    run: SandboxRun
    counts: TestCounts
    examples: list[str]


class FixRounds:
    """QA's bounded fix rounds over the tests: each round hand-checks the failing values, asks for a
    fix (or has a file written afresh, or turns to another failing file), applies it, runs the tests,
    and undoes a fix that made things worse. Progress is saved after every step, so a resume
    repeats nothing."""

    def __init__(self, ctx: StageContext, prd: PRD, design: Design, progress: QAProgress, python: str,
                 install_error: str | None) -> None:
        self.ctx, self.prd, self.design, self.progress = ctx, prd, design, progress
        self.python, self.install_error = python, install_error
        self.last = self.test()
        self.report = self.report_now()
        self.clock, self.spent_before = time.monotonic(), progress.fix_seconds

    def test(self) -> TestRun:
        """The tests and the docstring examples the code has now (a fix may add or remove some)."""
        examples = example_files(self.ctx, self.design)
        run_, counts = run_pytest(self.ctx.root, self.python, timeout=self.ctx.settings.test_timeout,
                                  mode=self.ctx.settings.sandbox, doctest_files=examples)
        return TestRun(run_, counts, examples)

    def report_now(self, **stopped: bool) -> QAReport:
        return report_for(self.last.counts, self.last.run, self.progress, self.install_error, self.last.examples, **stopped)

    def retest(self) -> None:
        self.last = self.test()
        self.report = self.report_now()

    def counted(self) -> str:
        return f"{self.report.passed} passed, {self.report.failed} failed, {self.report.errors} errors"

    def out_of_time(self) -> bool:
        """Another round, at the pace of the rounds so far, would end past ``fix_minutes``: a cloud
        model's round takes seconds, a 1.5B model's on 2 CPU cores 2-6 minutes, and a third round
        begun at minute 9 of 10 made the pomodoro timer take 22 minutes. The report says the rounds
        stopped on time, and a resume with a larger fix_minutes goes on. The pace leaves out the edits
        the model sent back unchanged, which later rounds no longer wait for (the password
        generator's round 1 took 5.1 min, 2.7 of them one unchanged edit, and no round 2 began)."""
        self.progress.fix_seconds = self.spent_before + time.monotonic() - self.clock
        limit = self.ctx.settings.fix_minutes
        pace = (self.progress.fix_seconds - self.progress.unchanged_edit_seconds) / max(self.progress.rounds_done, 1)
        return limit is not None and self.progress.fix_seconds + pace > limit * 60

    def end_round(self, n: int, note: str) -> None:
        self.progress.rounds_done = n
        self.progress.fix_notes.append(note)
        self.ctx.save_progress(self.progress)

    def run(self) -> QAReport:
        ctx, progress = self.ctx, self.progress
        if self.report.verdict != "passed" and ctx.settings.fix_rounds and not progress.tests_committed:
            # The tests as written, before any round touches them: round 1's commit shows only its change.
            ctx.commit(FIX_STEP, f"qa: tests written: {self.counted()}")
            progress.tests_committed = True
            ctx.save_progress(progress)
        while self.report.verdict != "passed" and progress.rounds_done < ctx.settings.fix_rounds:
            n = progress.rounds_done + 1
            if progress.rounds_done and self.out_of_time():
                seconds = progress.fix_seconds
                took = f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"
                ctx.info(f"fix rounds stop after round {n - 1}: they took {took}, and one more would end past "
                         f"fix_minutes: {ctx.settings.fix_minutes:g}")
                self.report = self.report_now(out_of_fix_time=True)
                break
            if not self.round(n):
                break
        if progress.rounds_done and not self.report.out_of_fix_time and not self.report.no_fix_found:
            self.out_of_time()  # records the rounds' time
            self.report = self.report_now()
        return self.report

    def round(self, n: int) -> bool:
        """Fix round ``n``; False when the rounds must stop (green, or nothing left to try)."""
        ctx, progress, design = self.ctx, self.progress, self.design
        focus, failure = focus_failures(self.last.run.output, tried=progress.focused)
        others = [path for path in failing_files(self.last.run.output) if path != focus]
        checked = hand_check(ctx, self.prd, design, [focus, *others], self.last.run.output, progress.hand_checked) \
            if focus else HandChecked()
        progress.hand_checked += checked.asked
        if checked.corrections:
            if self.corrected(n, checked):
                return False
            focus, failure = focus_failures(self.last.run.output, tried=progress.focused)
        if focus:
            progress.focused.append(focus)
        current = {path: ctx.read(path) for path in [*progress.test_files, *(f.path for f in design.files)]
                   if ctx.exists(path)}
        if progress.unchanged_fixes and focus and not checked.tests_wrong and \
                (instead := self.rewrite(focus, failure, checked, NOT_ASKED)):
            # This model sent an edit back unchanged already; the next edit would likely be another
            # one to two minutes of copying (22% of the 1.5B's edits changed anything, the first or a
            # later one alike), while a rewrite is one short reply. An edit is still asked when no
            # rewrite is ready, or when a test the hand checks found wrong needs one.
            ctx.info(f"fix round {n}: an earlier edit came back unchanged; {instead.files[0].path} is written afresh")
            self.apply(n, instead, current)
            return True
        counts = self.last.counts
        failing = failing_tests(self.last.run.output, focus, counts.failures + counts.errors) if focus else None
        messages = ctx.messages("fix", prd=self.prd, design=design, failure=failure, round=n, focus=focus,
                                files=fix_context(ctx, design, [focus] if focus else progress.test_files, failure,
                                                  {focus: failing} if focus and failing else None),
                                undone=progress.undone, checked=checked.advice)
        # A fix replaces a few small files: a reply past max_output_tokens is a model going in
        # circles (seen: 4,096 tokens of repeated subcommands), so it is asked shorter, not given more;
        # a reply that started over is read from its first copy (never a cut-off end: it holds sources).
        asked = time.monotonic()
        try:
            reply = ctx.gateway.ask_parsed(ctx.stage, messages, fix_reader(check_fix(design, progress.test_files, current)),
                                           label=f"fix round {n}", what="fix", max_doublings=0, salvage=first_copy)
        except NoFixFound as exc:
            progress.unchanged_fixes += 1
            progress.unchanged_edit_seconds += time.monotonic() - asked
            found = self.instead_of_no_fix(n, focus, failure, checked, exc)
            if not isinstance(found, FixReply):
                return found
            reply = found
        except ModelOutputError as exc:
            # A round whose replies stayed unusable changed nothing: it is used up, and QA ends with
            # its honest report (exit 5) rather than the whole run with exit 4 and no report.
            reason = exc.message.split(" attempts: ", 1)[-1]
            self.end_round(n, f"round {n}: nothing changed, the model's replies stayed unusable ({shorten(reason, 300, placeholder=' ...')})")
            ctx.info(f"fix round {n}: the model's replies stayed unusable; nothing changed")
            self.report = self.report_now()
            return True
        self.apply(n, reply, current)
        return True

    def corrected(self, n: int, checked: HandChecked) -> bool:
        """Wrong expected values corrected: committed and noted as part of this round, which goes on
        with what still fails (often nothing: the code was right all along). True when green."""
        ctx, progress, corrections = self.ctx, self.progress, checked.corrections
        progress.fix_notes.append(f"round {n}: tests corrected: " + "; ".join(corrections))
        progress.fixed_files += [path for path in checked.corrected_files if path not in progress.fixed_files]
        ctx.commit(FIX_STEP, f"qa: fix round {n}: tests corrected\n\n" + "\n".join(corrections))
        ctx.save_progress(progress)
        self.retest()
        ctx.info(f"fix round {n}: {len(corrections)} test{'s' if len(corrections) > 1 else ''} corrected: {self.counted()}")
        if self.report.verdict == "passed":
            progress.rounds_done = n
            ctx.save_progress(progress)
            return True
        return False

    def rewrite(self, focus: str, failure: str, checked: HandChecked, because: str) -> FixReply | None:
        """A file written afresh instead of edited: the focus test file by QA (its tests read files no
        test writes), or a source by the engineer (with the hand-checked facts, or where the tests
        crashed in it, or, twice a module at most, the focus file's ``failure``); None when none is
        ready (or the model wrote it the same again)."""
        ctx, progress, design, output = self.ctx, self.progress, self.design, self.last.run.output
        if (afresh := tests_afresh(ctx, self.prd, design, focus, output)) is not None:
            return afresh
        module, wrong = rewrite_target(design, checked.code_wrong)
        crashed: list[str] = []
        if module is None and (by_source := crashes(output, focus, [f.path for f in design.files])):
            # No hand-checked facts, but the code crashed: the file it crashed in most is written afresh.
            source = max(by_source, key=lambda path: len(by_source[path]))
            module, crashed = design.file(source), by_source[source]
        failing = ""
        if module is None and (target := failing_tests_target(design, focus, output, progress)) is not None:
            # No facts, no crash: the tests' own failures, twice a module at most (each rewrite is one sample).
            module, test_file = target
            failing = failure if test_file == focus else focus_failures(output, only=test_file)[1]
            progress.rewritten_for_tests.append(module.path)
        if module is None:
            return None
        tried = progress.rewrites.count(module.path)
        progress.rewrites.append(module.path)
        return rewritten(ctx, self.prd, design, module, wrong, crashed, failing, tried, because)

    def instead_of_no_fix(self, n: int, focus: str | None, failure: str, checked: HandChecked,
                          exc: NoFixFound) -> FixReply | bool:
        """The model sent the files back unchanged: a file written afresh (``rewrite``), else a turn for
        an untried failing file (True: go on), else the rounds stop (False)."""
        ctx, progress, output = self.ctx, self.progress, self.last.run.output
        if focus and (rewrite := self.rewrite(focus, failure, checked, ASKED_UNCHANGED)) is not None:
            ctx.info(f"fix round {n}: the model sent the files back unchanged; {rewrite.files[0].path} is written afresh")
            return rewrite
        untried = [path for path in failing_files(output) if path not in progress.focused]
        if untried:
            # Another failing file has not had its turn (nor its hand checks as the focus): a new
            # question, not a replay of this one, so the rounds go on with it.
            self.end_round(n, f"round {n}: nothing changed; {exc}; the next round turns to {untried[0]}")
            ctx.info(f"fix round {n}: the model sent the files back unchanged; the next round turns to {untried[0]}")
            return True
        unasked = self.unasked_checks()
        if unasked:
            # Failing values no hand check has looked at yet (a round asks a few): the roman numeral
            # converter's rounds stopped with `to_roman(130) == 'CLX'` and two more never asked.
            self.end_round(n, f"round {n}: nothing changed; {exc}; the next round checks {unasked} more failing "
                              f"value{'s' if unasked > 1 else ''} by hand")
            ctx.info(f"fix round {n}: the model sent the files back unchanged; the next round checks more failing values by hand")
            return True
        self.end_round(n, f"round {n}: nothing changed; {exc}, so the rounds stop here")
        ctx.info(f"fix round {n}: the model sent the files back unchanged; no more rounds")
        self.out_of_time()  # records the rounds' time
        self.report = self.report_now(no_fix_found=True)
        return False

    def spec_examples_broken(self, reply: FixReply, current: dict[str, str]) -> list[str]:
        """Examples the specification gives that a changed source met before the fix and fails after
        (``example_gate``): HumanEval's ``fix_spaces("Example 1") == "Example_1"`` is no doctest, and
        only a doctest counted as a promise a fix must keep."""
        if not self.ctx.settings.run_tests:
            return []
        sources = [f.path for f in self.design.files if f.path.endswith(".py")]
        before = {path: current[path] for path in sources if path in current}
        after = {path: self.ctx.read(path) for path in sources if self.ctx.exists(path)}
        return [f"`{call}`" for fixed in reply.files if (spec := next((f for f in self.design.files if f.path == fixed.path), None))
                and fixed.path in before for call in examples_broken(self.ctx, specification_text(self.prd, spec),
                                                                     fixed.path, before, after)]

    def unasked_checks(self) -> int:
        """How many failing value checks (up to a round's worth per file) no hand check has looked at."""
        output, done = self.last.run.output, self.progress.hand_checked
        return sum(len(failed_checks(output, path, self.ctx.read(path), checked_before(done, path)))
                   for path in failing_files(output) if self.ctx.exists(path))

    def apply(self, n: int, reply: FixReply, current: dict[str, str]) -> None:
        """Write and commit the fix, run the tests, and undo it if it made things worse."""
        ctx, progress = self.ctx, self.progress
        apply_fix(ctx, self.design, progress, reply)
        ctx.commit(FIX_STEP, f"qa: fix round {n}\n\n{reply.explanation.strip()[:2000]}".rstrip())
        changed = ", ".join(f.path for f in reply.files)
        self.end_round(n, f"round {n} ({changed}): {shorten(reply.explanation, 500, placeholder=' ...') or 'no explanation given'}")
        previous, previous_report = self.last, self.report
        self.retest()
        ctx.info(f"fix round {n}: {self.counted()}")
        broken = sorted(previous.counts.passing_examples & set(self.last.counts.failing_examples))
        promised = self.spec_examples_broken(reply, current)
        # Tests that ran before and now cannot even be collected (the expression calculator's core written
        # afresh without the interface's `evaluate`: 8 failing tests became 2 import errors, 0 passed both times).
        ran, ran_before = self.report.passed + self.report.failed, previous_report.passed + previous_report.failed
        unrunnable = self.report.errors > previous_report.errors and ran < ran_before
        worse = self.report.passed < previous_report.passed or broken or unrunnable
        if (self.report.verdict == "passed" and not promised) or not (worse or promised) \
                or not all(f.path in current for f in reply.files):
            return
        # A fix that breaks passing tests, or a docstring example that held, is undone, so the rounds
        # never end worse than they began (an example is a promise; a small model's own test may be wrong).
        # So is one breaking the specification's own example even when every test then passes: the
        # tests were changed to agree with wrong code.
        for fixed in reply.files:
            ctx.write(fixed.path, current[fixed.path])
        what = (f"the docstring example{'s' if len(broken) > 1 else ''} {', '.join(broken[:3])} failed" if broken else
                f"the specification's example{'s' if len(promised) > 1 else ''} {', '.join(promised[:3])} failed" if promised else
                f"passing tests fell from {previous_report.passed} to {self.report.passed}"
                if self.report.passed < previous_report.passed else
                f"tests that ran before could no longer be collected ({self.report.errors} errors; "
                f"{ran} of {ran_before} tests ran)")
        ctx.commit(FIX_STEP, f"qa: undo fix round {n}\n\n{what}")
        progress.fix_notes[-1] += f" [undone: {what}]"
        progress.undone.append(f"round {n} changed {changed} and {what}; that change was undone, so try another fix")
        ctx.save_progress(progress)
        self.last = previous
        self.report = self.report_now()
        ctx.info(f"fix round {n} undone: {what}")


