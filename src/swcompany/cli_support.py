"""The CLI's helpers: reading the idea, error lines, errors as exit codes (and JSON), workspace listings.

Split from ``cli.py`` so the commands read as what they are; nothing here imports litellm.
"""

from __future__ import annotations

import errno
import json
import sys
from typing import Literal

import typer

from .errors import Interrupted, SwcompanyError, UsageError


def _error_line(message: str, hint: str | None) -> None:
    """``error:`` and ``hint:`` lines; they can quote model output and provider errors, so both are cleaned."""
    from .display import terminal_safe
    from .redact import scrub

    first = message.splitlines()[0] if message else "unknown error"
    typer.echo(f"error: {terminal_safe(scrub(first))}", err=True)
    if hint:
        typer.echo(f"hint: {terminal_safe(scrub(hint))}", err=True)


def _read_idea(idea: str | None, idea_file: str | None) -> str:
    """The idea text; a file or stdin is read with a bound (``/dev/zero`` must not fill memory)."""
    if idea_file is not None:
        from .api import MAX_IDEA_CHARS

        if idea is not None:
            raise UsageError("give the idea as an argument or with --idea-file, not both")
        limit = MAX_IDEA_CHARS + 1
        try:
            if idea_file == "-":
                text = sys.stdin.read(limit)
            else:
                with open(idea_file, encoding="utf-8") as fh:
                    text = fh.read(limit)
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read --idea-file {idea_file}: {exc}") from None
        if len(text) >= limit:
            raise UsageError(f"the idea is too long: {idea_file} has over {MAX_IDEA_CHARS:,} characters; "
                             f"at most {MAX_IDEA_CHARS:,} are accepted",
                             hint="summarise the specification, or keep details for a hand-edited docs/prd.md")
        return text
    if idea is None and not sys.stdin.isatty():  # `echo idea | swcompany new`
        from .api import MAX_IDEA_CHARS

        idea = sys.stdin.read(MAX_IDEA_CHARS + 1) or None
    if idea is None:
        raise UsageError("no idea given", hint='swcompany new "a CLI todo app with SQLite storage"')
    return idea


def _list_workspaces(results: list, json_out: bool) -> None:
    """``status`` on a folder of workspaces: one line each, the next command where there is one."""
    if json_out:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in results], indent=2))
        return
    from .display import terminal_safe

    for r in results:
        code = f" (exit {r.exit_code})" if r.exit_code is not None else ""
        typer.echo(terminal_safe(f"{r.name}: {r.stop_reason}{code}, {r.usage.tokens:,} tokens, ${r.usage.cost:.4f}"
                                 + (f"; next: {r.next_command}" if r.next_command else "")))


class _errors:
    """Turn errors into ``error: ...`` + exit code; tracebacks only with --debug.

    With ``--json`` the same stop is also one JSON document on stdout (``workspace: null``),
    so a CI job piping stdout to ``jq`` always gets something to parse.
    """

    def __init__(self, debug: bool, json_out: bool = False):
        self.debug = debug
        self.json_out = json_out

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> Literal[False]:
        if exc is None or isinstance(exc, (typer.Exit, SystemExit)):
            return False
        if self.debug:
            return False
        error = _as_error(exc)
        _error_line(error.message, error.hint)
        if self.json_out:
            from .api import error_result

            typer.echo(json.dumps(error_result(error).model_dump(mode="json"), indent=2))
        raise typer.Exit(error.exit_code)


def _as_error(exc: BaseException) -> SwcompanyError:
    """Our error for anything escaping a command; unknown exceptions are bugs (exit 1)."""
    from .errors import known_error

    error = known_error(exc)
    if error is not None:
        return error
    if isinstance(exc, KeyboardInterrupt):
        return Interrupted("interrupted")
    if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG:  # a path the user typed, not a bug
        name = str(exc.filename or "")
        return UsageError(f"path too long for the filesystem: {name[:60]}{'...' if len(name) > 60 else ''}",
                          hint="use shorter folder names (at most 255 bytes each)")
    from .redact import scrub

    error = SwcompanyError(f"unexpected {type(exc).__name__}: {scrub(str(exc))}", "re-run with --debug for the traceback")
    return error
