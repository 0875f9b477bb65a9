"""Ten application ideas through ``swcompany.generate_repo``, judged as a user would judge the repo.

A run can end with exit 0 and still be useless (stub bodies, tests that never import the
code), so each idea records the exit code and four independent checks: its own tests pass,
every test file imports the code under test, no stub function is left, and the design's run
command works. Workspaces stay under ``--workdir`` for a person to read.
"""

from __future__ import annotations

import ast
import shutil
import time
from pathlib import Path
from typing import Any

APP_IDEAS = [
    "a command-line todo list that stores tasks in SQLite",
    "a CLI that converts CSV files to JSON",
    "a word frequency counter for text files",
    "a password generator with configurable length and character sets",
    "a unit converter for length, weight and temperature",
    "a markdown table formatter that aligns columns",
    "a simple key-value store with a JSON file backend and a CLI",
    "a CLI pomodoro timer that logs sessions to a file",
    "a roman numeral converter in both directions, as a Python library with a small CLI",
    "a tiny expression calculator that parses + - * / and parentheses",
]
RUN_TIMEOUT = 30.0
CHECKS = ("exit_ok", "tests_pass", "tests_import_code", "no_stubs")  # the target counts ideas meeting all four


def select(ideas: str | None, quick: bool = False) -> list[int]:
    """``"3,7"`` -> [3, 7] (0-based, as in the result keys ``apps/3``); default all ten."""
    from .quality_store import QualityError

    if ideas is None:
        return list(range(3 if quick else len(APP_IDEAS)))
    try:
        chosen = [int(i) for i in ideas.split(",") if i.strip()]
    except ValueError:
        chosen = []
    if not chosen or any(not 0 <= i < len(APP_IDEAS) for i in chosen):
        raise QualityError(f"--ideas takes 0-based indices 0..{len(APP_IDEAS) - 1} like 3,7, not {ideas!r}")
    return chosen


def key(index: int) -> str:
    return f"apps/{index}"


def _is_test(rel: str) -> bool:
    name = Path(rel).name
    return rel.startswith("tests/") or name.startswith("test_") or name.endswith("_test.py")


def _is_test_file(rel: str) -> bool:
    """A file of tests, not a test package's helpers."""
    return _is_test(rel) and Path(rel).name not in ("conftest.py", "__init__.py")


def python_files(root: Path) -> list[str]:
    """The project's .py files, relative; run data, git and venvs left out."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py")
                  if not any(part.startswith(".") or part in ("venv", "__pycache__") for part in p.relative_to(root).parts))


def tests_not_importing(root: Path, files: list[str]) -> list[str]:
    """Test files that import none of the project's own modules (so they test a copy, or nothing)."""
    from swcompany.code_checks import imported_modules, module_name

    sources = {module_name(f) for f in files if not _is_test(f)}
    bad = []
    for rel in files:
        if not _is_test_file(rel):
            continue
        imported = imported_modules((root / rel).read_text(encoding="utf-8", errors="replace"))
        if not any(m == s or m.startswith(s + ".") for m in imported for s in sources):
            bad.append(rel)
    return bad


def stubs_left(root: Path, files: list[str]) -> list[str]:
    """``path:function`` for every function of the code whose body is only a stub."""
    from swcompany.code_checks import stub_functions

    found = []
    for rel in files:
        if _is_test(rel):
            continue
        code = (root / rel).read_text(encoding="utf-8", errors="replace")
        try:
            names = {n.name for n in ast.walk(ast.parse(code)) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        except (SyntaxError, ValueError):
            continue
        found += [f"{rel}:{name}" for name in stub_functions(code, names)]
    return found


def run_command(root: Path, next_command: str | None) -> dict[str, Any]:
    """The design's run command (after ``cd ... &&``), sandboxed, stdin closed, time-bounded; it
    works when it exits 0 and prints or writes something."""
    from swcompany.sandbox import run_sandboxed

    if not next_command or "&&" not in next_command:
        return {"run_command": None, "run_exit": None, "run_timed_out": False, "run_ok": False}
    command = next_command.split("&&", 1)[1].strip()
    extra = None
    venv_bin = root / ".swcompany" / "venv" / "bin"
    if venv_bin.is_dir():  # the project's dependencies live in its own venv
        import os

        extra = {"PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}"}
    before = _files(root)
    run = run_sandboxed(["sh", "-c", command], root, timeout=RUN_TIMEOUT, extra_env=extra)
    # exit 0 with nothing printed and nothing written is a CLI that never called main (a temperature
    # converter's did so); one writing its --output file and printing nothing works (the markdown formatter)
    wrote = _files(root) != before
    return {"run_command": command, "run_exit": run.exit_code, "run_timed_out": run.timed_out,
            "run_ok": run.exit_code == 0 and (bool(run.output.strip()) or wrote), "run_output": run.output[-600:]}


def _files(root: Path) -> dict[str, tuple[int, int]]:
    """The project's files (its .git and .swcompany aside) by path: size and modification time."""
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")
            if p.is_file() and p.relative_to(root).parts[0] not in (".git", ".swcompany")}


def run_idea(index: int, settings: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """One idea from scratch (an unfinished earlier attempt is wiped, so times and calls are whole)."""
    import swcompany

    folder = workdir / "apps" / f"app{index}"
    shutil.rmtree(folder, ignore_errors=True)
    started = time.monotonic()
    result = swcompany.generate_repo(APP_IDEAS[index], name=folder.name, output_dir=folder.parent, force=True, **settings)
    seconds = round(time.monotonic() - started, 1)
    root = Path(result.workspace)
    files = python_files(root)
    qa = result.qa
    not_importing = tests_not_importing(root, files)
    stubs = stubs_left(root, files)
    has_tests = any(_is_test_file(f) for f in files)
    item = {
        "idea": APP_IDEAS[index], "workspace": str(root), "exit_code": result.exit_code,
        "stop_reason": result.stop_reason, "error": result.error, "seconds": seconds,
        "calls": result.usage.calls, "tokens": result.usage.tokens,
        "qa": qa.model_dump(include={"verdict", "tests_run", "passed", "failed", "errors", "rounds_used"}) if qa else None,
        "exit_ok": result.exit_code == 0,
        "tests_pass": bool(qa and qa.verdict == "passed" and qa.tests_run > 0 and not qa.failed and not qa.errors),
        "tests_not_importing": not_importing, "tests_import_code": has_tests and not not_importing,
        "stubs": stubs, "no_stubs": bool(files) and not stubs,
        **run_command(root, result.next_command),
    }
    item["all_ok"] = all(item[c] for c in CHECKS)
    return item
