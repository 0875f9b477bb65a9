"""Sandbox limits and the pure helpers of the QA stage."""

import sys

import pytest

from swcompany.artifacts import Design, FixReply
from swcompany.pytest_output import files_in_traceback, trim_failures
from swcompany.sandbox import parse_junit, parse_junit_text, run_sandboxed
from swcompany.stages.qa import check_fix, module_name, qa_file_for
from swcompany.structured import ReplyError, parse_model
from scenario import DESIGN

PYTEST_OUTPUT = """\
............F                                                            [100%]
=================================== FAILURES ===================================
________________________________ test_add ______________________________________

    def test_add():
>       assert add(1, 1) == 3
E       assert 2 == 3

tests/test_calc.py:4: AssertionError
--------------------------- Captured stdout call -------------------------------
noise
=========================== short test summary info ============================
FAILED tests/test_calc.py::test_add - assert 2 == 3
1 failed, 12 passed in 0.31s
"""


def test_trim_keeps_failures_and_drops_progress_and_timings():
    trimmed = trim_failures(PYTEST_OUTPUT)
    assert trimmed.startswith("=") and "assert 2 == 3" in trimmed and "FAILED tests/test_calc.py" in trimmed
    assert "............F" not in trimmed and "0.31s" not in trimmed


def test_trim_caps_long_output_keeping_head_and_tail():
    long = "=" * 5 + " FAILURES " + "=" * 5 + "\n" + "x\n" * 50_000 + "FAILED the last line"
    trimmed = trim_failures(long, limit=2000)
    assert len(trimmed) <= 2000 and "FAILURES" in trimmed and trimmed.endswith("FAILED the last line")


def test_files_in_traceback():
    assert files_in_traceback(PYTEST_OUTPUT, {"tests/test_calc.py", "calc.py"}) == ["tests/test_calc.py"]


@pytest.mark.parametrize("path", ["../../etc/passwd", "/etc/passwd", "C:\\\\x.py", ".git/hooks/pre-commit"])
def test_fix_reply_with_unsafe_path_is_refused(path):
    with pytest.raises(ReplyError):
        parse_model('{"files": [{"path": "%s", "content": "x"}]}' % path, FixReply)


def test_fix_reply_outside_design_or_with_syntax_error_is_refused():
    check = check_fix(Design.model_validate(DESIGN), ["tests/test_todo_cli.py"])
    with pytest.raises(ReplyError, match="not a design file"):
        check(FixReply.model_validate({"files": [{"path": "setup.py", "content": "x = 1\n"}]}))
    with pytest.raises(ReplyError, match="does not parse"):
        check(FixReply.model_validate({"files": [{"path": "todo/cli.py", "content": "def (:\n"}]}))
    check(FixReply.model_validate({"files": [{"path": "todo/cli.py", "content": "x = 1\n"},
                                             {"path": "tests/test_new.py", "content": "def test_x():\n    pass\n"}]}))


def test_tests_file_and_module_names():
    assert qa_file_for("todo/storage.py") == "tests/test_todo_storage.py"
    assert qa_file_for("src/app/main.py") == "tests/test_app_main.py"
    assert module_name("src/app/__init__.py") == "app"


def test_sandbox_kills_a_hang_with_its_children(tmp_path):
    code = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"
    run = run_sandboxed([sys.executable, "-c", code], tmp_path, timeout=1)
    assert run.timed_out and run.exit_code is None


def test_sandbox_kills_an_output_flood(tmp_path):
    run = run_sandboxed([sys.executable, "-c", "while True: print('x' * 1000)"], tmp_path, timeout=30, output_cap=100_000)
    assert run.flooded and len(run.output) < 101_000


def test_sandbox_env_has_no_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret-value")
    monkeypatch.setenv("DB_PASSWORD", "hunter2hunter2")
    run = run_sandboxed([sys.executable, "-c", "import os; print(sorted(os.environ))"], tmp_path, timeout=10)
    assert "ANTHROPIC_API_KEY" not in run.output and "DB_PASSWORD" not in run.output and "PATH" in run.output


def test_parse_junit(tmp_path):
    xml = tmp_path / "j.xml"
    cases = '<testcase/><testcase/><testcase><failure/></testcase><testcase><error/></testcase><testcase><skipped/></testcase>'
    xml.write_text(f'<testsuites><testsuite tests="5" failures="1" errors="1" skipped="1">{cases}</testsuite></testsuites>')
    counts = parse_junit(xml)
    assert (counts.tests, counts.failures, counts.errors, counts.skipped, counts.passed) == (5, 1, 1, 1, 2)
    assert parse_junit(tmp_path / "missing.xml") is None


@pytest.mark.parametrize("xml", [
    '<testsuites><testsuite tests="42" failures="0" errors="0" skipped="0"/></testsuites>',  # counts without cases
    '<testsuite tests="1" failures="0" errors="0" skipped="0"><testcase><failure/></testcase></testsuite>',
    '<testsuites><testsuite tests="1" failures="0" errors="0" skipped="0"><testcase/></testsuite>',  # cut short
    "", "42 passed",
])
def test_an_incomplete_or_contradictory_report_counts_nothing(xml):
    assert parse_junit_text(xml) is None
