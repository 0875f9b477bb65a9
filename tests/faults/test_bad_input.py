"""Bad user input: a one-line error and a documented exit code, never a traceback or a lost file."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import git
import pytest

from conftest import cli_args, run_cli
from fault_cases import no_traceback, read_state


@pytest.mark.parametrize("args,message", [
    (["new", ""], "the idea is empty"),
    (["new", "  \n\t "], "the idea is empty"),
    (["new", "\u202e\u200f\x07"], "the idea is empty"),
    (["new", "x" * 1_000_000], "at most 20,000"),
    (["new", "todo", "--name", "a/b"], "must be a simple folder name"),
    (["new", "todo", "--name", "../escape"], "must be a simple folder name"),
    (["new", "todo", "--output", "a-file.txt"], "is not a folder"),
    (["new", "--idea-file", "missing.md"], "cannot read --idea-file"),
    (["new", "todo", "--jobs", "0"], "invalid setting jobs"),
    (["resume", "not-a-workspace"], "not-a-workspace does not exist"),
    (["resume", "a-file.txt"], "a-file.txt is not a swcompany workspace"),
    (["resume", "WS", "--from", "deploy"], "unknown stage 'deploy'"),
])
def test_bad_input_is_one_line_exit_2(fake_model, args, message):
    Path("a-file.txt").write_text("x")
    if "WS" in args:
        assert run_cli("new", "todo", "--name", "t", *cli_args(fake_model), "--no-tests").returncode == 0
        args = ["workspace/t" if a == "WS" else a for a in args]
    extra = cli_args(fake_model) if args[0] == "new" else []
    proc = run_cli(*args, *extra)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and no_traceback(proc.stderr)
    assert proc.stderr.startswith("error: ") and len(proc.stderr.splitlines()) <= 2


def test_control_characters_and_rtl_marks_are_cleaned(fake_model):
    proc = run_cli("new", "a \u202etodo\u200f app\x07", "--name", "t", *cli_args(fake_model), "--no-tests")
    assert proc.returncode == 0, proc.stderr
    assert read_state(Path("workspace/t"))["idea"] == "a todo app"


def test_config_errors_name_the_line(tmp_path):
    config = tmp_path / "home" / "config.yaml"
    config.write_text("model: x\njobs: 4\nfix_round: 2\n")
    proc = run_cli("new", "todo")
    assert proc.returncode == 2 and "line 3: unknown key 'fix_round'" in proc.stderr
    config.write_text("model: x\n  jobs: [\n")
    proc = run_cli("config", "show")
    assert proc.returncode == 2 and "YAML syntax error at line" in proc.stderr and no_traceback(proc.stderr)


def test_corrupt_state_is_a_clear_error(fake_model):
    assert run_cli("new", "todo", "--name", "t", *cli_args(fake_model), "--no-tests").returncode == 0
    Path("workspace/t/.swcompany/state.json").write_text("{not json")
    for command in ("resume", "status"):
        proc = run_cli(command, "workspace/t")
        assert proc.returncode == 2 and "is corrupt" in proc.stderr and no_traceback(proc.stderr)
    assert Path("workspace/t/todo/cli.py").exists()  # nothing lost


def test_rewritten_git_history_is_repaired_for_free(fake_model):
    assert run_cli("new", "todo", "--name", "t", *cli_args(fake_model), "--no-tests").returncode == 0
    repo = git.Repo("workspace/t")
    repo.git.reset("--hard", "HEAD~1")  # a person dropped the engineer commit
    calls = len(fake_model.calls())
    proc = run_cli("resume", "workspace/t")
    assert proc.returncode == 0, proc.stderr
    assert "history was rewritten" in proc.stderr
    assert len(fake_model.calls()) == calls  # cache
    assert repo.head.commit.message.startswith("engineer:")
    assert Path("workspace/t/todo/cli.py").exists()


def _mount_tmpfs(path: Path, options: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True).returncode == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount a tmpfs")
def test_full_disk_stops_cleanly_and_resumes_elsewhere(fake_model, tmp_path):
    small = tmp_path / "small"
    if not _mount_tmpfs(small, "size=2m"):
        pytest.skip("cannot mount tmpfs here")
    try:
        proc = run_cli("new", "todo", "--name", "t", "-o", str(small), *cli_args(fake_model), "--no-tests")
        assert proc.returncode == 0, proc.stderr
        filler = small / "filler"
        with open(filler, "wb") as fh:  # fill the disk to the last byte
            try:
                while True:
                    fh.write(b"x" * 65536)
                    fh.flush()
            except OSError:
                pass
        proc = run_cli("resume", str(small / "t"), "--from", "engineer", "--no-cache")
        assert proc.returncode == 2, proc.stderr
        assert "cannot write the workspace" in proc.stderr and no_traceback(proc.stderr)
        filler.unlink()
        proc = run_cli("resume", str(small / "t"))
        assert proc.returncode == 0, proc.stderr
    finally:
        subprocess.run(["umount", str(small)], capture_output=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount a tmpfs")
def test_read_only_output_directory(fake_model, tmp_path):
    ro = tmp_path / "ro"
    if not _mount_tmpfs(ro, "ro,size=64k"):
        pytest.skip("cannot mount tmpfs here")
    try:
        proc = run_cli("new", "todo", "--name", "t", "-o", str(ro), *cli_args(fake_model))
        assert proc.returncode == 2 and "cannot create workspace" in proc.stderr and no_traceback(proc.stderr)
    finally:
        subprocess.run(["umount", str(ro)], capture_output=True)
