"""Shared pieces: synthetic designs, a scripted fake server, timing, tables and result files."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from collections.abc import Iterator

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
sys.path.insert(0, str(ROOT / "tests"))

from fake_llm_server import FakeLLMServer, Reply, Request  # noqa: E402
from scenario import PRD, fenced, role_of, target_file  # noqa: E402

MODEL = "openai/gpt-4o-mini"


def synthetic_design(n_files: int, levels: int = 5) -> dict[str, Any]:
    """``n_files`` modules in ``levels`` levels; each depends on up to 2 files of the level before."""
    width = max(1, n_files // levels)
    files = []
    for i in range(n_files):
        level = min(i // width, levels - 1)
        previous = [j for j in range(n_files) if min(j // width, levels - 1) == level - 1]
        deps = [f"mod_{j}.py" for j in previous[i % max(1, len(previous)):][:2]] if previous else []
        if len(deps) < 2 and len(previous) >= 2:
            deps = [f"mod_{j}.py" for j in previous[:2]]
        files.append({"path": f"mod_{i}.py", "purpose": f"step {i} of the pipeline",
                      "depends_on": deps, "interface": f"f{i}(x: int) -> int"})
    return {"language": "python", "summary": "A synthetic project of chained modules.", "files": files,
            "data_structures": [], "api_spec": "", "how_to_run": "python -m mod_0", "dependencies": []}


def synthetic_code(path: str, deps: list[str], lines: int = 40) -> str:
    """A valid module of a fixed size, so token counts are comparable across designs."""
    name = Path(path).stem
    body = [f'"""{name}: generated for benchmarks."""', ""]
    body += [f"import {Path(d).stem}" for d in deps] + ["", ""]
    body += [f"def f{name.split('_')[1]}(x: int) -> int:", "    total = x"]
    body += [f"    total = (total * {k + 3} + {k}) % 1000003" for k in range(lines - len(body) - 1)]
    body += ["    return total"]
    return "\n".join(body) + "\n"


class SyntheticResponder:
    """Replies for every role of a synthetic design, with latency and optional random faults."""

    def __init__(self, design: dict[str, Any], latency: float = 0.0, fault_rate: float = 0.0, seed: int = 0):
        import random
        import threading

        self.design = design
        self.latency = latency
        self.fault_rate = fault_rate
        self.rng = random.Random(seed)
        self.deps = {f["path"]: f["depends_on"] for f in design["files"]}
        self.lock = threading.Lock()
        self.calls = 0
        self.in_flight = 0

    def __call__(self, req: Request) -> Reply:
        with self.lock:
            self.calls += 1
            self.in_flight += 1
            fault = self.rng.random() < self.fault_rate
            kind = self.rng.choice(["429", "500", "prose"]) if fault else ""
        try:
            if self.latency:
                time.sleep(self.latency)
            if kind == "429":
                return Reply(status=429, headers={"Retry-After": "0"})
            if kind == "500":
                return Reply(status=500)
            role = role_of(req)
            if kind == "prose" and role in ("pm", "architect"):
                return Reply(content="Let me think about this project first.")
            if role == "pm":
                return Reply(content=json.dumps(PRD))
            if role == "architect":
                return Reply(content=json.dumps(self.design))
            if role == "engineer":
                path = target_file(req)
                return Reply(content=fenced(synthetic_code(path, self.deps.get(path, []))))
            if role == "qa":
                return Reply(content=fenced("def test_ok():\n    assert True\n"))
            return Reply(content="OK")
        finally:
            with self.lock:
                self.in_flight -= 1


@contextmanager
def fake_server(responder) -> Iterator[FakeLLMServer]:
    server = FakeLLMServer(responder).start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def quiet_env(**extra: str) -> Iterator[Path]:
    """A temp HOME/config and a fake key, like the test suite's isolated_env."""
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="swbench-") as tmp:
        os.environ.update({"HOME": tmp, "SWCOMPANY_CONFIG": str(Path(tmp) / "none.yaml"),
                           "OPENAI_API_KEY": "sk-bench-not-a-real-key-000000", "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                           "SWCOMPANY_RETRY_BASE_DELAY": "0.01",
                           # synthetic designs are large, and the fake server answers in parallel
                           "SWCOMPANY_MAX_FILES": "300", "SWCOMPANY_PARALLEL_REQUESTS": "32", **extra})
        try:
            yield Path(tmp)
        finally:
            os.environ.clear()
            os.environ.update(saved)


def generate(server: FakeLLMServer, out: Path, name: str, **settings: Any):
    """One in-process run through the public API."""
    import swcompany

    return swcompany.generate_repo("a synthetic benchmark project", name=name, output_dir=out, model=MODEL,
                                   base_url=server.base_url, **{"run_tests": False, **settings})


def warm_up() -> None:
    """Import litellm and make one call so start-up is not billed to the first benchmark."""
    with quiet_env() as tmp, fake_server(SyntheticResponder(synthetic_design(2, 2))) as server:
        generate(server, tmp / "warm", "warm")


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                   if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpus": os.cpu_count(), "cpu": cpu or platform.processor(), "python": platform.python_version(),
            "platform": platform.platform()}


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def save(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"benchmark": name, "machine": machine(), "when": time.strftime("%Y-%m-%d %H:%M:%S"),
                                **data}, indent=2) + "\n")
    return path


def table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title, title_justify="left")
    for c in columns:
        t.add_column(c)
    for r in rows:
        t.add_row(*[str(x) for x in r])
    Console(highlight=False).print(t)
