"""Sandbox limits and the pure helpers of the QA stage."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from swcompany.artifacts import Design, FixReply
from swcompany.pytest_output import files_in_traceback, focus_failures, trim_failures
from swcompany import bwrap
from swcompany.errors import ConfigError
from swcompany.sandbox import SandboxRun, honest_counts, parse_junit, parse_junit_text, run_sandboxed, sandbox_warning
from swcompany.code_checks import module_name
from swcompany.stages.fix_replies import check_fix
from swcompany.stages.qa_tests import qa_file_for
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
        parse_model(f'{{"files": [{{"path": "{path}", "content": "x"}}]}}', FixReply)


def test_fix_reply_outside_design_or_with_syntax_error_is_refused():
    check = check_fix(Design.model_validate(DESIGN), ["tests/test_todo_cli.py"])
    with pytest.raises(ReplyError, match="not a design file"):
        check(FixReply.model_validate({"files": [{"path": "setup.py", "content": "x = 1\n"}]}))
    with pytest.raises(ReplyError, match="does not parse"):
        check(FixReply.model_validate({"files": [{"path": "todo/cli.py", "content": "def (:\n"}]}))
    check(FixReply.model_validate({"files": [{"path": "todo/cli.py", "content": "def main(argv=None):\n    return 0\n"},
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


def test_a_failure_too_long_to_read_in_full_does_not_hide_the_others(tmp_path):
    """The CSV converter's CLI test: `'Alice' in <a whole converted file>`, 870 KB in full, and the
    failures after it never reached the hand checks. Such a run is repeated with shortened values."""
    from swcompany.sandbox import run_pytest

    (tmp_path / "tests").mkdir()
    (tmp_path / ".swcompany").mkdir()  # the workspace's own folder (its sandbox pid file)
    (tmp_path / "tests" / "test_x.py").write_text(
        "def test_a_long():\n    text = 'x' * 400_000\n    assert 'Alice' in text\n\n\n"
        "def test_b_value():\n    assert {'hello': 3, 'again': 1} == {'hello': 3}\n")
    run, counts = run_pytest(tmp_path, sys.executable, timeout=60, mode="none")
    assert not run.flooded and (counts.failures, counts.tests) == (2, 2)
    assert "test_b_value" in run.output and len(run.output) < 20_000


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


# --- containment (bubblewrap for real) and every exit path ----------------------------------------

needs_bwrap = pytest.mark.skipif(not bwrap.availability().ok, reason="bubblewrap unavailable")
DRIVER = """\
import signal, sys
from pathlib import Path
from swcompany.sandbox import run_sandboxed
def interrupt(*_):
    raise KeyboardInterrupt
signal.signal(signal.SIGTERM, interrupt)  # as swcompany's API does
# As at a terminal: a shell without job control starts background jobs with SIGINT ignored, and a
# suite run in the background (`.ci/run &`) would pass that on to this driver.
signal.signal(signal.SIGINT, signal.default_int_handler)
ws = Path(sys.argv[1])
run_sandboxed(["sh", "-c", "setsid sleep {token}1 & sleep {token}2 & touch started; wait"], ws, timeout=120,
              mode=sys.argv[2], pidfile=ws / "sandbox.pid")
"""


def sleepers(token: str, which: str = "12") -> list[int]:
    """Our sleepers: ``<token>1`` left its session with setsid, ``<token>2`` stayed in the group."""
    found = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            argv = (entry / "cmdline").read_bytes().split(b"\0")[:2]
            if entry.name.isdigit() and argv in ([b"sleep", f"{token}{n}".encode()] for n in which):
                found.append(int(entry.name))
    return found


def wait_for(predicate, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@pytest.mark.parametrize("mode", [pytest.param("auto", marks=needs_bwrap), "none"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_nothing_outlives_swcompany_on_any_signal(tmp_path, mode, sig):
    token = f"{600 + os.getpid() % 100}.{sig.value}{len(mode)}"
    driver = subprocess.Popen([sys.executable, "-c", DRIVER.replace("{token}", token), str(tmp_path), mode])
    try:
        assert wait_for(lambda: (tmp_path / "started").exists() and len(sleepers(token)) == 2)
        driver.send_signal(sig)
        driver.wait(timeout=10)
        if mode == "none" and sig == signal.SIGKILL:
            # Without bubblewrap a setsid child can survive kill -9; the next run reaps it first.
            run_sandboxed(["true"], tmp_path, timeout=10, mode="none", pidfile=tmp_path / "sandbox.pid")
        # Without bubblewrap a setsid'd process escapes the group: the README says so.
        which = "12" if mode == "auto" else "2"
        assert wait_for(lambda: sleepers(token, which) == [], 5), sleepers(token, which)
    finally:
        driver.kill()
        for pid in sleepers(token):
            os.kill(pid, signal.SIGKILL)


@needs_bwrap
def test_bubblewrap_sees_no_home_no_git_write_no_network_and_no_parent(tmp_path, monkeypatch):
    tmp_path = tmp_path / "ws"
    (tmp_path / ".git").mkdir(parents=True)
    secret_home = Path(os.environ["HOME"])
    (secret_home / "secret.txt").write_text("s3cret")
    listener = socket.create_server(("127.0.0.1", 0))  # ours, on the host's loopback: must be unreachable
    port = listener.getsockname()[1]
    code = (
        "import os, pathlib, socket\n"
        f"print('home', pathlib.Path('{secret_home}/secret.txt').exists())\n"
        "try:\n    open('.git/x', 'w'); print('git writable')\nexcept OSError: print('git read-only')\n"
        "open('ok.txt', 'w').write('fine')\n"
        "print('pids', sorted(int(p) for p in os.listdir('/proc') if p.isdigit())[:3], os.getppid())\n"
        f"try:\n    socket.create_connection(('127.0.0.1', {port}), timeout=1); print('online')\n"
        "except OSError: print('offline')\n"
        "print('env', sorted(os.environ))\n"
    )
    run = run_sandboxed([sys.executable, "-c", code], tmp_path, timeout=20)
    assert run.sandbox == "bubblewrap" and run.exit_code == 0, run.output
    assert "home False" in run.output and "git read-only" in run.output and "offline" in run.output
    assert "pids [1, 2" in run.output and (tmp_path / "ok.txt").read_text() == "fine"
    listener.close()
    assert "OPENAI_API_KEY" not in run.output and "'HOME'" in run.output


@needs_bwrap
@pytest.mark.parametrize("cap", ["cgroup", "watchdog"])
def test_process_cap_holds_as_root_by_cgroup_or_watchdog(tmp_path, monkeypatch, cap):
    if cap == "watchdog":
        monkeypatch.setattr(bwrap, "pids_cgroup", lambda limit: None)
    code = ("import os, time\nn = 0\ntry:\n    for _ in range(300):\n        if os.fork() == 0:\n"
            "            time.sleep(20); os._exit(0)\n        n += 1\nexcept OSError: pass\n"
            "open('forked.txt', 'w').write(str(n))\ntime.sleep(2)\n")
    started = time.monotonic()
    run = run_sandboxed([sys.executable, "-c", code], tmp_path, timeout=30, limits=bwrap.Limits(processes=40))
    assert time.monotonic() - started < 15
    forked = int((tmp_path / "forked.txt").read_text()) if (tmp_path / "forked.txt").exists() else 0
    if cap == "cgroup":  # prevention: fork fails past the cap
        assert forked < 300 and (run.exit_code is None or forked <= 40 + 4), run.output  # + bwrap, its init, python
    else:  # detection every 50 ms: a fast fork loop may finish first, but the whole sandbox is killed
        assert run.exit_code is None and "more than 40 processes" in run.output, run.output


@needs_bwrap
@pytest.mark.parametrize("code", ["bytearray(3 * 1024 ** 3)", "open('big', 'wb').write(b'x' * 80 * 2 ** 20)",
                                  "while True: pass"])
def test_memory_file_size_and_cpu_are_limited(tmp_path, code):
    limits = bwrap.Limits(memory_bytes=1024 ** 3, file_bytes=16 * 2 ** 20, cpu_seconds=1)
    run = run_sandboxed([sys.executable, "-c", code], tmp_path, timeout=20, limits=limits)
    assert run.exit_code not in (0, None), run.output
    assert not (tmp_path / "big").exists() or (tmp_path / "big").stat().st_size <= 16 * 2 ** 20


def test_report_comes_through_a_pipe_not_a_file(tmp_path):
    code = "import sys; open(sys.argv[1], 'w').write('<testsuite tests=\"0\"/>'); print(sys.argv[1])"
    (tmp_path / "ws").mkdir()
    run = run_sandboxed([sys.executable, "-c", code, "{report}"], tmp_path / "ws", timeout=20, report=True)
    assert run.report == b'<testsuite tests="0"/>' and "/dev/fd/" in run.output and list((tmp_path / "ws").iterdir()) == []


@pytest.mark.parametrize("exit_code,output,xml,honest", [
    (0, "2 passed in 0.1s", '<testsuite tests="2" failures="0" errors="0" skipped="0"><testcase/><testcase/></testsuite>', True),
    (0, "", '<testsuite tests="2" failures="0" errors="0" skipped="0"><testcase/><testcase/></testsuite>', False),
    (0, "42 passed in 0.1s", '<testsuite tests="2" failures="0" errors="0" skipped="0"><testcase/><testcase/></testsuite>', False),
    (1, "2 passed in 0.1s", '<testsuite tests="2" failures="0" errors="0" skipped="0"><testcase/><testcase/></testsuite>', False),
    (0, "1 passed in 0.1s", None, False),
])
def test_verdict_is_cross_checked(exit_code, output, xml, honest):
    run = SandboxRun(exit_code, output, 0.1, report=xml.encode() if xml else None)
    counts, problem = honest_counts(run)
    assert (problem is None) == honest and (counts.tests > 0) == honest


def test_strict_without_bubblewrap_is_a_config_error(monkeypatch):
    monkeypatch.setenv(bwrap.BWRAP_ENV, "/nonexistent/bwrap")
    assert not bwrap.availability().ok and sandbox_warning("auto").startswith("warning: bubblewrap is not available")
    assert sandbox_warning("none") is None
    with pytest.raises(ConfigError):
        run_sandboxed(["true"], Path("."), timeout=5, mode="strict")


def test_interpreter_paths_never_include_home_or_root():
    paths = bwrap.interpreter_paths()
    assert Path(sys.prefix).resolve() in paths or any(p in Path(sys.prefix).resolve().parents for p in paths)
    assert Path("/") not in paths and Path.home().resolve() not in paths


def test_command_line_binds_only_the_workspace_writable(tmp_path):
    ws = tmp_path / "ws"
    (ws / ".git").mkdir(parents=True)
    (ws / ".swcompany" / "venv").mkdir(parents=True)
    args = bwrap.command("bwrap", ["pytest"], cwd=ws, workspace=ws, limits=bwrap.Limits(), network=False,
                         writable=[], readonly=[], environ={})
    pairs = {(args[i], args[i + 1]) for i in range(len(args) - 1)}
    writable = [args[i + 1] for i, a in enumerate(args) if a == "--bind"]
    assert writable == [str(ws)] and ("--ro-bind", str(ws / ".git")) in pairs and ("--ro-bind", str(ws / ".swcompany")) in pairs
    assert "--share-net" not in args and "--die-with-parent" in args and "--new-session" in args
    assert ("--remount-ro", "/") in pairs and str(Path.home()) not in [args[i + 1] for i, a in enumerate(args) if "bind" in a]
    install = bwrap.command("bwrap", ["pip"], cwd=ws, workspace=ws, limits=bwrap.Limits(), network=True,
                            writable=[ws / ".swcompany" / "venv"], readonly=[], environ={})
    assert "--share-net" in install and install[install.index(str(ws / ".swcompany" / "venv")) - 1] == "--bind"


TWO_FILES_OUTPUT = """\
..FF.E
==================================== ERRORS ====================================
______________________ ERROR at setup of test_load ______________________
file /w/tests/test_app_store.py, line 9
E       fixture 'db' not found
==================================== FAILURES ==================================
__________________________________ test_add ____________________________________

    def test_add():
>       assert add(1) == [1]
E       assert None == [1]

/w/tests/test_app_core.py:5: AssertionError
__________________________________ test_view ___________________________________

/w/tests/test_app_cli.py:7: AssertionError
__________________________________ test_del ____________________________________

/w/tests/test_app_core.py:9: AssertionError
=========================== short test summary info ============================
FAILED tests/test_app_core.py::test_add - assert None == [1]
FAILED tests/test_app_cli.py::test_view - AssertionError
FAILED tests/test_app_core.py::test_del - AssertionError
ERROR tests/test_app_store.py::test_load
2 failed, 1 error in 0.12s
"""


def test_a_fix_round_sees_the_failures_of_one_test_file():
    target, text = focus_failures(TWO_FILES_OUTPUT)
    assert target == "tests/test_app_core.py"
    assert "test_add" in text and "test_del" in text and "assert None == [1]" in text
    assert "test_view" not in text and "test_load" not in text and "test_app_cli" not in text
    assert text.rstrip().endswith("FAILED tests/test_app_core.py::test_del - AssertionError")
    assert focus_failures("Traceback: boom")[0] is None
    # rounds take turns: a file already worked on yields to one that was not
    assert focus_failures(TWO_FILES_OUTPUT, tried=["tests/test_app_core.py"])[0] == "tests/test_app_cli.py"
    tried = ["tests/test_app_core.py", "tests/test_app_cli.py", "tests/test_app_store.py"]
    assert focus_failures(TWO_FILES_OUTPUT, tried=tried)[0] == "tests/test_app_core.py"


def test_a_fix_round_shows_three_failures_in_full_and_names_the_rest():
    """HumanEval/20: eighteen failing parametrize rows made a 7,336-token fix prompt."""
    blocks = "".join(f"______ test_rows[case{i}] ______\n\n>   assert f(rows[{i}]) == {i}\nE   assert 0 == {i}\n\n"
                     f"/w/tests/test_solution.py:{i}: AssertionError\n" for i in range(18))
    summary = "".join(f"FAILED tests/test_solution.py::test_rows[case{i}] - assert 0 == {i}\n" for i in range(18))
    output = (f"{'=' * 10} FAILURES {'=' * 10}\n{blocks}{'=' * 10} short test summary info {'=' * 10}\n{summary}"
              "18 failed in 0.1s\n")
    target, text = focus_failures(output)
    assert target == "tests/test_solution.py"
    assert "assert 0 == 2" in text and "E   assert 0 == 3" not in text
    assert "(15 more failures of this file, listed below, not shown in full)" in text
    assert "test_rows[case9] - assert 0 == 9" in text and "case10]" not in text
    assert text.rstrip().endswith("... and 8 more")


LIBRARY_FRAMES = """\
=================================== FAILURES ===================================
___________________________ test_log ___________________________

    def test_log():
>       assert load("2023-04-01T12:00:00")

tests/test_log.py:5:
_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _
timer/log.py:3: in load
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
/usr/lib/python3.11/_strptime.py:568: in _strptime_datetime
    tt, fraction, gmtoff_fraction = _strptime(data_string, format)
_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _

data_string = '2023-04-01T12:00:00'

    def _strptime(data_string, format="%a %b %d %H:%M:%S %Y"):
        found = format_regex.match(data_string)
        if not found:
>           raise ValueError("time data %r does not match format %r" % (data_string, format))
E           ValueError: time data '2023-04-01T12:00:00' does not match format '%Y-%m-%d %H:%M:%S'

/usr/lib/python3.11/_strptime.py:349: ValueError
=========================== short test summary info ============================
FAILED tests/test_log.py::test_log - ValueError: time data
"""


def test_a_fix_round_sees_library_frames_by_their_error_alone():
    """The pomodoro timer's fix round was shown the whole of _strptime, some 60 lines a failure."""
    _, text = focus_failures(LIBRARY_FRAMES)
    assert "timer/log.py:3: in load\n    return datetime.strptime(text" in text  # the project's own frames stay
    assert "/usr/lib/python3.11/_strptime.py:568: in _strptime_datetime\n_ _" in text  # its source line goes
    assert "def _strptime" not in text and "data_string = " not in text
    assert ("E           ValueError: time data '2023-04-01T12:00:00' does not match format '%Y-%m-%d %H:%M:%S'\n\n"
            "/usr/lib/python3.11/_strptime.py:349: ValueError") in text
    assert ">       assert load(" in text and "tests/test_log.py:5:" in text


@needs_bwrap
def test_a_readonly_folder_outside_the_workspace_can_be_read_not_written(tmp_path):
    """The run check runs a scratch copy of the project with the project's venv, which lives elsewhere."""
    venv, work = tmp_path / "venv", tmp_path / "work"
    venv.mkdir()
    work.mkdir()
    (venv / "marker.txt").write_text("here")
    code = (f"import pathlib\np = pathlib.Path({str(venv / 'marker.txt')!r})\nprint(p.exists() and p.read_text())\n"
            "try:\n    p.write_text('x')\nexcept OSError:\n    print('read-only')\n")
    assert run_sandboxed([sys.executable, "-c", code], work, timeout=20).output.split() == ["False", "read-only"]
    assert run_sandboxed([sys.executable, "-c", code], work, timeout=20, readonly=(venv,)).output.split() == ["here", "read-only"]
    assert (venv / "marker.txt").read_text() == "here"
