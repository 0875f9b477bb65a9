"""One exception hierarchy for everything a user can cause or meet.

Each error carries a one-line message, an optional hint and the process exit code the
CLI returns (documented in the README). Anything else escaping is a bug (exit 1).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar, Literal

# Why a run stopped, as state.json, ``--json`` and ``status`` say it; one per error class below.
StopReason = Literal[
    "running", "done", "budget", "provider", "model_output", "interrupted", "error",
    "tests_failed", "usage", "config", "busy", "storage", "unsafe_path",
]
StageStatus = Literal["pending", "running", "done", "failed", "skipped"]

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_BUDGET = 3
EXIT_PROVIDER = 4
EXIT_TESTS_FAILED = 5
EXIT_INTERRUPTED = 130


class SwcompanyError(Exception):
    """Base class: ``str(err)`` is the user-facing message."""

    exit_code: ClassVar[int] = EXIT_UNEXPECTED
    stop_reason: ClassVar[StopReason] = "error"

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(SwcompanyError):
    """Bad flags, bad idea text, bad paths given by the user."""

    exit_code = EXIT_USAGE
    stop_reason: ClassVar[StopReason] = "usage"


class ConfigError(UsageError):
    """The config file, env vars or model settings are unusable."""

    stop_reason: ClassVar[StopReason] = "config"


class WorkspaceBusyError(UsageError):
    """Another swcompany process holds the workspace lock."""

    stop_reason: ClassVar[StopReason] = "busy"


class StorageError(UsageError):
    """The workspace cannot be written (disk full, read-only, permissions); resumable once fixed."""

    stop_reason: ClassVar[StopReason] = "storage"


class UnsafePathRefused(UsageError):
    """A write refused because its path would leave or clobber the workspace (e.g. a planted symlink)."""

    stop_reason: ClassVar[StopReason] = "unsafe_path"


class BudgetExhausted(SwcompanyError):
    """The cost or token budget is spent; the run is resumable."""

    exit_code = EXIT_BUDGET
    stop_reason: ClassVar[StopReason] = "budget"


class ProviderError(SwcompanyError):
    """The LLM provider failed after retries (or refused us); resumable."""

    exit_code = EXIT_PROVIDER
    stop_reason: ClassVar[StopReason] = "provider"


class ModelOutputError(ProviderError):
    """The model kept answering with output we cannot use, after repair attempts."""

    stop_reason: ClassVar[StopReason] = "model_output"


class Interrupted(SwcompanyError):
    """Ctrl-C or SIGTERM; state was saved and the run is resumable."""

    exit_code = EXIT_INTERRUPTED
    stop_reason: ClassVar[StopReason] = "interrupted"


def storage_error(exc: BaseException, root: object) -> StorageError | None:
    """The StorageError for a failed disk write (not a network error), else None."""
    if isinstance(exc, OSError) and not isinstance(exc, (ConnectionError, TimeoutError)):
        return StorageError(f"cannot write the workspace {root}: {exc.strerror or exc}",
                            hint=f"free space or fix permissions, then: swcompany resume {root}")
    return None


def did_you_mean(word: str, choices: "Iterable[str]") -> str:
    """``; did you mean 'x'?`` for a near miss (a typo in a key, stage or model name), else ``''``."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.75)
    return f"; did you mean {close[0]!r}?" if close else ""


def known_error(exc: BaseException) -> SwcompanyError | None:
    """Our error for exceptions a user can meet that are not ``SwcompanyError`` (else None).

    A path refused as unsafe is a safe refusal (exit 2: fix the workspace, then resume) and a
    reply refused outside the repair loop is unusable model output (exit 4); neither is a bug.
    """
    if isinstance(exc, SwcompanyError):
        return exc
    from .paths import UnsafePathError
    from .structured import ReplyError

    if isinstance(exc, UnsafePathError):
        return UnsafePathRefused(f"refused to write outside the workspace: {exc}",
                                 hint="remove the symlink or file in the way, then resume")
    if isinstance(exc, ReplyError):
        return ModelOutputError(f"unusable model output: {exc.reason}",
                                hint="resume to try again, or use a stronger model for this stage")
    return None
