"""Structured asks: a reply parsed into what a stage needs, re-prompted with the exact problem.

Mixed into ``Gateway`` (which supplies ``chat``, the cache and the settings). Every refused
reply is kept in ``.swcompany/rejects/`` with its reason; cut-off replies get more room once,
runaway ones (a model writing in circles) are asked again shorter at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from .artifacts import Usage, utcnow
from .cache import ResponseCache
from .config import Settings
from .errors import ModelOutputError
from .redact import scrub
from .streaming import RUNAWAY, without_repetition
from .structured import ReplyError, check_syntax, expected_shape, extract_code, extract_json, parse_model
from .workspace import atomic_write

T = TypeVar("T", bound=BaseModel)
T_any = TypeVar("T_any")
Messages = list[dict[str, str]]
MAX_OUTPUT_TOKENS_CAP = 32768
SALVAGE_TRIM_LINES = 40  # unfinished lines dropped from a salvaged file's end, at most, until it parses
REPEAT_TEMPERATURE = 0.8  # the next ask after a refused reply came back identical
MAX_REJECT_CHARS = 200_000  # a kept reply is for a person to read, not a second copy of a flood


@dataclass
class Reply:
    text: str
    finish_reason: str
    cached: bool
    cache_key: str
    usage: Usage


def asked_again(messages: Messages, note: str, attempt: int | None = None) -> Messages:
    """The original question with ``note`` added to its last message, for a reply that cannot be
    shown back (it ran in circles, was cut off, or is too long).

    Not a stand-in assistant turn such as "(a reply that repeated itself, not shown)": a 1.5B
    model answered the next fix round with exactly those words, and the round was lost. A second
    note names the ``attempt``, so the request differs from the last one (the same request would
    get the same reply, from the cache or a model at low temperature); the caller warms it up too.
    """
    if attempt is not None:
        note = f"{note} (This is attempt {attempt}: the earlier replies had the same problem.)"
    *head, last = messages
    if last.get("role") != "user":
        return [*messages, {"role": "user", "content": note}]
    return [*head, {**last, "content": f"{last['content']}\n\n{note}"}]


class StructuredAsks:
    """``ask_model``/``ask_file``/``ask_json``/``ask_text``/``ask_parsed`` over the host class's ``chat``."""

    settings: Settings
    cache: ResponseCache
    rejects_dir: Path | None

    def chat(self, stage: str, messages: Messages, *, schema: dict[str, Any] | None = None,
             max_tokens: int | None = None, label: str = "", temperature: float | None = None) -> Reply:
        raise NotImplementedError  # provided by Gateway

    def _repair_loop(self, stage: str, messages: Messages, parse: Callable[[str], Any], *,
                     schema: dict[str, Any] | None, label: str, what: str, max_doublings: int | None = None,
                     salvage: Callable[[str], str] | None = None, temperature: float | None = None,
                     max_tokens: int | None = None) -> Any:
        """Ask, parse, and on failure re-prompt with the exact error; bounded attempts.

        Every refused reply is kept in ``.swcompany/rejects/`` with its reason. A reply that
        repeats an earlier refused one gets a sharper re-prompt (the expected shape of the
        wrong fields), since sending the same words again would get the same answer. With
        ``salvage``, a reply that ran away or was cut off is first tried without its circles
        (``salvage(text)``, parsed like any reply): a re-prompt costs minutes on a small model.
        ``temperature``: the first ask's (default: the configured one). ``max_tokens``: a tighter
        first limit than the configured ``max_output_tokens`` (never a looser one).
        """
        convo = list(messages)
        max_tokens = min(max_tokens or self.settings.max_output_tokens, self.settings.max_output_tokens)
        keys: list[str] = []
        seen: set[str] = set()
        reason = "no reply"
        doublings = 0
        # ``temperature`` (None: the configured one) holds until a reply comes back unchanged
        attempts = self.settings.repair_attempts + 1
        notes = 0

        def ask_afresh(note: str, attempt: int) -> Messages:
            """The question again with ``note``; from the second note on, the attempt is named and
            the temperature raised, so the request differs from the one that went wrong."""
            nonlocal notes, temperature
            notes += 1
            if notes > 1:
                temperature = max(self.settings.temperature, REPEAT_TEMPERATURE)
            return asked_again(messages, note, attempt + 1 if notes > 1 else None)

        for attempt in range(1, attempts + 1):
            reply = self.chat(stage, convo, schema=schema, max_tokens=max_tokens, label=label, temperature=temperature)
            keys.append(reply.cache_key)
            if salvage is not None and reply.finish_reason in (RUNAWAY, "length"):
                try:
                    value = parse(salvage(reply.text))
                except (ReplyError, RecursionError, MemoryError):
                    pass
                else:
                    cut = "kept repeating itself" if reply.finish_reason == RUNAWAY else "was cut off at the output token limit"
                    self._keep_reject(stage, label, attempt, f"the reply {cut}; what it said before that was kept "
                                      "(repeated lines and the unfinished end dropped)", reply.text)
                    return value
            if reply.finish_reason == RUNAWAY:
                reason = ("the reply kept repeating itself (one line, one pattern or one block over and over: a model "
                          f"writing in circles); it was stopped after {len(reply.text):,} characters")
                self._keep_reject(stage, label, attempt, reason, reply.text)
                convo = ask_afresh("An earlier reply to this went round in circles and was stopped. "
                                   "Write it much shorter: each thing written once, a few distinct cases only, "
                                   "no long tables, no sentence said twice.", attempt)
                continue
            if reply.finish_reason == "length":
                reason = "the reply was cut off at the output token limit"
                self._keep_reject(stage, label, attempt, reason, reply.text)
                if max_tokens >= MAX_OUTPUT_TOKENS_CAP:
                    break
                if max_doublings is not None and doublings >= max_doublings:
                    # A file this long is a model writing in circles, not one that needs room:
                    # ask for a shorter one instead of paying minutes for more of the same.
                    convo = ask_afresh(f"An earlier reply to this was cut off after {max_tokens} tokens. "
                                       "Reply much shorter: only what was asked, the essentials only, no repetition.", attempt)
                    continue
                doublings += 1
                max_tokens = min(max_tokens * 2, MAX_OUTPUT_TOKENS_CAP)  # same question, more room
                continue
            if len(reply.text) > self.settings.max_reply_chars:  # never parsed, stored or re-sent
                self.cache.forget([keys.pop()])
                reason = f"the reply was {len(reply.text):,} characters; at most {self.settings.max_reply_chars:,} are accepted"
                self._keep_reject(stage, label, attempt, reason, "(not kept: over max_reply_chars)")
                convo = ask_afresh(f"An earlier reply to this was {len(reply.text):,} characters; at most "
                                   f"{self.settings.max_reply_chars:,} are accepted. Reply with only what was asked, much shorter.",
                                   attempt)
                continue
            try:
                return parse(reply.text)
            except (RecursionError, MemoryError):
                error = ReplyError("The reply is nested too deeply to parse. Reply with a flat, simple answer.",
                                   reason="the reply is nested too deeply to parse")
            except ReplyError as exc:
                error = exc
            reason = error.reason
            self._keep_reject(stage, label, attempt, reason, reply.text)
            instruction = str(error)
            if reply.text in seen:
                # The same refused reply again: words alone did not move it, and a reply shown back is
                # a reply copied (a 1.5B model sent the same stub file three times, at 0.2 and then at
                # 0.8 with the stub in the conversation). Asked afresh, warmer, without the copy.
                convo = ask_afresh("An earlier reply to this was refused: " + self._sharper(instruction, error, schema),
                                   attempt)
                temperature = max(self.settings.temperature, REPEAT_TEMPERATURE)
                continue
            if error.warmer:
                temperature = max(self.settings.temperature, REPEAT_TEMPERATURE)
            seen.add(reply.text)
            convo = [*convo, {"role": "assistant", "content": reply.text}, {"role": "user", "content": instruction}]
        self.cache.forget(keys)  # a later resume should ask afresh, not replay the failure
        where = f"; the refused replies are in {self.rejects_dir}" if self.rejects_dir else ""
        raise ModelOutputError(f"{stage}: the model's {what} was unusable after {attempts} attempts: {reason}",
                               hint=f"resume to try again, or use a stronger model for this stage{where}")

    @staticmethod
    def _sharper(instruction: str, error: ReplyError, schema: dict[str, Any] | None) -> str:
        """The re-prompt for a reply identical to an earlier refused one: name the shape wanted."""
        shapes = [expected_shape(schema, loc) for loc in error.locs[:3]] if schema else []
        extra = "\n".join(f"- {s}" for s in shapes)
        return ("Your reply was identical to a reply already refused. Change it.\n" + instruction
                + (f"\nThe fields that are wrong must have this shape:\n{extra}" if extra else ""))

    def _keep_reject(self, stage: str, label: str, attempt: int, reason: str, text: str) -> None:
        """Keep a refused reply and why it was refused, for a person to look at later."""
        if self.rejects_dir is None:
            return
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", label)[:60] or "reply"
        stem = f"{utcnow().replace(':', '').replace('+0000', 'Z')}-{stage}-{slug}-{attempt}"
        path = self.rejects_dir / f"{stem}.txt"
        for n in range(2, 100):  # two calls for one file within a second keep both replies
            if not path.exists():
                break
            path = self.rejects_dir / f"{stem}-{n}.txt"
        try:
            atomic_write(path, f"stage: {stage}\nlabel: {label}\nreason: {scrub(reason)}\n---\n"
                         + scrub(text[:MAX_REJECT_CHARS]))
        except OSError:
            pass  # keeping a reject must never stop a run

    def ask_model(self, stage: str, messages: Messages, model: type[T], label: str = "",
                  check: Callable[[T], None] | None = None, schema: dict[str, Any] | None = None,
                  max_doublings: int | None = None) -> T:
        """A reply validated as ``model`` (schema via response_format when useful).

        ``max_doublings`` bounds how often a cut-off reply gets more room before it is asked to be
        shorter instead (``None``: up to the cap; 0: a reply this long is a model going in circles).

        ``check`` may add rules the schema cannot express; it raises ``ReplyError`` with the
        instruction for the model, which is then re-prompted like a schema error. ``schema``
        overrides the model's JSON schema sent to the provider (e.g. a tighter ``maxItems``).
        """

        def parse(text: str) -> T:
            value = parse_model(text, model)
            if check is not None:
                check(value)
            return value

        return self._repair_loop(stage, messages, parse, schema=schema or model.model_json_schema(),
                                 label=label or model.__name__, what=f"{model.__name__} JSON", max_doublings=max_doublings)

    def ask_file(self, stage: str, messages: Messages, path: str,
                 check: Callable[[str], str | None] | None = None,
                 transform: Callable[[str], str] | None = None, salvage: bool = False,
                 temperature: float | None = None, max_tokens: int | None = None) -> str:
        """The complete content of one file; parseable kinds must parse, and ``check`` (if any) pass
        on the content after ``transform`` (a deterministic repair, e.g. dropping bogus tests).

        ``salvage``: a reply that runs away or is cut off keeps what it said before (repeated lines
        dropped, then unfinished trailing lines until the file parses). Right for test files, where
        fewer cases are still tests; wrong for sources, where a cut-off file is missing code.
        ``max_tokens``: a file kind's own limit; a reply cut off there is asked shorter, not given
        more room (a file longer than its kind ever is was a model going in circles).
        """

        def parse(text: str) -> str:
            content = extract_code(text, path)
            if transform is not None and check_syntax(path, content) is None:
                content = transform(content)
            problem = check_syntax(path, content) or (check(content) if check else None)
            if problem:
                raise ReplyError(f"{path}: {problem}. Reply with the complete corrected file only.",
                                 reason=f"{path}: {problem}")
            return content

        def without_circles(text: str) -> str:
            lines = extract_code(without_repetition(text), path).splitlines()
            for _ in range(SALVAGE_TRIM_LINES):  # an unfinished test at the end goes, line by line
                if len(lines) < 2 or check_syntax(path, "\n".join(lines) + "\n") is None:
                    break
                lines.pop()
            return "```\n" + "\n".join(lines) + "\n```\n"

        return self._repair_loop(stage, messages, parse, schema=None, label=path, what=f"code for {path}",
                                 max_doublings=1 if max_tokens is None else 0, salvage=without_circles if salvage else None,
                                 temperature=temperature, max_tokens=max_tokens)

    def ask_parsed(self, stage: str, messages: Messages, parse: Callable[[str], T_any], *, label: str, what: str,
                   max_doublings: int | None = None, salvage: Callable[[str], str] | None = None) -> T_any:
        """A free-text reply turned into a value by ``parse``, which raises ``ReplyError`` to re-prompt;
        ``salvage``: a reply that ran away or was cut off is first read as ``salvage(text)``."""
        return self._repair_loop(stage, messages, parse, schema=None, label=label, what=what, max_doublings=max_doublings,
                                 salvage=salvage)

    def ask_json(self, stage: str, messages: Messages, schema: dict[str, Any], label: str) -> Any:
        """A JSON value validated against a plain JSON schema (custom stages declare theirs in YAML)."""
        import jsonschema

        validator = jsonschema.Draft202012Validator(schema)

        def parse(text: str) -> Any:
            data = extract_json(text)
            errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))[:6]
            if errors:
                lines = [f"- {'.'.join(str(p) for p in e.absolute_path) or '(top level)'}: {e.message[:200]}" for e in errors]
                raise ReplyError("The JSON does not match the required schema:\n" + "\n".join(lines)
                                 + "\nReply with the corrected complete JSON object only.",
                                 reason=f"the JSON does not match the schema: {lines[0][2:]}",
                                 locs=[tuple(e.absolute_path) for e in errors])
            return data

        return self._repair_loop(stage, messages, parse, schema=schema, label=label, what="JSON")

    def ask_text(self, stage: str, messages: Messages, label: str) -> str:
        """A markdown document: the reply itself, or the one fenced block it is wrapped in."""

        def parse(text: str) -> str:
            body = text.strip()
            if not body:
                raise ReplyError("The reply was empty. Reply with the document.", reason="the reply was empty")
            fenced = re.fullmatch(r"```(?:markdown|md)?\s*\n(.*?)\n```", body, re.S)
            return (fenced.group(1) if fenced else body).strip() + "\n"

        return self._repair_loop(stage, messages, parse, schema=None, label=label, what="document")
