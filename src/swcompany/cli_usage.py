"""A module's argparse command line rebuilt from its source text, to check the command lines tests pass.

A 1.5B model's CLI tests often call ``main([...])`` with a command line the written parser rejects:
the password generator's three tests called ``main()`` where ``--length`` and ``--charset`` are
required, and each died with SystemExit 2, which no fix round read as the test's fault. Rebuilding
the parser from the literal ``add_argument`` calls (never running the project's code) tells such a
test apart before it runs. Anything that is not plain literals (a helper adding arguments, a loop,
two parsers, ``parents=``) gives no parser at all: no parser, no verdict. Pure.
"""

from __future__ import annotations

import argparse
import ast
from dataclasses import dataclass
from typing import Any

from .code_checks import parse_or_none

_TYPES = {"int": int, "float": float, "str": str}
_ACTIONS = {"store", "store_const", "store_true", "store_false", "append", "append_const", "count", "help",
            "version", "extend"}
_KEYWORDS = {"required", "nargs", "choices", "default", "dest", "metavar", "const", "help"}
_READERS = {"parse_args", "parse_known_args", "print_help", "print_usage", "format_help", "format_usage", "error",
            "set_defaults", "exit"}  # parser methods that add nothing to the command line


class _Refused(Exception):
    """The rebuilt parser rejected a command line (argparse would exit 2)."""


class _Finished(Exception):
    """``--help`` or ``--version``: argparse would print and exit 0."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises instead of printing and exiting."""

    def error(self, message: str):
        raise _Refused(message)

    def exit(self, status: int = 0, message: str | None = None):
        if status:
            raise _Refused(message or f"exit {status}")
        raise _Finished()

    def _print_message(self, message: str, file=None) -> None:
        pass


class _GiveUp(Exception):
    """The source builds its parser in a way that cannot be read from the text."""


@dataclass
class CommandLine:
    """The rebuilt parser and the functions that parse their argument with it (``main(argv)``)."""

    parser: argparse.ArgumentParser
    entries: dict[str, bool]  # function -> whether it parses its first parameter (else the process's sys.argv)

    def refusal(self, argv: list[str]) -> str | None:
        """Why the written CLI rejects ``argv`` (argparse's own message and the usage), or None."""
        try:
            self.parser.parse_args(argv)
        except _Refused as exc:
            return f"{str(exc).strip()}; usage: {self.parser.format_usage().strip().removeprefix('usage: ')}"
        except _Finished:
            return None
        return None

    def accepts(self, argv: list[str]) -> bool:
        """The written parser takes ``argv`` and goes on: no usage error, no ``--help`` or ``--version``
        (which exit 0), so argparse raises no ``SystemExit`` for it."""
        try:
            self.parser.parse_args(argv)
        except (_Refused, _Finished):
            return False
        return True


def _literal(node: ast.AST) -> object:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
        raise _GiveUp() from exc


def _keywords(call: ast.Call, allowed: set[str]) -> dict[str, object]:
    """The call's keywords argparse needs to judge a command line, all literal (else give up)."""
    out: dict[str, object] = {}
    for keyword in call.keywords:
        if keyword.arg is None:
            raise _GiveUp()
        if keyword.arg == "type":
            name = ast.unparse(keyword.value)
            if name in _TYPES:
                out["type"] = _TYPES[name]  # another type (a function of the module): any text passes
        elif keyword.arg == "action":
            text = ast.unparse(keyword.value)
            if text.endswith("BooleanOptionalAction"):
                out["action"] = argparse.BooleanOptionalAction
            elif (action := _literal(keyword.value)) in _ACTIONS:
                out["action"] = action
            else:
                raise _GiveUp()
        elif keyword.arg in allowed and keyword.arg != "help":
            try:
                out[keyword.arg] = ast.literal_eval(keyword.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                if keyword.arg not in ("default", "metavar", "const"):  # harmless when unknown
                    raise _GiveUp() from None
    return out


def _in_loop(tree: ast.Module) -> set[int]:
    """Ids of the calls made inside a loop or comprehension (their arguments vary)."""
    loops = (ast.For, ast.AsyncFor, ast.While, ast.comprehension, ast.ListComp, ast.SetComp, ast.DictComp,
             ast.GeneratorExp)
    return {id(sub) for node in ast.walk(tree) if isinstance(node, loops) for sub in ast.walk(node)
            if isinstance(sub, ast.Call)}


_BUILDERS = ("add_argument", "add_subparsers", "add_parser", "add_argument_group", "add_mutually_exclusive_group")


class _Replay:
    """The module's parser-building calls replayed on a real (raising) ArgumentParser."""

    def __init__(self, tree: ast.Module, prog: str) -> None:
        self.prog, self.looped = prog, _in_loop(tree)
        self.objects: dict[str, object] = {}
        self.root: argparse.ArgumentParser | None = None

    def statement(self, call: ast.Call, target: str | None) -> None:
        method = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
        if method != "ArgumentParser" and method not in _BUILDERS:
            return
        made = self.evaluate(call)
        if target and made is not None:
            self.objects[target] = made

    def evaluate(self, node: ast.expr) -> object | None:
        """A parser (or group, or subparsers) an expression names or builds."""
        if isinstance(node, ast.Name) and node.id in self.objects:
            return self.objects[node.id]
        if not isinstance(node, ast.Call) or id(node) in self.looped:
            raise _GiveUp()  # arguments added in a loop, or to a parser passed around: cannot be replayed
        method = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if method == "ArgumentParser":
            if self.root is not None or any(k.arg == "parents" for k in node.keywords):
                raise _GiveUp()
            self.root = _Parser(prog=self.prog, add_help=_keywords(node, {"add_help"}).get("add_help", True) is not False)
            return self.root
        if method not in _BUILDERS or not isinstance(node.func, ast.Attribute):
            raise _GiveUp()
        built: Any = self.evaluate(node.func.value)
        if method == "add_argument":
            names = [_literal(a) for a in node.args]
            if not names or not all(isinstance(n, str) for n in names):
                raise _GiveUp()
            built.add_argument(*names, **_keywords(node, _KEYWORDS))
            return None
        if method == "add_subparsers":
            return built.add_subparsers(**_keywords(node, {"dest", "required", "metavar"}))
        if method == "add_parser":
            if not node.args or not isinstance(name := _literal(node.args[0]), str):
                raise _GiveUp()
            return built.add_parser(name, **_keywords(node, {"aliases"}))
        if method == "add_mutually_exclusive_group":
            return built.add_mutually_exclusive_group(**_keywords(node, {"required"}))
        return built.add_argument_group()


def _build(tree: ast.Module, prog: str) -> argparse.ArgumentParser:
    """Replay the module's parser-building statements in source order."""
    statements = sorted((n for n in ast.walk(tree) if isinstance(n, (ast.Assign, ast.Expr)) and isinstance(n.value, ast.Call)),
                        key=lambda n: (n.lineno, n.col_offset))
    made = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n.func).endswith("ArgumentParser")]
    if len(made) != 1:
        raise _GiveUp()  # none, or two parsers: which one a test's call meets is not in the text
    replay = _Replay(tree, prog)
    for statement in statements:
        target = statement.targets[0] if isinstance(statement, ast.Assign) and len(statement.targets) == 1 else None
        replay.statement(statement.value, target.id if isinstance(target, ast.Name) else None)  # type: ignore[arg-type]
    if replay.root is None:
        raise _GiveUp()
    names = set(replay.objects)
    for node in ast.walk(tree):  # a parser handed to a function may get arguments we never saw
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Attribute) and node.func.attr in _READERS) and \
                any(isinstance(a, ast.Name) and a.id in names for a in [*node.args, *(k.value for k in node.keywords)]):
            raise _GiveUp()
    return replay.root


def _entries(tree: ast.Module) -> dict[str, bool]:
    """Top-level functions that parse their first parameter (``parser.parse_args(argv)``: True) or,
    with no argument, the process's command line (False)."""
    found: dict[str, bool] = {}
    for func in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
        first = func.args.args[0].arg if func.args.args else None
        for node in ast.walk(func):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "parse_args":
                if not node.args and not node.keywords:
                    found[func.name] = False
                elif node.args and isinstance(node.args[0], ast.Name) and node.args[0].id == first:
                    found[func.name] = True
    return found


def command_line(source: str, prog: str = "prog") -> CommandLine | None:
    """The module's argparse parser, rebuilt, and its entry functions; None when it cannot be read."""
    tree = parse_or_none(source)
    if tree is None:
        return None
    try:
        parser = _build(tree, prog)
    except (_GiveUp, argparse.ArgumentError, ValueError, TypeError):
        return None
    entries = _entries(tree)
    return CommandLine(parser, entries) if entries else None
