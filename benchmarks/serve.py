"""The fake server in its own process, so client and server do not share a GIL (like a real provider)."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from contextlib import contextmanager
from collections.abc import Iterator


@contextmanager
def server_process(n_files: int, levels: int, latency: float) -> Iterator[str]:
    """Start ``python -m benchmarks.serve`` and yield its base URL."""
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.serve", str(n_files), str(levels), str(latency)],
                            stdout=subprocess.PIPE, text=True)
    try:
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    from .harness import FakeLLMServer, SyntheticResponder, synthetic_design

    parser = argparse.ArgumentParser()
    parser.add_argument("files", type=int)
    parser.add_argument("levels", type=int)
    parser.add_argument("latency", type=float)
    args = parser.parse_args()
    server = FakeLLMServer(SyntheticResponder(synthetic_design(args.files, args.levels), latency=args.latency)).start()
    print(server.base_url, flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
