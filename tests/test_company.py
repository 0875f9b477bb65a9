"""The company file: the shipped examples end to end, validation with line numbers, the reviewer, the API shape."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import git
import pytest

from conftest import cli_args, run_cli
from fake_llm_server import FakeLLMServer, Reply, Request
from fake_model import FakeModel
from scenario import CODE, Scenario

ROOT = Path(__file__).resolve().parent.parent
ANALYST = ROOT / "examples/analyst/company.yaml"
SECURITY = ROOT / "examples/security-review/company.yaml"
ANALYSIS = "# Analysis\n\n- Users: people with too many tasks.\n- Edge case: an empty title is refused.\n"
FINDINGS = {"findings": [{"file": "todo/storage.py", "risk": "low", "advice": "keep using parameters in SQL"}]}


class Company(Scenario):
    """The normal scenario plus the two example roles (recognised by their system prompts)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.security_delay = 0.0

    def __call__(self, req: Request) -> Reply | str:
        if "requirement analyst" in req.system:
            self.counts["analyst"] += 1
            return Reply(content=ANALYSIS)
        if "security reviewer" in req.system:
            self.counts["security"] += 1
            return Reply(content=json.dumps(FINDINGS), delay=self.security_delay)
        return super().__call__(req)


def subjects(ws: Path) -> list[str]:
    return [c.message.splitlines()[0] for c in reversed(list(git.Repo(ws).iter_commits()))]


def test_company_show_prints_the_default_and_validates():
    proc = run_cli("company", "show")
    assert proc.returncode == 0 and "builtin: engineer" in proc.stdout
    assert "# stages: pm, architect, engineer, review, qa" in proc.stdout


@pytest.mark.parametrize("text, line, message", [
    ("stages:\n  - builtin: pm\n  - builtin: nope\n", 3, "unknown builtin stage 'nope'"),
    ("stages:\n  - builtin: pm\n  - name: x\n    prompts: {system: a.j2, user: b.j2}\n    writes: [{path: d.md}]\n", 3,
     "prompt file a.j2 not found"),
    ("stages:\n  - builtin: pm\n  - name: Bad Name\n", 3, "custom stage needs name, prompts and writes"),
    ("stages:\n  - builtin: pm\n    colour: blue\n", 3, "Extra inputs are not permitted"),
    ("stages: [\n", 2, "YAML syntax error"),
])
def test_a_broken_company_file_is_exit_2_with_its_line(tmp_path, fake_model, text, line, message):
    company = tmp_path / "company.yaml"
    company.write_text(text)
    proc = run_cli("new", "todo", "--company", str(company), *cli_args(fake_model))
    assert proc.returncode == 2, proc.stderr
    assert f"line {line}" in proc.stderr and message in proc.stderr and "Traceback" not in proc.stderr
    assert fake_model.calls() == [] and not Path("workspace").exists()


def test_analyst_example_runs_before_the_pm_with_its_own_commit_and_resumes():
    scenario = Company()
    with FakeModel(scenario) as server:
        proc = run_cli("new", "todo", "--name", "t", "--company", str(ANALYST), *cli_args(server), "--json")
        assert proc.returncode == 0, proc.stderr
        result = json.loads(proc.stdout)
        assert list(result["stages"]) == ["analyst", "pm", "architect", "engineer", "qa"]
        ws = Path("workspace/t")
        assert [s.split(":")[0] for s in subjects(ws)] == ["analyst", "pm", "architect", "engineer", "qa"]
        assert (ws / "docs/analysis.md").read_text() == ANALYSIS
        pm_prompt = next(r for r in server.calls() if "You are the product manager" in r.system).text
        assert "Edge case: an empty title is refused." in pm_prompt  # read_by: [pm]
        trailer = git.Repo(ws).git.log("--format=%(trailers:key=Swcompany-Stage,valueonly)")
        assert "analyst" in trailer.split()
        # --from a custom stage re-runs it and what follows, from the cache: no provider call.
        before = len(server.calls())
        again = run_cli("resume", str(ws), "--from", "analyst")
        assert again.returncode == 0, again.stderr
        assert len(server.calls()) == before


def test_a_custom_stage_stops_on_budget_and_resume_finishes():
    scenario = Company()
    with FakeModel(scenario) as server:
        proc = run_cli("new", "todo", "--name", "t", "--company", str(ANALYST), *cli_args(server), "--max-tokens", "1")
        assert proc.returncode == 3, proc.stderr
        state = json.loads(Path("workspace/t/.swcompany/state.json").read_text())
        assert state["stages"]["analyst"]["status"] == "done" and state["stages"]["pm"]["status"] == "failed"
        resumed = run_cli("resume", "workspace/t", "--max-tokens", "10000000")
        assert resumed.returncode == 0, resumed.stderr
        assert scenario.counts["analyst"] == 1


@pytest.mark.slow
def test_security_example_validates_json_writes_its_report_and_survives_kill_9(tmp_path):
    from test_resume import spawn_cli, wait_for

    scenario = Company()
    scenario.security_delay = 30.0
    with FakeLLMServer(scenario) as server:
        child = spawn_cli("new", "todo", "--name", "t", "-o", str(tmp_path / "run"), "--company", str(SECURITY),
                          *cli_args(server))
        ws = tmp_path / "run" / "t"
        wait_for(lambda: scenario.counts["security"] >= 1, timeout=60)
        child.send_signal(signal.SIGKILL)
        child.wait()
        scenario.security_delay = 0.0
        proc = run_cli("resume", str(ws))
        assert proc.returncode == 0, proc.stderr
    assert [s.split(":")[0] for s in subjects(ws)] == ["pm", "architect", "engineer", "security", "qa"]
    report = (ws / "docs/security_review.md").read_text()
    assert "**low** `todo/storage.py`: keep using parameters in SQL" in report
    qa_prompt = next(r for r in server.calls() if "You are the QA engineer" in r.system).text
    assert "keep using parameters in SQL" in qa_prompt  # read_by: [qa]
    assert scenario.counts["engineer"] == 2  # nothing finished before the kill was paid again (__init__.py needs no call)


def test_invalid_json_from_a_custom_stage_is_re_prompted_with_the_schema_error():
    scenario = Company()
    replies = [json.dumps({"findings": [{"file": "x", "risk": "catastrophic"}]})]
    original = scenario.__call__

    def serve(req: Request):
        if "security reviewer" in req.system and replies:
            scenario.counts["security"] += 1
            return Reply(content=replies.pop())
        return original(req)

    with FakeModel(serve) as server:
        proc = run_cli("new", "todo", "--name", "t", "--company", str(SECURITY), *cli_args(server), "--no-tests")
        assert proc.returncode == 0, proc.stderr
        repair = [r for r in server.calls() if "security reviewer" in r.system][1].body["messages"][-1]["content"]
    assert "findings.0" in repair and ("'advice' is a required property" in repair or "catastrophic" in repair)
    assert any(Path("workspace/t/.swcompany/rejects").iterdir())


def test_review_fixes_a_bug_before_qa_and_writes_findings():
    buggy = CODE["todo/storage.py"].replace("return [(i, t, bool(d))", "return [(i, t.upper(), bool(d))")
    review = {"summary": "list_tasks changes titles", "findings": [
        {"file": "todo/storage.py", "severity": "major", "why": "list_tasks upper-cases titles"}],
        "fixes": [{"path": "todo/storage.py", "content": CODE["todo/storage.py"]}]}
    scenario = Scenario(code={**CODE, "todo/storage.py": buggy})
    scenario.overrides["review"] = lambda req: json.dumps(review)
    with FakeModel(scenario) as server:
        proc = run_cli("new", "todo", "--name", "t", "--review", *cli_args(server))
    assert proc.returncode == 0, proc.stderr
    ws = Path("workspace/t")
    assert subjects(ws)[3] == "review: 1 findings (1 serious), 1 files fixed"
    assert (ws / "todo/storage.py").read_text() == CODE["todo/storage.py"]
    assert "list_tasks upper-cases titles" in (ws / "docs/review.md").read_text()
    assert json.loads((ws / "docs/qa_report.json").read_text())["rounds_used"] == 0


def test_python_api_takes_the_metagpt_names(fake_server):
    import swcompany

    seen = []
    result = swcompany.generate_repo("todo", investment=3.0, n_round=5, code_review=True, project_name="x",
                                     model="openai/gpt-4o-mini", base_url=fake_server.base_url, on_event=seen.append)
    state = json.loads(Path(result.workspace, ".swcompany/state.json").read_text())
    assert Path(result.workspace).name == "x"
    assert state["settings"]["budget"] == 3.0 and state["settings"]["fix_rounds"] == 5 and state["settings"]["review"]
    assert "review" in result.stages
    assert any(e.kind == "stage_started" and e.stage == "review" for e in seen)


def test_a_relative_company_path_is_saved_absolute_so_resume_works_from_anywhere(tmp_path, monkeypatch):
    import shutil

    shutil.copytree(ANALYST.parent, tmp_path / "mine")
    monkeypatch.chdir(tmp_path)
    with FakeLLMServer(Company()) as server:
        proc = run_cli("new", "todo", "--name", "t", "--company", "mine/company.yaml", *cli_args(server), "--no-tests")
        assert proc.returncode == 0, proc.stderr
        state = json.loads(Path("workspace/t/.swcompany/state.json").read_text())
        assert state["settings"]["company"] == str(tmp_path / "mine" / "company.yaml")
        monkeypatch.chdir(tmp_path / "workspace")
        again = run_cli("resume", "t", "--from", "analyst")
        assert again.returncode == 0, again.stderr
