"""The HTTP API (FastAPI): accept projects, report them, stream their events, hand out archives.

Handlers only check the caller and the request, then delegate: runs go to RQ
(``jobs``), records and events to Redis (``store``), status documents come from
``swcompany.status`` on the shared workspaces volume. OpenAPI lives at ``/docs``.
"""

from __future__ import annotations

import threading
from contextlib import asynccontextmanager
from typing import Any
from collections.abc import AsyncIterator

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from .. import __version__
from ..errors import SwcompanyError
from . import archive, jobs, metrics, store
from .auth import owner_of
from .settings import ServeSettings, find_workspace
from .stream import sse_events

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
MAX_IDEA_CHARS = 20_000
ACTIVE_STATES = frozenset({"queued", "running"})


class Limits(BaseModel):
    """Run settings a client may choose; endpoints, keys and sandbox knobs stay the operator's."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(None, min_length=1, max_length=200, pattern=r"^\S+$",
                              description="litellm model string; the workers' provider settings apply")
    budget: float | None = Field(None, ge=0, allow_inf_nan=False, description="USD cap on the workspace's spend")
    max_tokens: int | None = Field(None, ge=0, description="token cap on the workspace's use")
    fix_rounds: int | None = Field(None, ge=0, le=20, description="QA fix rounds")


class ProjectRequest(Limits):
    idea: str = Field(..., min_length=1, max_length=MAX_IDEA_CHARS, description="the project idea")
    name: str | None = Field(None, pattern=NAME_PATTERN, description="workspace folder name")
    review: bool | None = Field(None, description="code review stage, where this version has one")

    @field_validator("idea")
    @classmethod
    def idea_has_text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the idea is empty")
        return value


class ResumeRequest(Limits):
    pass


class Accepted(BaseModel):
    id: str
    status_url: str
    events_url: str
    archive_url: str
    notes: list[str] = []


def _review_supported() -> bool:
    from ..config import Settings

    return "review" in Settings.model_fields


def create_app(settings: ServeSettings, tokens: dict[str, str], cleanup_interval: float = 5.0) -> FastAPI:
    """The app for one Redis and one workspaces folder; ``tokens`` maps bearer token -> owner name."""
    from redis import asyncio as aioredis

    url = settings.redis_url or "redis://localhost:6379/0"
    r = jobs.data_connection(url)
    conn = jobs.rq_connection(url)
    stop = threading.Event()

    def janitor() -> None:
        while not stop.wait(cleanup_interval):
            try:
                from .worker import requeue_abandoned

                requeue_abandoned(conn)
            except Exception:  # noqa: BLE001 - Redis away for a moment: try again next tick
                pass

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.aredis = aioredis.Redis.from_url(url, decode_responses=True)
        thread = threading.Thread(target=janitor, name="swcompany-janitor", daemon=True)
        thread.start()
        yield
        stop.set()
        await app.state.aredis.aclose()

    app = FastAPI(title="swcompany", version=__version__, lifespan=lifespan,
                  description="A software company in a box, as a service: submit an idea, get a tested git repository.")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for e in exc.errors():
            loc = [str(p) for p in e.get("loc", ()) if p != "body"]
            errors.append({"field": ".".join(loc) or "body", "message": e.get("msg", "invalid")})
        fields = ", ".join(e["field"] for e in errors)
        return JSONResponse({"detail": f"invalid request: {fields}", "errors": errors}, status_code=422)

    def caller(request: Request) -> str:
        owner = owner_of(request.headers.get("authorization"), tokens)
        if owner is None:
            raise HTTPException(401, "missing or unknown bearer token", headers={"WWW-Authenticate": "Bearer"})
        return owner

    def project_of(project_id: str, owner: str) -> dict[str, str]:
        project = store.owned_project(r, project_id, owner)
        if project is None:
            raise HTTPException(404, f"no project {project_id}")
        return project

    def document(project_id: str, project: dict[str, str]) -> dict[str, Any]:
        import swcompany

        job = jobs.job_state(conn, project.get("job_id"))
        state = job["state"]
        if state == "unknown" and project.get("exit_code"):
            state = "finished"  # the job record expired; the outcome stays on the project
        if project.get("cancel") == "1" and state not in ACTIVE_STATES:
            state = "cancelled"
        doc: dict[str, Any] = {"id": project_id, "state": state, "job": job,
                               "attempts": int(project.get("attempts") or 0)}
        workspace = find_workspace(settings.workspaces / project_id)
        if workspace is None:  # not started yet, or refused before a workspace existed
            code = project.get("exit_code")
            doc.update({"name": project.get("name") or None, "exit_code": int(code) if code else None,
                        "stop_reason": project.get("stop_reason") or state, "error": project.get("error") or None})
            return doc
        try:
            doc.update(swcompany.status(workspace).model_dump(mode="json"))
        except SwcompanyError as exc:  # e.g. a state file damaged by hand: say so, keep the job view
            doc["error"] = exc.message
        return doc

    def check_model(limits: Limits) -> None:
        """An operator may restrict the models clients choose (``SWCOMPANY_SERVE_MODELS``): each costs money."""
        if limits.model is not None and settings.models and limits.model not in settings.models:
            raise RequestValidationError([{"loc": ("body", "model"), "type": "value_error",
                                           "msg": f"not an allowed model; choose one of {', '.join(settings.models)}"}])

    def links(project_id: str, notes: list[str]) -> Accepted:
        base = f"/v1/projects/{project_id}"
        return Accepted(id=project_id, status_url=base, events_url=f"{base}/events", archive_url=f"{base}/archive", notes=notes)

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict[str, Any]:
        """Liveness and Redis reachability."""
        try:
            r.ping()
        except Exception:  # noqa: BLE001
            raise HTTPException(503, "redis unreachable") from None
        return {"ok": True, "version": __version__}

    @app.get("/metrics", tags=["service"], response_class=Response)
    def prometheus() -> Response:
        """Prometheus exposition: runs, stages, LLM calls, tokens, cost, queue depth, job wait."""
        from rq.registry import StartedJobRegistry

        queue = jobs.get_queue(conn)

        def gauges() -> dict[str, tuple[str, float]]:
            return {"swcompany_queue_depth": ("Jobs waiting for a worker", float(queue.count)),
                    "swcompany_jobs_running": ("Jobs a worker is running", float(StartedJobRegistry(queue=queue).count))}

        body, content_type = metrics.render(r, gauges)
        return Response(body, media_type=content_type)

    @app.post("/v1/projects", status_code=202, response_model=Accepted, tags=["projects"])
    def submit(body: ProjectRequest, owner: str = Depends(caller)) -> Accepted:
        """Accept an idea; a worker turns it into a repository. Poll ``status_url`` or follow ``events_url``."""
        check_model(body)
        notes = []
        chosen = body.model_dump(exclude={"idea", "name"}, exclude_none=True)
        if body.review is not None and not _review_supported():
            notes.append("review: this version has no review stage; the setting is ignored")
        project_id = store.create_project(r, owner, body.idea.strip(), body.name, chosen)
        jobs.enqueue_run(conn, r, project_id, settings)
        return links(project_id, notes)

    @app.get("/v1/projects", tags=["projects"])
    def list_mine(owner: str = Depends(caller)) -> dict[str, Any]:
        """The caller's latest projects, newest first (ids and job states)."""
        out = []
        for project_id in store.list_projects(r, owner):
            project = store.get_project(r, project_id) or {}
            out.append({"id": project_id, "name": project.get("name") or None,
                        "state": jobs.job_state(conn, project.get("job_id"))["state"]})
        return {"projects": out}

    @app.get("/v1/projects/{project_id}", tags=["projects"])
    def get_status(project_id: str, owner: str = Depends(caller)) -> dict[str, Any]:
        """The ``swcompany status --json`` document plus ``state`` (queued, running, finished, failed, cancelled)."""
        return document(project_id, project_of(project_id, owner))

    @app.get("/v1/projects/{project_id}/events", tags=["projects"])
    async def events(project_id: str, request: Request, owner: str = Depends(caller)) -> StreamingResponse:
        """Server-sent events of the run (stage_started, llm_call, stage_finished, ... job_finished)."""
        from starlette.concurrency import run_in_threadpool

        project = await run_in_threadpool(project_of, project_id, owner)
        last_id = request.headers.get("last-event-id") or "0-0"

        async def ended() -> bool:
            state = (await run_in_threadpool(jobs.job_state, conn, project.get("job_id")))["state"]
            return state not in ACTIVE_STATES

        stream = sse_events(request.app.state.aredis, store.events_key(project_id), last_id, project.get("job_id"), ended)
        return StreamingResponse(stream, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.get("/v1/projects/{project_id}/archive", tags=["projects"])
    def download(project_id: str, owner: str = Depends(caller)) -> StreamingResponse:
        """The workspace as .tar.gz with its git history, without ``.swcompany/``."""
        project_of(project_id, owner)
        workspace = find_workspace(settings.workspaces / project_id)
        if workspace is None:
            raise HTTPException(409, "the project has no workspace yet")
        spool = archive.build_archive(workspace)
        return StreamingResponse(archive.chunks(spool), media_type="application/gzip",
                                 headers={"Content-Disposition": f'attachment; filename="{workspace.name}.tar.gz"'})

    @app.post("/v1/projects/{project_id}/resume", status_code=202, response_model=Accepted, tags=["projects"])
    def resume(project_id: str, body: ResumeRequest | None = None, owner: str = Depends(caller)) -> Accepted:
        """Run again from where it stopped (budget, provider, cancel); optional new limits."""
        import json

        project = project_of(project_id, owner)
        if body is not None:
            check_model(body)
        if jobs.job_state(conn, project.get("job_id"))["state"] in ACTIVE_STATES:
            raise HTTPException(409, "the project is already queued or running")
        chosen = {**json.loads(project.get("settings") or "{}"), **(body.model_dump(exclude_none=True) if body else {})}
        store.clear_cancel(r, project_id)
        store.clear_fields(r, project_id, "exit_code", "stop_reason", "error", "ended_at")
        store.update_project(r, project_id, settings=json.dumps(chosen))
        jobs.enqueue_run(conn, r, project_id, settings)
        return links(project_id, [])

    @app.delete("/v1/projects/{project_id}", status_code=202, tags=["projects"])
    def cancel(project_id: str, owner: str = Depends(caller)) -> dict[str, Any]:
        """Stop the run as SIGTERM would: state saved (exit 130), resumable with ``POST .../resume``."""
        from rq.job import Job

        project = project_of(project_id, owner)
        state = jobs.job_state(conn, project.get("job_id"))["state"]
        if state not in ACTIVE_STATES:
            raise HTTPException(409, f"the project is not running (state: {state})")
        store.request_cancel(r, project_id)
        if state == "queued":
            try:
                Job.fetch(project["job_id"], connection=conn).cancel()
            except Exception:  # noqa: BLE001 - a worker took it meanwhile: the flag stops it at start
                return {"id": project_id, "state": "cancelling"}
            store.update_project(r, project_id, exit_code=130, stop_reason="interrupted", error="cancelled")
            return {"id": project_id, "state": "cancelled"}
        return {"id": project_id, "state": "cancelling"}

    return app
