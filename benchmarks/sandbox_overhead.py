"""7. Sandbox overhead: the time bubblewrap adds to one test run of a small generated project.

The todo project of the test scenario (2 modules, 2 test files) is written to a workspace and
its tests run with ``run_pytest`` in turns: contained (bubblewrap, rlimits, pids cgroup or
watchdog, report pipe) and plain (process group only). Medians of N runs each, interleaved
so the machine's load falls on both alike.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .harness import median, save, table


def write_project(root: Path) -> Path:
    """A workspace like one the pipeline leaves before QA: code, tests, .git, .swcompany."""
    from scenario import CODE, TESTS

    root.mkdir(parents=True)
    for rel, text in {**CODE, **TESTS}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / ".swcompany").mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def time_runs(workspace: Path, mode: str, samples: list[float]) -> None:
    from swcompany.sandbox import run_pytest

    started = time.perf_counter()
    run, counts = run_pytest(workspace, sys.executable, timeout=60, mode=mode)  # type: ignore[arg-type]
    samples.append(time.perf_counter() - started)
    if counts.passed != 2:
        raise RuntimeError(f"the benchmark project's tests did not pass ({mode}):\n{run.output[-2000:]}")


def run(quick: bool = False) -> dict:
    from swcompany.bwrap import availability

    found = availability()
    if not found.ok:
        print(f"sandbox_overhead: skipped: bubblewrap is not available ({found.reason})")
        return {"skipped": True, "reason": found.reason}
    runs = 5 if quick else 15
    samples: dict[str, list[float]] = {"none": [], "auto": []}
    with tempfile.TemporaryDirectory(prefix="swsandbox-") as tmp:
        workspace = write_project(Path(tmp) / "todo")
        time_runs(workspace, "none", [])  # warm the page cache for both
        for _ in range(runs):
            for mode in ("none", "auto"):
                time_runs(workspace, mode, samples[mode])
    plain, contained = median(samples["none"]), median(samples["auto"])
    added = contained - plain
    table(f"Sandbox overhead per test run, median of {runs} (2 modules, 2 test files)", ["sandbox", "median", "added"],
          [["none (process group)", f"{plain * 1000:.0f} ms", ""],
           ["bubblewrap", f"{contained * 1000:.0f} ms", f"+{added * 1000:.0f} ms ({contained / plain:.2f}x)"]])
    data = {"runs": runs, "median_none_s": round(plain, 4), "median_bubblewrap_s": round(contained, 4),
            "added_s": round(added, 4), "ratio": round(contained / plain, 3)}
    save("sandbox_overhead", data)
    return data


if __name__ == "__main__":
    run()
