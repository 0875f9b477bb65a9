"""``swcompany doctor``: one tiny call per configured model, with latency or the exact reason.

Uses the same gateway as a run (same key lookup, base URL and error mapping), with no
retries and no cache, so what it reports is what a run would meet.
"""

from __future__ import annotations

import time

from pydantic import BaseModel

from .config import Settings
from .errors import SwcompanyError


class ProbeResult(BaseModel):
    model: str
    ok: bool
    latency_s: float | None = None
    reply: str | None = None
    error: str | None = None
    hint: str | None = None
    exit_code: int = 0


def probe_models(settings: Settings, stages: list[str]) -> list[ProbeResult]:
    """Check every distinct model the stages use; never raises for provider failures."""
    from .llm import Gateway, preflight

    results: list[ProbeResult] = []
    quick = settings.model_copy(update={"max_retries": 0, "cache": False, "timeout": min(settings.timeout, 20.0)})
    for stage in stages:
        model = settings.model_for(stage)
        if any(r.model == model for r in results):
            continue
        try:
            preflight(quick, [stage])
            gateway = Gateway(quick, cache_dir=None, log=lambda record: None)
            started = time.monotonic()  # after set-up: latency is the provider's, not litellm's import
            reply = gateway.chat(stage, [{"role": "user", "content": "Reply with the word OK."}], max_tokens=5,
                                 label="doctor")
            results.append(ProbeResult(model=model, ok=True, latency_s=round(time.monotonic() - started, 3),
                                       reply=reply.text.strip()[:40]))
        except SwcompanyError as exc:
            results.append(ProbeResult(model=model, ok=False, error=exc.message, hint=exc.hint, exit_code=exc.exit_code))
    return results
