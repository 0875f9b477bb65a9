"""``swcompany worker``: an RQ worker whose dead jobs come back quickly and resume.

A stopped worker (SIGTERM) hands its run over: the horse saves it and RQ re-queues it.
Two ways a run outlives a worker that dies:

- the worker's main process dies (``kill -9``, OOM): its work horse gets SIGTERM through
  ``PR_SET_PDEATHSIG``, saves the run (exit 130) and fails the attempt, which RQ retries
  on another worker at once;
- worker and horse die together (machine lost): the job's heartbeat in RQ's
  ``StartedJobRegistry`` expires after ``2 x monitor interval + 5 s`` instead of RQ's fixed
  60 s margin, and the registry cleanup (run by the API every few seconds and by workers)
  re-enqueues it under its ``Retry`` policy. Either way the next attempt resumes the workspace.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
from typing import Any
from collections.abc import Callable

from ..errors import ConfigError
from .jobs import QUEUE_NAME, get_queue, rq_connection

HEARTBEAT_MARGIN_S = 5


def _die_with_parent() -> None:
    """Linux: SIGTERM this process when its parent (the worker) dies, so the run is saved and retried."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def worker_class() -> type:
    from rq import Worker

    class ResumingWorker(Worker):
        """RQ's forking worker with a short, configurable heartbeat expiry and parent-death signal."""

        def get_heartbeat_ttl(self, job: Any) -> int:
            ttl = 2 * self.job_monitoring_interval + HEARTBEAT_MARGIN_S
            if job.timeout and job.timeout > 0:
                ttl = min(ttl, int(job.timeout - self.current_job_working_time) + HEARTBEAT_MARGIN_S)
            return max(int(ttl), HEARTBEAT_MARGIN_S)

        def handle_warm_shutdown_request(self) -> None:
            """SIGTERM (a deploy, ``docker stop``): hand the run over instead of finishing it here.

            The horse saves the run (exit 130) and fails the attempt; RQ re-queues it at once
            and another worker resumes it, so a stop never waits for a whole run.
            """
            super().handle_warm_shutdown_request()
            if self.horse_pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.horse_pid, signal.SIGTERM)

        def fork_work_horse(self, job: Any, queue: Any) -> None:
            self._worker_pid = os.getpid()  # not "1": in a container the worker itself may be PID 1
            super().fork_work_horse(job, queue)

        def main_work_horse(self, job: Any, queue: Any) -> None:
            _die_with_parent()
            if os.getppid() != self._worker_pid:  # the worker died between fork and prctl
                os._exit(1)
            super().main_work_horse(job, queue)

    return ResumingWorker


def requeue_abandoned(conn: Any) -> None:
    """Retry jobs whose worker stopped heart-beating (RQ's StartedJobRegistry cleanup), once at a time."""
    from rq.registry import StartedJobRegistry

    queue = get_queue(conn)
    if not queue.acquire_maintenance_lock():
        return
    try:
        StartedJobRegistry(queue=queue).cleanup()
    finally:
        queue.release_maintenance_lock()


def preload_litellm() -> None:
    """Import litellm once in the worker so each forked horse starts warm (it costs seconds).

    Best effort through the gateway's own loader (which keeps litellm offline for prices);
    if that internal moves, horses simply import it themselves.
    """
    try:
        from .. import llm

        llm.load_litellm()
    except Exception:  # noqa: BLE001 - an optimisation only
        pass


def run_worker(redis_url: str, *, burst: bool = False, monitor_interval: int = 10, name: str | None = None,
               nice: int = 0, say: Callable[[str], None] = print) -> None:
    """Process jobs until stopped (or, with ``burst``, until the queue is empty).

    ``nice`` lowers the CPU priority of the worker, its horses and the generated tests they
    run, so an API on the same machine keeps answering fast while runs are busy.
    """
    os.environ["REDIS_URL"] = redis_url  # the horse's job function reads it
    if nice:
        os.nice(nice)
    from redis.exceptions import RedisError

    conn = rq_connection(redis_url)
    try:
        conn.ping()
    except RedisError as exc:
        raise ConfigError(f"cannot reach Redis at {_safe_url(redis_url)}: {exc}",
                          hint="start Redis (redis-server --appendonly yes) or fix REDIS_URL") from None
    preload_litellm()
    worker = worker_class()([QUEUE_NAME], connection=conn, name=name, job_monitoring_interval=monitor_interval,
                            maintenance_interval=max(30, monitor_interval * 3))
    say(f"swcompany worker {worker.name} on {_safe_url(redis_url)} (queue {QUEUE_NAME})")
    worker.work(burst=burst, logging_level="INFO", with_scheduler=False)


def _safe_url(url: str) -> str:
    """A Redis URL without its password, for log lines."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url
