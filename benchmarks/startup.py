"""5. Start-up: `swcompany --help`, `--version`, `status`, `config show` vs `python -c pass`.

Each command runs N times as a fresh process; medians are compared in the same run, so the
machine's speed cancels out. These commands must never import litellm (~3 s).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from .harness import SyntheticResponder, fake_server, generate, median, quiet_env, save, synthetic_design, table

TARGET_HELP_S = 0.25


def _time(cmd: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
        samples.append(time.perf_counter() - started)
    return median(samples)


def run(quick: bool = False) -> dict:
    runs = 5 if quick else 15
    exe = str(Path(sys.executable).with_name("swcompany"))
    with quiet_env() as tmp:
        with fake_server(SyntheticResponder(synthetic_design(2, 2))) as server:
            ws = generate(server, tmp, "startup").workspace
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "swcompany --help": [exe, "--help"],
            "swcompany --version": [exe, "--version"],
            "swcompany status WS": [exe, "status", ws],
            "swcompany config show": [exe, "config", "show"],
        }
        results = {name: _time(cmd, runs) for name, cmd in commands.items()}
    base = results["python -c pass"]
    rows = [[name, f"{s * 1000:.0f} ms", f"+{(s - base) * 1000:.0f} ms"] for name, s in results.items()]
    help_s = results["swcompany --help"]
    table(f"Start-up, median of {runs} runs (target: --help < {TARGET_HELP_S * 1000:.0f} ms: "
          f"{'met' if help_s < TARGET_HELP_S else 'MISSED'})", ["command", "median", "over python -c pass"], rows)
    data = {"runs": runs, "median_s": {k: round(v, 4) for k, v in results.items()}}
    save("startup", data)
    return data


if __name__ == "__main__":
    run()
