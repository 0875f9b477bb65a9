"""The ordered stage list and the run/resume loop.

For each unfinished stage: mark it running, run it, write its files, commit once
with trailers, record the commit and usage in state, save state. Any stop (budget,
provider, Ctrl-C, crash) is recorded in state before it propagates, so the next
``resume`` knows exactly where to continue.
"""

from __future__ import annotations

import time

from .artifacts import QAProgress, RunState, StageRecord, Usage, utcnow
from .config import Settings
from .errors import EXIT_OK, Interrupted, SwcompanyError, storage_error
from .events import Event, EventSink
from .llm import Gateway
from .stages import STAGES, STAGE_NAMES
from .stages.base import StageContext, StageResult
from .workspace import Workspace


def reset_from(state: RunState, stage: str) -> None:
    """Mark ``stage`` and every later one pending (``resume --from``)."""
    start = STAGE_NAMES.index(stage)
    for name in STAGE_NAMES[start:]:
        state.stages[name] = StageRecord()
    if start <= STAGE_NAMES.index("engineer"):
        state.engineer_files.clear()
    if start <= STAGE_NAMES.index("qa"):
        state.qa = None
        state.qa_progress = QAProgress()


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
    for name in STAGE_NAMES:
        record = state.stages.get(name)
        if record and record.status == "done" and record.commit and not workspace.has_commit(record.commit):
            reset_from(state, name)
            return f"git history was rewritten: the {name} commit is gone, so {name} and later stages run again"
    return None


def as_swcompany_error(exc: BaseException, workspace: Workspace) -> SwcompanyError | None:
    """Our error for a stop: Ctrl-C/SIGTERM and storage failures become resumable stops."""
    if isinstance(exc, SwcompanyError):
        return exc
    if isinstance(exc, KeyboardInterrupt):
        return Interrupted("interrupted; the run is saved")
    return storage_error(exc, workspace.root)


def trailers(stage: str, model: str, usage: Usage) -> dict[str, str]:
    return {
        "Swcompany-Stage": stage,
        "Swcompany-Model": model,
        "Swcompany-Tokens": str(usage.tokens),
        "Swcompany-Cost": f"{usage.cost:.6f}",
    }


def run_pipeline(workspace: Workspace, state: RunState, settings: Settings, gateway: Gateway, emit: EventSink) -> int:
    """Run every unfinished stage; returns the exit code (raises ``SwcompanyError`` on stops)."""
    exit_code = EXIT_OK

    def checkpoint() -> None:
        state.usage = gateway.total.model_copy()
        workspace.save_state(state)

    for stage in STAGES:
        record = state.stages.setdefault(stage.NAME, StageRecord())
        if record.status in ("done", "skipped"):
            emit(Event("stage_skipped", stage.NAME, "already done", {"commit": record.commit}))
            continue
        model = settings.model_for(stage.NAME)
        record.status, record.started_at, record.model, record.error = "running", utcnow(), model, None
        checkpoint()
        emit(Event("stage_started", stage.NAME, stage.TITLE, {"model": model}))
        before = gateway.by_stage.get(stage.NAME, Usage()).model_copy()
        clock = time.monotonic()

        def stage_usage() -> Usage:
            now = gateway.by_stage.get(stage.NAME, Usage())
            return Usage(**{k: getattr(now, k) - getattr(before, k) for k in Usage.model_fields})

        def commit(name: str, subject: str) -> str:
            so_far = record.usage.model_copy()
            so_far.add(stage_usage())
            return workspace.commit_stage(name, subject, trailers(name, model, so_far))

        ctx = StageContext(workspace, settings, gateway, state, emit, checkpoint, commit)
        try:
            result: StageResult = stage.run(ctx)
            for path, text in result.files.items():
                state.artifact_hashes[path] = workspace.write(path, text)
            record.usage.add(stage_usage())
            if result.commit:
                record.commit = workspace.commit_stage(stage.NAME, result.message, trailers(stage.NAME, model, record.usage))
        except BaseException as exc:
            record.usage.add(stage_usage())
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
            emit(Event("stage_failed", stage.NAME, record.error, {"exit_code": state.exit_code}))
            if error is not None and error is not exc:
                raise error from None
            raise
        record.status, record.finished_at = result.status, utcnow()
        record.seconds += time.monotonic() - clock
        exit_code = max(exit_code, result.exit_code)
        checkpoint()
        emit(Event("stage_finished", stage.NAME, result.status, {"commit": record.commit, "usage": record.usage.model_dump()}))
    state.stop_reason = "done" if exit_code == EXIT_OK else "tests_failed"
    state.exit_code, state.last_error = exit_code, None
    checkpoint()
    return exit_code
