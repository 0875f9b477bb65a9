"""Run the generated project's tests as untrusted code: bounded time, bounded output, no secrets.

The subprocess gets an allow-listed environment (``redact.sandbox_env``), the workspace as
cwd, its own process group (so a hang kills every child), and output spooled to a file we
cap. Third-party dependencies go into a venv inside ``.swcompany/`` made once per workspace,
never into the user's environment.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from .redact import sandbox_env

DEFAULT_OUTPUT_CAP = 256_000  # bytes of test output we keep; more is a flood and is killed


@dataclass
class SandboxRun:
    """What happened to one sandboxed command."""

    exit_code: int | None
    output: str
    seconds: float
    timed_out: bool = False
    flooded: bool = False


@dataclass
class TestCounts:
    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0

    @property
    def passed(self) -> int:
        return max(0, self.tests - self.failures - self.errors - self.skipped)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def run_sandboxed(cmd: list[str], cwd: Path, *, timeout: float, output_cap: int = DEFAULT_OUTPUT_CAP,
                  extra_env: dict[str, str] | None = None) -> SandboxRun:
    """Run ``cmd`` with a wall-clock timeout and an output cap; never waits for a hang."""
    env = sandbox_env(extra=extra_env)
    started = time.monotonic()
    timed_out = flooded = False
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        while True:
            try:
                proc.wait(timeout=0.05)
                break
            except subprocess.TimeoutExpired:
                pass
            if os.fstat(out.fileno()).st_size > output_cap:
                flooded = True
            elif time.monotonic() - started > timeout:
                timed_out = True
            if flooded or timed_out:
                _kill_group(proc)
                break
        out.seek(0)
        text = out.read(output_cap).decode("utf-8", errors="replace")
    if timed_out:
        text += f"\n[swcompany: killed after {timeout:g} s wall-clock timeout]\n"
    if flooded:
        text += f"\n[swcompany: killed: output exceeded {output_cap:,} bytes]\n"
    return SandboxRun(None if (timed_out or flooded) else proc.returncode, text, time.monotonic() - started,
                      timed_out, flooded)


def parse_junit(path: Path) -> TestCounts | None:
    """Counts from pytest's junit XML, or None when the run never wrote it."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    counts = TestCounts()
    for suite in suites:
        counts.tests += int(suite.get("tests", 0))
        counts.failures += int(suite.get("failures", 0))
        counts.errors += int(suite.get("errors", 0))
        counts.skipped += int(suite.get("skipped", 0))
    return counts


def project_python(workspace: Path, dependencies: list[str], install: bool, timeout: float) -> tuple[str, str | None]:
    """The interpreter for the project's tests, and an install error if any.

    No third-party dependencies (or ``install`` off): our own interpreter, which has pytest.
    Otherwise a venv in ``.swcompany/venv``, created once and reused while the dependency
    list is unchanged.
    """
    if not dependencies or not install:
        return sys.executable, None
    venv = workspace / ".swcompany" / "venv"
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    marker = venv / "swcompany-deps.sha256"
    wanted = hashlib.sha256("\n".join(sorted(dependencies)).encode()).hexdigest()
    if python.exists() and marker.exists() and marker.read_text().strip() == wanted:
        return str(python), None
    steps = [[sys.executable, "-m", "venv", str(venv)],
             [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "pytest", *dependencies]]
    for step in steps:
        run = run_sandboxed(step, workspace, timeout=max(timeout, 300))
        if run.exit_code != 0:
            return sys.executable, f"installing dependencies failed: {run.output.strip()[-800:]}"
    marker.write_text(wanted)
    return str(python), None


def run_pytest(workspace: Path, python: str, *, timeout: float, output_cap: int = DEFAULT_OUTPUT_CAP) -> tuple[SandboxRun, TestCounts]:
    """Run the workspace's tests/ with pytest in the sandbox and count the results."""
    junit = workspace / ".swcompany" / "qa" / "junit.xml"
    junit.parent.mkdir(parents=True, exist_ok=True)
    junit.unlink(missing_ok=True)
    roots = [str(workspace)] + ([str(workspace / "src")] if (workspace / "src").is_dir() else [])
    extra = {"PYTHONPATH": os.pathsep.join(roots), "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}
    if python == sys.executable:
        extra["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # our own plugins are not the project's
    cmd = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "--color=no",
           f"--junitxml={junit}", "tests"]
    run = run_sandboxed(cmd, workspace, timeout=timeout, output_cap=output_cap, extra_env=extra)
    counts = parse_junit(junit)
    if counts is None:  # killed, or pytest crashed before writing the report
        counts = TestCounts(tests=0, errors=1)
    return run, counts
