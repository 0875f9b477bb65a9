"""Run the benchmarks: `python -m benchmarks [--quick] [--only NAME ...]`.

The quality benchmark needs a real model and takes hours; it saves each finished item and
resumes where it stopped: `python -m benchmarks --only quality [--part humaneval|apps]
[--problems 0,4,8|embedded] [--ideas 3,7] [--fresh] [--summary]` (`--only humaneval` and
`--only apps` are short for `--only quality --part ...`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import (harness, orchestration, overhead, prompt_growth, quality, resume_waste, sandbox_overhead, serve_load,
               soak, startup)
from .quality_store import QualityError

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
QUALITY_PARTS = {"humaneval": "humaneval", "apps": "apps"}  # --only spellings of --part


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, a minute or two in all")
    parser.add_argument("--only", nargs="*", choices=sorted([*BENCHMARKS, *QUALITY_PARTS]), help="run only these")
    q = parser.add_argument_group("quality (needs a real model)")
    q.add_argument("--part", choices=quality.PARTS, default="all", help="HumanEval, the app ideas, or both")
    q.add_argument("--problems", help="HumanEval indices of the fixed sample (0,4,...,156), e.g. 0,4,8; "
                                      "or 'embedded' for the offline smoke set (never reported as HumanEval)")
    q.add_argument("--ideas", help="0-based app idea indices, e.g. 3,7 (default all ten)")
    q.add_argument("--fresh", action="store_true", help="discard saved results and start over")
    q.add_argument("--summary", action="store_true", help="only print the table from the saved results")
    q.add_argument("--model", help="litellm model (default $SWCOMPANY_BENCH_MODEL)")
    q.add_argument("--base-url", help="OpenAI-compatible endpoint (default $SWCOMPANY_BENCH_BASE_URL)")
    q.add_argument("--out", type=Path, default=quality.DEFAULT_OUT, help="result file (default %(default)s)")
    q.add_argument("--workdir", type=Path, default=quality.DEFAULT_WORKDIR,
                   help="where app and loop workspaces are kept (default %(default)s)")
    return parser.parse_args(argv)


def run_quality(args: argparse.Namespace, part: str) -> None:
    quality.run(quick=args.quick, model=args.model, base_url=args.base_url, part=part, ideas=args.ideas,
                problems=args.problems, fresh=args.fresh, out=args.out, workdir=args.workdir,
                summary_only=args.summary)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    # the quality options alone mean the quality benchmark (`--summary` once ran every speed benchmark first)
    quality_asked = args.summary or args.ideas or args.problems or args.part != "all"
    names = args.only or (["quality"] if quality_asked else list(BENCHMARKS))
    quality_only = all(n == "quality" or n in QUALITY_PARTS for n in names)
    info = harness.machine()
    print(f"machine: {info['cpus']} CPUs, {info['cpu']}, Python {info['python']}")
    if not quality_only:
        harness.warm_up()
    for name in names:
        started = time.perf_counter()
        print(f"\n== {name}")
        try:
            if name == "quality" or name in QUALITY_PARTS:
                run_quality(args, QUALITY_PARTS.get(name, args.part))
            else:
                BENCHMARKS[name](quick=args.quick)
        except QualityError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        where = args.out if name == "quality" or name in QUALITY_PARTS else f"benchmarks/results/{name}.json"
        print(f"({name} took {time.perf_counter() - started:.1f}s; results in {where})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
