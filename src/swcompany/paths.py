"""Pure checks that a path named by a model stays inside the workspace.

Used by artifact validation (design file lists, QA fix replies) before anything
touches the disk; ``workspace.py`` re-checks against symlinks at write time.

Names are compared the way the filesystems our users run on would see them: macOS
(HFS+/APFS) folds case and ignores some invisible code points, Windows (NTFS) folds
case, drops trailing dots and spaces and answers to 8.3 short names (``GIT~1``). A
spelling that any of them treats as ``.git`` is ``.git``.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath

MAX_PATH_CHARS = 255
MAX_COMPONENT_BYTES = 255  # NAME_MAX on Linux and macOS; longer names can never be written
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")
_RESERVED_TOP = {".swcompany"}  # our run data; .git is refused at any depth
_RESERVED_ANY = {".git"}
_SHORT_NAMES = re.compile(r"^(git|swcomp)~\d+$")  # NTFS 8.3 names of .git and .swcompany
_BAD_CHARS = set('\x00<>:"|?*\\') | {chr(c) for c in range(32)}
_BAD_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}  # controls, invisible/bidi, surrogates
# Default-ignorable code points that are not format characters (HFS+ skips some of these).
_IGNORABLE = {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0} | set(range(0x180B, 0x1810)) \
    | set(range(0xFE00, 0xFE10)) | set(range(0xE0100, 0xE01F0))


class UnsafePathError(ValueError):
    """A path that could escape or clobber the workspace."""


def fs_key(name: str) -> str:
    """The name a case-insensitive, normalising filesystem would store: compare these, not raw names.

    NFKC (fullwidth ``．ＧＩＴ`` is ``.git``), invisible and ignorable code points dropped,
    case folded, trailing dots and spaces dropped (Windows).
    """
    text = unicodedata.normalize("NFKC", name)
    text = "".join(ch for ch in text if ord(ch) not in _IGNORABLE and unicodedata.category(ch) != "Cf")
    return text.casefold().rstrip(" .")


def _reserved(key: str, names: set[str]) -> bool:
    """``key`` (an ``fs_key``) is one of ``names`` or its 8.3 short name (``git~1``)."""
    short = _SHORT_NAMES.match(key)
    return key in names or bool(short and short.group(1) in {n.lstrip(".")[:6] for n in names})


def _bad_char(ch: str) -> bool:
    return ch in _BAD_CHARS or unicodedata.category(ch) in _BAD_CATEGORIES or ord(ch) in _IGNORABLE


def safe_relpath(path: str) -> str:
    """Return a normalised POSIX relative path, or raise ``UnsafePathError``.

    Refuses absolute paths, drive letters, backslashes, ``..``, control, invisible and
    bidi characters, over-long paths and names, ``.git`` at any depth and ``.swcompany``
    at the top, in every spelling a case-insensitive or normalising filesystem equates.
    """
    if not isinstance(path, str) or not path.strip():
        raise UnsafePathError("empty path")
    if len(path) > MAX_PATH_CHARS:
        raise UnsafePathError(f"path longer than {MAX_PATH_CHARS} characters")
    if _WINDOWS_DRIVE.match(path) or path.startswith(("/", "~")):
        raise UnsafePathError(f"absolute path not allowed: {path!r}")
    if any(_bad_char(ch) for ch in path):
        raise UnsafePathError(f"path has forbidden characters: {path!r}")
    parts = [p for p in PurePosixPath(path).parts if p not in ("", ".")]
    if not parts:
        raise UnsafePathError(f"path names no file: {path!r}")
    if any(p == ".." for p in parts):
        raise UnsafePathError(f"path escapes the workspace: {path!r}")
    if any(not fs_key(p) for p in parts):  # "...", " ": Windows reads these as "." or ".."
        raise UnsafePathError(f"a path component is only dots or spaces: {path!r}")
    for i, part in enumerate(parts):
        key = fs_key(part)
        if _reserved(key, _RESERVED_ANY) or (i == 0 and _reserved(key, _RESERVED_TOP)):
            raise UnsafePathError(f"path is reserved for swcompany/git: {path!r}")
        if len(part.encode("utf-8")) > MAX_COMPONENT_BYTES:
            raise UnsafePathError(f"a path component is longer than {MAX_COMPONENT_BYTES} bytes: {part[:40]!r}...")
    return "/".join(parts)


# What the pipeline writes itself (compared as fs_key): a design naming them would let the
# engineer rewrite the design or PRD, drop every file from git, or clobber QA's tests.
_PIPELINE_TOP = {
    "docs": "docs/ holds the pipeline's own documents (PRD, design, QA report)",
    "tests": "tests/ belongs to the QA stage, which writes the tests",
    "readme.md": "the pipeline writes README.md itself",
    "requirements.txt": "the pipeline writes requirements.txt from the design's dependencies",
}
_GIT_CONTROL = {".gitignore", ".gitattributes", ".gitmodules"}  # change what git records or runs


def owned_path_problem(path: str, *, allow_tests: bool = False) -> str | None:
    """Why a model may not write ``path`` (a ``safe_relpath`` result), or None.

    QA fix replies pass ``allow_tests`` (they may replace tests); designs may not.
    """
    parts = path.split("/")
    if any(fs_key(p) in _GIT_CONTROL for p in parts):
        return f"{path}: git control files (.gitignore, .gitattributes, .gitmodules) are not source files; leave them out"
    top = fs_key(parts[0])
    if top in _PIPELINE_TOP and not (allow_tests and top == "tests"):
        return f"{path}: {_PIPELINE_TOP[top]}; leave it out of the file list"
    return None


def layout_problems(paths: list[str]) -> list[str]:
    """Paths that cannot all exist at once: a file that is also a folder, or names equal on macOS/Windows."""
    problems = []
    by_key: dict[str, str] = {}
    for path in paths:
        key = "/".join(fs_key(p) for p in path.split("/"))
        if key in by_key and by_key[key] != path:
            problems.append(f"{by_key[key]} and {path} are the same file on case-insensitive filesystems")
        by_key.setdefault(key, path)
    for path in paths:
        parts = path.split("/")
        for i in range(1, len(parts)):
            folder = "/".join(fs_key(p) for p in parts[:i])
            if folder in by_key:
                problems.append(f"{by_key[folder]} is a file, so it cannot also be the folder of {path}")
                break
    return problems
