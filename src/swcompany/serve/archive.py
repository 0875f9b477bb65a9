"""A workspace as a ``.tar.gz``: the project and its git history, never the run data.

``.swcompany/`` (state, LLM log, response cache, the QA venv) stays out: it is ours, can
be large, and is what a client has no use for. Symlinks are stored as links, not followed.
"""

from __future__ import annotations

import tarfile
import tempfile
from pathlib import Path
from typing import IO
from collections.abc import Iterator

EXCLUDED_TOP = frozenset({".swcompany"})
CHUNK = 256 * 1024


def build_archive(workspace: Path) -> IO[bytes]:
    """The archive in a spooled temporary file (memory up to 16 MB, then disk), rewound."""
    spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)

    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        parts = Path(info.name).parts
        if len(parts) > 1 and parts[1] in EXCLUDED_TOP:
            return None
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    with tarfile.open(fileobj=spool, mode="w:gz") as tar:
        tar.add(str(workspace), arcname=workspace.name, filter=keep)
    spool.seek(0)
    return spool  # type: ignore[return-value, unused-ignore]


def chunks(spool: IO[bytes]) -> Iterator[bytes]:
    try:
        while block := spool.read(CHUNK):
            yield block
    finally:
        spool.close()
