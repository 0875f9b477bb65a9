"""4. Per-call framework overhead: our time around each LLM call, fake latency excluded.

With one job and a zero-latency server, the engineer stage is a strict sequence of calls;
the time *between* the end of one provider request and the start of the next is ours
(writing the file atomically, saving state, rendering the next prompt, cache lookup, log
line, event). litellm's own client time per call is reported separately.
"""

from __future__ import annotations

import time

from .harness import SyntheticResponder, fake_server, generate, median, quiet_env, save, synthetic_design, table


def run(quick: bool = False) -> dict:
    from swcompany.llm import Gateway

    n = 20 if quick else 60
    spans: list[tuple[float, float, str]] = []
    original = Gateway._call_with_retries

    def timed(self, request, *args, **kwargs):
        started = time.perf_counter()
        try:
            return original(self, request, *args, **kwargs)
        finally:
            spans.append((started, time.perf_counter(), request["messages"][0]["content"][:60]))

    Gateway._call_with_retries = timed
    try:
        with quiet_env() as tmp, fake_server(SyntheticResponder(synthetic_design(n, 5))) as server:
            generate(server, tmp, "overhead", jobs=1, cache=False)
    finally:
        Gateway._call_with_retries = original
    engineer = [s for s in spans if "senior software engineer" in s[2]]
    gaps = [b[0] - a[1] for a, b in zip(engineer, engineer[1:])]
    client = [b - a for a, b, _ in engineer]
    gap_ms, client_ms = median(gaps) * 1000, median(client) * 1000
    table(f"Per-call overhead over {len(engineer)} sequential engineer calls (zero fake latency)",
          ["measure", "median", "p90", "target"],
          [["swcompany between calls", f"{gap_ms:.2f} ms", f"{sorted(gaps)[int(len(gaps) * 0.9)] * 1000:.2f} ms",
            "< 5 ms: " + ("met" if gap_ms < 5 else "MISSED")],
           ["litellm client + loopback HTTP per call", f"{client_ms:.2f} ms",
            f"{sorted(client)[int(len(client) * 0.9)] * 1000:.2f} ms", "(not ours)"]])
    data = {"calls": len(engineer), "ours_median_ms": round(gap_ms, 3), "litellm_http_median_ms": round(client_ms, 3)}
    save("overhead", data)
    return data
