"""Serve under load: 50 projects from 10 clients on 2 workers, one worker killed -9 mid-load.

Everything real on loopback: redis-server, ``swcompany serve``, two ``swcompany worker``s,
and a fake provider with 50 ms latency in its own process that fingerprints every request,
so a call paid twice (a duplicate prompt) is counted. Targets (issue 15): every project
exit 0, none lost or duplicated, p95 of status reads under 50 ms while workers are busy,
and no more extra provider calls than the killed worker had in flight.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from .harness import ROOT, save, table

PROJECTS, CLIENTS, LATENCY = 50, 10, 0.05
TOKEN = "bench-token-0123456789abcdef"
MARKER = re.compile(r"serve-load project (\d+)")


# --- the fake provider (its own process) ----------------------------------------------


def provider_main(latency: float) -> None:
    """Serve the canned project with ``latency``; answer ``stats`` / ``inflight N`` on stdin."""
    from fake_llm_server import FakeLLMServer, Reply, Request
    from scenario import PRD, Scenario, role_of

    seen: dict[str, int] = {}
    in_flight: dict[str, int] = {}
    lock = threading.Lock()
    scenario = Scenario()

    def respond(req: Request) -> Reply:
        text = req.text
        digest = hashlib.sha256(json.dumps(req.body.get("messages"), sort_keys=True).encode()).hexdigest()
        project = (MARKER.search(text) or [None, "?"])[1]
        with lock:
            seen[digest] = seen.get(digest, 0) + 1
            in_flight[project] = in_flight.get(project, 0) + 1
        try:
            time.sleep(latency)
            if role_of(req) == "pm":  # the idea becomes the PRD summary, so later prompts differ per project
                idea = re.search(r"serve-load project \d+[^\n\"]*", text)
                return Reply(content=json.dumps({**PRD, "summary": idea.group(0) if idea else PRD["summary"]}))
            reply = scenario(req)
            return reply if isinstance(reply, Reply) else Reply(content=reply)
        finally:
            with lock:
                in_flight[project] -= 1

    server = FakeLLMServer(respond).start()
    print(server.base_url, flush=True)
    for line in sys.stdin:
        words = line.split()
        with lock:
            if words[:1] == ["stats"]:
                calls = sum(seen.values())
                print(json.dumps({"calls": calls, "unique": len(seen), "duplicates": calls - len(seen)}), flush=True)
            elif words[:1] == ["inflight"]:
                print(json.dumps({"in_flight": in_flight.get(words[1], 0)}), flush=True)


# --- the service under test -----------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ppid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


class Load:
    def __init__(self, tmp: Path, latency: float, nice: int):
        exe = str(Path(sys.executable).with_name("swcompany"))
        self.tmp = tmp
        self.procs: list[subprocess.Popen] = []
        port = _free_port()
        self.redis_url = f"redis://127.0.0.1:{port}/0"
        self._spawn([shutil.which("redis-server") or "redis-server", "--bind", "127.0.0.1", "--port", str(port),
                     "--dir", str(tmp), "--appendonly", "yes", "--save", ""], {}, "redis")
        env = {"PYTHONPATH": str(ROOT / "tests")}
        self.provider = self._spawn([sys.executable, "-m", "benchmarks.serve_load", "--provider", str(latency)], env,
                                    "provider", pipe=True)
        base_url = self.provider.stdout.readline().strip()
        base = {k: v for k, v in os.environ.items() if not k.startswith(("SWCOMPANY_", "OPENAI_", "REDIS_"))}
        base.update({"HOME": str(tmp), "SWCOMPANY_CONFIG": str(tmp / "none.yaml"), "REDIS_URL": self.redis_url,
                     "SWCOMPANY_SERVE_WORKSPACES": str(tmp / "ws"), "LITELLM_LOCAL_MODEL_COST_MAP": "True"})
        self.api = f"http://127.0.0.1:{_free_port()}"
        self._spawn([exe, "serve", "--port", self.api.rsplit(":", 1)[1], "--cleanup-interval", "1"],
                    {**base, "SWCOMPANY_SERVE_TOKENS": f"bench:{TOKEN}"}, "api")
        worker_env = {**base, "OPENAI_API_KEY": "sk-bench-not-a-real-key-000000", "SWCOMPANY_MODEL": "openai/gpt-4o-mini",
                      "SWCOMPANY_BASE_URL": base_url, "SWCOMPANY_RETRY_BASE_DELAY": "0.01"}
        self.workers = [self._spawn([exe, "worker", "--monitor-interval", "2", "--nice", str(nice)], worker_env, f"worker{n}")
                        for n in range(2)]

    def _spawn(self, cmd: list[str], env: dict[str, str], log: str, pipe: bool = False) -> subprocess.Popen:
        out = open(self.tmp / f"{log}.log", "ab")
        proc = subprocess.Popen(cmd, env={**os.environ, **env}, cwd=ROOT, stderr=out, text=pipe,
                                stdout=subprocess.PIPE if pipe else out, stdin=subprocess.PIPE if pipe else None)
        self.procs.append(proc)
        return proc

    def ask(self, command: str) -> dict[str, Any]:
        self.provider.stdin.write(command + "\n")
        self.provider.stdin.flush()
        return json.loads(self.provider.stdout.readline())

    def stop(self) -> None:
        from swcompany.serve.server import stop_processes

        stop_processes(list(reversed(self.procs)))


def _client(api: str, ids: list[str], reads: list[float], outcomes: dict[str, dict], n: int, k: int) -> None:
    import httpx

    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=api, headers=headers, timeout=60) as http:
        mine = []
        for i in range(k):
            number = n * k + i
            r = http.post("/v1/projects", json={"idea": f"serve-load project {number:03d}: a CLI todo app with SQLite"})
            r.raise_for_status()
            mine.append(r.json()["id"])
        ids.extend(mine)
        pending = set(mine)
        while pending:
            for project_id in list(pending):
                started = time.perf_counter()
                doc = http.get(f"/v1/projects/{project_id}").json()
                reads.append(time.perf_counter() - started)
                if doc["state"] not in ("queued", "running"):
                    outcomes[project_id] = doc
                    pending.discard(project_id)
            time.sleep(0.2)


def _kill_one_worker(load: Load, outcomes: dict[str, dict], after: int) -> dict[str, Any]:
    """When ``after`` projects are done, kill -9 worker 0 and its work horse (a lost machine),
    at a moment its run waits on the provider (so the kill costs something to recover)."""
    import redis

    r = redis.Redis.from_url(load.redis_url, decode_responses=True)
    victim = load.workers[0]
    give_up = None
    while True:
        time.sleep(0.01)
        horses = [int(p) for p in os.listdir("/proc") if p.isdigit() and _safe_ppid(int(p)) == victim.pid]
        if len(outcomes) < after or not horses:
            continue
        give_up = give_up or time.monotonic() + 20
        horse = horses[0]
        project = next((key.split(":")[-1] for key in r.scan_iter("swc:project:*")
                        if r.hget(key, "runner_pid") == str(horse)), None)
        idea = r.hget(f"swc:project:{project}", "idea") if project else ""
        number = (MARKER.search(idea or "") or [None, "?"])[1]
        in_flight = load.ask(f"inflight {number}")["in_flight"]
        if in_flight or time.monotonic() > give_up:
            break
    os.kill(victim.pid, signal.SIGKILL)
    os.kill(horse, signal.SIGKILL)
    return {"killed_at_done": len(outcomes), "project": project, "in_flight_on_killed_worker": in_flight}


def _safe_ppid(pid: int) -> int:
    try:
        return _ppid(pid)
    except (OSError, IndexError, ValueError):
        return -1


def _commits(workspace: str) -> list[str]:
    log = subprocess.run(["git", "-C", workspace, "log", "--format=%s"], capture_output=True, text=True).stdout
    return sorted(line.split(":")[0] for line in log.splitlines() if line)


def run(quick: bool = False, projects: int | None = None, nice: int = 10) -> dict[str, Any]:
    if shutil.which("redis-server") is None:
        print("skipped: redis-server is not installed")
        return {"skipped": True}
    total = projects or (20 if quick else PROJECTS)
    per_client = max(1, total // CLIENTS)
    with tempfile.TemporaryDirectory(prefix="swserve-") as tmp:
        load = Load(Path(tmp), LATENCY, nice)
        try:
            import httpx

            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{load.api}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            ids: list[str] = []
            reads: list[float] = []
            outcomes: dict[str, dict] = {}
            started = time.monotonic()
            clients = [threading.Thread(target=_client, args=(load.api, ids, reads, outcomes, n, per_client))
                       for n in range(CLIENTS)]
            for c in clients:
                c.start()
            kill = _kill_one_worker(load, outcomes, after=max(2, total // 5))
            for c in clients:
                c.join()
            wall = time.monotonic() - started
            provider = load.ask("stats")
            # none duplicated: each workspace holds exactly one commit per stage
            stage_commits = [_commits(doc["workspace"]) for doc in outcomes.values() if doc.get("workspace")]
        finally:
            load.stop()
    codes = [doc.get("exit_code") for doc in outcomes.values()]
    workspaces = {doc.get("workspace") for doc in outcomes.values()}
    commits_ok = sum(c == ["architect", "engineer", "pm", "qa"] for c in stage_commits)
    data = {
        "projects": total, "clients": CLIENTS, "workers": 2, "worker_nice": nice, "provider_latency_s": LATENCY,
        "submitted": len(ids), "unique_ids": len(set(ids)), "finished": len(outcomes),
        "exit_0": codes.count(0), "distinct_workspaces": len(workspaces),
        "attempts_total": sum(int(doc.get("attempts") or 0) for doc in outcomes.values()),
        "wall_s": round(wall, 1), "status_reads": len(reads),
        "status_p50_ms": round(_percentile(reads, 0.5) * 1000, 1),
        "status_p95_ms": round(_percentile(reads, 0.95) * 1000, 1),
        "status_max_ms": round(max(reads) * 1000, 1) if reads else None,
        **kill, "provider_calls": provider["calls"], "extra_provider_calls": provider["duplicates"],
        "workspaces_with_one_commit_per_stage": commits_ok,
    }
    table("serve under load", ["metric", "value"], [[k, v] for k, v in data.items()])
    save("serve_load", data)
    return data


if __name__ == "__main__":
    if sys.argv[1:2] == ["--provider"]:
        provider_main(float(sys.argv[2]))
    else:
        run(quick="--quick" in sys.argv)
