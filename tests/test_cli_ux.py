"""The CLI as people and CI jobs meet it: plain output, --json, dry runs, overrides, doctor."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import cli_args, run_cli


def test_non_tty_output_has_no_escape_codes(fake_model):
    # In-process (stderr is not a terminal there either); start-up output is test_quiet_prints_only_the_path's.
    proc = run_cli("new", "todo app", "--name", "t", *cli_args(fake_model), "-v")
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout and "\x1b" not in proc.stderr
    assert "Engineer" in proc.stderr and "llm engineer" in proc.stderr  # -v shows each call
    assert "  wrote todo/__init__.py (1/3)\n" in proc.stderr  # a package marker, written without a call, counts too
    assert proc.stdout.strip() == str(Path("workspace/t").resolve())


def test_json_stdout_is_one_document_matching_the_workspace(fake_model):
    proc = run_cli("new", "todo app", "--name", "t", *cli_args(fake_model), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    ws = Path(data["workspace"])
    assert ws == Path("workspace/t").resolve()
    assert data["stop_reason"] == "done" and data["exit_code"] == 0
    assert data["qa"]["passed"] == 2 and data["usage"]["calls"] > 0
    for name, stage in data["stages"].items():
        assert stage["status"] == "done" and len(stage["commit"]) == 40, name
    assert all((ws / f).is_file() for f in data["files"])
    assert data["next_command"].endswith("python -m todo.cli add 'buy milk'")


def test_json_failure_is_still_one_document(monkeypatch):
    monkeypatch.setenv("SWCOMPANY_MAX_RETRIES", "0")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = run_cli("new", "todo", "--name", "t", "--model", "openai/x", "--base-url", f"http://127.0.0.1:{port}/v1", "--json")
    assert proc.returncode == 4
    data = json.loads(proc.stdout)
    assert data["stop_reason"] == "provider" and "cannot reach" in data["error"] and "resume" in data["hint"]


def test_quiet_prints_only_the_path(fake_server):
    proc = run_cli("new", "todo app", "--name", "t", *cli_args(fake_server), "-q", subprocess_=True)
    assert proc.returncode == 0
    assert proc.stdout.strip() == str(Path("workspace/t").resolve()) and proc.stderr == ""


def test_dry_run_calls_nothing_and_creates_nothing(fake_model):
    proc = run_cli("new", "a todo app", *cli_args(fake_model), "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "Write the PRD for this idea" in proc.stdout and "estimate for the whole run" in proc.stdout
    assert "openai/gpt-4o-mini" in proc.stdout
    assert fake_model.calls() == []
    assert not Path("workspace").exists() or not any(Path("workspace").iterdir())
    data = json.loads(run_cli("new", "a todo app", *cli_args(fake_model), "--dry-run", "--json").stdout)
    assert data["tokens"][0] < data["tokens"][1] and data["cost"][0] <= data["cost"][1]
    assert fake_model.calls() == []


def test_dry_run_with_unknown_price_says_so(fake_model):
    proc = run_cli("new", "x", "--model", "openai/unpriced-model", "--base-url", fake_model.base_url, "--dry-run")
    assert proc.returncode == 0 and "unknown price" in proc.stdout


def test_prompt_override_is_used(fake_model, tmp_path):
    assert run_cli("prompts", "export", "mine").returncode == 0
    assert run_cli("prompts", "export", "mine").returncode == 2  # no silent overwrite
    user = Path("mine/prompts/pm.user.j2")
    user.write_text("OVERRIDE-MARKER " + user.read_text())
    proc = run_cli("new", "todo", "--name", "t", *cli_args(fake_model), "--prompts", "mine", "--no-tests")
    assert proc.returncode == 0, proc.stderr
    assert "OVERRIDE-MARKER" in fake_model.calls()[0].text
    assert "OVERRIDE-MARKER" not in fake_model.calls()[1].text  # other prompts fall back to the packaged ones


def test_undefined_template_variable_fails_before_any_call(fake_model):
    Path("mine/templates").mkdir(parents=True)
    Path("mine/templates/prd.md.j2").write_text("# {{ prd.title }} {{ prd_typo }}\n")
    proc = run_cli("new", "todo", "--name", "t", *cli_args(fake_model), "--prompts", "mine")
    assert proc.returncode == 2
    assert "templates/prd.md.j2" in proc.stderr and "prd_typo" in proc.stderr
    assert fake_model.calls() == []


def test_idea_from_stdin_and_file(fake_model):
    proc = run_cli("new", "--idea-file", "-", "--name", "s", *cli_args(fake_model), "--no-tests",
                   input="a todo app\nwith many details\n")
    assert proc.returncode == 0, proc.stderr
    state = json.loads(Path("workspace/s/.swcompany/state.json").read_text())
    assert state["idea"] == "a todo app\nwith many details"
    Path("spec.md").write_text("a spec from a file")
    assert run_cli("new", "--idea-file", "spec.md", "--name", "f", *cli_args(fake_model), "--no-tests").returncode == 0
    assert run_cli("new", "--idea-file", "missing.md").returncode == 2


def test_doctor_reports_ok_and_unreachable(fake_server):
    proc = run_cli("doctor", *cli_args(fake_server))
    assert proc.returncode == 0 and "ok: openai/gpt-4o-mini" in proc.stdout
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = run_cli("doctor", "--model", "openai/x", "--base-url", f"http://127.0.0.1:{port}/v1")
    assert proc.returncode == 4
    assert f"cannot reach http://127.0.0.1:{port}/v1" in proc.stderr and "Traceback" not in proc.stderr


def test_doctor_names_the_missing_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    proc = run_cli("models", "--model", "gpt-4o-mini")
    assert proc.returncode == 2 and "OPENAI_API_KEY" in proc.stderr


def test_version_and_completion():
    assert run_cli("--version").stdout.startswith("swcompany ")
    assert "--install-completion" in run_cli("--help").stdout


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["config", "show"], ["status", "WS"]])
def test_fast_commands_do_not_import_litellm(fake_model, args):
    if "WS" in args:
        assert run_cli("new", "todo", "--name", "t", *cli_args(fake_model), "--no-tests").returncode == 0
        args = [a if a != "WS" else "workspace/t" for a in args]
    code = ("import sys\nfrom swcompany.cli import app\ntry:\n    app(sys.argv[1:], prog_name='swcompany')\n"
            "except SystemExit:\n    pass\nprint('LITELLM' if 'litellm' in sys.modules else 'CLEAN', file=sys.stderr)\n")
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=os.environ.copy())
    assert proc.stderr.strip().endswith("CLEAN"), proc.stderr
