"""Read a streamed completion to the end: an idle timeout per token, a cap on the whole reply.

A small local model writes ~10 tokens a second under load, so a long reply takes minutes; a
total timeout would throw that work away although the model is working. Streaming turns the
request timeout into an *idle* timeout (the HTTP client's read timeout: no new bytes for N
seconds), while this module enforces a separate, generous cap on the whole reply and reports
progress (tokens so far, rate) so a slow model looks busy, not frozen.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

ProgressSink = Callable[[int, float], None]  # (tokens so far, seconds since the request)
PROGRESS_EVERY_S = 0.5


class ReplyTooSlow(TimeoutError):
    """The whole reply took longer than ``reply_timeout``; the stream was closed."""


class BrokenStream(ConnectionError):
    """The stream ended before the provider said it was finished (a dropped connection)."""

    def __init__(self, message: str, tokens: int):
        super().__init__(message)
        self.tokens = tokens


def _delta_text(chunk: Any) -> str:
    choices = getattr(chunk, "choices", None) or []
    delta = getattr(choices[0], "delta", None) if choices else None
    return (getattr(delta, "content", None) or "") if delta is not None else ""


def _finish_reason(chunk: Any) -> str | None:
    choices = getattr(chunk, "choices", None) or []
    return getattr(choices[0], "finish_reason", None) if choices else None


def collect_stream(stream: Iterable[Any], *, started: float, reply_timeout: float,
                   on_progress: ProgressSink | None = None) -> list[Any]:
    """Every chunk of ``stream``, in order; raises ``ReplyTooSlow`` past the cap, ``BrokenStream``
    when the stream stops without a finish reason."""
    chunks: list[Any] = []
    tokens, last_report, finished, usage_seen = 0, 0.0, False, False
    try:
        for chunk in stream:
            chunks.append(chunk)
            if _delta_text(chunk):
                tokens += 1  # one streamed delta is about one token on every server we know
            finished = finished or _finish_reason(chunk) is not None
            usage_seen = usage_seen or bool(getattr(getattr(chunk, "usage", None), "prompt_tokens", 0))
            now = time.monotonic()
            if now - started > reply_timeout:
                raise ReplyTooSlow(f"the reply took longer than {reply_timeout:g} s (reply_timeout); {tokens} tokens received")
            if on_progress is not None and now - last_report >= PROGRESS_EVERY_S:
                last_report = now
                on_progress(tokens, now - started)
    except ReplyTooSlow:
        raise
    except Exception as exc:  # noqa: BLE001 - anything failing mid-stream is a broken stream, worth a retry
        raise BrokenStream(f"the stream broke after {tokens} tokens ({type(exc).__name__})", tokens) from exc
    finally:
        close = getattr(stream, "close", None) or getattr(getattr(stream, "completion_stream", None), "close", None)
        if callable(close):
            try:
                close()
            except Exception:  # noqa: BLE001 - closing a broken stream may fail again; nothing to keep
                pass
    if not finished:
        raise BrokenStream(f"the stream ended after {tokens} tokens without a finish reason", tokens)
    if tokens == 0 and not usage_seen:  # e.g. an HTML error page with status 200: litellm invents a finish
        raise BrokenStream("the provider's stream held no reply data", tokens)
    if on_progress is not None:
        on_progress(tokens, time.monotonic() - started)
    return chunks
