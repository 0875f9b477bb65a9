"""6. Quality on a real model: HumanEval pass@1 (single completion vs engineer+QA loop) and 10 app ideas.

Runs only when a model is configured (``SWCOMPANY_BENCH_MODEL``, optional
``SWCOMPANY_BENCH_BASE_URL``, or ``--model``/``--base-url``). Each finished item is saved to
``benchmarks/results/quality.json`` at once and skipped by the next run for the same model
(``--fresh`` starts over), because a full run on a local 1.5B model takes hours. An item cut
short by the provider or by Ctrl-C is not saved: the next run does it again from scratch.
The plumbing is tested offline (tests/test_benchmarks.py) with the embedded smoke set.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from collections.abc import Callable

from . import quality_apps as apps_part
from . import quality_humaneval as he
from .harness import RESULTS
from .quality_apps import APP_IDEAS
from .quality_humaneval import EMBEDDED_PROBLEMS, passes
from .quality_store import QualityError, ResultStore, load
from .quality_summary import print_summary

__all__ = ["APP_IDEAS", "EMBEDDED_PROBLEMS", "DEFAULT_OUT", "DEFAULT_WORKDIR", "PARTS", "QualityError", "passes", "run"]
DEFAULT_OUT = RESULTS / "quality.json"
DEFAULT_WORKDIR = RESULTS / "quality-work"
PARTS = ("all", "humaneval", "apps")
# Stops that say nothing about the model's work: the item is retried on the next run.
NOT_FINISHED = {"provider", "interrupted", "busy", "storage", "config", "usage"}


def _finished(item: dict[str, Any]) -> bool:
    return item.get("stop_reason") not in NOT_FINISHED


def _do(store: ResultStore, key: str, work: Callable[[], dict[str, Any]], label: str) -> None:
    """Run one item unless it is done; save it only when it really finished."""
    if store.done(key):
        print(f"  {key}: done earlier, skipped")
        return
    from swcompany.errors import SwcompanyError

    try:
        item = work()
    except SwcompanyError as exc:
        raise QualityError(f"{key} stopped ({exc.stop_reason}): {exc}; nothing saved for it, re-run to retry") from None
    if not _finished(item):
        raise QualityError(f"{key} stopped ({item['stop_reason']}): {item.get('error')}; "
                           "nothing saved for it, re-run to retry")
    store.record(key, item)
    print(f"  {key}: {label} {_verdict(item)} ({item['seconds']:.0f} s, {item.get('calls', 0)} calls)")


def _verdict(item: dict[str, Any]) -> str:
    if "passed" in item:
        return "passed" if item["passed"] else "failed"
    return ", ".join(f"{c} {'yes' if item[c] else 'no'}" for c in (*apps_part.CHECKS, "run_ok"))


def run(quick: bool = False, model: str | None = None, base_url: str | None = None, *, part: str = "all",
        ideas: str | None = None, problems: str | None = None, fresh: bool = False, out: Path | None = None,
        workdir: Path | None = None, summary_only: bool = False) -> dict[str, Any]:
    """Run the chosen parts, skipping finished items; returns the result document."""
    out = out or DEFAULT_OUT
    if summary_only:
        data = load(out)
        print_summary(data)
        return data or {}
    model = model or os.environ.get("SWCOMPANY_BENCH_MODEL")
    base_url = base_url or os.environ.get("SWCOMPANY_BENCH_BASE_URL")
    if not model:
        print("quality: skipped: no real model configured (set SWCOMPANY_BENCH_MODEL, optionally SWCOMPANY_BENCH_BASE_URL)")
        return {"skipped": True}
    if part not in PARTS:
        raise QualityError(f"--part takes one of {', '.join(PARTS)}, not {part!r}")
    workdir = workdir or DEFAULT_WORKDIR
    settings = {"model": model, "base_url": base_url}
    # Check every selection before the first call: a typo should not surface after an hour.
    chosen_problems = he.select(problems, quick) if part in ("all", "humaneval") else None
    chosen_ideas = apps_part.select(ideas, quick) if part in ("all", "apps") else []
    store = ResultStore(out, model, base_url, fresh=fresh)
    print(f"quality: {model}; results in {out}; workspaces in {workdir}")
    if chosen_problems:
        problem_set, selected = chosen_problems
        print(f"{he.LABELS[problem_set]}: {len(selected)} problems x {len(he.APPROACHES)} approaches")
        for problem in selected:
            folder = workdir / problem_set / problem["task_id"].replace("/", "_")
            _do(store, he.key(problem_set, problem, "single"),
                lambda problem=problem, folder=folder: {"set": problem_set, **he.single_completion(problem, settings, folder / "single")},
                "single")
            _do(store, he.key(problem_set, problem, "loop"),
                lambda problem=problem, folder=folder: {"set": problem_set, **he.engineer_qa_loop(problem, settings, folder / "loop")},
                "loop")
    for index in chosen_ideas:
        _do(store, apps_part.key(index), lambda index=index: apps_part.run_idea(index, settings, workdir), "app")
    print_summary(store.data)
    return store.data
