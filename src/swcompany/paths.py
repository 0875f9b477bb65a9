"""Pure checks that a path named by a model stays inside the workspace.

Used by artifact validation (design file lists, QA fix replies) before anything
touches the disk; ``workspace.py`` re-checks against symlinks at write time.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

MAX_PATH_CHARS = 255
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")
_RESERVED_TOP = {".git", ".swcompany"}
_BAD_CHARS = set('\x00<>:"|?*\\') | {chr(c) for c in range(32)}


class UnsafePathError(ValueError):
    """A path that could escape or clobber the workspace."""


def safe_relpath(path: str) -> str:
    """Return a normalised POSIX relative path, or raise ``UnsafePathError``.

    Refuses absolute paths, drive letters, backslashes, ``..``, control characters,
    over-long names and our own metadata folders (.git, .swcompany).
    """
    if not isinstance(path, str) or not path.strip():
        raise UnsafePathError("empty path")
    if len(path) > MAX_PATH_CHARS:
        raise UnsafePathError(f"path longer than {MAX_PATH_CHARS} characters")
    if _WINDOWS_DRIVE.match(path) or path.startswith(("/", "~")):
        raise UnsafePathError(f"absolute path not allowed: {path!r}")
    if any(ch in _BAD_CHARS for ch in path):
        raise UnsafePathError(f"path has forbidden characters: {path!r}")
    parts = [p for p in PurePosixPath(path).parts if p not in ("", ".")]
    if not parts:
        raise UnsafePathError(f"path names no file: {path!r}")
    if any(p == ".." for p in parts):
        raise UnsafePathError(f"path escapes the workspace: {path!r}")
    if parts[0] in _RESERVED_TOP:
        raise UnsafePathError(f"path is reserved for swcompany/git: {path!r}")
    return "/".join(parts)
