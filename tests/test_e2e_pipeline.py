"""End to end: the installed CLI against the fake server, asserting on the workspace."""

from __future__ import annotations

import json
import subprocess
import sys

import git

from conftest import FAKE_KEY, cli_args, run_cli


def test_new_writes_prd_design_code_with_stage_commits(fake_server, tmp_path):
    proc = run_cli("new", "a command-line todo app that stores tasks in SQLite", *cli_args(fake_server), "--no-tests",
                   subprocess_=True)
    assert proc.returncode == 0, proc.stderr
    ws = tmp_path / "workspace" / "a-command-line-todo-app-that-stores"
    assert proc.stdout.strip().splitlines()[-1] == str(ws)
    for rel in ("docs/prd.json", "docs/prd.md", "docs/design.json", "docs/design.md", "todo/storage.py",
                "todo/cli.py", "README.md", "requirements.txt", ".gitignore"):
        assert (ws / rel).is_file(), rel
    assert json.loads((ws / "docs/prd.json").read_text())["title"] == "Todo CLI"

    repo = git.Repo(ws)
    commits = list(repo.iter_commits())
    assert [c.message.splitlines()[0].split(":")[0] for c in reversed(commits)] == ["pm", "architect", "engineer"]
    for commit in commits:
        trailers = dict(line.split(": ", 1) for line in commit.message.splitlines() if line.startswith("Swcompany-"))
        assert set(trailers) == {"Swcompany-Stage", "Swcompany-Model", "Swcompany-Tokens", "Swcompany-Cost"}
        assert int(trailers["Swcompany-Tokens"]) > 0
    assert not repo.is_dirty(untracked_files=True)
    assert ".swcompany/state.json" not in repo.git.ls_files()

    # The generated code parses, imports and runs.
    for module in ("todo", "todo.storage", "todo.cli"):
        imported = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ws, capture_output=True, text=True)
        assert imported.returncode == 0, imported.stderr
    run = subprocess.run([sys.executable, "-m", "todo.cli", "--db", str(tmp_path / "t.db"), "add", "milk"],
                         cwd=ws, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr

    # Every call is logged, without the key.
    log = (ws / ".swcompany/llm.jsonl").read_text()
    lines = [json.loads(l) for l in log.splitlines()]
    assert [l["stage"] for l in lines].count("engineer") == 2  # todo/__init__.py, a package marker, needs no call
    assert all(l["prompt_tokens"] > 0 for l in lines)
    assert FAKE_KEY not in log
    state = json.loads((ws / ".swcompany/state.json").read_text())
    assert state["stop_reason"] == "done" and state["stages"]["engineer"]["status"] == "done"


def test_engineer_prompt_holds_only_dependency_text(fake_model):
    proc = run_cli("new", "todo app", *cli_args(fake_model), "--no-tests")
    assert proc.returncode == 0, proc.stderr
    prompts = {r.text.split("Now write ")[-1].split(".\n")[0]: r.text for r in fake_model.calls()
               if "Now write" in r.text}
    assert "def add_task" in prompts["todo/cli.py"]  # its dependency's full text
    assert "def main" not in prompts["todo/storage.py"]  # never a non-dependency's text
