"""Read a streamed completion to the end: an idle timeout per token, a cap on the whole reply.

A small local model writes ~10 tokens a second under load, so a long reply takes minutes; a
total timeout would throw that work away although the model is working. Streaming turns the
request timeout into an *idle* timeout (the HTTP client's read timeout: no new bytes for N
seconds), while this module enforces a separate, generous cap on the whole reply and reports
progress (tokens so far, rate) so a slow model looks busy, not frozen.
"""

from __future__ import annotations

import re
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

ProgressSink = Callable[[int, float], None]  # (tokens so far, seconds since the request)
PROGRESS_EVERY_S = 0.5


RUNAWAY_LINES = 40  # non-blank lines of at most two shapes in a row: a model writing in circles
RUNAWAY_SAME_LINES = 10  # one non-blank line this many times in a row: no one writes that (seen: 30 equal asserts)
RUNAWAY_GROWING_LINES, RUNAWAY_GROWING_CHARS = 8, 2000  # lines alike but for numbers, long (half as many if growing)
SALVAGE_SHAPE_RUN = 3  # of a run of lines alike but for numbers, a salvaged reply keeps this many
RUNAWAY_WINDOW = 6000  # characters of the reply's tail whose compressibility is checked
RUNAWAY_MIN_WINDOW = 2000  # ...from this many on: one character a token ("AaAaAa...") made 4,096 tokens 4,249 characters
# Seen: runaway replies 14-37:1 (a test block copied on, "AaAa..."); our sources 2.4-3.1:1; accepted
# model-written test files up to 8.5:1, and the 1.5B unit converter's core.py, an if/elif chain
# per unit (valid code), 6.2:1 at 2,000 characters: at 6.0 it was stopped three times (exit 4).
RUNAWAY_RATIO = 10.0
RUNAWAY_LONG_LINE, RUNAWAY_ITEMS = 1500, 60  # one line this long, its last items of at most three shapes
RUNAWAY_COUNTED_ROWS = 40  # data rows whose first field counts up by one: a table written on and on
RUNAWAY_CHECK_EVERY = 32  # deltas between checks; a check scans only the reply's tail
_SHAPE_NOISE = re.compile(r"[\d\s,.+\-]+")  # what a runaway changes from line to line
# ...and, for long lines, arithmetic: the expression calculator's QA rows grew one ` * N` a line
# (`("1 + 2 * 3 + 4 * 5 * 6", 33),` ...) and ran 3,365 tokens before the guard saw them
_GROWTH_NOISE = re.compile(r"[\d\s,.+\-*/%]+")
_COUNTED_ROW = re.compile(r"\s*[|(\[\"']?\s*(\d+)\s*[,;|\t]")  # `273,Pan,1365`, `| 4 | x |`, `(5, "a"),`
_LINE_BREAK = re.compile(r"\n|\\n")  # real newlines, and escaped ones inside a JSON string
RUNAWAY = "runaway"  # the finish reason of a reply stopped by the guard
RUNAWAY_SENTENCE = 80  # a sentence at least this long said three times: prose going in circles
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def runaway(text: str, lines: int = RUNAWAY_LINES) -> bool:
    """True when the reply's tail repeats itself. Each shape below was seen on a 1.5B model, and
    each ran for minutes to the token limit before the guard knew it:

    - ``lines`` non-blank lines of at most two shapes (digits, spaces and number punctuation
      aside): ``assert f([1, 2, ..., n]) == ...`` with n growing, one parametrize row forever;
    - one line ``RUNAWAY_SAME_LINES`` times in a row (HumanEval/0: one assert thirty times);
    - ``RUNAWAY_GROWING_LINES`` lines alike but for numbers that are long (HumanEval/4: lists
      up to 36 numbers, 4,096 tokens in ten minutes), or half as long when they grow, on average
      a character a row, at most one row in four shorter than the one before (HumanEval/20:
      parametrize rows, each list one number longer; the expression calculator: a term longer
      every other row);
    - a tail that compresses more than 10:1 (zlib, the last 6,000 characters, at least 2,000):
      ``test_ac1`` ... ``test_ac18``, one block copied with small changes, and HumanEval/16's
      string literal of "AaAa..." (4,096 tokens in 4,249 characters); code people or models
      write stays under 4.5:1;
    - a sentence of ``RUNAWAY_SENTENCE`` characters or more said a third time (a fix round's
      "Explanation:" ran to 6,000 characters of two sentences taking turns, on one line);
    - a line of ``RUNAWAY_LONG_LINE`` characters whose last ``RUNAWAY_ITEMS`` comma-separated items
      have at most three shapes (the CSV converter's test data: ``{"Item 80": 80, "80": 80,
      "Value 80": 80}, ...`` counting to 99 on one line, 4,096 tokens in seven minutes);
    - ``RUNAWAY_COUNTED_ROWS`` data rows whose first field counts up by one (the CSV converter's
      "large file" test: ``273,Pan,1365`` and on, a name a row, 4,096 tokens twice in one run);
    - the last ``REPEAT_BLOCK_LINES`` lines (``REPEAT_BLOCK_CHARS`` characters or more) word for
      word a second time (the markdown formatter's fix reply: its explanation and the whole test
      file, 50 lines, written again and again to the 4,096-token limit, eight minutes).
    """
    tail = _LINE_BREAK.split(text[-lines * 400:])[:-1]
    recent = [line for line in tail if line.strip()][-lines:]
    return (_repeated_sentence(text) or _same_line(recent) or _long_alike_lines(recent)
            or _few_shapes(recent, lines) or _compressible(text) or _long_line_of_alike_items(text)
            or _growing_alike_blocks(tail) or _counted_rows(recent) or second_copy_at(text) is not None)


REPEAT_BLOCK_LINES, REPEAT_BLOCK_CHARS = 12, 400


def second_copy_at(text: str) -> int | None:
    """Where the text started over, when its last ``REPEAT_BLOCK_LINES`` whole lines (at least
    ``REPEAT_BLOCK_CHARS`` characters, blank lines among them) are word for word a copy of earlier
    text: the start of the second copy of the repeated stretch. None otherwise."""
    end = text.rfind("\n")
    if end < 0:
        return None
    starts: list[int] = []  # the last non-blank lines' starts, found from the end: the guard runs as a reply streams
    at = end
    while len(starts) < REPEAT_BLOCK_LINES and (at := text.rfind("\n", 0, at)) >= 0:
        if text[at + 1:text.find("\n", at + 1)].strip():
            starts.insert(0, at + 1)
    if len(starts) < REPEAT_BLOCK_LINES:
        return None
    block = text[starts[0]:end]
    if len(block) < REPEAT_BLOCK_CHARS:
        return None
    first = text.rfind(block, 0, starts[0] + len(block) - 1)  # the copy just before: one period back
    if first < 0 or first >= starts[0]:
        return None
    period = starts[0] - first
    while first > 0 and text[first - 1] == text[first - 1 + period]:
        first -= 1  # back to where the first copy began
    return first + period


COPIED_SHARE, COPIED_MIN_LINES = 0.9, 10  # a tail this much made of lines the prompt holds is a copy
COPIED_LONG_LINE = 500  # characters of the line being written, no prompt line's start: not a copy


def prompt_lines(messages: Iterable[dict[str, Any]]) -> frozenset[str]:
    """The stripped lines of the prompt worth recognising in a reply (short ones like ``}`` say nothing)."""
    return frozenset(line.strip() for m in messages for line in str(m.get("content") or "").splitlines()
                     if len(line.strip()) >= 8)


def copies_prompt(text: str, given: frozenset[str]) -> bool:
    """The reply's tail is a copy of lines the prompt holds: a fix round sending back a test file
    whose nineteen tests repeat one block (the password generator's, written so by QA) looks like
    circles to ``runaway``, but a copy ends where its original does. Not when the line written now is
    long and no copy: the roman numeral converter's fix reply copied its test file and source, then
    said two sentences by turns on one line for 14,000 characters, the copy above excusing it."""
    current = text[text.rfind("\n") + 1:].strip()
    if len(current) >= COPIED_LONG_LINE and not any(line.startswith(current[:COPIED_LONG_LINE]) for line in given):
        return False
    recent = [line.strip() for line in text[-RUNAWAY_LINES * 400:].splitlines()[:-1] if line.strip()][-RUNAWAY_LINES:]
    known = [line for line in recent if line in given]
    return len(known) >= COPIED_MIN_LINES and len(set(known)) * 2 >= len(known) and \
        sum(1 for line in recent if line in given or len(line) < 8) >= COPIED_SHARE * len(recent)


RUNAWAY_GROWING_BLOCKS = 6  # blocks (tests) alike but for numbers, each longer than the one before


def _growing_alike_blocks(lines: list[str]) -> bool:
    """The last ``RUNAWAY_GROWING_BLOCKS`` blocks are alike but for numbers, of two lines or more, and
    each is longer than the one before (HumanEval/20: two-line tests, each list one number longer,
    1,841 tokens before the 40-line rule saw them)."""
    blocks = [b for b in _blocks(lines) if any(line.strip() for line in b)][-RUNAWAY_GROWING_BLOCKS - 1:-1]  # whole ones
    if len(blocks) < RUNAWAY_GROWING_BLOCKS or len(set(map(_block_shape, blocks))) != 1 or len(_block_shape(blocks[0])) < 2:
        return False
    sizes = [sum(len(line) for line in b) for b in blocks]
    return all(a < b for a, b in zip(sizes, sizes[1:]))


def _long_line_of_alike_items(text: str) -> bool:
    line = _LINE_BREAK.split(text[-RUNAWAY_LONG_LINE * 4:])[-1]
    items = line.split(",")[-RUNAWAY_ITEMS:]
    return len(line) >= RUNAWAY_LONG_LINE and len(items) == RUNAWAY_ITEMS and \
        len({_SHAPE_NOISE.sub("", item) for item in items}) <= 3


def _repeated_sentence(text: str) -> bool:
    sentences = [part.strip() for part in _SENTENCE_END.split(text[-3000:])[1:-1]]  # whole ones only
    return max(Counter(s for s in sentences if len(s) >= RUNAWAY_SENTENCE).values(), default=0) >= 3


def _same_line(recent: list[str]) -> bool:
    return len(recent) >= RUNAWAY_SAME_LINES and len(set(recent[-RUNAWAY_SAME_LINES:])) == 1


def _long_alike_lines(recent: list[str]) -> bool:
    shapes = [_GROWTH_NOISE.sub("", line) for line in recent]
    start = next((i + 1 for i in range(len(shapes) - 1, -1, -1) if shapes[i] != shapes[-1]), 0)
    lengths = [len(line) for line in recent[start:]]
    if len(lengths) < RUNAWAY_GROWING_LINES:
        return False
    shorter = sum(a > b for a, b in zip(lengths, lengths[1:]))  # a row or two may be a character shorter
    growing = shorter <= len(lengths) // 4 and lengths[-1] - lengths[0] >= len(lengths)
    return sum(lengths) >= (RUNAWAY_GROWING_CHARS // 2 if growing else RUNAWAY_GROWING_CHARS)


def _counted_rows(recent: list[str]) -> bool:
    rows = [_COUNTED_ROW.match(line) for line in recent[-RUNAWAY_COUNTED_ROWS:]]
    if len(rows) < RUNAWAY_COUNTED_ROWS or not all(rows):
        return False
    numbers = [int(row.group(1)) for row in rows if row]
    return all(b == a + 1 for a, b in zip(numbers, numbers[1:]))


def _few_shapes(recent: list[str], lines: int) -> bool:
    return len(recent) == lines and len({_SHAPE_NOISE.sub("", line) for line in recent}) <= 2


def _compressible(text: str) -> bool:
    window = text[-RUNAWAY_WINDOW:].encode("utf-8", "replace")
    return len(window) >= RUNAWAY_MIN_WINDOW and len(window) >= RUNAWAY_RATIO * len(zlib.compress(window, 6))


def first_copy(text: str) -> str:
    """A reply that started over, up to where it did (``second_copy_at``); any other reply as it is.
    For replies holding whole source files, which a cut-off end must not shorten."""
    copy = second_copy_at(text)
    return text if copy is None else text[:copy]


def without_repetition(text: str) -> str:
    """A runaway or cut-off reply without its circles: a second copy of a long stretch goes with
    all after it (``second_copy_at``), the last (unfinished) line goes, a line
    equal to the one before it goes, and of lines alike but for numbers only the first
    ``SALVAGE_SHAPE_RUN`` stay; an unclosed fence is closed. What is left is the model's own work,
    for a caller to check like any reply (a test file of a few distinct cases beats a re-prompt of
    minutes)."""
    kept: list[str] = []
    run_shape, run_length = None, 0
    if (copy := second_copy_at(text)) is not None:
        text = text[:copy] + "\n"  # every line of the first copy is whole
    for line in text.splitlines()[:-1]:
        if not line.strip():
            kept.append(line)
            continue
        shape = _SHAPE_NOISE.sub("", line)
        run_length = run_length + 1 if shape == run_shape else 1
        run_shape = shape
        previous = next((k for k in reversed(kept) if k.strip()), None)
        if line != previous and run_length <= SALVAGE_SHAPE_RUN:
            kept.append(line)
    kept = _without_alike_blocks(kept)
    if sum(1 for line in kept if line.lstrip().startswith("```")) % 2:
        kept.append("```")
    return "\n".join(kept) + "\n"


# a name growing by one repeated word a block (`..._and_floats_and_floats():`, the expression
# calculator's fix round: 3,033 tokens, 5 minutes, before a guard saw it) keeps one shape
_REPEATED_WORDS = re.compile(r"((?:_[A-Za-z]+){1,3}?)\1+")


def _block_shape(block: list[str]) -> tuple[str, ...]:
    return tuple(_SHAPE_NOISE.sub("", _REPEATED_WORDS.sub(r"\1", line)) for line in block if line.strip())


def _blocks(lines: list[str]) -> list[list[str]]:
    """``lines`` cut at blank lines, each block with the blank lines before it."""
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line.strip() and blocks[-1] and not blocks[-1][-1].strip() and any(x.strip() for x in blocks[-1]):
            blocks.append([])
        blocks[-1].append(line)
    return blocks


def _without_alike_blocks(lines: list[str]) -> list[str]:
    """Of blocks (tests) alike but for numbers, one after another, only the first
    ``SALVAGE_SHAPE_RUN`` stay: HumanEval/20's QA wrote twenty two-line tests, each list one number
    longer, which the line rule cannot see (its lines alternate)."""
    kept: list[str] = []
    run_shape, run_length = None, 0
    for block in _blocks(lines):
        shape = _block_shape(block)
        run_length = run_length + 1 if shape == run_shape and len(shape) > 1 else 1
        run_shape = shape
        if run_length <= SALVAGE_SHAPE_RUN:
            kept += block
    return kept


class RunCancelled(KeyboardInterrupt):
    """The run is stopping (Ctrl-C, SIGTERM, another call failed): a reply in flight is dropped.

    Without it a pool's worker would read a slow local model's reply to the end, minutes,
    and the process could not exit until it had.
    """


class ReplyTooSlow(TimeoutError):
    """The whole reply took longer than ``reply_timeout``; the stream was closed."""


class BrokenStream(ConnectionError):
    """The stream ended before the provider said it was finished (a dropped connection)."""

    def __init__(self, message: str, tokens: int, short: str = ""):
        super().__init__(message)
        self.tokens = tokens
        self.short = short or f"broken stream after {tokens} tokens"  # why it is retried, in a few words


def _delta_text(chunk: Any) -> str:
    choices = getattr(chunk, "choices", None) or []
    delta = getattr(choices[0], "delta", None) if choices else None
    return (getattr(delta, "content", None) or "") if delta is not None else ""


def _finish_reason(chunk: Any) -> str | None:
    choices = getattr(chunk, "choices", None) or []
    return getattr(choices[0], "finish_reason", None) if choices else None


class _IdleWatch:
    """Closes a stream that went ``idle`` seconds without a chunk once its first chunk came. The
    HTTP read timeout can then be the wait for the first byte, which on a local server includes its
    queue: llama.cpp and Ollama serve one reply at a time, and a request behind another client's
    seven-minute reply got no byte for minutes and was retried into the same queue until it failed."""

    def __init__(self, stream: Iterable[Any], idle: float) -> None:
        self.idle, self.fired = idle, False
        self.last: float | None = None  # when the latest chunk came
        self._stream, self._done = stream, threading.Event()
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        while not self._done.wait(min(1.0, self.idle / 4)):
            if self.last is not None and time.monotonic() - self.last > self.idle:
                self.fired = True
                _close(self._stream)  # the reader's blocked read fails, and the reply is retried
                return

    def stop(self) -> None:
        self._done.set()

    def broken(self, tokens: int) -> BrokenStream:
        idle = f"no new token for {self.idle:g} s"
        return BrokenStream(f"{idle} after {tokens} tokens (the idle timeout)", tokens, short=f"{idle} after {tokens} tokens")


def _close(stream: Any) -> None:
    close = getattr(stream, "close", None) or getattr(getattr(stream, "completion_stream", None), "close", None)
    if callable(close):
        try:
            close()
        except Exception:  # noqa: BLE001 - closing a broken stream may fail again; nothing to keep
            pass


def collect_stream(stream: Iterable[Any], *, started: float, reply_timeout: float,
                   on_progress: ProgressSink | None = None,
                   cancelled: Callable[[], bool] | None = None,
                   given: frozenset[str] = frozenset(), idle_timeout: float | None = None) -> tuple[list[Any], bool]:
    """Every chunk of ``stream``, in order, and whether the runaway guard stopped it early.
    ``given``: the prompt's lines (``prompt_lines``); a tail copying them is not a runaway.
    ``idle_timeout``: once the first chunk came, a stream silent this long is closed and raises
    ``BrokenStream`` (for an HTTP read timeout longer than that: the wait for a busy server).

    Raises ``ReplyTooSlow`` past the cap, ``BrokenStream`` when the stream stops without a
    finish reason. A reply that runs away (see ``runaway``) is closed at once: the caller
    treats it like a cut-off reply, minutes sooner.
    """
    chunks: list[Any] = []
    tokens, last_report, finished, usage_seen = 0, 0.0, False, False
    text: list[str] = []
    watch = _IdleWatch(stream, idle_timeout) if idle_timeout else None
    try:
        for chunk in stream:
            if watch is not None:
                watch.last = time.monotonic()
            if cancelled is not None and cancelled():
                raise RunCancelled
            chunks.append(chunk)
            delta = _delta_text(chunk)
            if delta:
                tokens += 1  # one streamed delta is about one token on every server we know
                text.append(delta)
                if tokens % RUNAWAY_CHECK_EVERY == 0 and runaway(tail := "".join(text[-RUNAWAY_WINDOW:])) \
                        and not copies_prompt(tail, given):
                    return chunks, True
            finished = finished or _finish_reason(chunk) is not None
            usage_seen = usage_seen or bool(getattr(getattr(chunk, "usage", None), "prompt_tokens", 0))
            now = time.monotonic()
            if now - started > reply_timeout:
                raise ReplyTooSlow(f"the reply took longer than {reply_timeout:g} s (reply_timeout); {tokens} tokens received")
            if on_progress is not None and now - last_report >= PROGRESS_EVERY_S:
                last_report = now
                on_progress(tokens, now - started)
    except (ReplyTooSlow, RunCancelled):
        raise
    except Exception as exc:  # noqa: BLE001 - anything failing mid-stream is a broken stream, worth a retry
        if watch is not None and watch.fired:
            raise watch.broken(tokens) from exc
        raise BrokenStream(f"the stream broke after {tokens} tokens ({type(exc).__name__})", tokens) from exc
    finally:
        if watch is not None:
            watch.stop()
        _close(stream)
    if watch is not None and watch.fired:
        raise watch.broken(tokens)
    if not finished:
        raise BrokenStream(f"the stream ended after {tokens} tokens without a finish reason", tokens)
    if tokens == 0 and not usage_seen:  # e.g. an HTML error page with status 200: litellm invents a finish
        raise BrokenStream("the provider's stream held no reply data", tokens)
    if on_progress is not None:
        on_progress(tokens, time.monotonic() - started)
    return chunks, False
