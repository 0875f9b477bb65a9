"""Bad model output: repaired when the model recovers, a clean exit 4 when it does not, never a bad file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import cli_args, run_cli
from fake_llm_server import Reply
from fake_model import FakeModel
from fault_cases import Case, no_traceback, read_state, scripted
from scenario import CODE, DESIGN, PRD, fenced

OK = 0
PRD_JSON = json.dumps(PRD)


def design_with(files) -> str:
    return json.dumps({**DESIGN, "files": files})


def f(path: str, *deps: str) -> dict:
    return {"path": path, "purpose": "p", "depends_on": list(deps)}


BAD_DESIGNS = {
    "../../etc/passwd": design_with([f("../../etc/passwd")]),
    "/etc/hosts": design_with([f("/etc/hosts")]),
    "C:\\x": design_with([f("C:\\x")]),
    "10,000-char path": design_with([f("a" * 10_000 + ".py")]),
    "5,000 files": design_with([f(f"m{i}.py") for i in range(5000)]),
    "dependency cycle": design_with([f("a.py", "b.py"), f("b.py", "a.py")]),
}

CASES = [
    Case("prose instead of JSON, then JSON", ["I would build a todo app with SQLite."], OK, calls=2),
    Case("JSON missing fields, then complete", [json.dumps({"title": "x"})], OK, calls=2),
    Case("extra fields are ignored", [json.dumps({**PRD, "mood": "happy", "version": 3})], OK, calls=1),
    Case("fenced JSON with chatter", [f"Sure! Here is the PRD:\n```json\n{PRD_JSON}\n```\nLet me know."], OK, calls=1),
    Case("JSON wrapped in a key", [json.dumps({"prd": PRD})], OK, calls=1),
    Case("truncated, then complete", [Reply(content=PRD_JSON[:80], finish_reason="length")], OK, calls=2),
    Case("empty completion, then JSON", [""], OK, calls=2),
    Case("prose forever", ["No JSON today."] * 10, 4, calls=3, stderr_has="unusable", stop_reason="model_output"),
    Case("truncated forever", [Reply(content=PRD_JSON[:80], finish_reason="length")] * 10, 4,
         stderr_has="cut off", stop_reason="model_output"),
    *[Case(f"design names {name}, then a good one", [bad], OK, role="architect", calls=2) for name, bad in BAD_DESIGNS.items()],
    Case("design names ../../etc/passwd forever", [BAD_DESIGNS["../../etc/passwd"]] * 10, 4, role="architect", calls=3,
         stop_reason="model_output", repair_has="escapes the workspace"),
    Case("design names /etc/hosts forever", [BAD_DESIGNS["/etc/hosts"]] * 10, 4, role="architect", calls=3,
         stop_reason="model_output", repair_has="absolute path not allowed"),
    Case("code that does not parse, then good code", [fenced("def broken(:\n")], OK, role="engineer"),
    Case("truncated code is never written", [Reply(content=fenced("def f(:"), finish_reason="length")] * 10, 4,
         role="engineer", stop_reason="model_output"),
]


@pytest.fixture(autouse=True)
def small_limits(monkeypatch):
    monkeypatch.setenv("SWCOMPANY_MAX_OUTPUT_TOKENS", "8192")  # two doublings reach the 32k cap


@pytest.mark.parametrize("case", CASES, ids=str)
def test_model_output_fault(case: Case):
    scenario = scripted(case)
    with FakeModel(scenario) as server:
        proc = run_cli("new", "todo", "--name", "t", *cli_args(server), "--no-tests")
        repair_prompts = [r.body["messages"] for r in server.calls()]
    assert proc.returncode == case.exit_code, proc.stderr
    assert no_traceback(proc.stdout, proc.stderr)
    if case.calls is not None:
        assert scenario.counts[case.role] == case.calls
    assert case.stderr_has in proc.stderr
    ws = Path("workspace/t")
    state = read_state(ws)
    if case.exit_code == OK:
        assert state["stop_reason"] == "done"
        for path, text in CODE.items():
            assert (ws / path).read_text().strip() == text.strip()
        return
    assert state["stop_reason"] == case.stop_reason
    # Nothing outside the workspace, nothing unparseable inside it.
    assert not Path("/etc/passwd.py").exists()
    for py in ws.rglob("*.py"):
        compile(py.read_text(), str(py), "exec")
    if case.repair_has:  # every re-prompt of the targeted role quotes the exact problem
        marker = {"architect": "software architect", "engineer": "senior software engineer"}.get(case.role, "product manager")
        repairs = [m[-1]["content"] for m in repair_prompts if marker in m[0]["content"]][1:]
        assert len(repairs) == case.calls - 1 and all(case.repair_has in r for r in repairs), repairs


def test_repair_prompt_quotes_the_exact_design_error():
    case = Case("cycle", [BAD_DESIGNS["dependency cycle"]], OK, role="architect")
    with FakeModel(scripted(case)) as server:
        assert run_cli("new", "todo", "--name", "t", *cli_args(server), "--no-tests").returncode == 0
        architect = [r for r in server.calls() if "software architect" in r.system]
    assert "dependency cycle among: a.py, b.py" in architect[1].body["messages"][-1]["content"]


def test_symlink_in_workspace_cannot_redirect_writes(fake_model, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    assert run_cli("new", "todo", "--name", "t", *cli_args(fake_model), "--no-tests").returncode == 0
    ws = Path("workspace/t")
    import shutil

    shutil.rmtree(ws / "todo")
    (ws / "todo").symlink_to(outside)  # a trick: the design's folder now points outside
    proc = run_cli("resume", "workspace/t", "--from", "engineer")
    assert proc.returncode == 2 and "escapes the workspace" in proc.stderr
    assert read_state(ws)["stop_reason"] == "unsafe_path"
    assert no_traceback(proc.stderr)
    assert list(outside.iterdir()) == []


def test_undeclared_import_is_repaired():
    bad = CODE["todo/cli.py"].replace("import argparse", "import argparse\nimport requests")
    case = Case("undeclared import", [fenced(bad)], OK, role="engineer")
    scenario = scripted(case)
    with FakeModel(scenario) as server:
        proc = run_cli("new", "todo", "--name", "t", *cli_args(server), "--no-tests")
        prompts = [r.body["messages"][-1]["content"] for r in server.calls() if "senior software engineer" in r.system]
    assert proc.returncode == 0, proc.stderr
    assert any("requests" in p and "not declared" in p for p in prompts)
    assert "import requests" not in Path("workspace/t/todo/cli.py").read_text()
