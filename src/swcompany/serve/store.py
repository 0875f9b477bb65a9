"""Project records, live events and cancel requests in Redis: the one module that knows the keys.

- ``swc:project:<id>``: a hash (owner, idea, settings JSON, current job id, outcome);
- ``swc:owner:<name>``: a sorted set of the owner's project ids by creation time;
- ``swc:events:<id>``: a stream of JSON events (what the worker's ``on_event`` saw);
- ``swc:cancel:<id>``: a list a running job blocks on, so a cancel wakes it at once.

Everything lives in Redis so a Redis with ``appendonly yes`` is the service's only state
besides the workspaces volume.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from redis import Redis

PREFIX = "swc"
EVENTS_MAXLEN = 20_000  # a run emits a few per file; this bounds a runaway stream


def project_key(project_id: str) -> str:
    return f"{PREFIX}:project:{project_id}"


def events_key(project_id: str) -> str:
    return f"{PREFIX}:events:{project_id}"


def cancel_key(project_id: str) -> str:
    return f"{PREFIX}:cancel:{project_id}"


def owner_key(owner: str) -> str:
    return f"{PREFIX}:owner:{owner}"


def new_project_id() -> str:
    """Unguessable, URL- and folder-safe."""
    return secrets.token_hex(8)


def create_project(r: Redis, owner: str, idea: str, name: str | None, settings: dict[str, Any]) -> str:
    project_id = new_project_id()
    fields: dict[Any, Any] = {"owner": owner, "idea": idea, "name": name or "", "settings": json.dumps(settings),
              "created_at": f"{time.time():.3f}", "runs": "0"}
    with r.pipeline() as pipe:
        pipe.hset(project_key(project_id), mapping=fields)
        pipe.zadd(owner_key(owner), {project_id: time.time()})
        pipe.execute()
    return project_id


def get_project(r: Redis, project_id: str) -> dict[str, str] | None:
    data = r.hgetall(project_key(project_id))
    return data or None  # type: ignore[return-value]


def owned_project(r: Redis, project_id: str, owner: str) -> dict[str, str] | None:
    """The project if it exists *and* belongs to ``owner``; others' projects look missing (404)."""
    if not project_id.isalnum() or len(project_id) > 64:
        return None
    project = get_project(r, project_id)
    if project is None or not secrets.compare_digest(project.get("owner", ""), owner):
        return None
    return project


def update_project(r: Redis, project_id: str, **fields: Any) -> None:
    r.hset(project_key(project_id), mapping={k: "" if v is None else str(v) for k, v in fields.items()})


def clear_fields(r: Redis, project_id: str, *names: str) -> None:
    if names:
        r.hdel(project_key(project_id), *names)


def list_projects(r: Redis, owner: str, limit: int = 100) -> list[str]:
    return list(r.zrevrange(owner_key(owner), 0, limit - 1))  # type: ignore[arg-type]


def publish_event(r: Redis, project_id: str, event: dict[str, Any]) -> None:
    r.xadd(events_key(project_id), {"data": json.dumps(event, separators=(",", ":"))},
           maxlen=EVENTS_MAXLEN, approximate=True)


def request_cancel(r: Redis, project_id: str) -> None:
    """Flag the project (a job not yet started sees it) and wake a running job's watcher."""
    with r.pipeline() as pipe:
        pipe.hset(project_key(project_id), "cancel", "1")
        pipe.delete(cancel_key(project_id))
        pipe.rpush(cancel_key(project_id), "1")
        pipe.execute()


def clear_cancel(r: Redis, project_id: str) -> None:
    with r.pipeline() as pipe:
        pipe.hdel(project_key(project_id), "cancel")
        pipe.delete(cancel_key(project_id))
        pipe.execute()
