"""What the README promises and a new user meets first (issue 14 items 1-8); exact outcomes."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import typer

from conftest import cli_args, run_cli
from fake_llm_server import FakeLLMServer, Reply
from fake_model import FakeModel
from scenario import Scenario


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/v1"


def _no_workspace() -> bool:
    return not Path("workspace").exists() or not any(Path("workspace").iterdir())


# --- 1. --json prints one document, even for a stop before a workspace exists ---------------


@pytest.mark.parametrize("args, stop_reason, error", [
    (["new", "   "], "usage", "the idea is empty"),
    (["new", "todo", "--model", "no-such-model-xyz"], "config", "litellm cannot map model 'no-such-model-xyz' to a provider"),
    (["new", "todo", "--model", "anthropic/claude-3-5-sonnet-latest"], "config",
     "no credentials for anthropic/claude-3-5-sonnet-latest: ANTHROPIC_API_KEY is not set"),
    (["resume", "nowhere"], "usage", "nowhere does not exist"),
    (["status", "nowhere"], "usage", "nowhere does not exist"),
], ids=["empty idea", "unknown model", "missing key", "resume of no workspace", "status of no workspace"])
def test_json_stop_before_a_workspace_is_one_document(args, stop_reason, error, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    proc = run_cli(*args, "--json")
    assert proc.returncode == 2
    data = json.loads(proc.stdout)
    assert (data["exit_code"], data["stop_reason"], data["workspace"]) == (2, stop_reason, None)
    assert data["error"] == error
    hint = f"hint: {data['hint']}\n" if data["hint"] else ""
    assert proc.stderr == f"error: {error}\n{hint}"
    assert _no_workspace()


def test_json_bad_config_is_one_document(tmp_path):
    (tmp_path / "home" / "config.yaml").write_text("model: [unclosed\n")
    proc = run_cli("new", "todo", "--json")
    assert proc.returncode == 2
    data = json.loads(proc.stdout)
    assert data["stop_reason"] == "config" and data["workspace"] is None and "YAML syntax error at line" in data["error"]


# --- 2. an empty key is a missing key -------------------------------------------------------


def test_empty_key_is_treated_as_unset(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "")
    proc = run_cli("new", "todo app", "--model", "gpt-4o-mini")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: no credentials for gpt-4o-mini: OPENAI_API_KEY is empty\n")
    assert _no_workspace()
    import os

    assert os.environ["OPENAI_API_KEY"] == ""  # hidden only while litellm looked


def test_doctor_reports_an_empty_key_as_exit_2(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "")
    proc = run_cli("doctor", "--model", "gpt-4o-mini")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: no credentials for gpt-4o-mini: OPENAI_API_KEY is empty\n")


def test_empty_api_key_env_stops_before_a_workspace(monkeypatch, fake_model):
    monkeypatch.setenv("MY_KEY", "")
    monkeypatch.setenv("SWCOMPANY_API_KEY_ENV", "MY_KEY")
    proc = run_cli("new", "todo", *cli_args(fake_model))
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: api_key_env names $MY_KEY, but it is empty\n")
    assert _no_workspace() and fake_model.calls() == []


# --- 3. a budget that cannot count is said to be so -----------------------------------------


def test_budget_with_an_unknown_price_warns_once_at_the_start(fake_model):
    proc = run_cli("new", "todo", "--name", "t", "--model", "openai/my-local-model",
                   "--budget", "1", "--no-tests")
    assert proc.returncode == 0, proc.stderr
    warning = ("warning: the price of openai/my-local-model is unknown, so --budget cannot stop this run; cap it with "
               "--max-tokens, or set input_cost_per_token and output_cost_per_token in the config")
    lines = proc.stderr.splitlines()
    assert lines.count(warning) == 1 and lines.index(warning) == 0


def test_budget_with_a_known_price_does_not_warn(fake_model):
    proc = run_cli("new", "todo", "--name", "t", *cli_args(fake_model), "--budget", "1", "--no-tests")
    assert proc.returncode == 0 and "warning:" not in proc.stderr


# --- 4. next_command and status after a stop -------------------------------------------------


def test_budget_stop_points_at_resume_not_at_code_that_does_not_exist(fake_model):
    proc = run_cli("new", "todo", "--name", "t", *cli_args(fake_model), "--max-tokens", "1", "--json")
    assert proc.returncode == 3
    data = json.loads(proc.stdout)
    ws = Path("workspace/t").resolve()
    assert data["stop_reason"] == "budget" and data["next_command"] == f"swcompany resume {ws}"
    status = run_cli("status", "workspace/t")
    assert status.returncode == 0 and f"next: swcompany resume {ws}\n" in status.stdout
    assert "python -m" not in status.stdout


def test_status_of_a_running_workspace_suggests_nothing(fake_model):
    assert run_cli("new", "todo", "--name", "t", *cli_args(fake_model), "--no-tests").returncode == 0
    state_file = Path("workspace/t/.swcompany/state.json")
    state = json.loads(state_file.read_text())
    state_file.write_text(json.dumps({**state, "stop_reason": "running", "exit_code": None}))
    data = json.loads(run_cli("status", "workspace/t", "--json").stdout)
    assert data["stop_reason"] == "running" and data["next_command"] is None
    assert "next:" not in run_cli("status", "workspace/t").stdout


# --- 5. retries are visible in -v ------------------------------------------------------------


def test_verbose_shows_each_retry_with_its_reason_and_wait(monkeypatch):
    monkeypatch.setenv("SWCOMPANY_MAX_RETRIES", "2")
    queue = [Reply(status=429, headers={"Retry-After": "0"}), Reply(status=503, headers={"Retry-After": "0"})]

    def pm(req):
        return queue.pop(0) if queue else json.dumps(__import__("scenario").PRD)

    with FakeLLMServer(Scenario(overrides={"pm": pm})) as server:
        proc = run_cli("new", "todo", "--name", "t", *cli_args(server), "--no-tests", "-v")
    assert proc.returncode == 0, proc.stderr
    assert "  retrying PRD (HTTP 429; attempt 1 failed), waiting 0.0s" in proc.stderr
    assert "  retrying PRD (HTTP 503; attempt 2 failed), waiting 0.0s" in proc.stderr
    quiet = run_cli("new", "todo", "--name", "u", "--model", "openai/gpt-4o-mini", "--base-url", _dead_url())
    assert "retrying" not in quiet.stderr  # without -v only the outcome


# --- 6. a run that failed on its first call leaves nothing to step around -------------------


def test_same_command_after_a_first_call_failure_reuses_the_empty_workspace(monkeypatch):
    monkeypatch.setenv("SWCOMPANY_MAX_RETRIES", "0")
    url = _dead_url()
    for _ in range(2):
        proc = run_cli("new", "todo", "--model", "openai/x", "--base-url", url)
        assert proc.returncode == 4
    assert [p.name for p in Path("workspace").iterdir()] == ["todo"]
    state = json.loads(Path("workspace/todo/.swcompany/state.json").read_text())
    assert state["runs"] == 1 and state["stop_reason"] == "provider"


def test_a_workspace_with_a_commit_is_never_reused(fake_model):
    assert run_cli("new", "todo", *cli_args(fake_model), "--no-tests").returncode == 0
    assert run_cli("new", "todo", *cli_args(fake_model), "--no-tests").returncode == 0
    assert sorted(p.name for p in Path("workspace").iterdir()) == ["todo", "todo-2"]


# --- 7. unusable model output is explained to a person ---------------------------------------


def test_unusable_output_error_says_what_was_wrong_not_what_the_model_was_told():
    with FakeModel(Scenario(overrides={"pm": lambda req: "No JSON today."})) as server:
        proc = run_cli("new", "todo", "--name", "t", *cli_args(server), "--json")
    assert proc.returncode == 4
    error = json.loads(proc.stdout)["error"]
    assert error.startswith("pm: the model's PRD JSON was unusable after 3 attempts: The reply is not valid JSON (")
    assert error.endswith(")") and "Reply with" not in error


def test_reply_error_reason_drops_the_instruction_to_the_model():
    from swcompany.structured import ReplyError

    assert ReplyError("The reply was empty. Reply with the JSON object only.").reason == "The reply was empty"
    assert ReplyError("The design needs changes:\n- a cycle\nReply with the corrected complete JSON object only."
                      ).reason == "The design needs changes: a cycle"
    assert ReplyError("The field x is longer than 9 characters. Keep every field short.").reason == \
        "The field x is longer than 9 characters"


# --- 8. refusals outside the hierarchy are still clean exits ---------------------------------


@pytest.mark.parametrize("make, code, message", [
    (lambda: __import__("swcompany.paths", fromlist=["x"]).UnsafePathError("path escapes the workspace: 'x'"), 2,
     "error: refused to write outside the workspace: path escapes the workspace: 'x'"),
    (lambda: __import__("swcompany.structured", fromlist=["x"]).ReplyError("The reply was empty. Reply again."), 4,
     "error: unusable model output: The reply was empty"),
])
def test_unsafe_path_and_reply_errors_escaping_to_the_cli_exit_cleanly(make, code, message, capsys):
    from swcompany.cli import _errors

    with pytest.raises(typer.Exit) as exit_:
        with _errors(debug=False):
            raise make()
    assert exit_.value.exit_code == code
    assert capsys.readouterr().err.splitlines()[0] == message


def test_api_keyword_types_name_every_setting():
    """The typed keyword arguments of generate_repo/resume/dry_run cannot drift from Settings."""
    from swcompany.config import Settings
    from swcompany.overrides import SettingsOverrides

    assert set(SettingsOverrides.__annotations__) == set(Settings.model_fields) - {"output_dir"}


def test_the_live_view_notes_a_retry_on_its_stage_line():
    from swcompany.events import Event
    from swcompany.llm import Progress
    from swcompany.ui import ConsoleUI

    ui = ConsoleUI("rich")
    ui._start_live = lambda: None  # the table's state, not a terminal, is under test
    ui(Event("run_started", "", "ws", {"stages": [("pm", "Product manager")]}))
    ui(Event("stage_started", "pm", "Product manager", {"model": "m"}))
    ui(Event("llm_progress", "pm", "PRD", {"progress": Progress("pm", "PRD", retry=1, reason="HTTP 429", wait=2.0)}))
    assert ui._detail["pm"] == "retrying PRD (HTTP 429; attempt 1 failed), waiting 2.0s"


def test_doctor_json_stop_before_any_call_is_one_document(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "")
    monkeypatch.setenv("SWCOMPANY_JOBS", "0")  # an invalid setting: doctor stops before probing
    proc = run_cli("doctor", "--json")
    assert proc.returncode == 2
    data = json.loads(proc.stdout)
    assert (data["stop_reason"], data["workspace"]) == ("config", None)
    assert data["error"].startswith("invalid setting jobs (from $SWCOMPANY_JOBS): ")
