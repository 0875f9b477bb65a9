"""What the user sees: a live stage view on a TTY, plain timestamped lines otherwise.

Everything goes to stderr except the final ``--json`` document and the workspace path
(stdout), so CI can parse stdout while logs stay readable. The pipeline knows nothing of
this module; it only emits events (``events.py``).
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from datetime import datetime
from typing import Any

from .display import terminal_safe
from .events import Event

PLAIN_PROGRESS_EVERY_S = 30.0
PLAIN_QUIET_AFTER_S = 60.0  # without -v, a plain log silent this long while a reply streams says it is working
MARKS = {"done": "[green]✓[/]", "failed": "[red]✗[/]", "skipped": "[dim]–[/]", "pending": "[dim]·[/]"}


def _money(cost: float) -> str:
    return f"${cost:.4f}"


class ConsoleUI:
    """Event sink for the CLI. ``mode``: rich (TTY), plain (pipes, CI), quiet or json."""

    def __init__(self, mode: str = "plain", verbose: bool = False, to_stdout: bool = False):
        self.mode = mode
        self.verbose = verbose
        self.console = self._console(stderr=not to_stdout)
        self._lock = threading.Lock()
        self._progress_printed: dict[str, float] = {}
        self._titles: dict[str, str] = {}  # stage -> title, in order, from the run_started event
        self._status: dict[str, str] = {}
        self._detail: dict[str, str] = {}
        self._started: dict[str, float] = {}
        self._elapsed: dict[str, float] = {}
        self._tokens = 0
        self._cost = 0.0
        self._live: Any = None
        self._spinner: Any = None
        self._clock = time.monotonic
        self._last_line_at = self._clock()

    def _console(self, stderr: bool):
        """Colours and control codes only in rich mode; plain mode is pure text."""
        from rich.console import Console

        if self.mode == "rich":
            return Console(stderr=stderr, highlight=False, soft_wrap=True, force_terminal=True, emoji=False)
        return Console(stderr=stderr, highlight=False, soft_wrap=True, force_terminal=False, no_color=True,
                       color_system=None, emoji=False)

    # --- events ---

    def __call__(self, event: Event) -> None:
        with self._lock:
            self._handle(event)

    def _line(self, text: str) -> None:
        """A log line: printed above the live view, or timestamped in plain mode.

        Lines quote model output (file names, errors): escapes are neutralised and rich
        markup is off, so ``[red]`` or ``\x1b]52;`` in a reply is just text.
        """
        if self.mode == "quiet":
            return
        text = terminal_safe(text)
        self._last_line_at = self._clock()
        if self.mode == "rich":
            self.console.print(text, markup=False)
        else:
            print(f"{datetime.now().strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)

    def _handle(self, e: Event) -> None:
        title = self._titles.get(e.stage, e.stage)
        if e.kind == "llm_call":
            call = e.data["event"]
            self._tokens += call.usage.tokens
            self._cost += call.usage.cost
            if self.verbose:
                source = "cache" if call.cached else f"{call.usage.seconds:.1f}s"
                self._line(f"  llm {call.stage} {call.label} [{call.model}] {call.usage.tokens} tokens "
                           f"{_money(call.usage.cost)} ({source})")
        elif e.kind == "llm_progress":
            p = e.data["progress"]
            if p.retry:
                note = f"retrying {p.label or 'a call'} ({p.reason}; attempt {p.retry} failed), waiting {p.wait:.1f}s"
                if self.verbose:
                    self._line(f"  {note}")
                if self.mode == "rich" and e.stage in self._detail:
                    self._detail[e.stage] = note
            elif p.tokens:
                rate = p.tokens / p.seconds if p.seconds > 0 else 0.0
                note = f"{p.label}: {p.tokens:,} tokens, {rate:.1f} tok/s"
                if self.mode == "rich" and e.stage in self._detail:
                    self._detail[e.stage] = note
                elif self.mode == "plain" and self.verbose:  # a slow model in a log: a line every 30 s
                    key = f"{e.stage}/{p.label}"
                    if p.seconds - self._progress_printed.get(key, 0.0) >= PLAIN_PROGRESS_EVERY_S:
                        self._progress_printed[key] = p.seconds
                        self._line(f"  {e.stage} {note} ({p.seconds:.0f}s)")
                elif self.mode == "plain" and self._clock() - self._last_line_at >= PLAIN_QUIET_AFTER_S:
                    # QA writing its tests on a 1.5B model printed nothing for six minutes: a log
                    # user could not tell a slow model from a hung run
                    self._line(f"  {title}: still working ({note}, {p.seconds:.0f}s into this reply)")
        elif e.kind == "run_started":
            self._titles = dict(e.data.get("stages", []))
            self._status = {name: "pending" for name in self._titles}
            self._detail = {name: "" for name in self._titles}
            self._line(f"workspace: {e.message}")
            self._start_live()
        elif e.kind == "stage_started":
            self._status[e.stage], self._started[e.stage] = "running", time.monotonic()
            self._detail[e.stage] = e.data.get("model", "")
            if self.mode != "rich":
                self._line(f"{title}: started ({e.data.get('model')})")
        elif e.kind == "stage_skipped":
            self._status[e.stage] = "done"
            self._detail[e.stage] = "already done"
            if self.mode != "rich":
                self._line(f"{title}: {e.message}")
        elif e.kind in ("stage_finished", "stage_failed"):
            self._elapsed[e.stage] = time.monotonic() - self._started.get(e.stage, time.monotonic())
            if e.kind == "stage_failed":
                self._status[e.stage], self._detail[e.stage] = "failed", e.message
                self._line(f"{title}: stopped: {e.message}")
            else:
                self._status[e.stage] = e.message  # done / skipped
                commit = (e.data.get("commit") or "")[:8]
                if self.mode != "rich":
                    self._line(f"{title}: {e.message} in {self._elapsed[e.stage]:.1f}s"
                               + (f" (commit {commit})" if commit else ""))
        elif e.kind == "file_done":
            self._detail[e.stage] = f"{e.data['done']}/{e.data['total']} files, last {e.message}"
            if self.mode != "rich":
                self._line(f"  wrote {e.message} ({e.data['done']}/{e.data['total']})")
        elif e.kind == "info":
            if e.stage in self._detail and self.mode == "rich":
                self._detail[e.stage] = e.message
            else:
                self._line(e.message)
        elif e.kind == "warning":  # shown in every mode but json's stdout: it changes what the run will do
            text = terminal_safe(e.message)
            if self.mode == "rich":
                self.console.print(text, markup=False)
            else:
                print(text, file=sys.stderr, flush=True)
        elif e.kind == "run_finished":
            self._stop_live()

    # --- live view (TTY only) ---

    @contextlib.contextmanager
    def session(self, message: str = "starting (loading the LLM client)"):
        """A spinner from the first moment (litellm's import takes seconds), closed on any exit."""
        if self.mode == "rich":
            self._spinner = self.console.status(message)
            self._spinner.start()
        try:
            yield self
        finally:
            self._stop_spinner()
            self._stop_live(final=False)

    def _stop_spinner(self) -> None:
        if self._spinner is not None:
            self._spinner.stop()
            self._spinner = None

    def _start_live(self) -> None:
        self._stop_spinner()
        if self.mode != "rich" or self._live is not None:
            return
        from rich.live import Live

        self._live = Live(console=self.console, get_renderable=self._render_live, refresh_per_second=8, transient=True)
        self._live.start()

    def _stop_live(self, final: bool = True) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
            if final:
                self.console.print(self._render_live(final=True))

    def _render_live(self, final: bool = False):
        from rich.markup import escape
        from rich.spinner import Spinner
        from rich.table import Table

        table = Table.grid(padding=(0, 2))
        for name, title in self._titles.items():
            status = self._status[name]
            mark = Spinner("dots", style="cyan") if status == "running" and not final else MARKS.get(status, "·")
            if name in self._elapsed:
                seconds = self._elapsed[name]
            elif name in self._started and status == "running":
                seconds = time.monotonic() - self._started[name]
            else:
                seconds = None
            table.add_row(mark, f"[bold]{title}[/]", f"{seconds:5.1f}s" if seconds is not None else "",
                          f"[dim]{escape(terminal_safe(self._detail[name]))}[/]")
        table.add_row("", "", "", f"{self._tokens:,} tokens, {_money(self._cost)}")
        return table

    # --- final output ---

    def summary(self, result: Any) -> None:
        """The end-of-run table and the next command."""
        self._stop_live()
        if self.mode in ("quiet", "json"):
            return
        from rich.markup import escape
        from rich.table import Table

        # One model for every stage is said once, above the table: a column of it folded into three
        # lines a row on an 80-column log (openai/qwen2.5-coder-1.5b).
        models = {st.model for st in result.stages.values() if st.model}
        one_model = len(models) == 1
        if one_model:
            self.console.print(f"model: {next(iter(models))}", markup=False)
        rows = []
        for name, st in result.stages.items():
            seconds = f"{st.seconds:.1f}s" if st.seconds is not None else ""
            rows.append([name, st.status, *([] if one_model else [escape(st.model or "-")]), str(st.usage.calls),
                         str(st.usage.cached_calls), f"{st.usage.tokens:,}", _money(st.usage.cost), seconds,
                         (st.commit or "")[:8]])
        u = result.usage
        # The state's totals span every run of the workspace, finished stages of earlier runs included.
        rows.append(["workspace total", "", *([] if one_model else [""]), str(u.calls), str(u.cached_calls),
                     f"{u.tokens:,}", _money(u.cost), "", ""])
        table = Table(show_edge=False, box=None, pad_edge=False)
        numbers = ("calls", "cached", "tokens", "cost", "time")
        columns = ("stage", "status", *([] if one_model else ["model"]), "calls", "cached", "tokens", "cost", "time", "commit")
        for i, col in enumerate(columns):
            if col in numbers:  # a narrow terminal folds names, never numbers
                table.add_column(col, justify="right", no_wrap=True, min_width=max(len(col), *(len(r[i]) for r in rows)))
            else:
                table.add_column(col, overflow="fold")
        for row in rows:
            table.add_row(*row)
        self.console.print(table)
        if result.qa is not None:
            q = result.qa
            self.console.print(f"tests: {q.passed} passed, {q.failed} failed, {q.errors} errors ({q.verdict}, "
                               f"{q.rounds_used} fix round{'' if q.rounds_used == 1 else 's'}); report: docs/qa_report.md")
        if result.next_command and not result.error:
            self.console.print(f"next: {terminal_safe(result.next_command)}", markup=False)

    def dry_run(self, plan: Any) -> None:
        """The PM prompt, the model per stage and the estimated range (on stdout: it is the result)."""
        from rich.table import Table

        self._stop_spinner()
        out = self._console(stderr=False)
        for message in plan.pm_prompt:
            out.print(f"--- PM prompt ({message['role']}) ---")
            out.print(message["content"], markup=False)
        table = Table(show_edge=False, pad_edge=False)
        for col in ("stage", "model", "calls", "tokens", "cost"):
            table.add_column(col)
        for e in plan.estimate:
            cost = f"{_money(e.cost[0])} - {_money(e.cost[1])}" if e.cost else "unknown price"
            table.add_row(e.stage, e.model, f"{e.calls[0]}-{e.calls[1]}", f"{e.tokens[0]:,}-{e.tokens[1]:,}", cost)
        out.print(table)
        cost = f"{_money(plan.cost[0])} - {_money(plan.cost[1])}" if plan.cost else "unknown (set input/output_cost_per_token)"
        out.print(f"estimate for the whole run: {plan.tokens[0]:,} - {plan.tokens[1]:,} tokens, {cost}. "
                           "Nothing was called.")
