"""Pure trimming of pytest output to what a fix needs: failures, tracebacks, the summary.

Passing-test noise and timings are dropped (timings would also make identical failures
look different to the response cache), and the result is capped keeping head and tail.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence

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
            if _source_of(path, [candidate]) and candidate not in seen:
                seen.append(candidate)
    return seen


_BLOCK = re.compile(r"^_{3,} (.+?) _{3,}$", re.M)
_SUMMARY_LINE = re.compile(r"^(?:FAILED|ERROR) ([\w./-]+\.py)", re.M)
# A fix round shows this many failures in full, the rest by name: HumanEval/20's eighteen failing
# parametrize rows made a 7,336-token prompt (two minutes of prompt reading on 2 cores, and a
# 1.5B model lost in it); the first few say what is wrong as well as all of them.
MAX_SHOWN_FAILURES = 3
MAX_SUMMARY_LINES = 10


_LOCATION_LINE = re.compile(r"^(\S+\.py):(\d+):(?: (\w+))?[ \t]*$", re.M)  # a frame; the last names the error
_CALLING_FRAME = re.compile(r"^(\S+\.py):(\d+): in \w+[ \t]*$", re.M)  # a frame that called further in
_NOT_A_CRASH = {"AssertionError", "Failed"}
MAX_CRASHES = 5


def failure_blocks(output: str) -> list[tuple[str, str]]:
    """(test name without its parametrize id, the text pytest printed for it) for each failure
    section in ``output``, the short summary left out."""
    headers = list(_BLOCK.finditer(output))
    return [(header.group(1).split("[")[0],
             output[header.end(): headers[i + 1].start() if i + 1 < len(headers) else len(output)]
             .split("short test summary info", 1)[0])
            for i, header in enumerate(headers)]


def crashes(output: str, test_file: str, sources: Sequence[str]) -> dict[str, list[str]]:
    """The failures of ``test_file`` whose traceback ends inside one of ``sources`` with an error raised
    there (not a failed assert), by source: ``test_x: IndexError: list index out of range (line 12)``."""
    found: dict[str, list[str]] = {}
    for test, block in failure_blocks(output):
        ends = _LOCATION_LINE.findall(block)
        if not ends or not any(path.endswith(test_file) for path, _, _ in ends):
            continue
        path, line, error = ends[-1]
        source = _source_of(path, sources)
        at = block.rfind(f"{path}:{line}:")
        if source is None:
            # raised in a library the source called (the expression calculator's invalid pattern, an
            # `re.error` from deep in `re`): the crash is the deepest frame of a source
            frames = [m for m in _CALLING_FRAME.finditer(block) if _source_of(m.group(1), sources)]
            if frames:
                source, line, at = _source_of(frames[-1].group(1), sources), frames[-1].group(2), frames[-1].start()
        if source is None or not error or error in _NOT_A_CRASH or _raised_on_purpose(block[:at]):
            continue
        message = _error_message(block, error)
        frame_start = block.rfind("\n_ _ _", 0, at)
        if error == "TypeError" and frame_start > 0 and (wrong := wrong_argument(block[frame_start:at])):
            # The function that crashed got an argument its own annotation rules out: the caller is
            # wrong, not it (the roman converter's core, handed argparse's 'X' for `integer: int`,
            # was written afresh three times while the CLI that passed it stayed).
            callers = list(_ANY_FRAME.finditer(block, 0, frame_start))
            caller = _source_of(callers[-1].group(1), sources) if callers else None
            if caller is None or caller == source:
                continue  # the test passed it: a question of the test's inputs
            message, source, line = f"{message.strip()}, because it passed {wrong}", caller, callers[-1].group(2)
        fact = f"{test}: {message.strip()} (line {line})"
        if fact not in found.setdefault(source, []) and len(found[source]) < MAX_CRASHES:
            found[source].append(fact)
    return found


def rejected_on_purpose(block: str, test_file: str) -> tuple[int, str] | None:
    """(the test file's line, ``"ValueError: message"``) when a failure's traceback ends in a
    ``raise`` outside the test file: the code refused the test's input on purpose (the password
    generator's every test met its own "must include punctuation"). None for anything else."""
    ends = [(path, int(line), error) for path, line, error in _LOCATION_LINE.findall(block)]
    if len(ends) < 2 or ends[-1][0].endswith(test_file) or not ends[-1][2] or ends[-1][2] in _NOT_A_CRASH:
        return None
    path, line, error = ends[-1]
    if not _raised_on_purpose(block[:block.rfind(f"{path}:{line}:")]):
        return None
    in_test = [line for path, line, _ in ends if path.endswith(test_file)]
    message = _error_message(block, error)
    return (in_test[-1], message[:200]) if in_test else None


_ANY_FRAME = re.compile(r"^(\S+\.py):(\d+):(?: in \w+| \w+)?[ \t]*$", re.M)
_ARGUMENT = re.compile(r"^(\w+) = (.+)$", re.M)
_SIMPLE_TYPES: dict[str, tuple[type, ...]] = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,),
                                              "list": (list,), "dict": (dict,), "tuple": (tuple,)}


def wrong_argument(frame: str) -> str | None:
    """``integer='X' (a str) to `from_int(integer: int)` `` when the arguments pytest printed for a
    frame (``integer = 'X'``) hold a literal whose type the function's own annotation rules out."""
    header = re.search(r"^\s*def (\w+)\((.*?)\)\s*(?:->[^:]+)?:\s*$", frame, re.M | re.S)
    if header is None:
        return None
    try:
        tree = ast.parse(f"def {header.group(1)}({header.group(2)}): pass")
    except SyntaxError:
        return None
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef)
    values = dict(_ARGUMENT.findall(frame[:header.start()]))
    for arg in function.args.args:
        annotation = arg.annotation
        name = annotation.value.id if isinstance(annotation, ast.Subscript) and isinstance(annotation.value, ast.Name) \
            else annotation.id if isinstance(annotation, ast.Name) else None
        if name not in _SIMPLE_TYPES or arg.arg not in values:
            continue
        try:
            value = ast.literal_eval(values[arg.arg])
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue
        if not isinstance(value, _SIMPLE_TYPES[name]) or (name != "bool" and isinstance(value, bool)):
            return f"{arg.arg}={values[arg.arg][:40]} (a {type(value).__name__}) to `{header.group(1)}({ast.unparse(arg)})`"
    return None


def crashed_in_test(block: str, test_file: str) -> tuple[int, str] | None:
    """(the test file's line, ``"TypeError: message"``) when a failure's traceback ends in the test
    file itself with an error (not a failed assert): the test's own line raised it."""
    ends = _LOCATION_LINE.findall(block)
    if not ends or not ends[-1][0].endswith(test_file) or not ends[-1][2] or ends[-1][2] in _NOT_A_CRASH:
        return None
    _, line, error = ends[-1]
    message = _error_message(block, error)
    return int(line), message[:200]


def _error_message(block: str, error: str) -> str:
    """The ``E`` line naming ``error`` (``TypeError: message``), else the error's name alone."""
    return next((m.group(1).strip() for m in re.finditer(rf"^E\s+((?:[\w.]+\.)?{re.escape(error)}\b.*)$", block, re.M)), error)


def _source_of(path: str, sources: Sequence[str]) -> str | None:
    return next((s for s in sources if path == s or path.endswith("/" + s)), None)


def _raised_on_purpose(block: str) -> bool:
    """The failing line pytest marks last (``>``) is a ``raise``: the code rejected its input on
    purpose (the password generator's "Character set does not have enough characters"), which is
    a question of what the tests may pass, not a crash to write the module afresh for (three
    rewrites in a row changed nothing)."""
    marked = [line for line in block.splitlines() if line.startswith(">")]
    return bool(marked) and marked[-1][1:].strip().startswith("raise ")


_FAILING_TEST = re.compile(r"^(?:FAILED|ERROR) ([\w./-]+\.py)::([\w:]+)", re.M)


def failing_tests(output: str, test_file: str, failed: int) -> set[str] | None:
    """The tests of ``test_file`` pytest's short summary names as failing (``test_x``, ``TestC.test_m``),
    or None when the summary does not account for all ``failed`` (failures and errors, from the
    report): output cut short, or an error outside any test."""
    listed = _FAILING_TEST.findall(_summary(output))
    if len(listed) < failed:
        return None
    return {name.replace("::", ".") for path, name in listed if path.lstrip("./").endswith(test_file)}


def failing_files(output: str) -> list[str]:
    """The test files pytest's short summary names as failing, in its order."""
    return list(dict.fromkeys(m.group(1).lstrip("./") for m in _SUMMARY_LINE.finditer(_summary(output))))


def _summary(output: str) -> str:
    """pytest's short test summary (empty when it printed none: a crash before it)."""
    return output[output.rfind("short test summary info"):] if "short test summary info" in output else ""


_FRAME_SEPARATOR = re.compile(r"^(?:_ )+_?[ \t]*$")
_LIBRARY_FILE = r"\S*/lib/python3\.\d+/\S+\.py:\d+:"
_LIBRARY_CALL = re.compile(_LIBRARY_FILE + r" in \w+")  # a short frame: this line, then its source
_LIBRARY_END = re.compile(_LIBRARY_FILE + r"(?: \w+)?[ \t]*$")  # a long frame's last line
_ANY_LOCATION = re.compile(r"^\S+\.py:\d+:")


def without_library_frames(text: str) -> str:
    """Failures with each frame inside Python's library (the standard library, site-packages) cut to
    its location line and its ``E`` lines: the pomodoro timer's fix round was shown the whole of
    ``_strptime`` (some 60 lines a failure) where the error message said it all."""
    out: list[str] = []
    frame_start, in_library_call, in_call = 0, False, False
    for line in text.splitlines():
        if (in_library_call or in_call) and line.startswith(" "):
            if not in_library_call:
                out.append(line)
            frame_start = len(out)
            continue
        in_library_call = in_call = False
        if _LIBRARY_END.match(line) and not _LIBRARY_CALL.match(line):
            out[frame_start:] = [kept for kept in out[frame_start:] if kept.startswith("E ")]
            out += ["", line]
        elif _LIBRARY_CALL.match(line):
            out.append(line)
            in_library_call = True
        else:
            out.append(line)
            in_call = bool(_ANY_LOCATION.match(line)) and " in " in line
        if _FRAME_SEPARATOR.match(line) or _BLOCK.match(line) or _ANY_LOCATION.match(line):
            frame_start = len(out)
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


def focus_failures(output: str, limit: int = 8000, tried: Sequence[str] = (), only: str | None = None
                   ) -> tuple[str | None, str]:
    """(a failing test file, the trimmed failures of that file only): the one ``tried`` (earlier
    rounds' choices) names least often, first in pytest's order on a tie, so rounds take turns
    (the word counter's three rounds all went to its CLI tests, the core's wrong ones never).

    A 1.5B model shown twelve failures across three test files rewrote all three files in every
    fix round (1,200+ tokens, two and a half minutes a round) and fixed none; one file's
    failures at a time keep the question, the reply and the round small. ``None`` and the
    whole trimmed output when no file can be told (a crash before the summary). ``only``: that
    file's failures, when it has some.
    """
    failing, summary = failing_files(output), _summary(output)
    if not failing:
        return None, trim_failures(output, limit)
    target = only if only in failing else min(failing, key=lambda path: list(tried).count(path))
    section = _SECTION.search(output)
    body = output[section.start():] if section else output
    end = body.find("short test summary info")
    blocks = body[:end] if end >= 0 else body
    headers = list(_BLOCK.finditer(blocks))
    kept = []
    for i, header in enumerate(headers):
        text = blocks[header.start(): headers[i + 1].start() if i + 1 < len(headers) else len(blocks)]
        text = text.split("\n=", 1)[0]  # the next section's banner (FAILURES after ERRORS) is not part of it
        if target in text:
            kept.append(text.rstrip())
    lines = [line for line in summary.splitlines()[1:] if line.startswith(("FAILED", "ERROR")) and target in line]
    if len(kept) > MAX_SHOWN_FAILURES:
        kept = [*kept[:MAX_SHOWN_FAILURES], f"({len(kept) - MAX_SHOWN_FAILURES} more failures of this file, "
                                            "listed below, not shown in full)"]
    if len(lines) > MAX_SUMMARY_LINES:
        lines = [*lines[:MAX_SUMMARY_LINES], f"... and {len(lines) - MAX_SUMMARY_LINES} more"]
    focused = "\n\n".join(kept) + "\n\n" + "\n".join(lines) if kept else trim_failures(output, limit)
    return target, trim_failures(without_library_frames(_TIMING.sub("", focused).strip()), limit)
