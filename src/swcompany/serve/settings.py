"""Where the service finds Redis, its workspaces and its limits: environment only.

Serve settings are process settings (shared by the API and every worker through the
environment of a deployment), not run settings, so they stay out of ``config.yaml``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError


@dataclass(frozen=True)
class ServeSettings:
    """The knobs both ``serve`` and ``worker`` read; documented in the README "Serving teams"."""

    redis_url: str | None = None
    workspaces: Path = Path("workspace")
    job_timeout: int = 6 * 3600  # seconds one run may take before RQ stops it
    retries: int = 3  # re-runs of a job whose worker died (each one resumes the workspace)
    result_ttl: int = 30 * 24 * 3600
    models: tuple[str, ...] = ()  # models a request may choose; empty: any


def _int(env: dict[str, str] | os._Environ[str], name: str, default: int) -> int:
    value = env.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {value!r}") from None


def load_serve_settings(redis_url: str | None = None, environ: dict[str, str] | None = None) -> ServeSettings:
    """``REDIS_URL``, ``SWCOMPANY_SERVE_WORKSPACES``, ``..._JOB_TIMEOUT``, ``..._RETRIES``, ``..._MODELS``."""
    env = os.environ if environ is None else environ
    return ServeSettings(
        redis_url=redis_url or env.get("REDIS_URL") or None,
        workspaces=Path(env.get("SWCOMPANY_SERVE_WORKSPACES") or "workspace").expanduser().resolve(),
        job_timeout=_int(env, "SWCOMPANY_SERVE_JOB_TIMEOUT", 6 * 3600),
        retries=_int(env, "SWCOMPANY_SERVE_RETRIES", 3),
        models=tuple(m.strip() for m in (env.get("SWCOMPANY_SERVE_MODELS") or "").split(",") if m.strip()),
    )


def find_workspace(folder: Path) -> Path | None:
    """The one workspace a project's folder holds (``<workspaces>/<id>/<name>``), once its state exists."""
    if not folder.is_dir():
        return None
    for child in sorted(folder.iterdir()):
        if (child / ".swcompany" / "state.json").is_file():
            return child
    return None
