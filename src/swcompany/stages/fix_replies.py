"""Fix replies of QA's rounds: read from the reply text, checked, or refused with the exact reason.

A reply lists files as ``### path`` lines with fenced blocks (or JSON); it may replace design
files and tests only, its Python must parse and pass the engineer's gates, a test file may hold
only the tests it changes (merged into the current one by name; a test is deleted only when the
explanation says it deletes it), and it must change something. Pure: the QA stage applies it.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from pydantic import ValidationError

from ..artifacts import Design, FixReply
from ..code_checks import add_missing_imports, parse_or_none, repair_code
from ..structured import ReplyError, check_syntax, extract_files, format_validation_error, parse_model
from ..test_merge import merged_test_file


class NoFixFound(Exception):
    """A fix round's reply changed nothing: asking again would only repeat it."""


def check_fix(design: Design, test_files: list[str], current: dict[str, str] | None = None):
    """Fix replies may only replace design files or tests, Python must parse, code must pass the
    engineer's gates, a test file is merged into the current one (``merged_test_file``), and a reply must
    change something (files sent back unchanged are dropped; nothing changed: ``NoFixFound``)."""
    from ..code_gates import code_check

    allowed = {f.path for f in design.files} | set(test_files)
    current = current or {}
    # one engineer check per file for the whole round, so what it asks only once (an undefined
    # name, an unlisted stub) is asked once per round, not in every re-prompt until the round is lost
    checks: dict[str, Callable[[str], str | None]] = {}

    def check(reply: FixReply) -> FixReply:
        problems = []
        for fixed in reply.files:
            if fixed.path.endswith(".py") and check_syntax(fixed.path, fixed.content) is None:
                others = {p: t for p, t in current.items() if p != fixed.path and not p.startswith("tests/")}
                fixed.content = repair_code(fixed.content, others, fixed.path) if not fixed.path.startswith("tests/") else \
                    add_missing_imports(fixed.content)
            if fixed.path not in allowed and not fixed.path.startswith("tests/"):
                problems.append(f"{fixed.path} is not a design file or a test file")
            elif (error := check_syntax(fixed.path, fixed.content)):
                problems.append(f"{fixed.path} {error}")
            elif fixed.path.startswith("tests/") and fixed.path in current:
                fixed.content = merged_test_file(current[fixed.path], fixed.content, reply.explanation)
            elif fixed.path.endswith(".py") and fixed.path in {f.path for f in design.files}:
                written = {p: t for p, t in current.items() if p != fixed.path}
                spec = design.file(fixed.path)
                check_code = checks.setdefault(fixed.path, code_check(design, spec, written, first_write=False))
                problem = check_code(fixed.content)
                if problem:
                    problems.append(f"{fixed.path}: {problem}")
        if problems:
            raise ReplyError("The fix cannot be applied:\n" + "\n".join(f"- {p}" for p in problems) + "\n" + FILES_FORMAT,
                             reason="the fix cannot be applied: " + problems[0])
        changed = [f for f in reply.files if not same_code(f.content, current.get(f.path, ""))]
        if not changed:
            # Seen on the 1.5B model (HumanEval/0): three rounds sent the files back unchanged, each
            # explaining a bug that was not there; four minutes and the same failure. Asking again
            # (pointedly, at temperature 0.8) changed something in about 2 of 44 benchmark rounds, at
            # two or three minutes a reply: the round ends at once, and QA turns to what may help.
            raise NoFixFound(f"the model's fix sent {', '.join(f.path for f in reply.files)} back unchanged")
        reply.files = changed  # a file sent back unchanged is not a change to apply or report
        return reply

    return check


def same_code(new: str, old: str) -> bool:
    """The same program: equal text, or Python that differs only in comments and layout. The CSV
    converter's fix round 2 changed one comment (`# Changed to assert ...`) and was a round lost."""
    if new.strip() == old.strip():
        return True
    new_tree, old_tree = parse_or_none(new), parse_or_none(old)
    return new_tree is not None and old_tree is not None and ast.dump(new_tree) == ast.dump(old_tree)


FILES_FORMAT = ("Reply again: each file to change as a line `### <path>` followed by its new content in a fenced "
                "code block (a source file complete; a test file only the tests you change), then a line "
                "\"Explanation: ...\" of at most three sentences.")


def has_code(content: str) -> bool:
    """Anything but blank lines and comments."""
    return any(line.strip() and not line.lstrip().startswith("#") for line in content.splitlines())


def parse_fix(text: str) -> FixReply:
    """A fix reply: files as fenced blocks under `### path` lines (the format asked for), or a JSON object."""
    explanation, files = extract_files(text)
    files = [f for f in files if has_code(f["content"])]  # "# No changes needed" blocks change nothing
    if not files:
        try:
            return parse_model(text, FixReply)  # some models answer JSON whatever they are asked
        except ReplyError:
            raise ReplyError(f"No file found in the reply. {FILES_FORMAT}",
                             reason="the reply holds no file under a `### path` line") from None
    try:
        return FixReply.model_validate({"files": files, "explanation": explanation})
    except ValidationError as exc:
        problems = format_validation_error(exc)
        raise ReplyError(f"The fix cannot be applied:\n{problems}\n{FILES_FORMAT}",
                         reason=f"the fix cannot be applied: {problems.splitlines()[0].lstrip('- ')}") from None


def fix_reader(check: Callable[[FixReply], FixReply]) -> Callable[[str], FixReply]:
    """Reply text -> a fix that parses and passes ``check`` (else ``ReplyError``, re-prompted)."""
    return lambda text: check(parse_fix(text))
