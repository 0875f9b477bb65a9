"""The quality benchmark's result file: one JSON document, rewritten atomically after every item.

A full run on a local 1.5B model takes hours, longer than one sitting; saving each finished
item as it goes is what lets a re-run skip it. The file names the model, the server's host
(never a key or a full URL with credentials), the machine and the dates.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .harness import ROOT, machine


class QualityError(Exception):
    """A stop the person must act on (missing package, wrong selection, results of another model)."""


def base_url_host(base_url: str | None) -> str | None:
    """``http://user:key@host:port/v1`` -> ``host:port``: where the model ran, without secrets."""
    if not base_url:
        return None
    parts = urlsplit(base_url if "//" in base_url else f"//{base_url}")
    host = parts.hostname or ""
    return f"{host}:{parts.port}" if parts.port else host


def source_commit() -> str | None:
    """The checkout the items were measured with: results move as the product changes."""
    try:
        run = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return run.stdout.strip() or None


def now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())


class ResultStore:
    """Items keyed like ``humaneval/HumanEval/4/loop`` or ``apps/3``; ``done`` ones are skipped."""

    def __init__(self, path: Path, model: str, base_url: str | None, fresh: bool = False):
        self.path = path
        self.data: dict[str, Any] = {}
        if path.is_file() and not fresh:
            self.data = json.loads(path.read_text(encoding="utf-8"))
            if self.data.get("model") != model:
                raise QualityError(
                    f"{path} holds results for model {self.data.get('model')!r}, not {model!r}; "
                    "pass --fresh to start over (it discards them) or --out another file")
        if not self.data:
            self.data = {"benchmark": "quality", "model": model, "started": now(), "items": {}}
        self.commit = source_commit()
        self.data.update({"base_url_host": base_url_host(base_url), "machine": machine(), "commit": self.commit})

    @property
    def items(self) -> dict[str, dict[str, Any]]:
        return self.data["items"]

    def done(self, key: str) -> bool:
        return key in self.items

    def record(self, key: str, item: dict[str, Any]) -> None:
        """Keep one finished item and write the whole file at once (a crash leaves the old one)."""
        self.items[key] = {**item, "commit": self.commit, "when": now()}
        self.data["updated"] = now()
        write_atomic(self.path, self.data)


def write_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write to a temp file in the same folder, then rename over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(data, indent=2) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: Path) -> dict[str, Any] | None:
    """The result file, or None when there is none yet."""
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
