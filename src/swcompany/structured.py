"""Pure parsing of model replies: JSON objects and code files out of chatty text.

Models wrap JSON in fences, add "Sure! here it is", or trail an explanation. We take
the first JSON object that decodes and validate it against a pydantic model; the error
text we return is precise enough to send back to the model for repair.
"""

from __future__ import annotations

import ast
import json
import re
import threading
import tomllib
from typing import TypeVar

from pydantic import BaseModel, ValidationError

T = TypeVar("T", bound=BaseModel)
# Possessive quantifiers: a fence line without a newline must fail at once, not backtrack quadratically.
_FENCE = re.compile(r"```[ \t]*+([\w+.#-]*+)[^\n]*+\n(.*?)(?:\n```|\Z)", re.S)


class ReplyError(ValueError):
    """The reply cannot be used.

    ``str()`` is the repair instruction for the model; ``reason`` is the same problem in one
    line for a person (never empty), and ``locs`` the schema locations that were wrong, so a
    repeated identical reply can be answered with the expected shape of exactly those fields.
    ``warmer``: the re-prompt goes at a higher temperature at once (the reply was the model's
    greedy answer to a question it will answer the same way again, e.g. a fix changing nothing).
    """

    def __init__(self, instruction: str, reason: str = "", locs: list[tuple] | None = None, warmer: bool = False):
        super().__init__(instruction)
        self.reason = reason.strip() or first_problem(instruction)
        self.locs = locs or []
        self.warmer = warmer


def first_problem(text: str) -> str:
    """The first informative line of a repair instruction (never a bare heading ending in ':')."""
    lines = [ln.strip().lstrip("- ").strip() for ln in text.splitlines() if ln.strip()]
    lines = [ln for ln in lines if not _TO_MODEL.match(ln)] or lines
    for i, line in enumerate(lines):
        if line.endswith(":") and i + 1 < len(lines):
            return _without_instruction(f"{line} {lines[i + 1]}")
    return _without_instruction(lines[0]) if lines else "unusable reply"


# Sentences addressed to the model ("Reply with ...", "Keep every field short ..."): a person
# reading why a run stopped needs what was wrong, not what the model was told to do next.
_TO_MODEL = re.compile(r"^(Reply|Keep|Change it|Your reply was identical)\b")
_INSTRUCTION_TAIL = re.compile(r"(?<=[.)])\s+(Reply|Keep)\b.*$", re.S)


def _without_instruction(line: str) -> str:
    """The problem part of one line of a repair instruction, without the trailing order to the model."""
    return _INSTRUCTION_TAIL.sub("", line).rstrip(" .") or line


MAX_JSON_ATTEMPTS = 1000  # object starts tried per chunk: each failure costs O(position) in json's error
MAX_FENCED_BLOCKS = 20  # fenced blocks tried before the whole text
_OBJECT_START = re.compile(r'\{\s*+["}]')  # where a JSON object can begin: "{" then a key or "}"
MAX_JSON_STRING_CHARS = 200_000  # one field this long is junk, and it would be re-sent in every later prompt
_DECODER = json.JSONDecoder()
_NOTHING = object()
# Parsers written in recursion (json, tomllib) or with fixed stacks (ast) raise these on deep nesting.
_TOO_DEEP = (RecursionError, MemoryError)


def _decode_error(exc: json.JSONDecodeError) -> str:
    return f"{exc.msg} at line {exc.lineno} column {exc.colno}"


def _first_object(text: str) -> tuple[object, str]:
    """The first JSON object that decodes at a ``{``, else ``_NOTHING`` and the last error.

    ``raw_decode`` runs in C and stops at the first bad character. The characters all
    failed starts scan are capped at a few times the text's length, so junk full of ``{``
    (or of deep, unclosed nesting) costs linear time instead of quadratic.
    """
    last_error, budget = "no JSON object found", 4 * len(text) + 100_000
    for attempt, match in enumerate(_OBJECT_START.finditer(text)):
        if attempt >= MAX_JSON_ATTEMPTS or budget <= 0:
            break
        start = match.start()
        try:
            return _DECODER.raw_decode(text, start)[0], last_error
        except json.JSONDecodeError as exc:
            last_error, budget = _decode_error(exc), budget - (exc.pos - start)
        except _TOO_DEEP:
            last_error, budget = "the JSON is nested too deeply", budget - (len(text) - start)
        except ValueError:  # an integer of over 4,300 digits
            last_error, budget = "a number is too long", budget - (len(text) - start)
    return _NOTHING, last_error


def extract_json(text: str) -> object:
    """Find and decode the JSON object in a reply (fenced, bare, or with chatter)."""
    if not text or not text.strip():
        raise ReplyError("The reply was empty. Reply with the JSON object only.")
    fenced = (m.group(2) for m in _FENCE.finditer(text))
    candidates = [block for _, block in zip(range(MAX_FENCED_BLOCKS), fenced)] + [text]
    last_error = "no JSON object found"
    for chunk in candidates:
        stripped = chunk.strip()
        try:
            return json.loads(stripped)
        except json.JSONDecodeError as exc:
            last_error = _decode_error(exc)
        except _TOO_DEEP:
            last_error = "the JSON is nested too deeply"
        except ValueError:
            last_error = "a number is too long"
        found, error = _first_object(stripped)
        if found is not _NOTHING:
            return found
        last_error = error if error != "no JSON object found" else last_error
    raise ReplyError(f"The reply is not valid JSON ({last_error}). Reply with one JSON object only, no prose.")


def overlong_string(data: object, limit: int = MAX_JSON_STRING_CHARS) -> str | None:
    """Where the first string longer than ``limit`` sits in decoded JSON (``files.0.content``), else None."""
    stack: list[tuple[str, object]] = [("", data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str) and len(value) > limit:
            return where or "(top level)"
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        stack.extend((f"{where}.{key}" if where else str(key), item) for key, item in items)
    return None


def format_validation_error(exc: ValidationError, limit: int = 8) -> str:
    lines = []
    for err in exc.errors()[:limit]:
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"- {loc}: {err['msg']}")
    more = len(exc.errors()) - limit
    if more > 0:
        lines.append(f"- ... and {more} more")
    return "\n".join(lines)


def parse_model(text: str, model: type[T]) -> T:
    """Decode and validate a reply as ``model``; raise ``ReplyError`` with exact problems."""
    data = extract_json(text)
    where = overlong_string(data)
    if where is not None:
        raise ReplyError(f"The field {where} is longer than {MAX_JSON_STRING_CHARS:,} characters. "
                         "Keep every field short and reply with the corrected complete JSON object only.")
    if isinstance(data, dict) and len(data) == 1 and model.__name__.lower() in data and isinstance(next(iter(data.values())), dict):
        data = next(iter(data.values()))  # {"prd": {...}} wrappers are common
    try:
        return model.model_validate(data)
    except _TOO_DEEP:
        raise ReplyError("The JSON is nested too deeply. Reply with the corrected complete JSON object only.") from None
    except ValidationError as exc:
        problems = format_validation_error(exc)
        raise ReplyError(
            f"The JSON does not match the required schema:\n{problems}\n"
            "Reply with the corrected complete JSON object only.",
            reason=f"the JSON does not match the schema: {problems.splitlines()[0].lstrip('- ')}",
            locs=[tuple(e["loc"]) for e in exc.errors()[:8]],
        ) from None


def expected_shape(schema: dict, loc: tuple) -> str:
    """The JSON schema of the field at ``loc`` (refs resolved one level), compact, for a repair prompt."""
    defs = schema.get("$defs", {})

    def resolve(node: dict) -> dict:
        ref = node.get("$ref", "")
        return defs.get(ref.rsplit("/", 1)[-1], node) if ref else node

    node, path = resolve(schema), []
    for part in loc:
        if isinstance(part, int):
            node = resolve(node.get("items", {}))
            path.append("[]")
        elif part in node.get("properties", {}):
            node = resolve(node["properties"][part])
            path.append(str(part))
        else:
            break
    if "items" in node:
        node = {**node, "items": resolve(node["items"])}
    shape = json.dumps({k: v for k, v in node.items() if k not in ("title", "description")}, separators=(",", ":"))
    return f"{'.'.join(path) or '(top level)'} must match {shape[:600]}"


# A line naming a file of a multi-file reply: `### tests/test_x.py`, `File: x.py`, `**x.py**`, `x.py:`.
_PATH_LINE = re.compile(r"[ \t]*(?:#{1,6}[ \t]*|(?:file|path)[ \t]*:[ \t]*|\*\*)?`?([\w./-]{1,300}\.[A-Za-z0-9]{1,10})`?"
                        r"(?:\*\*)?:?[ \t]*", re.I)


def extract_files(text: str) -> tuple[str, list[dict[str, str]]]:
    """(explanation, [{"path", "content"}]) from a reply of path lines each followed by a fenced block.

    Whole files travel as fenced blocks, not JSON strings: a small model writing `'{"a": 1}'`
    inside a JSON string ends the string at the first quote (a grammar then closes the JSON),
    which silently cuts the file. The explanation is the prose before the first file, or else the
    prose after the last. One pass over the lines: linear on any input.
    """
    lines = text.splitlines()
    files: list[dict[str, str]] = []
    first: int | None = None
    path: str | None = None
    path_at = i = 0
    last_end = -1  # the line closing the last file's block
    while i < len(lines):
        line = lines[i]
        named = _PATH_LINE.fullmatch(line)
        if named:
            path, path_at = named.group(1), i
        elif path is not None and line.lstrip().startswith("```"):
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "```"), None)
            if end is None:
                break  # an unterminated block: a cut-off reply, not a file
            files.append({"path": path, "content": "\n".join(lines[i + 1:end]).strip("\n") + "\n"})
            first = path_at if first is None else first
            path, i, last_end = None, end, end
        elif line.strip():
            path = None  # the path line must come right before its block (blank lines aside)
        i += 1
    explanation = "\n".join(lines[:first]) if first is not None else ""
    if first is not None and not explanation.strip():  # asked for last: a circling explanation then costs no file
        explanation = "\n".join(lines[last_end + 1:])
    explanation = re.sub(r"^\s*(?:#+\s*)?explanation\s*:?\s*", "", explanation.strip(), flags=re.I)
    return explanation.strip(), files


_WHOLE_FENCE = re.compile(r"\s*```[ \t]*+[\w+.#-]*+[ \t]*+\n(.*?)\n?```\s*", re.S)


def unfence(content: str) -> str:
    """A file's content without the one fence wrapped around all of it.

    Small models put a file's text in a fenced block even inside a JSON string; a file that
    is nothing but a fenced block never meant the fence lines.
    """
    m = _WHOLE_FENCE.fullmatch(content)
    return m.group(1).strip("\n") + "\n" if m and "```" not in m.group(1) else content


def extract_code(text: str, path: str) -> str:
    """The file content of a reply: the largest fenced block, or the whole reply."""
    if not text or not text.strip():
        raise ReplyError(f"The reply was empty. Reply with the complete content of {path}.")
    blocks = [m.group(2) for m in _FENCE.finditer(text)]
    code = max(blocks, key=len) if blocks else text
    return code.strip("\n") + "\n"


_AST_LOCK = threading.Lock()


def parse_python(text: str, filename: str = "<unknown>") -> ast.Module:
    """``ast.parse`` one thread at a time.

    CPython 3.11 keeps the AST constructor's recursion depth in shared state: two threads
    parsing at once (the engineer's and QA's concurrent gates) can fail with ``SystemError:
    AST constructor recursion depth mismatch``. Parsing a file takes milliseconds.
    """
    with _AST_LOCK:
        return ast.parse(text, filename=filename)


def check_syntax(path: str, content: str) -> str | None:
    """An error message if a file of a parseable kind does not parse, else None."""
    try:
        if path.endswith(".py"):
            parse_python(content, filename=path)
        elif path.endswith(".json"):
            json.loads(content)
        elif path.endswith(".toml"):
            tomllib.loads(content)
    except SyntaxError as exc:
        # The line itself: a small model told only "line 29" wrote `roman numeral = ''` three times.
        shown = (exc.text or "").strip()[:160]
        return f"does not parse: SyntaxError: {exc.msg} (line {exc.lineno}{f': `{shown}`' if shown else ''})"
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        return f"does not parse: {type(exc).__name__}: {exc}"
    except _TOO_DEEP:
        return "does not parse: it is nested too deeply for the parser"
    except ValueError as exc:  # e.g. an integer of over 4,300 digits
        return f"does not parse: {str(exc).split(';')[0]}"
    return None


# Distribution names whose import name differs (pip name -> module).
_IMPORT_ALIASES = {
    "beautifulsoup4": "bs4", "pillow": "PIL", "scikit-learn": "sklearn", "opencv-python": "cv2",
    "pyyaml": "yaml", "python-dateutil": "dateutil", "attrs": "attr", "pyjwt": "jwt", "python-dotenv": "dotenv",
}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]", "", name.lower())


def undeclared_imports(content: str, local_modules: set[str], dependencies: list[str]) -> list[str]:
    """Top-level modules a file imports that are neither stdlib, the project's own, nor declared.

    ``dependencies`` are pip requirement strings; import names are matched loosely
    (``python-dateutil`` covers ``dateutil``) plus a few known aliases (``pillow`` -> ``PIL``).
    """
    import sys

    try:
        tree = parse_python(content)
    except (SyntaxError, ValueError, *_TOO_DEEP):
        return []
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    declared = {_norm(re.split(r"[<>=!~\[; ]", d.strip(), maxsplit=1)[0]) for d in dependencies if d.strip()}
    aliases = {_norm(dist): _norm(module) for dist, module in _IMPORT_ALIASES.items()}
    declared |= {aliases[d] for d in declared if d in aliases}
    missing = []
    for name in sorted(names):
        n = _norm(name)
        if name in sys.stdlib_module_names or name in local_modules:
            continue
        if any(n == d or n in d or d in n for d in declared if d):
            continue
        missing.append(name)
    return missing
