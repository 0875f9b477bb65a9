"""1. Orchestration efficiency: wall time of a 30-file, 5-level design against the critical path.

The fake server runs in its own process, as a real provider would. Lower bound = latency x (1 PM call + 1 architect call + one engineer call per dependency
level): files of a level can all run at once, nothing can beat the chain of levels.
"""

from __future__ import annotations

import time

from types import SimpleNamespace

from .harness import generate, quiet_env, save, table
from .serve import server_process

LATENCY = 0.2


def run(quick: bool = False) -> dict:
    n_files, levels = (15, 5) if quick else (30, 5)
    bound = LATENCY * (1 + 1 + levels)
    rows, results = [], {}
    for jobs in (8, 1):
        with quiet_env() as tmp, server_process(n_files, levels, LATENCY) as base_url:
            started = time.perf_counter()
            result = generate(SimpleNamespace(base_url=base_url), tmp, "orch", jobs=jobs)
            wall = time.perf_counter() - started
        assert result.ok, result.error
        results[f"jobs_{jobs}"] = {"wall_s": round(wall, 3), "ratio_to_bound": round(wall / bound, 3),
                                   "calls": result.usage.calls}
        rows.append([jobs, n_files, levels, f"{wall:.2f}s", f"{bound:.2f}s", f"{wall / bound:.2f}x",
                     "met" if jobs == 1 or wall / bound <= 1.15 else "MISSED"])
    table(f"Orchestration: {n_files} files in {levels} levels, {LATENCY * 1000:.0f} ms per call "
          f"(bound = latency x (PM + architect + {levels} levels))",
          ["jobs", "files", "levels", "wall", "critical-path bound", "ratio", "target <= 1.15x (jobs 8)"], rows)
    data = {"files": n_files, "levels": levels, "latency_s": LATENCY, "bound_s": bound, **results}
    save("orchestration", data)
    return data
