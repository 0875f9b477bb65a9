"""Bad configuration and providers: one-line errors, documented exit codes, nothing half-made."""

import json
import socket
from pathlib import Path

from conftest import cli_args, run_cli


def test_no_provider_configured_exits_2_and_creates_nothing(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    proc = run_cli("new", "todo app", "--model", "gpt-4o-mini")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: no credentials for gpt-4o-mini: OPENAI_API_KEY")
    assert "Traceback" not in proc.stderr
    assert not Path("workspace").exists() or not any(Path("workspace").iterdir())


def test_unmappable_model_exits_2():
    proc = run_cli("new", "todo app", "--model", "no-such-model-xyz")
    assert proc.returncode == 2
    assert "cannot map model 'no-such-model-xyz'" in proc.stderr and "hint:" in proc.stderr


def test_unreachable_base_url_exits_4_with_state_saved(monkeypatch):
    monkeypatch.setenv("SWCOMPANY_MAX_RETRIES", "1")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = run_cli("new", "todo app", "--name", "t", "--model", "openai/x", "--base-url", f"http://127.0.0.1:{port}/v1")
    assert proc.returncode == 4, proc.stderr
    assert "error:" in proc.stderr and "Traceback" not in proc.stderr
    state = json.loads(Path("workspace/t/.swcompany/state.json").read_text())
    assert state["stop_reason"] == "provider" and state["stages"]["pm"]["status"] == "failed"


def test_bad_config_file_exits_2(tmp_path, monkeypatch):
    cfg = Path(tmp_path / "home" / "config.yaml")
    cfg.write_text("model: [unclosed\n")
    proc = run_cli("new", "todo")
    assert proc.returncode == 2 and "YAML syntax error at line" in proc.stderr


def test_existing_name_needs_force(fake_model):
    assert run_cli("new", "todo", "--name", "t", *cli_args(fake_model), "--no-tests").returncode == 0
    proc = run_cli("new", "todo", "--name", "t", *cli_args(fake_model), "--no-tests")
    assert proc.returncode == 2 and "already exists" in proc.stderr


def test_derived_names_never_collide(fake_model):
    for _ in range(2):
        assert run_cli("new", "todo", *cli_args(fake_model), "--no-tests").returncode == 0
    assert sorted(p.name for p in Path("workspace").iterdir()) == ["todo", "todo-2"]


def test_config_show_masks_and_init_writes(monkeypatch):
    monkeypatch.setenv("MY_KEY", "sk-supersecret-abcdef-123456")
    monkeypatch.setenv("SWCOMPANY_API_KEY_ENV", "MY_KEY")
    proc = run_cli("config", "show")
    assert proc.returncode == 0 and "sk-supersecret" not in proc.stdout and "MY_KEY" in proc.stdout
    assert run_cli("config", "init").returncode == 0
    assert run_cli("config", "init").returncode == 2
    assert run_cli("config", "show").returncode == 0


def test_simple_names_with_underscores_and_dots_are_fine(fake_model):
    assert run_cli("new", "todo", "--name", "todo_cli.v2", *cli_args(fake_model), "--no-tests").returncode == 0
    assert Path("workspace/todo_cli.v2/todo/cli.py").exists()
