"""swcompany: a software company in a box.

``generate_repo(idea, ...)`` and ``resume(path, ...)`` are the Python API. They are
loaded on first use so ``import swcompany`` (and the CLI's start-up) stays fast.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["generate_repo", "resume", "status", "RunResult", "SwcompanyError", "__version__"]


def __getattr__(name: str) -> Any:
    if name in ("generate_repo", "resume", "status", "RunResult"):
        from . import api

        return getattr(api, name)
    if name == "SwcompanyError":
        from .errors import SwcompanyError

        return SwcompanyError
    raise AttributeError(name)
