"""Run model-written code (installs, tests, benchmark checks) as hostile input, contained.

On Linux every command runs under bubblewrap (see ``bwrap.py`` for what is bound, unshared
and limited). Where bubblewrap cannot run, the ``sandbox`` setting decides: ``auto`` goes on
with a plain process group and says so once, ``strict`` refuses (``ConfigError``), ``none``
opts out. Either way the command gets an environment built from scratch (never ours, so no
key), its own session and process group (killed on every exit path: timeout, output flood,
Ctrl-C, SIGTERM; ``--die-with-parent`` and ``PR_SET_PDEATHSIG`` cover ``kill -9``), and output
spooled to a capped file. pytest's junit report travels through a pipe, never a file the tests
could forge, and is cross-checked against pytest's exit code and summary line.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Sequence
from typing import Literal

from . import bwrap
from .errors import ConfigError

DEFAULT_OUTPUT_CAP = 256_000  # bytes of test output we keep; more is a flood and is killed
REPORT_CAP = 16_000_000  # bytes of junit XML we read from the report pipe
SandboxMode = Literal["auto", "strict", "none"]
PIDFILE = ".swcompany/sandbox.pid"


@dataclass
class SandboxRun:
    """What happened to one sandboxed command."""

    exit_code: int | None
    output: str
    seconds: float
    timed_out: bool = False
    flooded: bool = False
    sandbox: Literal["bubblewrap", "none"] = "none"
    report: bytes | None = field(default=None, repr=False)


@dataclass
class TestCounts:
    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0
    examples: list[str] = field(default_factory=list)  # docstring examples run (module.function)
    failing_examples: list[str] = field(default_factory=list)

    @property
    def passing_examples(self) -> set[str]:
        return set(self.examples) - set(self.failing_examples)

    @property
    def passed(self) -> int:
        return max(0, self.tests - self.failures - self.errors - self.skipped)


# --- which sandbox ---------------------------------------------------------------------------


def contained(mode: SandboxMode) -> bool:
    """True when generated code will run under bubblewrap; ``strict`` raises instead of False."""
    if mode == "none":
        return False
    found = bwrap.availability()
    if not found.ok and mode == "strict":
        raise ConfigError(f"sandbox: strict, but bubblewrap is not available ({found.reason})",
                          hint="install bubblewrap (apt-get install bubblewrap), or use --sandbox auto")
    return found.ok


def sandbox_warning(mode: SandboxMode) -> str | None:
    """The one line a user without containment must see (``auto`` mode only)."""
    found = bwrap.availability()
    if mode != "auto" or found.ok:
        return None
    return f"warning: bubblewrap is not available ({found.reason}); generated code runs without containment"


def scratch_env(home: str, extra: dict[str, str] | None = None, *, network: bool = False) -> dict[str, str]:
    """A fresh environment: nothing of ours passes but pip's settings for the install step."""
    python_bin = os.path.dirname(sys.executable)
    env = {"PATH": f"{python_bin}:{bwrap.SANDBOX_PATH}", "HOME": home, "TMPDIR": os.path.dirname(home),
           "LANG": "C.UTF-8", "TERM": "dumb", "USER": "sandbox", "LOGNAME": "sandbox", "PYTHONNOUSERSITE": "1"}
    if os.name == "nt":  # Windows cannot start Python without these
        env.update({k: v for k, v in os.environ.items() if k.upper() in ("SYSTEMROOT", "COMSPEC", "PATHEXT", "WINDIR")})
        env["PATH"] = os.pathsep.join([python_bin, os.environ.get("PATH", "")])
    if network:  # the install step honours the user's pip configuration, minus credentials
        from .redact import is_secret_name

        env.update({k: v for k, v in os.environ.items()
                    if k.startswith("PIP_") and not is_secret_name(k) and "@" not in v})
    env.update(extra or {})
    return env


# --- running ---------------------------------------------------------------------------------


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _die_with_parent() -> None:
    """In the child (fallback mode): SIGKILL it when swcompany dies, even by ``kill -9``."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def reap_survivors(pidfile: Path, workspace: Path) -> None:
    """Kill a process group an earlier, killed run left in this workspace (fallback mode)."""
    try:
        pgid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return
    pidfile.unlink(missing_ok=True)
    if not Path("/proc").is_dir():
        return
    for entry in os.scandir("/proc"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            if entry.name.isdigit() and int(Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                cwd = Path(os.readlink(f"{entry.path}/cwd"))
                if cwd == workspace or workspace in cwd.parents:
                    os.killpg(pgid, signal.SIGKILL)
                    return


def _drain(read_fd: int, sink: bytearray) -> None:
    with os.fdopen(read_fd, "rb", buffering=0) as pipe:
        while chunk := pipe.read(65536):
            if len(sink) < REPORT_CAP:
                sink.extend(chunk[: REPORT_CAP - len(sink)])


def run_sandboxed(cmd: list[str], cwd: Path, *, timeout: float, output_cap: int = DEFAULT_OUTPUT_CAP,
                  extra_env: dict[str, str] | None = None, mode: SandboxMode = "auto", network: bool = False,
                  workspace: Path | None = None, writable: tuple[Path, ...] = (), readonly: tuple[Path, ...] = (),
                  report: bool = False, pidfile: Path | None = None, limits: bwrap.Limits | None = None) -> SandboxRun:
    """Run ``cmd`` contained, with a wall-clock timeout and an output cap; never waits for a hang.

    ``workspace`` (default ``cwd``) is the one writable bind (``readonly``: more folders it may
    read, such as a project's venv outside it); ``report=True`` replaces
    ``{report}`` in ``cmd`` with a pipe's path and returns what was written to it.
    """
    cwd, workspace = Path(cwd).resolve(), Path(workspace or cwd).resolve()
    limits = limits or bwrap.Limits(cpu_seconds=int(timeout) + 5)
    use_bwrap = contained(mode)
    if pidfile is not None:
        reap_survivors(pidfile, workspace)
    started = time.monotonic()
    stop = ""
    report_sink = bytearray()
    cgroup = bwrap.pids_cgroup(limits.processes + 4) if use_bwrap and os.geteuid() == 0 else None
    watch = use_bwrap and os.geteuid() == 0 and cgroup is None
    with tempfile.TemporaryFile() as out, tempfile.TemporaryDirectory(prefix="swcompany-home-") as home_dir:
        home = bwrap.SANDBOX_HOME if use_bwrap else home_dir
        env = scratch_env(home, extra_env, network=network)
        read_fd, write_fd = os.pipe() if report else (-1, -1)
        args = [a.replace("{report}", f"/dev/fd/{write_fd}") for a in cmd]
        if use_bwrap:
            args = bwrap.command(bwrap.bwrap_binary() or "bwrap", args, cwd=cwd, workspace=workspace, limits=limits,
                                 network=network, writable=list(writable), readonly=list(readonly), environ=env)

        def prepare_child() -> None:
            if cgroup is not None:
                bwrap.join_cgroup(cgroup)
            elif not use_bwrap:
                _die_with_parent()

        drainer = None
        proc = None
        try:
            proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True,
                                    pass_fds=(write_fd,) if report else (),
                                    preexec_fn=prepare_child if cgroup is not None or not use_bwrap and os.name == "posix" else None)
            if report:
                os.close(write_fd)
                write_fd = -1
                drainer = threading.Thread(target=_drain, args=(read_fd, report_sink), daemon=True)
                drainer.start()
            if pidfile is not None:
                pidfile.write_text(str(proc.pid))
            stop = _wait_bounded(proc, out.fileno(), started + timeout, output_cap,
                                 limits.processes if watch else None)
        finally:
            if proc is not None:
                _kill_group(proc)  # on every path: done, timeout, flood, Ctrl-C, SIGTERM
            if write_fd >= 0:
                os.close(write_fd)
            if drainer is not None:
                drainer.join(timeout=5)
            elif read_fd >= 0:
                os.close(read_fd)
            if cgroup is not None:
                bwrap.remove_cgroup(cgroup)
            if pidfile is not None:
                pidfile.unlink(missing_ok=True)
        out.seek(0)
        text = out.read(output_cap).decode("utf-8", errors="replace")
    reasons = {"timeout": f"killed after {timeout:g} s wall-clock timeout",
               "flood": f"killed: output exceeded {output_cap:,} bytes",
               "processes": f"killed: more than {limits.processes} processes"}
    if stop:
        text += f"\n[swcompany: {reasons[stop]}]\n"
    return SandboxRun(None if stop else proc.returncode, text, time.monotonic() - started, stop == "timeout",
                      stop == "flood", "bubblewrap" if use_bwrap else "none", bytes(report_sink) if report else None)


def _wait_bounded(proc: subprocess.Popen, out_fd: int, deadline: float, output_cap: int,
                  max_processes: int | None) -> str:
    """Wait for ``proc``; "" when it ended, else why we stop it: timeout, flood or processes.

    ``max_processes`` turns on the watchdog (root without a pids cgroup): the processes of the
    sandbox's PID namespace are counted every poll.
    """
    namespace = None
    while True:
        try:
            proc.wait(timeout=0.05)
            return ""
        except subprocess.TimeoutExpired:
            pass
        if os.fstat(out_fd).st_size > output_cap:
            return "flood"
        if time.monotonic() > deadline:
            return "timeout"
        if max_processes is not None:
            namespace = namespace or bwrap.namespace_of_child(proc.pid)
            if namespace and bwrap.count_in_namespace(namespace) > max_processes:
                return "processes"


# --- the test report and its cross-check -------------------------------------------------------


def parse_junit_text(text: bytes | str | None) -> TestCounts | None:
    """Counts from pytest's junit XML, or None when it is missing, incomplete or self-contradictory."""
    if not text:
        return None
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return None
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    if not suites:
        return None
    counts = TestCounts()
    try:
        for suite in suites:
            cases = suite.findall("testcase")
            declared = [int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")]
            found = [len(cases)] + [sum(1 for c in cases if c.find(tag) is not None) for tag in ("failure", "error", "skipped")]
            if declared != found:
                return None
            # Our tests live in tests/; a case of any other module is a docstring example.
            for case in (c for c in cases if c.get("classname", "").split(".")[0] != "tests"):
                counts.examples.append(case.get("name", ""))
                if case.find("failure") is not None or case.find("error") is not None:
                    counts.failing_examples.append(case.get("name", ""))
            counts.tests += declared[0]
            counts.failures += declared[1]
            counts.errors += declared[2]
            counts.skipped += declared[3]
    except ValueError:
        return None
    return counts


def parse_junit(path: Path) -> TestCounts | None:
    try:
        return parse_junit_text(path.read_bytes())
    except OSError:
        return None


_SUMMARY = re.compile(r"^=*\s*((?:\d+ \w+(?:, )?)+|no tests ran) in [\d.]+s\b.*$", re.M)


def summary_counts(output: str) -> dict[str, int] | None:
    """pytest's own last summary line ("1 failed, 2 passed in 0.1s") as {"passed": 2, ...}."""
    lines = _SUMMARY.findall(output)
    if not lines:
        return None
    return {word.rstrip("s"): int(n) for n, word in re.findall(r"(\d+) (\w+)", lines[-1])}


def honest_counts(run: SandboxRun) -> tuple[TestCounts, str | None]:
    """The report's counts if pytest's exit code and summary agree with them, else an error."""
    counts = parse_junit_text(run.report)
    if counts is None:
        return TestCounts(tests=0, errors=1), None if run.exit_code is None else "no complete junit report"
    bad = counts.failures + counts.errors
    if run.exit_code == 0 and (bad or counts.tests == 0):
        return TestCounts(tests=0, errors=1), "exit code 0 but the report lists failures or no tests"
    if run.exit_code == 1 and not bad:
        return TestCounts(tests=0, errors=1), "exit code 1 but the report lists no failure"
    summary = summary_counts(run.output)
    if run.exit_code == 0 and (summary is None or summary.get("passed", 0) != counts.passed):
        return TestCounts(tests=0, errors=1), "pytest's summary line does not match the report"
    return counts, None


# --- what a run may leave in the workspace --------------------------------------------------------

_INVISIBLE = re.compile(r"[\s\u200b-\u200f\u2060\ufeff.]+$")


def looks_like_git_dir(name: str) -> bool:
    """``.git`` in any spelling a case-insensitive or normalising filesystem treats as ``.git``."""
    import unicodedata

    folded = unicodedata.normalize("NFKC", name).casefold()
    return folded == ".git" or _INVISIBLE.sub("", folded) == ".git" or folded.startswith("git~")


def remove_planted_git(workspace: Path) -> list[str]:
    """Delete any ``.git`` a run created below the root: its config (fsmonitor, hooks) would run
    the day you type ``git status`` in that folder. Returns the removed paths."""
    import shutil

    removed = []
    for folder, dirs, files in os.walk(workspace):
        here = Path(folder)
        if here == workspace:
            dirs[:] = [d for d in dirs if d not in (".git", ".swcompany")]
        for name in [*dirs, *files]:
            if looks_like_git_dir(name) and here / name != workspace / ".git":
                target = here / name
                if target.is_dir() and not target.is_symlink():
                    shutil.rmtree(target, ignore_errors=True)
                else:
                    target.unlink(missing_ok=True)
                removed.append(str(target.relative_to(workspace)))
        dirs[:] = [d for d in dirs if not looks_like_git_dir(d)]
    return removed


# --- the QA stage's two steps ------------------------------------------------------------------


def project_python(workspace: Path, dependencies: list[str], install: bool, timeout: float,
                   mode: SandboxMode = "auto") -> tuple[str, str | None]:
    """The interpreter for the project's tests, and an install error if any.

    No third-party dependencies (or ``install`` off): our own interpreter, which has pytest.
    Otherwise a venv in ``.swcompany/venv``, created once and reused while the dependency
    list is unchanged. Only the install step may use the network; it may write only the venv.
    """
    if not dependencies or not install:
        return sys.executable, None
    venv = workspace / ".swcompany" / "venv"
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    marker = workspace / ".swcompany" / "venv-deps.sha256"
    wanted = hashlib.sha256("\n".join(sorted(dependencies)).encode()).hexdigest()
    if python.exists() and marker.exists() and marker.read_text().strip() == wanted:
        return str(python), None
    venv.mkdir(parents=True, exist_ok=True)
    steps = [([sys.executable, "-m", "venv", "--clear", str(venv)], False),
             ([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "pytest", *dependencies], True)]
    for step, network in steps:
        run = run_sandboxed(step, workspace, timeout=max(timeout, 300), mode=mode, network=network,
                            writable=(venv,), pidfile=workspace / PIDFILE,
                            limits=bwrap.Limits(cpu_seconds=int(max(timeout, 300)), file_bytes=1024**3))
        if run.exit_code != 0:
            return sys.executable, f"installing dependencies failed: {run.output.strip()[-800:]}"
    marker.write_text(wanted)
    return str(python), None


def pytest_args(doctest_files: Sequence[str] = ()) -> list[str]:
    """What pytest is asked to run: tests/, and the examples in the docstrings of ``doctest_files``."""
    if not doctest_files:
        return ["tests"]
    return ["--doctest-modules", "-o", "doctest_optionflags=NORMALIZE_WHITESPACE ELLIPSIS", "tests", *doctest_files]


def project_env(root: Path) -> dict[str, str]:
    """The environment the project's code runs in: its folder (and ``src/``) importable, no
    bytecode written into it, hashing fixed (a test's set order the same every run)."""
    roots = [str(root)] + ([str(root / "src")] if (root / "src").is_dir() else [])
    return {"PYTHONPATH": os.pathsep.join(roots), "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}


def run_pytest(workspace: Path, python: str, *, timeout: float, output_cap: int = DEFAULT_OUTPUT_CAP,
               mode: SandboxMode = "auto", doctest_files: Sequence[str] = ()) -> tuple[SandboxRun, TestCounts]:
    """Run the workspace's tests/ (and docstring examples) with pytest in the sandbox; counts only
    from an honest report."""
    extra = project_env(workspace)
    if python == sys.executable:
        extra["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # our own plugins are not the project's
    # Assertion values in full ("assert {'hello': 3, 'world': 2, 'again': 1} == ...", not "...2, 'again': 1}"):
    # the hand checks and the fix rounds read them.
    # One test file that fails to import must not hide the others: pytest stops the whole run at a
    # collection error by default (the markdown formatter's CLI tests wrote to `tmp/input.md` at
    # import time, and its core tests never ran: "0 passed, 1 error").
    # A value too long to read in full (a whole converted file compared with `in`: the CSV converter's
    # 870 KB of one failure) floods the output, and the failures after it are never seen: such a run
    # is repeated with pytest's shortened values (verbosity 1), which hold only small values in full.
    for verbosity in (2, 1):
        cmd = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "-o", f"verbosity_assertions={verbosity}",
               "--color=no", "--continue-on-collection-errors", "--junitxml={report}", *pytest_args(doctest_files)]
        run = run_sandboxed(cmd, workspace, timeout=timeout, output_cap=output_cap, extra_env=extra, mode=mode,
                            report=True, pidfile=workspace / PIDFILE)
        if not run.flooded or run.timed_out:
            break
    counts, problem = honest_counts(run)
    if (planted := remove_planted_git(workspace)):
        run.output += f"\n[swcompany: removed git folders the tests created: {', '.join(planted[:5])}]\n"
    if problem:
        run.output += f"\n[swcompany: test report rejected: {problem}]\n"
    return run, counts
