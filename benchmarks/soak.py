"""Soak: many runs with 10% injected faults, concurrency, and memory of a 200-file run.

Every run must end in success or a documented exit code; open file descriptors and child
processes are counted before and after; RSS is sampled during a long engineer stage.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from .harness import MODEL, SyntheticResponder, fake_server, generate, quiet_env, save, synthetic_design, table

DOCUMENTED = {0, 2, 3, 4, 5, 130}


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def children() -> int:
    me = str(os.getpid())
    count = 0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].split()[1] == me:
                    count += 1
            except (OSError, IndexError):
                pass
    return count


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(quick: bool = False) -> dict:
    sequential, concurrent, big = (5, 2, 60) if quick else (20, 4, 200)
    design = synthetic_design(12, 4)
    codes: list[int] = []
    with quiet_env() as tmp:
        responder = SyntheticResponder(design, fault_rate=0.10, seed=1)
        with fake_server(responder) as server:
            # The first run fills litellm's HTTP connection pool; leaks are growth after that.
            codes.append(generate(server, tmp, "seq0").exit_code)
            fds_before, kids_before = open_fds(), children()
            started = time.perf_counter()
            for i in range(1, sequential):
                codes.append(generate(server, tmp, f"seq{i}").exit_code)
            seq_wall = time.perf_counter() - started
            exe = Path(sys.executable).with_name("swcompany")
            procs = [subprocess.Popen([str(exe), "new", "soak", "--name", f"par{i}", "-o", str(tmp), "--model", MODEL,
                                       "--base-url", server.base_url, "--no-tests", "-q"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
                     for i in range(concurrent)]
            par_codes = [p.wait(timeout=600) for p in procs]
            fds_after, kids_after = open_fds(), children()

        samples: list[tuple[int, float]] = []
        big_design = synthetic_design(big, 10)
        responder = SyntheticResponder(big_design)
        stop = threading.Event()
        progress = {"files": 0}

        def sample() -> None:
            while not stop.is_set():
                samples.append((progress["files"], rss_mb()))
                time.sleep(0.1)

        def count(event) -> None:
            if event.kind == "file_done":
                progress["files"] = event.data["done"]

        import swcompany

        with fake_server(responder) as server:
            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            result = swcompany.generate_repo("big", name="big", output_dir=tmp, model=MODEL, base_url=server.base_url,
                                             run_tests=False, jobs=8, on_event=count)
            stop.set()
            sampler.join()
    quarter = [r for f, r in samples if f >= big * 0.25]
    growth = (max(quarter) - quarter[0]) if quarter else float("nan")
    all_codes = codes + par_codes
    rows = [
        ["sequential runs", sequential, f"{codes.count(0)} ok", sorted(set(codes)), f"{seq_wall:.1f}s"],
        ["concurrent CLI runs", concurrent, f"{par_codes.count(0)} ok", sorted(set(par_codes)), ""],
        ["open fds after run 1 / after all", "", f"{fds_before} / {fds_after}", "", ""],
        ["child processes before/after", "", f"{kids_before} / {kids_after}", "", ""],
        [f"{big}-file run RSS", "", f"start {quarter[0] if quarter else 0:.0f} MB, peak {max(quarter) if quarter else 0:.0f} MB",
         f"growth after 25%: {growth:.1f} MB", f"exit {result.exit_code}"],
    ]
    table("Soak with 10% injected faults (429, 500, prose instead of JSON)", ["what", "n", "result", "codes", "time"], rows)
    ok = all(c in DOCUMENTED for c in all_codes) and fds_after <= fds_before + 2 and kids_after <= kids_before
    print(f"every run ended in success or a documented code, no leaked fds or processes: {'yes' if ok else 'NO'}")
    data = {"sequential_exit_codes": codes, "concurrent_exit_codes": par_codes, "fds": [fds_before, fds_after],
            "children": [kids_before, kids_after], "big_files": big, "rss_mb_growth_after_25pct": round(growth, 2),
            "rss_mb_peak": round(max(r for _, r in samples), 1) if samples else None, "ok": ok}
    save("soak", data)
    return data


if __name__ == "__main__":
    run("--quick" in sys.argv)
