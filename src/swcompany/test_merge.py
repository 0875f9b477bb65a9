"""A fix reply's test file merged into the current one by name, so a reply may send only the tests
it changes.

Seen on the 1.5B model (the CSV converter's user run): fix round 1 rewrote both long test files
whole to change a few tests, ran into the 4,096-token limit after 535 s, and was cut off. Asked
for the changed tests only, a reply is a fraction of that; a reply that sends the whole file
anyway merges to the same result. Tests the reply leaves out stay, unless its explanation says
they are deleted (a deletion said out loud, as before); a test is never lost silently. Pure: ``ast`` only.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from .code_checks import parse_or_none


@dataclass(frozen=True)
class _Part:
    """One statement of a file (or of a class body): its name, kind and lines (decorators included)."""

    name: str | None
    node: ast.stmt
    start: int  # 0-based first line
    end: int  # 0-based line after the last

    @property
    def kind(self) -> str:
        if isinstance(self.node, (ast.Import, ast.ImportFrom)):
            return "import"
        if isinstance(self.node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return "def"
        return "other"


def _name(node: ast.stmt) -> str | None:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    return None


def _parts(body: list[ast.stmt]) -> list[_Part]:
    parts = []
    for node in body:
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        parts.append(_Part(_name(node), node, first - 1, node.end_lineno or node.lineno))
    return parts


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


_DELETION = re.compile(r"\b(?:delet|remov|drop)", re.I)


def _deleted_in(name: str, explanation: str) -> bool:
    """The explanation says this test goes: a sentence naming it also says delete, remove or drop
    (a reply sending only the tests it changes may well name a failing test it leaves alone)."""
    return name.startswith("test") and any(
        re.search(rf"\b{re.escape(name)}\b", sentence) and _DELETION.search(sentence)
        for sentence in re.split(r"(?<=[.;!?])\s+|\n", explanation))


def _merged_body(old: list[str], old_parts: list[_Part], new: list[str], new_parts: list[_Part],
                 explanation: str, begin: int, stop: int, gap: list[str]) -> list[str]:
    """``old[begin:stop]`` (a file, or a class body) with ``new``'s statements merged in: a statement
    of the same name replaces the old one (a class merges its methods the same way), a new import
    goes after the last import, a new def at the end (after ``gap``), anything else new before the
    first def; an old test the explanation deletes and ``new`` leaves out is deleted."""
    by_name = {p.name: p for p in new_parts if p.name}
    old_names = {p.name for p in old_parts if p.name}
    old_dumps = {ast.dump(p.node) for p in old_parts}
    imports_end = max((i for i, p in enumerate(old_parts) if p.kind == "import"), default=-1)
    first_def = next((i for i, p in enumerate(old_parts) if p.kind == "def"), len(old_parts))
    added_imports = [line for p in new_parts if p.kind == "import" and ast.dump(p.node) not in old_dumps
                     for line in new[p.start:p.end]]
    added_others = [line for p in new_parts if p.kind == "other" and ast.dump(p.node) not in old_dumps
                    and (p.name is None or p.name not in old_names) and not _is_docstring(p.node)
                    and not isinstance(p.node, ast.If)  # `if __name__ == "__main__":` is no test's business
                    for line in [*new[p.start:p.end], ""]]
    added_defs = [line for p in new_parts if p.kind == "def" and p.name not in old_names
                  for line in [*gap, *new[p.start:p.end]]]
    out = added_imports if imports_end < 0 else []
    cursor = begin
    for i, part in enumerate(old_parts):
        out += old[cursor:part.start]
        if i == first_def:
            out += added_others
        replacement = by_name.get(part.name) if part.name else None
        if replacement is None and part.kind == "def" and part.name and _deleted_in(part.name, explanation):
            while out and not out[-1].strip():
                out.pop()  # a deletion the explanation gives a reason for; the gap after it stays
        elif replacement is None:
            out += old[part.start:part.end]
        elif isinstance(part.node, ast.ClassDef) and isinstance(replacement.node, ast.ClassDef):
            out += _merged_class(old, part, new, replacement, explanation)
        else:
            out += new[replacement.start:replacement.end]
        if i == imports_end:
            out += added_imports
        cursor = part.end
    out += old[cursor:stop]
    if first_def == len(old_parts):
        out += added_others
    return out + added_defs


def _merged_class(old: list[str], old_cls: _Part, new: list[str], new_cls: _Part, explanation: str) -> list[str]:
    """A class with its methods merged by name, its head (decorators, ``class ...:``) kept."""
    assert isinstance(old_cls.node, ast.ClassDef) and isinstance(new_cls.node, ast.ClassDef)
    old_body, new_body = _parts(old_cls.node.body), _parts(new_cls.node.body)
    return old[old_cls.start:old_body[0].start] + _merged_body(
        old, old_body, new, new_body, explanation, old_body[0].start, old_cls.end, gap=[""])


def merged_test_file(old: str, new: str, explanation: str) -> str:
    """``new`` (a fix reply's test file, whole or only the tests it changes) merged into ``old``:
    same-named statements replaced, new ones added, old tests the explanation says it deletes and
    ``new`` leaves out deleted, everything else kept. ``new`` itself when either does not parse."""
    old_tree, new_tree = parse_or_none(old), parse_or_none(new)
    if old_tree is None or new_tree is None or not old_tree.body:
        return new
    old_lines, new_lines = old.splitlines(), new.splitlines()
    merged = _merged_body(old_lines, _parts(old_tree.body), new_lines, _parts(new_tree.body), explanation,
                          0, len(old_lines), gap=["", ""])
    text = "\n".join(merged).rstrip("\n") + "\n"
    return text if parse_or_none(text) is not None else new


def failing_view(code: str, failing: set[str]) -> str | None:
    """``code`` without the tests that pass: what a fix round shows of a test file (imports,
    fixtures and helpers kept), with a note of how many were left out; None when nothing would be.
    A reply is merged back by name (``merged_test_file``), so tests not shown stay as they are, and a
    1.5B model shown the whole file sends the whole file back (the expression calculator's fix
    round 2: its 33 tests rewritten whole, then in circles for 3,033 tokens)."""
    tree = parse_or_none(code)
    if tree is None or not failing:
        return None
    lines = code.splitlines()
    cut: list[tuple[int, int]] = []
    hidden = 0
    for part in _parts(tree.body):
        node = part.node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test") \
                and node.name not in failing:
            cut.append((part.start, part.end))
            hidden += 1
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            methods = [p for p in _parts(node.body) if isinstance(p.node, (ast.FunctionDef, ast.AsyncFunctionDef))
                       and p.node.name.startswith("test")]
            passing = [p for p in methods if f"{node.name}.{getattr(p.node, 'name', '')}" not in failing]
            if methods and len(passing) == len(methods):
                cut.append((part.start, part.end))
            else:
                cut += [(p.start, p.end) for p in passing]
            hidden += len(passing)
    if not hidden:
        return None
    for start, end in sorted(cut, reverse=True):
        del lines[start:end]
    note = f"# ({hidden} passing test{'s' if hidden > 1 else ''} not shown: they stay as they are)"
    text = re.sub(r"\n{4,}", "\n\n\n", "\n".join([note, *lines]).rstrip() + "\n")
    return text if parse_or_none(text) is not None else None
