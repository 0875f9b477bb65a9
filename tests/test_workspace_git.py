"""git as swcompany calls it: planted hooks and fsmonitor never run, and git never sees a key."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from conftest import FAKE_KEY
from swcompany.workspace import Workspace, git_env


def plant(script: Path, marker: Path) -> None:
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(f"#!/bin/sh\nenv > {marker}\necho planted >> {marker}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def test_planted_hooks_and_fsmonitor_never_run(tmp_path):
    ws = Workspace.create(tmp_path / "ws")
    markers = {name: tmp_path / f"{name}.ran" for name in ("post-commit", "pre-commit", "commit-msg", "fsmonitor")}
    for hook in ("post-commit", "pre-commit", "commit-msg"):
        plant(ws.root / ".git" / "hooks" / hook, markers[hook])
    plant(tmp_path / "fsmonitor.sh", markers["fsmonitor"])
    with open(ws.root / ".git" / "config", "a") as config:
        config.write(f"[core]\n\tfsmonitor = {tmp_path / 'fsmonitor.sh'}\n")
    ws.write("a.py", "x = 1\n")
    sha = ws.commit_stage("pm", "pm: write PRD", {"Swcompany-Stage": "pm"})
    ws.write("b.py", "y = 2\n")
    ws.commit_stage("architect", "architect: design", {"Swcompany-Stage": "architect"})
    assert [m.name for m in markers.values() if m.exists()] == []
    assert ws.stage_commits()["pm"] == sha and ws.has_commit(sha) and ws.head_stage() == "architect"
    assert not ws.has_commit("0" * 40) and not ws.has_commit("--all")


def test_git_runs_without_secrets(monkeypatch):
    monkeypatch.setenv("DB_PASSWORD", "hunter2hunter2")
    env = git_env()
    assert FAKE_KEY not in env.values() and "OPENAI_API_KEY" not in env and "DB_PASSWORD" not in env
    assert env["HOME"] == os.environ["HOME"]  # ~/.gitconfig (identity) still applies
