"""The RQ side: the queue, enqueueing a project run, and the job function workers execute.

A job knows only a project id. It runs ``swcompany.generate_repo`` the first time and
``swcompany.resume`` whenever the project's folder already holds a workspace, so an
attempt re-run after a dead worker (RQ's abandoned-job retry) or a ``POST .../resume``
continues where the last one stopped: finished stages and cached replies cost nothing.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from contextlib import contextmanager
from datetime import datetime, UTC
from typing import Any
from collections.abc import Iterator

from redis import Redis

from ..errors import EXIT_INTERRUPTED, SwcompanyError
from ..events import Event
from ..redact import scrub
from . import metrics, store
from .settings import ServeSettings, find_workspace, load_serve_settings
from .stream import event_dict

QUEUE_NAME = "swcompany"
JOB_FUNCTION = "swcompany.serve.jobs.run_project"
BUSY_WAIT_S = 600.0  # a re-run waits this long for a previous attempt's process to let go of the workspace

# RQ status -> the job state the API reports.
JOB_STATES = {"queued": "queued", "deferred": "queued", "scheduled": "queued", "started": "running",
              "finished": "finished", "failed": "failed", "stopped": "cancelled", "canceled": "cancelled"}


class WorkerStopped(Exception):
    """The run was interrupted by its worker shutting down, not by a user: RQ retries it elsewhere."""


def rq_connection(url: str) -> Redis:
    """RQ wants bytes replies; our own keys use a decoding client (``data_connection``)."""
    return Redis.from_url(url)


def data_connection(url: str) -> Redis:
    return Redis.from_url(url, decode_responses=True)


def get_queue(conn: Redis) -> Any:
    from rq import Queue

    return Queue(QUEUE_NAME, connection=conn)


def enqueue_run(conn: Redis, r: Redis, project_id: str, settings: ServeSettings) -> str:
    """Queue one run of the project; its id is ``<project>-<n>`` so runs never collide."""
    from rq import Retry

    runs = int(r.hincrby(store.project_key(project_id), "runs", 1))
    job_id = f"{project_id}-{runs}"
    store.update_project(r, project_id, job_id=job_id, enqueued_at=f"{time.time():.3f}")
    get_queue(conn).enqueue_call(
        JOB_FUNCTION, args=(project_id,), job_id=job_id, timeout=settings.job_timeout,
        result_ttl=settings.result_ttl, failure_ttl=settings.result_ttl,
        retry=Retry(max=settings.retries) if settings.retries > 0 else None,
        description=f"swcompany project {project_id}",
    )
    return job_id


def job_state(conn: Redis, job_id: str | None) -> dict[str, Any]:
    """``{state, rq_status, retries_left, enqueued_at, started_at, ended_at}`` of one job."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    if not job_id:
        return {"state": "unknown"}
    try:
        job = Job.fetch(job_id, connection=conn)
        raw = job.get_status(refresh=False)
        status = str(getattr(raw, "value", raw) or "unknown")
    except NoSuchJobError:
        return {"state": "unknown", "id": job_id}
    stamp = lambda d: d.replace(tzinfo=UTC).isoformat() if d else None  # noqa: E731
    return {"id": job_id, "state": JOB_STATES.get(status, status), "rq_status": status,
            "retries_left": job.retries_left, "enqueued_at": stamp(job.enqueued_at),
            "started_at": stamp(job.started_at), "ended_at": stamp(job.ended_at)}


# --- the job function (runs in the RQ work horse) -------------------------------------


class _Sink:
    """``on_event`` of a run: publish each event to the project's stream and count metrics."""

    def __init__(self, r: Redis, project_id: str, job_id: str | None):
        self.r = r
        self.project_id = project_id
        self.job_id = job_id
        self.stage_clock: dict[str, float] = {}

    def __call__(self, event: Event) -> None:
        try:
            store.publish_event(self.r, self.project_id, {**event_dict(event), "job": self.job_id})
            self._count(event)
        except Exception:  # noqa: BLE001 - a metrics/events hiccup must never fail a paid run
            pass

    def _count(self, event: Event) -> None:
        if event.kind == "stage_started":
            self.stage_clock[event.stage] = time.monotonic()
        elif event.kind in ("stage_finished", "stage_failed") and event.stage in self.stage_clock:
            seconds = time.monotonic() - self.stage_clock.pop(event.stage)
            status = event.message if event.kind == "stage_finished" else "failed"
            metrics.observe(self.r, "swcompany_stage_duration_seconds", seconds, {"stage": event.stage, "status": status})
        elif event.kind == "llm_call":
            call = event.data.get("event")
            usage = getattr(call, "usage", None)
            cached = bool(getattr(call, "cached", False))
            stage = str(getattr(call, "stage", event.stage) or event.stage)
            metrics.inc(self.r, "swcompany_llm_calls_total", {"stage": stage, "cached": str(cached).lower()})
            if usage is not None and not cached:
                metrics.inc(self.r, "swcompany_llm_tokens_total", {"stage": stage, "kind": "prompt"}, usage.prompt_tokens)
                metrics.inc(self.r, "swcompany_llm_tokens_total", {"stage": stage, "kind": "completion"}, usage.completion_tokens)
                metrics.inc(self.r, "swcompany_llm_cost_usd_total", {"stage": stage}, usage.cost)
                if usage.seconds:
                    metrics.observe(self.r, "swcompany_llm_call_seconds", usage.seconds, {"stage": stage})


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@contextmanager
def _cancellable(r: Redis, project_id: str) -> Iterator[None]:
    """SIGTERM stops the run as Ctrl-C would; a cancel request sends this process SIGTERM.

    The watcher blocks on the project's cancel list, so a ``DELETE`` stops the run within
    a second even while every thread waits on the provider.
    """
    done = threading.Event()
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)

    def watch() -> None:
        while not done.is_set():
            try:
                hit = r.blpop([store.cancel_key(project_id)], timeout=1)
            except Exception:  # noqa: BLE001 - Redis blip: keep watching
                time.sleep(1)
                continue
            if hit and not done.is_set():
                os.kill(os.getpid(), signal.SIGTERM)
                return

    watcher = threading.Thread(target=watch, name="swcompany-cancel-watch", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        signal.signal(signal.SIGTERM, previous)


def _settings_of(project: dict[str, str]) -> dict[str, Any]:
    """Run settings the client chose; ``review`` only where this version has such a setting."""
    from ..config import Settings

    chosen = {k: v for k, v in json.loads(project.get("settings") or "{}").items() if v is not None}
    if "review" in chosen and "review" not in Settings.model_fields:
        chosen.pop("review")
    return chosen


def _run(project_id: str, project: dict[str, str], settings: ServeSettings, sink: _Sink) -> Any:
    """generate_repo the first time, resume afterwards; wait out a previous attempt's lock."""
    import swcompany

    folder = settings.workspaces / project_id
    overrides = _settings_of(project)
    deadline = time.monotonic() + BUSY_WAIT_S
    while True:
        workspace = find_workspace(folder)
        try:
            if workspace is not None:
                return swcompany.resume(workspace, on_event=sink, **overrides)
            return swcompany.generate_repo(project["idea"], name=project.get("name") or None, output_dir=folder,
                                           force=True, on_event=sink, **overrides)
        except SwcompanyError as exc:
            if getattr(exc, "stop_reason", "") != "busy" or time.monotonic() > deadline:
                raise
            time.sleep(1.0)  # the killed attempt's process still holds the lock; the OS frees it on exit


def _wait_seconds(job: Any) -> float | None:
    if job is None or job.enqueued_at is None:
        return None
    enqueued = job.enqueued_at.replace(tzinfo=UTC)
    return max(0.0, (datetime.now(UTC) - enqueued).total_seconds())


def run_project(project_id: str) -> dict[str, Any]:
    """The RQ job: one attempt at a project's run. Returns ``{exit_code, stop_reason}``."""
    from rq import get_current_job
    from rq.timeouts import JobTimeoutException

    settings = load_serve_settings()
    r = data_connection(settings.redis_url or "redis://localhost:6379/0")
    project = store.get_project(r, project_id)
    if project is None:
        return {"exit_code": None, "stop_reason": "missing"}
    job = get_current_job()
    attempt = int(project.get("attempts") or 0) + 1
    if job is not None and job.retries_left is not None and job.retries_left < settings.retries:
        metrics.inc(r, "swcompany_job_retries_total")  # RQ re-ran this job (dead worker), not a user resume
    wait = _wait_seconds(job)
    if wait is not None:
        metrics.observe(r, "swcompany_job_wait_seconds", wait)
    store.update_project(r, project_id, attempts=attempt, runner_pid=os.getpid(), started_at=f"{time.time():.3f}")
    sink = _Sink(r, project_id, job.id if job else None)
    sink(Event("job_started", "", f"attempt {attempt}", {"attempt": attempt, "job_id": job.id if job else None}))
    started = time.monotonic()
    outcome: dict[str, Any]
    try:
        if project.get("cancel") == "1":
            raise KeyboardInterrupt
        with _cancellable(r, project_id):
            result = _run(project_id, project, settings, sink)
        outcome = {"exit_code": result.exit_code, "stop_reason": result.stop_reason, "error": result.error}
    except KeyboardInterrupt:  # cancelled outside the pipeline (before it started or while waiting)
        outcome = {"exit_code": EXIT_INTERRUPTED, "stop_reason": "interrupted", "error": "cancelled"}
    except SwcompanyError as exc:  # refused before a workspace existed: bad model, missing key...
        outcome = {"exit_code": exc.exit_code, "stop_reason": exc.stop_reason, "error": scrub(exc.message)}
    except JobTimeoutException:  # RQ's job_timeout: state is saved; retrying would only time out again
        outcome = {"exit_code": 1, "stop_reason": "timeout", "error": f"the run took longer than the job timeout "
                   f"({settings.job_timeout} s, SWCOMPANY_SERVE_JOB_TIMEOUT); POST .../resume continues it"}
    except Exception as exc:  # noqa: BLE001 - a bug: report it scrubbed; RQ retries the attempt
        message = scrub(f"{type(exc).__name__}: {exc}")
        sink(Event("job_retrying", "", message, {"attempt": attempt}))
        raise RuntimeError(message) from None
    cancelled = store.get_project(r, project_id) or {}
    if outcome["exit_code"] == EXIT_INTERRUPTED and cancelled.get("cancel") != "1":
        # SIGTERM from a worker shutdown (or its parent dying): saved and resumable, so let RQ retry it.
        sink(Event("job_retrying", "", "the worker stopped; the run is saved and will resume", {"attempt": attempt}))
        raise WorkerStopped("the worker stopped during the run; it will be resumed")
    code = outcome["exit_code"]
    store.update_project(r, project_id, exit_code=code, stop_reason=outcome["stop_reason"],
                         error=outcome.get("error") or "", ended_at=f"{time.time():.3f}")
    metrics.inc(r, "swcompany_runs_total", {"exit_code": code})
    metrics.observe(r, "swcompany_run_duration_seconds", time.monotonic() - started, {"exit_code": code})
    sink(Event("job_finished", "", outcome["stop_reason"], outcome))
    return outcome
