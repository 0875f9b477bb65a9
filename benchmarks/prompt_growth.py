"""2. Prompt growth: engineer prompt tokens per file as designs grow, vs the peers' all-prior-code prompts.

Ours is measured from `.swcompany/llm.jsonl` (tokens counted by the fake server, 1 per 4
characters). The baseline is simulated on the same designs with the same counter: each
prompt holds the whole design listing and the full text of every file written before it
(what MetaGPT's and gpt-engineer's engineers send).
"""

from __future__ import annotations

import json
from pathlib import Path

from .harness import SyntheticResponder, fake_server, generate, quiet_env, save, synthetic_code, synthetic_design, table


def baseline_tokens(design: dict, base_prompt_tokens: int) -> int:
    listing = sum(len(json.dumps(f)) for f in design["files"]) // 4
    written, total = 0, 0
    for spec in design["files"]:
        total += base_prompt_tokens + listing + written
        written += len(synthetic_code(spec["path"], spec["depends_on"])) // 4
    return total


def run(quick: bool = False) -> dict:
    sizes = (10, 20, 40) if quick else (10, 20, 40, 80)
    rows, points = [], []
    for n in sizes:
        design = synthetic_design(n, 5)
        with quiet_env() as tmp, fake_server(SyntheticResponder(design)) as server:
            result = generate(server, tmp, f"growth{n}", jobs=8)
            assert result.ok, result.error
            log = [json.loads(l) for l in (Path(result.workspace) / ".swcompany/llm.jsonl").read_text().splitlines()]
        ours = sum(l["prompt_tokens"] for l in log if l["stage"] == "engineer")
        first = min(l["prompt_tokens"] for l in log if l["stage"] == "engineer")
        base = baseline_tokens(design, first)
        points.append({"files": n, "ours_total": ours, "ours_per_file": ours / n, "baseline_total": base,
                       "baseline_per_file": base / n})
        rows.append([n, f"{ours:,}", f"{ours / n:,.0f}", f"{base:,}", f"{base / n:,.0f}"])
    per_file = [p["ours_per_file"] for p in points]
    spread = (max(per_file) - min(per_file)) / min(per_file)
    table("Engineer prompt tokens (ours: deps only; baseline: all earlier code + full design)",
          ["files", "ours total", "ours per file", "baseline total", "baseline per file"], rows)
    print(f"tokens per file spread across sizes: {spread:.1%} (target within 10%: {'met' if spread <= 0.10 else 'MISSED'})")
    data = {"points": points, "per_file_spread": round(spread, 4)}
    save("prompt_growth", data)
    return data
