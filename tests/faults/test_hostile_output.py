"""Hostile model output (issue 11, items 6-14): every case ends contained.

Each row is a reply a prompt-injected or compromised model could send, served by the
fake server to the real CLI. What must hold afterwards, for every row: the exact exit
code; the model was re-prompted with the exact reason; no traceback; no file outside the
workspace; no key in any workspace file, git object, state, stdout or stderr; and when the
run stopped, a ``resume`` finishes once the model recovers, without replaying the bad reply.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import FAKE_KEY, cli_args, run_cli
from fake_llm_server import FakeLLMServer, Reply
from fault_cases import Case, everything_produced, no_traceback, read_state, scripted
from scenario import DESIGN, PRD, Scenario, fenced

OK, MODEL_OUTPUT = 0, 4
ORDINARY_KEY = "hunter2-ordinary-looking-0042"  # behind api_key_env=MY_VAR: neither name nor value looks secret
KEY_ENV = {"MY_VAR": ORDINARY_KEY, "SWCOMPANY_API_KEY_ENV": "MY_VAR", "SWCOMPANY_MAX_RETRIES": "1"}
HOSTILE_RUN = "python -m todo.cli list\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2K\x1b[1A\u202e [red]markup[/red]\x9b2J"
HUGE = "HUGE-REPLY-MARKER " + "x" * 150_000
SCHEMA = "The JSON does not match the required schema:\n"


@dataclass
class Hostile(Case):
    item: int = 0  # the item this row closes
    reprompt: str = ""  # exact text the re-prompt carries back to the model
    env: dict[str, str] = field(default_factory=dict)
    absent: tuple[str, ...] = ()  # workspace paths that must not exist afterwards
    never_shown: tuple[str, ...] = ()  # must reach neither the terminal nor any later prompt nor the workspace
    shown: str = ""  # must be printed (stdout or stderr)
    max_seconds: float = 120.0  # a generous bound: the quadratic parser took minutes


def design_with(*paths: str) -> str:
    return json.dumps({**DESIGN, "files": [{"path": p, "purpose": "p", "depends_on": []} for p in paths]})


def bad_path(item: int, path: str, reason: str, *paths: str, forever: bool = False, **kw) -> Hostile:
    """A design naming ``path`` (plus ``paths``): re-prompted with ``reason``; exit 4 if the model persists."""
    reply = design_with(path, *paths)
    if forever:
        return Hostile(f"{item}: design names {path!r} forever", [reply] * 10, MODEL_OUTPUT, role="architect", calls=3,
                       stop_reason="model_output", stderr_has="unusable", item=item, reprompt=reason, **kw)
    return Hostile(f"{item}: design names {path!r}, then a good one", [reply], OK, role="architect", calls=2,
                   item=item, reprompt=reason, **kw)


def reserved(path: str) -> str:
    return f"files.0.path: Value error, path is reserved for swcompany/git: {path!r}"


def owned(path: str, why: str) -> str:
    return f"files.0.path: Value error, {path}: {why}; leave it out of the file list"


DOCS = "docs/ holds the pipeline's own documents (PRD, design, QA report)"
TESTS = "tests/ belongs to the QA stage, which writes the tests"
GIT_DIR = ("sub/.git", ".git/info/evil", "sub/.GIT")
DEEP_CODE = fenced("x = " + "-" * 100_000 + "1\n")
DEEP_CODE_REASON = "todo/storage.py: does not parse: it is nested too deeply for the parser"

CASES = [
    # 6. .git in every spelling a case-insensitive or normalising filesystem equates, at any depth
    *[bad_path(6, p, reserved(p), absent=(p, *GIT_DIR)) for p in (
        "sub/.git/config", ".GIT/config", "sub/.git./config", "sub/.git /config", "\uff0e\uff47\uff49\uff54/config",
        "GIT~1/config", "sub/.Git", ".SWCOMPANY/state.json")],
    bad_path(6, ".g\u200bit/config", "files.0.path: Value error, path has forbidden characters: '.g\\u200bit/config'"),
    bad_path(6, "sub/.git/config", reserved("sub/.git/config"), forever=True, absent=GIT_DIR),
    # 7. parser stack overflows are re-prompts and exit 4, never exit 1, and are evicted from the cache
    Hostile("7: deeply nested JSON, then JSON", ["[" * 100_000], OK, calls=2, item=7,
            reprompt="The reply is not valid JSON (the JSON is nested too deeply)"),
    Hostile("7: deeply nested JSON forever", ['{"a":' * 100_000] * 10, MODEL_OUTPUT, calls=3, item=7,
            stop_reason="model_output", stderr_has="nested too deeply", reprompt="the JSON is nested too deeply"),
    Hostile("7: code whose parse is a MemoryError, then good code", [DEEP_CODE], OK, role="engineer", item=7,
            reprompt=DEEP_CODE_REASON),
    Hostile("7: code whose parse is a MemoryError forever", [DEEP_CODE] * 10, MODEL_OUTPUT, role="engineer", item=7,
            stop_reason="model_output", stderr_has="nested too deeply", reprompt=DEEP_CODE_REASON),
    Hostile("7: a 5,000-digit number, then JSON", ['{"title": ' + "9" * 5000 + "}"], OK, calls=2, item=7,
            reprompt="The reply is not valid JSON (a number is too long)"),
    # 8. junk full of braces is refused in linear time (the old scan took 335 s of CPU)
    Hostile("8: 2,000 { and 200 KB of junk, then JSON", ["{" * 2000 + "x" * 200_000], OK, calls=2, item=8,
            reprompt="The reply is not valid JSON", max_seconds=30),
    Hostile("8: 2,000 { and 200 KB of junk forever", ["{" * 2000 + "x" * 200_000] * 10, MODEL_OUTPUT, calls=3, item=8,
            stop_reason="model_output", reprompt="The reply is not valid JSON", max_seconds=30),  # was ~80 s of CPU
    # 9. a key behind api_key_env with an ordinary name is scrubbed from errors, output and state
    *[Hostile(f"9: HTTP {status} echoing the key of $MY_VAR", [Reply(status=status, content=f"bad key {ORDINARY_KEY}")] * 10,
              MODEL_OUTPUT, item=9, env=KEY_ENV, stop_reason="provider", stderr_has=text)
      for status, text in ((400, "provider call failed"), (401, "authentication failed"), (500, "provider call failed"))],
    # 10. escape sequences and rich markup from the model are never interpreted by the terminal
    Hostile("10: how_to_run with clipboard write, line erase, bidi and markup", [json.dumps({**DESIGN, "how_to_run": HOSTILE_RUN})],
            OK, role="architect", calls=1, item=10, never_shown=("\x1b", "\u202e", "\x9b"),
            shown="&& python -m todo.cli list [red]markup[/red]"),
    bad_path(10, "a/\x1b]52;c;aGk=\x07.py", "files.0.path: Value error, path has forbidden characters: 'a/\\x1b]52;c;aGk=\\x07.py'",
             forever=True, never_shown=("\x1b]52",)),
    # 11. paths that can never be written: re-prompted with the reason, not exit 2 "free space" forever
    bad_path(11, "\u00e9" * 200 + ".py", "a path component is longer than 255 bytes"),
    bad_path(11, "adder", "(top level): Value error, adder is a file, so it cannot also be the folder of adder/core.py",
             "adder/core.py"),
    bad_path(11, "adder", "adder is a file, so it cannot also be the folder of adder/core.py", "adder/core.py", forever=True),
    bad_path(11, "tests", owned("tests", TESTS)),
    bad_path(11, "tests/test_cli.py", owned("tests/test_cli.py", TESTS)),
    bad_path(11, "README.md", owned("README.md", "the pipeline writes README.md itself")),
    bad_path(11, "requirements.txt", owned("requirements.txt", "the pipeline writes requirements.txt from the design's dependencies")),
    bad_path(11, ".gitignore", "files.0.path: Value error, .gitignore: git control files (.gitignore, .gitattributes, "
                               ".gitmodules) are not source files; leave them out"),
    # 12. the pipeline's own artifacts: the engineer may never rewrite the design or the PRD
    bad_path(12, "docs/design.json", owned("docs/design.json", DOCS)),
    bad_path(12, "docs/prd.json", owned("docs/prd.json", DOCS)),
    bad_path(12, "docs/qa_report.md", owned("docs/qa_report.md", DOCS)),
    # 13. replies over the cap are refused, never stored or re-sent; over-long fields too
    Hostile("13: a reply over max_reply_chars, then JSON", [HUGE], OK, calls=2, item=13,
            env={"SWCOMPANY_MAX_REPLY_CHARS": "100000"}, never_shown=("HUGE-REPLY-MARKER",),
            reprompt="An earlier reply to this was 150,018 characters; at most 100,000 are accepted."),
    Hostile("13: replies over max_reply_chars forever", [HUGE] * 10, MODEL_OUTPUT, calls=3, item=13,
            env={"SWCOMPANY_MAX_REPLY_CHARS": "100000"}, never_shown=("HUGE-REPLY-MARKER",), stop_reason="model_output",
            stderr_has="at most 100,000 are accepted", reprompt="at most 100,000 are accepted"),
    Hostile("13: a 250,000-character field, then JSON", [json.dumps({**PRD, "summary": "y" * 250_000})], OK, calls=2,
            item=13, reprompt="The field summary is longer than 200,000 characters."),
]


def files_outside(root: Path) -> set[str]:
    """Every file under the test's folder except the workspace (where a run may write)."""
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.relative_to(root).parts[0] != "workspace"}


def last_user_messages(requests) -> list[str]:
    return [str(r.body["messages"][-1]["content"]) for r in requests if r.body.get("messages")]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_hostile_output_is_contained(case: Hostile, tmp_path, monkeypatch):
    # Whole replies, so the parsers' own limits are what is tested (a streamed reply of junk is
    # stopped sooner by the runaway guard: tests/faults/test_provider_faults.py).
    monkeypatch.setenv("SWCOMPANY_STREAM", "off")
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    before = files_outside(tmp_path)
    scenario = scripted(case)
    ws = Path("workspace/t")
    with FakeLLMServer(scenario) as server:
        started = time.monotonic()
        proc = run_cli("new", "todo", "--name", "t", *cli_args(server), "--no-tests")
        assert time.monotonic() - started < case.max_seconds
        requests = server.calls()
        assert proc.returncode == case.exit_code, proc.stderr
        assert no_traceback(proc.stdout, proc.stderr)
        if case.calls is not None:
            assert scenario.counts[case.role] == case.calls
        assert case.stderr_has in proc.stderr
        if case.reprompt:
            assert any(case.reprompt in m for m in last_user_messages(requests)), last_user_messages(requests)[-1][:500]
        printed = proc.stdout + proc.stderr
        assert case.shown in printed
        produced = everything_produced(ws, printed)
        for secret in (FAKE_KEY, ORDINARY_KEY, *case.never_shown):
            assert secret not in produced
            assert not any(secret in r.text for r in requests)
        assert files_outside(tmp_path) == before and not Path("/etc/passwd.py").exists()
        assert not any((ws / rel).exists() for rel in case.absent)
        state = read_state(ws)
        if case.exit_code == OK:
            assert state["stop_reason"] == "done"
            return
        assert state["stop_reason"] == case.stop_reason and state["exit_code"] == case.exit_code

        server.responder = Scenario()  # the model recovers
        resumed = run_cli("resume", "workspace/t")
        later = server.calls()[len(requests):]
    assert resumed.returncode == 0, resumed.stderr
    assert read_state(ws)["stop_reason"] == "done"
    assert later, "the resume asked the model afresh"
    if case.reprompt:  # a replayed bad reply from the cache would have been re-prompted again
        assert not any(case.reprompt in m for m in last_user_messages(later))
    assert ORDINARY_KEY not in everything_produced(ws, resumed.stdout, resumed.stderr)


# --- 13, 14: hostile or careless input around the model: one line, exit 2, no call -------------


@pytest.mark.parametrize("args,message", [
    (["new", "--idea-file", "/dev/zero"], "the idea is too long: /dev/zero has over 20,000 characters"),
    (["new", "--idea-file", "huge.md"], "the idea is too long: huge.md has over 20,000 characters"),
    (["new", "todo", "-o", "x" * 300], "invalid setting output_dir (from the command line): a folder name in it is longer than 255 bytes"),
    (["new", "todo", "-o", "y/" * 3000], "path too long for the filesystem"),
    (["new", "todo", "--name", "n" * 300], "must be a simple folder name"),
    (["new", "todo", "--prompts", "missing-dir"], "prompts folder missing-dir does not exist"),
    (["new", "todo", "--prompts", "a-file.txt"], "prompts folder a-file.txt is not a folder"),
    (["resume", "r" * 300], "path too long for the filesystem"),
    (["status", "s" * 300], "path too long for the filesystem"),
])
def test_hostile_input_is_one_line_exit_2(fake_server, args, message):
    Path("a-file.txt").write_text("x")
    with open("huge.md", "wb") as fh:
        fh.truncate(2_000_000_000)  # sparse: 2 GB to read, nothing on disk
    proc = run_cli(*args, *(cli_args(fake_server) if args[0] == "new" else []))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: ") and message in proc.stderr.splitlines()[0]
    assert len(proc.stderr.splitlines()) <= 2
    assert no_traceback(proc.stdout, proc.stderr)
    assert fake_server.calls() == [] and not Path("workspace").exists() and not Path("y").exists()


@pytest.mark.slow  # a real process: the umask is read once, at start-up
def test_generated_files_honour_the_umask(fake_server):
    previous = os.umask(0o027)
    try:
        proc = run_cli("new", "todo", "--name", "t", *cli_args(fake_server), "--no-tests", subprocess_=True)
    finally:
        os.umask(previous)
    assert proc.returncode == 0, proc.stderr
    ws = Path("workspace/t")
    for rel in ("todo/cli.py", "docs/design.json", "README.md", ".swcompany/state.json"):
        assert (ws / rel).stat().st_mode & 0o777 == 0o640, rel


def test_tilde_in_output_dir_expands(fake_server, tmp_path):
    home = tmp_path / "home"
    (home / "config.yaml").write_text("output_dir: ~/from-config\n")
    assert run_cli("new", "todo", "--name", "a", *cli_args(fake_server), "--no-tests").returncode == 0
    assert run_cli("new", "todo", "--name", "b", "-o", "~/from-flag", *cli_args(fake_server), "--no-tests").returncode == 0
    assert (home / "from-config/a/todo/cli.py").is_file() and (home / "from-flag/b/todo/cli.py").is_file()
    assert not any(p.name == "~" for p in tmp_path.rglob("*"))
