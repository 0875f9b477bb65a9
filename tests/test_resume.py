"""Resume, state, cache, lock, cost and budget: no run is lost, no token paid twice."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import git
import pytest

from conftest import cli_args, run_cli
from fake_llm_server import FakeLLMServer
from fake_model import FakeModel
from scenario import DESIGN, Scenario

WIDE_DESIGN = {
    **DESIGN,
    "files": [{"path": f"pkg/mod{i}.py", "purpose": f"module {i}", "depends_on": [], "interface": f"f{i}() -> int"}
              for i in range(8)],
}
WIDE_CODE = {f"pkg/mod{i}.py": f"def f{i}():\n    return {i}\n" for i in range(8)}


def chat_calls(server: FakeLLMServer) -> int:
    return len(server.calls())


def workspace_files(ws: Path) -> dict[str, str]:
    return {str(p.relative_to(ws)): p.read_text() for p in sorted(ws.rglob("*"))
            if p.is_file() and ".git" not in p.parts and ".swcompany" not in p.parts}


def stage_subjects(ws: Path) -> list[str]:
    return [c.message.splitlines()[0] for c in reversed(list(git.Repo(ws).iter_commits()))]


def spawn_cli(*args: str) -> subprocess.Popen:
    exe = Path(sys.executable).with_name("swcompany")
    return subprocess.Popen([str(exe), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


@pytest.mark.slow
def test_kill_9_mid_engineer_then_resume_matches_uninterrupted_run(tmp_path):
    # Reference: an uninterrupted run.
    with FakeLLMServer(Scenario(design=WIDE_DESIGN, code=WIDE_CODE)) as ref_server:
        proc = run_cli("new", "wide app", "--name", "app", "-o", str(tmp_path / "ref"), "-j", "2", "--no-tests",
                       *cli_args(ref_server))
        assert proc.returncode == 0, proc.stderr
        reference_calls = chat_calls(ref_server)
    ref_ws = tmp_path / "ref" / "app"

    scenario = Scenario(design=WIDE_DESIGN, code=WIDE_CODE, delay=0.25)
    with FakeLLMServer(scenario) as server:
        child = spawn_cli("new", "wide app", "--name", "app", "-o", str(tmp_path / "run"), "-j", "2", "--no-tests",
                          *cli_args(server))
        ws = tmp_path / "run" / "app"

        def files_recorded() -> int:
            try:
                files = json.loads((ws / ".swcompany/state.json").read_text())["files"]
                return sum(1 for record in files.values() if record["stage"] == "engineer")
            except (OSError, ValueError, KeyError):
                return 0

        wait_for(lambda: files_recorded() >= 2)
        in_flight = server.in_flight()
        child.send_signal(signal.SIGKILL)
        child.wait()
        first_calls = chat_calls(server)
        state = json.loads((ws / ".swcompany/state.json").read_text())
        assert state["stages"]["engineer"]["status"] == "running"
        assert 0 < sum(1 for r in state["files"].values() if r["stage"] == "engineer") < 8

        proc = run_cli("resume", str(ws))
        assert proc.returncode == 0, proc.stderr
        total_calls = chat_calls(server)

    assert workspace_files(ws) == workspace_files(ref_ws)
    assert stage_subjects(ws) == stage_subjects(ref_ws)
    assert total_calls <= reference_calls + in_flight, (first_calls, total_calls, reference_calls, in_flight)


def test_resume_of_finished_run_makes_no_calls(fake_model, tmp_path):
    assert run_cli("new", "todo", "--name", "t", *cli_args(fake_model), "--no-tests").returncode == 0
    before = chat_calls(fake_model)
    proc = run_cli("resume", "workspace/t")
    assert proc.returncode == 0, proc.stderr
    assert "nothing to do" in proc.stderr
    assert chat_calls(fake_model) == before


def test_rerun_from_pm_is_served_by_the_cache(fake_model):
    assert run_cli("new", "todo", "--name", "t", *cli_args(fake_model), "--no-tests").returncode == 0
    before = chat_calls(fake_model)
    proc = run_cli("resume", "workspace/t", "--from", "pm")
    assert proc.returncode == 0, proc.stderr
    assert chat_calls(fake_model) == before  # every reply came from the cache
    proc = run_cli("resume", "workspace/t", "--from", "pm", "--no-cache")
    assert proc.returncode == 0, proc.stderr
    assert chat_calls(fake_model) > before


def test_budget_exhausted_during_architect_then_resume_with_more(tmp_path, monkeypatch):
    monkeypatch.setenv("SWCOMPANY_INPUT_COST_PER_TOKEN", "0.001")
    monkeypatch.setenv("SWCOMPANY_OUTPUT_COST_PER_TOKEN", "0.001")
    replies = iter(["I think the design should be simple."])  # first architect reply needs a repair call
    scenario = Scenario(overrides={"architect": lambda req: next(replies, None) or json.dumps(DESIGN)})
    with FakeModel(scenario) as server:
        # The PM call costs ~$0.7 with these prices; the budget allows one more call, not two.
        proc = run_cli("new", "todo", "--name", "t", *cli_args(server), "--no-tests", "--budget", "1.2")
        assert proc.returncode == 3, proc.stderr
        assert "budget" in proc.stderr and "swcompany resume" in proc.stderr and "--budget" in proc.stderr
        state = json.loads(Path("workspace/t/.swcompany/state.json").read_text())
        assert state["stop_reason"] == "budget" and state["exit_code"] == 3
        assert state["stages"]["pm"]["status"] == "done"
        assert state["stages"]["architect"]["status"] == "failed"
        assert scenario.counts["architect"] == 1
        spent = state["usage"]["cost"]
        assert spent >= 1.2

        proc = run_cli("resume", "workspace/t", "--budget", "10")
        assert proc.returncode == 0, proc.stderr
        state = json.loads(Path("workspace/t/.swcompany/state.json").read_text())
        assert state["stop_reason"] == "done"
        assert scenario.counts["architect"] == 2  # the cached first reply was not paid again


def test_max_tokens_budget_stops_with_exit_3(fake_model):
    proc = run_cli("new", "todo", "--name", "t", *cli_args(fake_model), "--no-tests", "--max-tokens", "10")
    assert proc.returncode == 3
    assert "--max-tokens" in proc.stderr


def test_hand_edited_prd_json_reaches_the_design_prompt(fake_model):
    assert run_cli("new", "todo", "--name", "t", *cli_args(fake_model), "--no-tests").returncode == 0
    prd_path = Path("workspace/t/docs/prd.json")
    prd = json.loads(prd_path.read_text())
    prd["title"] = "Galactic Task Ledger"
    prd_path.write_text(json.dumps(prd))
    proc = run_cli("resume", "workspace/t", "--from", "architect")
    assert proc.returncode == 0, proc.stderr
    architect_prompts = [r.text for r in fake_model.calls() if "software architect" in r.system]
    assert "Galactic Task Ledger" in architect_prompts[-1]
    assert "Galactic Task Ledger" in Path("workspace/t/docs/prd.json").read_text()


def test_hand_edited_prd_markdown_is_authoritative(fake_model):
    assert run_cli("new", "todo", "--name", "t", *cli_args(fake_model), "--no-tests").returncode == 0
    md = Path("workspace/t/docs/prd.md")
    md.write_text(md.read_text() + "\n- [ ] Tasks can be tagged with #labels\n")
    assert run_cli("resume", "workspace/t", "--from", "architect").returncode == 0
    architect_prompts = [r.text for r in fake_model.calls() if "software architect" in r.system]
    assert "#labels" in architect_prompts[-1]


@pytest.mark.slow
def test_second_run_on_a_busy_workspace_fails_clearly(tmp_path):
    scenario = Scenario(design=WIDE_DESIGN, code=WIDE_CODE)
    with FakeLLMServer(scenario) as server:
        assert run_cli("new", "todo", "--name", "t", *cli_args(server), "--no-tests").returncode == 0
        scenario.delay = 0.5
        before = scenario.counts["engineer"]
        first = spawn_cli("resume", "workspace/t", "--from", "engineer", "--no-cache", "-j", "1")
        wait_for(lambda: scenario.counts["engineer"] > before)  # its first call: it holds the lock
        second = run_cli("resume", "workspace/t", "--from", "engineer")
        assert second.returncode == 2
        assert "in use by another swcompany run" in second.stderr
        assert "Traceback" not in second.stderr
        scenario.delay = 0.0  # the lock is proven; let the first run finish at full speed
        out, err = first.communicate(timeout=60)
        assert first.returncode == 0, err


@pytest.mark.slow
def test_sigterm_saves_state_and_resume_finishes(tmp_path):
    scenario = Scenario(design=WIDE_DESIGN, code=WIDE_CODE, delay=0.3)
    with FakeLLMServer(scenario) as server:
        child = spawn_cli("new", "wide", "--name", "w", "-j", "2", "--no-tests", *cli_args(server))
        wait_for(lambda: scenario.counts["engineer"] >= 2)
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=30)
        assert child.returncode == 130, err
        assert "Traceback" not in err
        state = json.loads(Path("workspace/w/.swcompany/state.json").read_text())
        assert state["stop_reason"] == "interrupted"
        scenario.delay = 0.0
        proc = run_cli("resume", "workspace/w")
        assert proc.returncode == 0, proc.stderr
        assert stage_subjects(Path("workspace/w"))[-1].startswith("engineer:")


def test_cost_is_summed_per_stage_into_log_state_and_trailers(fake_model, monkeypatch):
    monkeypatch.setenv("SWCOMPANY_INPUT_COST_PER_TOKEN", "0.000001")
    monkeypatch.setenv("SWCOMPANY_OUTPUT_COST_PER_TOKEN", "0.000002")
    assert run_cli("new", "todo", "--name", "t", *cli_args(fake_model), "--no-tests").returncode == 0
    ws = Path("workspace/t")
    log = [json.loads(l) for l in (ws / ".swcompany/llm.jsonl").read_text().splitlines()]
    for line in log:
        assert line["cost"] == pytest.approx(line["prompt_tokens"] * 1e-6 + line["completion_tokens"] * 2e-6)
    state = json.loads((ws / ".swcompany/state.json").read_text())
    for commit in git.Repo(ws).iter_commits():
        trailers = dict(l.split(": ", 1) for l in commit.message.splitlines() if l.startswith("Swcompany-"))
        stage = trailers["Swcompany-Stage"]
        expected = sum(l["cost"] for l in log if l["stage"] == stage)
        assert float(trailers["Swcompany-Cost"]) == pytest.approx(expected, abs=1e-6)
        assert state["stages"][stage]["usage"]["cost"] == pytest.approx(expected, abs=1e-6)
    assert state["usage"]["cost"] == pytest.approx(sum(l["cost"] for l in log), abs=1e-6)


def test_status_table_and_json(fake_model):
    assert run_cli("new", "todo", "--name", "t", *cli_args(fake_model), "--no-tests").returncode == 0
    proc = run_cli("status", "workspace/t", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["stages"]["engineer"]["status"] == "done" and data["stop_reason"] == "done"
    assert "todo/cli.py" in data["files"]
    proc = run_cli("status", "workspace/t")
    assert "engineer" in proc.stdout and "done" in proc.stdout
    assert run_cli("status", "nowhere").returncode == 2


def test_crash_between_commit_and_state_save_is_reconciled(fake_model):
    assert run_cli("new", "todo", "--name", "t", *cli_args(fake_model), "--no-tests").returncode == 0
    state_path = Path("workspace/t/.swcompany/state.json")
    state = json.loads(state_path.read_text())
    state["stages"]["engineer"]["status"] = "running"  # as if killed right after the commit
    state["stages"]["qa"]["status"] = "pending"
    state_path.write_text(json.dumps(state))
    before = chat_calls(fake_model)
    proc = run_cli("resume", "workspace/t")
    assert proc.returncode == 0, proc.stderr
    assert chat_calls(fake_model) == before
    subjects = stage_subjects(Path("workspace/t"))
    assert [s.split(":")[0] for s in subjects] == ["pm", "architect", "engineer"]


def test_python_api_returns_a_result(fake_server, tmp_path):
    import swcompany

    result = swcompany.generate_repo("todo app", name="api", output_dir=tmp_path / "out", model="openai/gpt-4o-mini",
                                     base_url=fake_server.base_url, run_tests=False)
    assert result.ok and result.stages["engineer"].commit
    again = swcompany.resume(result.workspace)
    assert again.ok and again.usage.calls == result.usage.calls


def test_stale_git_index_lock_from_a_killed_commit_is_cleared(fake_model):
    assert run_cli("new", "todo", "--name", "t", *cli_args(fake_model), "--no-tests").returncode == 0
    Path("workspace/t/.git/index.lock").write_text("")
    proc = run_cli("resume", "workspace/t", "--from", "engineer")
    assert proc.returncode == 0, proc.stderr
