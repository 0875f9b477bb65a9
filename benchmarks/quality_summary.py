"""The README table rows, computed from whatever ``quality.json`` holds (a partial run says so)."""

from __future__ import annotations

import statistics
from typing import Any

from .harness import table
from .quality_apps import APP_IDEAS, CHECKS
from .quality_humaneval import APPROACHES, EMBEDDED, EMBEDDED_PROBLEMS, HUMANEVAL, LABELS, SAMPLE

APPROACH_NAMES = {"single": "single completion", "loop": "engineer + QA loop"}


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def humaneval_rows(items: dict[str, dict[str, Any]], problem_set: str) -> list[list[str]]:
    """pass@1 per approach; the denominator is the whole set, so a partial run reads "n of 40 done"."""
    total = len(SAMPLE) if problem_set == HUMANEVAL else len(EMBEDDED_PROBLEMS)
    rows = []
    for approach in APPROACHES:
        done = [v for k, v in items.items() if k.startswith(f"{problem_set}/") and k.endswith(f"/{approach}")]
        if not done:
            continue
        passed = sum(bool(v["passed"]) for v in done)
        progress = "" if len(done) == total else f" ({len(done)} of {total} done)"
        rows.append([f"{LABELS[problem_set]} pass@1, {APPROACH_NAMES[approach]}",
                     f"{passed}/{len(done)} = {passed / len(done):.1%}{progress}",
                     f"{sum(v.get('calls', 0) for v in done)} calls, {sum(v.get('tokens', 0) for v in done):,} tokens"])
    return rows


def app_rows(items: dict[str, dict[str, Any]]) -> list[list[str]]:
    apps = [v for k, v in items.items() if k.startswith("apps/")]
    if not apps:
        return []
    n = len(apps)
    progress = "" if n == len(APP_IDEAS) else f" ({n} of {len(APP_IDEAS)} done)"

    def count(field: str) -> str:
        return f"{sum(bool(a.get(field)) for a in apps)}/{n}"

    seconds = [a["seconds"] for a in apps]
    calls = [a.get("calls", 0) for a in apps]
    tokens = [a.get("tokens", 0) for a in apps]
    return [
        [f"app ideas: exit 0{progress}", count("exit_ok"), ""],
        ["app ideas: own tests passing", count("tests_pass"), ""],
        ["app ideas: every test file imports the code", count("tests_import_code"), ""],
        ["app ideas: no stub function left", count("no_stubs"), ""],
        ["app ideas: all four of the above", count("all_ok"), " and ".join(CHECKS)],
        ["app ideas: run command works", count("run_ok"), f"timed out: {sum(bool(a.get('run_timed_out')) for a in apps)}"],
        ["app ideas: wall time", f"median {_minutes(statistics.median(seconds))}, max {_minutes(max(seconds))}", ""],
        ["app ideas: calls", f"median {statistics.median(calls):g}, total {sum(calls)}", ""],
        ["app ideas: tokens", f"median {statistics.median(tokens):,.0f}, total {sum(tokens):,}", ""],
    ]


def idea_rows(items: dict[str, dict[str, Any]]) -> list[list[Any]]:
    """One line per finished idea, for reading next to its workspace."""
    rows = []
    for k in sorted((k for k in items if k.startswith("apps/")), key=lambda k: int(k.split("/")[1])):
        a = items[k]
        qa = a.get("qa") or {}
        rows.append([k, a["idea"][:48], a["exit_code"], f"{qa.get('passed', 0)}/{qa.get('tests_run', 0)}",
                     "yes" if a["tests_import_code"] else "no", len(a.get("stubs", [])),
                     "ok" if a["run_ok"] else ("timeout" if a.get("run_timed_out") else a.get("run_exit")),
                     _minutes(a["seconds"]), a.get("calls", 0), a.get("tokens", 0)])
    return rows


def rows(data: dict[str, Any]) -> list[list[str]]:
    items = data.get("items", {})
    return humaneval_rows(items, HUMANEVAL) + humaneval_rows(items, EMBEDDED) + app_rows(items)


def print_summary(data: dict[str, Any] | None) -> None:
    if not data or not data.get("items"):
        print("quality: no results yet")
        return
    m = data.get("machine", {})
    where = f"{data['model']} at {data.get('base_url_host') or 'the provider'}"
    machine = f"{m.get('cpus')} CPUs, {m.get('platform')}, Python {m.get('python')}"
    table(f"Quality: {where}; {machine}; {data.get('started')} to {data.get('updated')}",
          ["measure", "result", "detail"], rows(data))
    ideas = idea_rows(data["items"])
    if ideas:
        table("Application ideas", ["key", "idea", "exit", "tests", "import code", "stubs", "run", "wall", "calls",
                                    "tokens"], ideas)
