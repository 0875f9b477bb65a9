"""Run the benchmarks: `python -m benchmarks [--quick] [--only NAME ...]`."""

from __future__ import annotations

import argparse
import time

from . import (harness, orchestration, overhead, prompt_growth, quality, resume_waste, sandbox_overhead, serve_load,
               soak, startup)

BENCHMARKS = {
    "orchestration": orchestration.run,
    "prompt_growth": prompt_growth.run,
    "resume_waste": resume_waste.run,
    "overhead": overhead.run,
    "startup": startup.run,
    "soak": soak.run,
    "serve_load": serve_load.run,
    "quality": quality.run,
    "sandbox_overhead": sandbox_overhead.run,
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, a minute or two in all")
    parser.add_argument("--only", nargs="*", choices=sorted(BENCHMARKS), help="run only these")
    args = parser.parse_args()
    info = harness.machine()
    print(f"machine: {info['cpus']} CPUs, {info['cpu']}, Python {info['python']}")
    harness.warm_up()
    for name in args.only or BENCHMARKS:
        started = time.perf_counter()
        print(f"\n== {name}")
        BENCHMARKS[name](quick=args.quick)
        print(f"({name} took {time.perf_counter() - started:.1f}s; results in benchmarks/results/{name}.json)")


if __name__ == "__main__":
    main()
