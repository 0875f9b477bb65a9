"""3. Resume waste: a finished run resumed (calls, seconds) and kills at random points.

Each kill is a real ``kill -9`` of the CLI process mid-run (fake latency keeps calls in
flight); the resume must finish with at most the calls that were in flight at the kill
as extra provider calls, compared with an uninterrupted run.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from .harness import MODEL, SyntheticResponder, fake_server, quiet_env, save, synthetic_design, table

LATENCY = 0.1


def swcompany(*args: str, wait: bool = True):
    exe = Path(sys.executable).with_name("swcompany")
    cmd = [str(exe) if exe.exists() else sys.executable, *([] if exe.exists() else ["-m", "swcompany"]), *args]
    if wait:
        return subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())


def run(quick: bool = False) -> dict:
    design = synthetic_design(12, 4)
    flags = ["--model", MODEL, "--no-tests", "-j", "4", "-q"]
    with quiet_env() as tmp:
        responder = SyntheticResponder(design, latency=LATENCY)
        with fake_server(responder) as server:
            started = time.perf_counter()
            assert swcompany("new", "bench", "--name", "ref", "-o", str(tmp), "--base-url", server.base_url, *flags).returncode == 0
            full_wall = time.perf_counter() - started
            reference = responder.calls
            before = responder.calls
            started = time.perf_counter()
            proc = swcompany("resume", str(tmp / "ref"))
            finished_resume = {"calls": responder.calls - before, "seconds": round(time.perf_counter() - started, 3),
                               "exit_code": proc.returncode}

        rng = random.Random(7)
        kills = []
        for i in range(3 if quick else 10):
            responder = SyntheticResponder(design, latency=LATENCY)
            with fake_server(responder) as server:
                child = swcompany("new", "bench", "--name", f"k{i}", "-o", str(tmp), "--base-url", server.base_url,
                                  *flags, wait=False)
                # Kill somewhere between the first call and the end of the engineer stage.
                target = rng.randint(1, reference - 1)
                deadline = time.monotonic() + 60
                while responder.calls < target and child.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.005)
                time.sleep(rng.uniform(0, LATENCY))
                in_flight = responder.in_flight
                child.send_signal(signal.SIGKILL)
                child.wait()
                proc = swcompany("resume", str(tmp / f"k{i}"))
                extra = responder.calls - reference
                kills.append({"kill_after_calls": target, "in_flight": in_flight, "extra_calls": extra,
                              "exit_code": proc.returncode, "within_target": extra <= in_flight})
    rows = [[k["kill_after_calls"], k["in_flight"], k["extra_calls"], k["exit_code"], "met" if k["within_target"] else "MISSED"]
            for k in kills]
    met = finished_resume["calls"] == 0 and finished_resume["seconds"] < 1
    table("Resume of a finished run (targets: 0 calls, < 1 s)", ["calls", "seconds", "full run", "target"],
          [[finished_resume["calls"], f"{finished_resume['seconds']:.2f}s", f"{full_wall:.1f}s, {reference} calls",
            "met" if met else "MISSED"]])
    table("kill -9 at random points, then resume", ["killed after call", "in flight", "extra calls", "exit", "extra <= in flight"], rows)
    data = {"reference_calls": reference, "finished_resume": finished_resume, "kills": kills}
    save("resume_waste", data)
    return data
