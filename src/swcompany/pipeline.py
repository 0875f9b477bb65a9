"""The run/resume loop over the company's stages; the only writer and committer.

For each unfinished stage: mark it running, run it (it writes through ``ctx.write`` or returns
files), record every file's hash in the one file record, commit once with trailers, record the
commit and usage in state, save state. Any stop (budget, provider, Ctrl-C, crash) is recorded
in state before it propagates, so the next ``resume`` knows exactly where to continue.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .artifacts import FileRecord, RunState, StageRecord, Usage, utcnow
from .config import Settings
from .errors import EXIT_OK, Interrupted, SwcompanyError, known_error, storage_error
from .events import Event, EventSink
from .llm import Gateway
from .stages.base import Stage, StageContext, StageResult
from .workspace import Workspace, trailers


def reset_from(state: RunState, stage: str) -> None:
    """Mark ``stage`` and every later one pending (``resume --from``), forgetting their files' records."""
    names = list(state.stages)
    for name in names[names.index(stage):]:
        state.stages[name] = StageRecord()
        state.files = {p: r for p, r in state.files.items() if r.stage != name}
        if name == state.tests_stage:
            state.tests = None


def reconcile(state: RunState, workspace: Workspace) -> str | None:
    """Make state agree with git before a run; returns a note for the user, if any.

    A stage killed after its commit but before its state save counts as done. A finished
    stage whose commit is gone (history rewritten by hand) is re-run from there; its
    replies come from the cache, so that costs nothing.
    """
    commits = workspace.stage_commits()
    head = workspace.head_stage()
    for name, record in state.stages.items():
        if record.status == "running" and head == name and name in commits:
            record.status, record.commit = "done", commits[name]
    for name, record in state.stages.items():
        if record.status == "done" and record.commit and not workspace.has_commit(record.commit):
            reset_from(state, name)
            return f"git history was rewritten: the {name} commit is gone, so {name} and later stages run again"
    return None


def as_swcompany_error(exc: BaseException, workspace: Workspace) -> SwcompanyError | None:
    """Our error for a stop: Ctrl-C/SIGTERM, storage failures and refused model output become resumable stops."""
    error = known_error(exc)
    if error is not None:
        return error
    if isinstance(exc, KeyboardInterrupt):
        return Interrupted("interrupted; the run is saved")
    return storage_error(exc, workspace.root)


@dataclass
class _StageRun:
    """The writer and committer one stage sees through its context."""

    stage: Stage
    record: StageRecord
    workspace: Workspace
    state: RunState
    gateway: Gateway
    model: str
    before: Usage

    def usage(self) -> Usage:
        now = self.gateway.by_stage.get(self.stage.name, Usage())
        return Usage(**{k: getattr(now, k) - getattr(self.before, k) for k in Usage.model_fields})

    def write(self, path: str, text: str) -> str:
        sha = self.workspace.write(path, text)
        self.state.files[path] = FileRecord(sha256=sha, bytes=len(text.encode()), stage=self.stage.name)
        return sha

    def commit(self, step: str, subject: str) -> str:
        so_far = self.record.usage.model_copy()
        so_far.add(self.usage())
        name = f"{self.stage.name}-{step}" if step else self.stage.name
        return self.workspace.commit_stage(name, subject, trailers(name, self.model, so_far))


def run_pipeline(workspace: Workspace, state: RunState, settings: Settings, gateway: Gateway, emit: EventSink,
                 stages: list[Stage], docs_for: dict[str, list[str]] | None = None) -> int:
    """Run every unfinished stage; returns the exit code (raises ``SwcompanyError`` on stops)."""
    exit_code = EXIT_OK
    docs_for = docs_for or {}

    def checkpoint() -> None:
        state.usage = gateway.total.model_copy()
        workspace.save_state(state)

    for stage in stages:
        record = state.stages.setdefault(stage.name, StageRecord())
        if record.status in ("done", "skipped"):
            emit(Event("stage_skipped", stage.name, "already done", {"commit": record.commit}))
            continue
        model = settings.model_for(stage.name)
        record.status, record.started_at, record.model, record.error = "running", utcnow(), model, None
        checkpoint()
        emit(Event("stage_started", stage.name, stage.title, {"model": model}))
        run = _StageRun(stage, record, workspace, state, gateway, model,
                        gateway.by_stage.get(stage.name, Usage()).model_copy())
        clock = time.monotonic()
        docs = [{"path": p, "content": workspace.read(p)} for source in docs_for.get(stage.name, [])
                for p, r in state.files.items() if r.stage == source and workspace.exists(p)]
        ctx = StageContext(stage.name, workspace, settings, gateway, state, emit, checkpoint, run.write, run.commit, docs)
        try:
            result: StageResult = stage.run(ctx)
            for path, text in result.files.items():
                run.write(path, text)
            record.usage.add(run.usage())
            if result.commit:
                record.commit = workspace.commit_stage(stage.name, result.message, trailers(stage.name, model, record.usage))
        except BaseException as exc:
            gateway.cancel()  # other calls of this stage in flight (a pool's) stop now, not minutes later
            record.usage.add(run.usage())
            record.seconds += time.monotonic() - clock
            error = as_swcompany_error(exc, workspace)
            record.status = "pending" if isinstance(error, Interrupted) else "failed"
            record.error = error.message if error else f"{type(exc).__name__}: {exc}"
            state.stop_reason = error.stop_reason if error else "error"
            state.last_error = record.error
            state.exit_code = error.exit_code if error else 1
            try:
                checkpoint()
            except OSError:
                pass  # e.g. disk full: the previous state file is intact (atomic writes)
            emit(Event("stage_failed", stage.name, record.error, {"exit_code": state.exit_code}))
            if error is not None and error is not exc:
                raise error from None
            raise
        if state.tests is not None and not state.tests_stage:
            state.tests_stage = stage.name
        record.status, record.finished_at = result.status, utcnow()
        record.seconds += time.monotonic() - clock
        exit_code = max(exit_code, result.exit_code)
        checkpoint()
        emit(Event("stage_finished", stage.name, result.status, {"commit": record.commit, "usage": record.usage.model_dump()}))
    state.stop_reason = "done" if exit_code == EXIT_OK else "tests_failed"
    state.exit_code, state.last_error = exit_code, None
    checkpoint()
    return exit_code
