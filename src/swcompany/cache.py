"""Content-addressed LLM replies inside the workspace, so resumed or repeated work is free.

The key is a hash of everything that shapes a reply (model, messages, response format,
temperature, max_tokens, base URL); values are written atomically, so a killed run never
leaves a torn entry. Keys and replies only: no credentials are part of a request here.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .workspace import atomic_write


class ResponseCache:
    """Content-addressed replies on disk: ``<dir>/<key[:2]>/<key>.json``."""

    def __init__(self, folder: Path | None):
        self.folder = folder

    @staticmethod
    def key(request: dict[str, Any]) -> str:
        return hashlib.sha256(json.dumps(request, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        if self.folder is None:
            return None
        try:
            return json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def put(self, key: str, value: dict[str, Any]) -> None:
        if self.folder is not None:
            atomic_write(self._path(key), json.dumps(value))

    def forget(self, keys: list[str]) -> None:
        for key in keys if self.folder is not None else []:
            self._path(key).unlink(missing_ok=True)
