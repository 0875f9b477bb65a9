"""Fault cases as data: adding a case is one line in a table of the test modules."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from fake_llm_server import Reply, Request
from scenario import Scenario


@dataclass
class Case:
    name: str
    replies: list[Reply | str]  # served, in order, to the targeted role; then the scenario's normal reply
    exit_code: int
    role: str = "pm"
    calls: int | None = None  # exact calls of the targeted role, when it matters
    stderr_has: str = ""
    stop_reason: str | None = None
    env: dict[str, str] = field(default_factory=dict)  # extra settings for this case only
    repair_has: str = ""  # text every re-prompt of the targeted role must quote

    def __str__(self) -> str:
        return self.name


def scripted(case: Case) -> Scenario:
    queue = list(case.replies)
    scenario = Scenario()

    def serve(req: Request) -> Reply | str:
        if queue:
            return queue.pop(0)
        return Scenario.__call__(Scenario(), req)

    scenario.overrides[case.role] = serve
    return scenario


def read_state(ws: Path) -> dict:
    return json.loads((ws / ".swcompany/state.json").read_text())


def no_traceback(*texts: str) -> bool:
    return all("Traceback" not in t for t in texts)


def everything_produced(ws: Path, *outputs: str) -> str:
    """Every byte a run left behind: files, decompressed git objects, logs, cache, output."""
    parts = list(outputs)
    for path in ws.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            parts.append(path.read_bytes().decode("utf-8", "replace"))
    git = ["git", "-C", str(ws)]
    parts.append(subprocess.run([*git, "log", "-p", "--all", "--format=%B%n%(trailers)"], capture_output=True, text=True).stdout)
    objects = subprocess.run([*git, "cat-file", "--batch-all-objects", "--batch"], capture_output=True).stdout
    parts.append(objects.decode("utf-8", "replace"))
    return "\n".join(parts)
