"""What the user sees: a live view on a TTY, plain timestamped lines otherwise.

Everything goes to stderr except the final ``--json`` document (stdout), so CI can
parse stdout while logs stay readable. The pipeline knows nothing of this module;
it only emits events.
"""

from __future__ import annotations

import sys
import threading
import time
from datetime import datetime
from typing import Any

from .events import Event

STAGE_TITLES = {"pm": "Product manager", "architect": "Architect", "engineer": "Engineer", "qa": "QA"}


def _money(cost: float) -> str:
    return f"${cost:.4f}"


class ConsoleUI:
    """Event sink for the CLI. ``mode``: rich, plain, quiet or json."""

    def __init__(self, mode: str = "plain", verbose: bool = False, to_stdout: bool = False):
        from rich.console import Console

        self.mode = mode
        self.verbose = verbose
        self.err = Console(stderr=not to_stdout, highlight=False, soft_wrap=True,
                           force_terminal=mode == "rich", no_color=mode != "rich")
        self._lock = threading.Lock()
        self._started: dict[str, float] = {}
        self._tokens = 0
        self._cost = 0.0
        self._status: Any = None

    # --- event handling ---

    def __call__(self, event: Event) -> None:
        with self._lock:
            self._handle(event)

    def _line(self, text: str) -> None:
        if self.mode in ("quiet",):
            return
        if self.mode == "rich":
            self.err.print(text)
        else:
            stamp = datetime.now().strftime("%H:%M:%S")
            print(f"{stamp} {text}", file=sys.stderr, flush=True)

    def _handle(self, e: Event) -> None:
        if e.kind == "llm_call":
            call = e.data["event"]
            self._tokens += call.usage.tokens
            self._cost += call.usage.cost
            if self.verbose:
                src = "cache" if call.cached else f"{call.usage.seconds:.1f}s"
                self._line(f"  llm {call.stage} {call.label or ''} [{call.model}] {call.usage.tokens} tokens "
                           f"{_money(call.usage.cost)} ({src})")
            self._refresh()
        elif e.kind == "stage_started":
            self._started[e.stage] = time.monotonic()
            self._line(f"{STAGE_TITLES.get(e.stage, e.stage)}: started ({e.data.get('model')})")
            self._spin(f"{STAGE_TITLES.get(e.stage, e.stage)} working")
        elif e.kind == "stage_skipped":
            self._line(f"{STAGE_TITLES.get(e.stage, e.stage)}: {e.message}")
        elif e.kind == "stage_finished":
            took = time.monotonic() - self._started.get(e.stage, time.monotonic())
            commit = (e.data.get("commit") or "")[:8]
            self._stop_spin()
            self._line(f"{STAGE_TITLES.get(e.stage, e.stage)}: {e.message} in {took:.1f}s"
                       + (f" (commit {commit})" if commit else ""))
        elif e.kind == "stage_failed":
            self._stop_spin()
            self._line(f"{STAGE_TITLES.get(e.stage, e.stage)}: stopped: {e.message}")
        elif e.kind == "file_done":
            self._line(f"  wrote {e.message} ({e.data['done']}/{e.data['total']})")
        elif e.kind == "info":
            self._line(f"{e.message}")
        elif e.kind == "run_started":
            self._line(f"workspace: {e.message}")

    def _spin(self, text: str) -> None:
        if self.mode == "rich":
            self._stop_spin()
            self._status = self.err.status(text)
            self._status.start()

    def _refresh(self) -> None:
        if self._status is not None:
            self._status.update(f"working: {self._tokens:,} tokens, {_money(self._cost)}")

    def _stop_spin(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    # --- final output ---

    def summary(self, result: Any) -> None:
        """The end-of-run table and the next command."""
        self._stop_spin()
        if self.mode in ("quiet", "json"):
            return
        from rich.table import Table

        table = Table(title=None, show_edge=False)
        for col in ("stage", "status", "model", "calls", "cached", "tokens", "cost", "commit"):
            table.add_column(col, justify="right" if col in ("calls", "cached", "tokens", "cost") else "left")
        for name, st in result.stages.items():
            table.add_row(name, st.status, st.model or "-", str(st.usage.calls), str(st.usage.cached_calls),
                          f"{st.usage.tokens:,}", _money(st.usage.cost), (st.commit or "")[:8])
        u = result.usage
        table.add_row("total", "", "", str(u.calls), str(u.cached_calls), f"{u.tokens:,}", _money(u.cost), "")
        self.err.print(table)
