"""What a test passes where the code wants a file path: file content (written to a file under
``tmp_path`` first, ``text_written_to_files``) or the test's folder itself (a file in it instead,
``folders_as_files``).

Seen on the 1.5B model (the CSV converter's user run): the core tests passed the CSV *text* to
``convert_csv_to_json(csv_file_path: str)``, so every one failed in ``open`` before reaching the
code, and the text is a ``str`` like a path, so no type gate saw it. A parameter named for a path
never takes text with a line break: such a value is written to ``tmp_path / "input.csv"`` before
the call and the path passed instead. Pure: ``ast`` only; ``tmp_path`` joins the test's
parameters through ``add_fixture_parameters``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from .code_checks import parse_or_none, replace_nodes

if TYPE_CHECKING:
    from .test_view import Signature

CalledName = Callable[[ast.Call], "str | None"]

_PATH_PARAMETER = re.compile(r"path|(?:^|_)(?:file|filename|fname)$", re.I)
_EXTENSIONS = ("csv", "json", "md", "markdown", "txt", "ini", "yaml", "toml", "xml", "html", "log")
_STRIPS = ("strip", "lstrip", "rstrip")


def _text(expr: ast.expr, assigned: dict[str, ast.expr], depth: int = 0) -> str | None:
    """The text ``expr`` certainly holds: a string literal, a name bound once to one, ``.strip()``
    or ``textwrap.dedent`` of one."""
    if depth > 4:
        return None
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, ast.Name) and expr.id in assigned:
        return _text(assigned[expr.id], assigned, depth + 1)
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr in _STRIPS and not expr.args:
        return _text(expr.func.value, assigned, depth + 1)
    if isinstance(expr, ast.Call) and ast.unparse(expr.func).split(".")[-1] == "dedent" and len(expr.args) == 1:
        return _text(expr.args[0], assigned, depth + 1)
    return None


def single_assignments(body: list[ast.stmt]) -> dict[str, ast.expr]:
    """Names bound exactly once in ``body`` (walked), to their value."""
    values: dict[str, list[ast.expr]] = {}
    rebound: set[str] = set()
    for block in body:
        for node in ast.walk(block):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                values.setdefault(node.targets[0].id, []).append(node.value)
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.NamedExpr, ast.With)):
                targets = [i.optional_vars for i in node.items] if isinstance(node, ast.With) else [node.target]
                rebound |= {n.id for t in targets if t is not None for n in ast.walk(t) if isinstance(n, ast.Name)}
    return {name: found[0] for name, found in values.items() if len(found) == 1 and name not in rebound}


def _innermost_statement(func: ast.FunctionDef | ast.AsyncFunctionDef, call: ast.Call) -> ast.stmt:
    """The statement of a block in ``func`` that holds ``call`` (inside a ``with`` or ``if``: the
    one in that block, so the file is written where the call's own names are bound)."""
    body, found = func.body, func.body[0]
    while True:
        holder = next((s for s in body if s.lineno <= call.lineno <= (s.end_lineno or s.lineno)), None)
        if holder is None:
            return found
        found = holder
        inner = [getattr(holder, name, None) for name in ("body", "orelse", "finalbody")]
        inner_blocks = [b for b in inner if isinstance(b, list) and b and isinstance(b[0], ast.stmt)]
        block = next((b for b in inner_blocks if b[0].lineno <= call.lineno <= (b[-1].end_lineno or b[-1].lineno)), None)
        if block is None:
            return found
        body = block


def _extension(parameter: str, function: str) -> str:
    for name in (parameter, function):
        words = re.split(r"[_\W]+", name.lower())
        found = next((w for w in words if w in _EXTENSIONS), None)
        if found:
            return "md" if found == "markdown" else found
    return "txt"


def _offset(lines: list[str], line: int, col: int) -> int:
    """Index in the joined text of ``ast``'s (line, UTF-8 byte column)."""
    row = lines[line - 1]
    return sum(len(r) for r in lines[:line - 1]) + len(row.encode()[:col].decode(errors="ignore"))


def _one_repair(test_code: str, signatures: dict[str, Signature], called: CalledName) -> str | None:
    """The first call passing text to a path parameter, repaired; None when there is none."""
    tree = parse_or_none(test_code)
    if tree is None:
        return None
    module_level = single_assignments([n for n in tree.body if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))])
    for func in tree.body:
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)) or not func.name.startswith("test"):
            continue
        assigned = {**module_level, **single_assignments(func.body)}
        for call in (n for n in ast.walk(func) if isinstance(n, ast.Call)):
            name = called(call)
            sig = signatures.get(name) if name else None
            if sig is None or name is None:
                continue
            passed = [*zip(sig.positional, call.args), *((k.arg, k.value) for k in call.keywords if k.arg)]
            for parameter, value in passed:
                text = _text(value, assigned)
                if text is None or "\n" not in text.strip() or not _PATH_PARAMETER.search(parameter) \
                        or isinstance(value, ast.Starred):
                    continue
                return _written_first(test_code, func, call, value, f"input.{_extension(parameter, name)}")
    return None


def _written_first(test_code: str, func: ast.FunctionDef | ast.AsyncFunctionDef, call: ast.Call,
                   value: ast.expr, filename: str) -> str | None:
    lines = test_code.splitlines(keepends=True)
    statement = _innermost_statement(func, call)
    taken = {n.id for n in ast.walk(func) if isinstance(n, ast.Name)}
    variable = next(v for v in ("input_file", *(f"input_file_{i}" for i in range(2, 99))) if v not in taken)
    indent = " " * statement.col_offset
    source = ast.get_source_segment(test_code, value) or ast.unparse(value)
    written = f"{indent}{variable} = tmp_path / {filename!r}\n{indent}{variable}.write_text({source})\n"
    start = _offset(lines, value.lineno, value.col_offset)
    end = _offset(lines, value.end_lineno or value.lineno, value.end_col_offset or 0)
    text = "".join(lines)
    text = text[:start] + f"str({variable})" + text[end:]
    at = _offset(lines, statement.lineno, 0)
    text = text[:at] + written + text[at:]
    return text if parse_or_none(text) is not None else None


MAX_REPAIRS = 20
_FILE_PARAMETER = re.compile(r"file|(?:^|_)(?:db|database|store|storage)(?:_path)?$", re.I)
_FOLDER_WORDS = re.compile(r"dir|folder|root|directory", re.I)
_SOURCE_FORMATS = (("json", "json"), ("sqlite3", "db"), ("csv", "csv"))


def is_tmp_path(expr: ast.expr) -> bool:
    """``tmp_path`` itself, or ``str(tmp_path)``: the test's folder, not a file in it."""
    if isinstance(expr, ast.Call) and ast.unparse(expr.func) == "str" and len(expr.args) == 1:
        expr = expr.args[0]
    return isinstance(expr, ast.Name) and expr.id in ("tmp_path", "tmpdir")


def folders_as_files(test_code: str, signatures: dict[str, Signature], called: CalledName, source: str) -> str:
    """``SimpleKeyValueStore(tmp_path)`` where the parameter is ``file_path``: the test's folder passed
    for a file, so ``open`` fails with IsADirectoryError (the key-value store's user run: four CLI
    tests, and a rewrite of the store for that "crash", undone). A file inside it is passed instead,
    ``tmp_path / "data.json"``, its extension from the names or what the module reads (json, sqlite3)."""
    tree = parse_or_none(test_code)
    if tree is None or ("tmp_path" not in test_code and "tmpdir" not in test_code):
        return test_code
    fallback = next((ext for module, ext in _SOURCE_FORMATS if re.search(rf"^\s*import {module}\b", source, re.M)), "txt")
    edits: list[tuple[ast.AST, str]] = []
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        name = called(call)
        sig = signatures.get(name) if name else None
        if sig is None or name is None:
            continue
        for parameter, value in [*zip(sig.positional, call.args), *((k.arg, k.value) for k in call.keywords if k.arg)]:
            if is_tmp_path(value) and _FILE_PARAMETER.search(parameter) and not _FOLDER_WORDS.search(parameter):
                ext = _extension(parameter, name)
                folder = ast.unparse(value.args[0] if isinstance(value, ast.Call) else value)
                path = f"{folder} / 'data.{fallback if ext == 'txt' else ext}'"
                edits.append((value, f"str({path})" if isinstance(value, ast.Call) else path))
    return (replace_nodes(test_code, edits) or test_code) if edits else test_code


def text_written_to_files(test_code: str, signatures: dict[str, Signature], called: CalledName) -> str:
    """``test_code`` with each call that passes text (a literal with a line break, or a name bound
    once to one) to a parameter named for a path given a file holding that text instead.
    ``signatures``: the module's (``public_signatures``); ``called``: the module function a call
    calls, or None."""
    for _ in range(MAX_REPAIRS):
        fixed = _one_repair(test_code, signatures, called)
        if fixed is None:
            break
        test_code = fixed
    return test_code
