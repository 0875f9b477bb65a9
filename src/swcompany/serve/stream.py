"""Live events: the worker turns pipeline ``Event``s into JSON-safe dicts; the API replays them as SSE.

Events carry pydantic models and dataclasses (usage, results); they are flattened to
plain JSON and scrubbed of secret values before they leave the worker, so nothing a
client reads can hold a provider key.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any
from collections.abc import AsyncIterator, Callable

from ..events import Event
from ..redact import scrub

# The event that ends a job's stream; ``job_retrying`` does not: another attempt follows.
TERMINAL_KIND = "job_finished"
_DROPPED_DATA = frozenset({"state"})  # the whole run state: large, and the status document has it


def jsonable(value: Any, depth: int = 0) -> Any:
    """Plain JSON types out of pydantic models, dataclasses, paths and containers."""
    if depth > 8:
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "model_dump"):
        return jsonable(value.model_dump(mode="json"), depth + 1)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v, depth + 1) for v in value]
    if isinstance(value, Path):
        return str(value)
    return str(value)


def event_dict(event: Event) -> dict[str, Any]:
    """One pipeline event as a JSON-safe, secret-free dict with a timestamp."""
    data = {k: v for k, v in (event.data or {}).items() if k not in _DROPPED_DATA}
    out = {"kind": event.kind, "stage": event.stage, "message": event.message, "data": jsonable(data), "time": time.time()}
    return json.loads(scrub(json.dumps(out)))


def sse_frame(event_id: str, kind: str, data: str) -> str:
    """One server-sent event; ``id`` lets a client reconnect with ``Last-Event-ID``."""
    return f"id: {event_id}\nevent: {kind}\ndata: {data}\n\n"


async def sse_events(redis: Any, key: str, last_id: str, job_id: str | None, job_ended: Callable[[], Any],
                     block_ms: int = 1000, keepalive_s: float = 15.0) -> AsyncIterator[str]:
    """Replay the stream from ``last_id`` then follow it until the current job ends.

    ``redis`` is an asyncio client with ``decode_responses=True``; ``job_ended`` is an
    async callable telling whether the job is done (for attempts that died without a
    last word). The stream closes after the current job's ``job_finished``; earlier runs'
    (before a resume) are replayed and passed.
    """
    quiet_since = time.monotonic()
    while True:
        batch = await redis.xread({key: last_id}, count=200, block=block_ms)
        if batch:
            quiet_since = time.monotonic()
            for _, entries in batch:
                for entry_id, fields in entries:
                    last_id = entry_id
                    data = fields.get("data", "{}")
                    event = json.loads(data)
                    kind = event.get("kind", "message")
                    yield sse_frame(entry_id, kind, data)
                    if kind == TERMINAL_KIND and event.get("job") == job_id:
                        return
            continue
        if await job_ended():
            return
        if time.monotonic() - quiet_since > keepalive_s:
            quiet_since = time.monotonic()
            yield ": keep-alive\n\n"
