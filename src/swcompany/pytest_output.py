"""Pure trimming of pytest output to what a fix needs: failures, tracebacks, the summary.

Passing-test noise and timings are dropped (timings would also make identical failures
look different to the response cache), and the result is capped keeping head and tail.
"""

from __future__ import annotations

import re

_SECTION = re.compile(r"^=+ (FAILURES|ERRORS|short test summary info) =+$", re.M)
_TIMING = re.compile(r" in \d+(\.\d+)?s( \(\d+:\d+:\d+\))?")
_FILE_REF = re.compile(r"([\w./-]+\.py):\d+")


def trim_failures(output: str, limit: int = 8000) -> str:
    """Keep the FAILURES/ERRORS sections and the short summary; cap to ``limit`` characters."""
    match = _SECTION.search(output)
    kept = output[match.start():] if match else output
    kept = _TIMING.sub("", kept).strip()
    if len(kept) <= limit:
        return kept
    head = limit * 2 // 3
    tail = limit - head - 40
    return kept[:head] + "\n\n[... trimmed ...]\n\n" + kept[-tail:]


def files_in_traceback(output: str, known: set[str]) -> list[str]:
    """Design or test files named in tracebacks, in order of first mention."""
    seen: list[str] = []
    for match in _FILE_REF.finditer(output):
        path = match.group(1).lstrip("./")
        for candidate in known:
            if (path == candidate or path.endswith("/" + candidate)) and candidate not in seen:
                seen.append(candidate)
    return seen
