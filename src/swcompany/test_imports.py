"""Which imports a model-written test file may make: the standard library, pytest, the project's
own modules and its declared dependencies; nothing else is installed where the tests run.

An import of anything else fails the whole file at collection (the CSV converter's CLI tests
imported ``json_to_json.core``, a module no file provides: every test of the file an error, exit 5).
Unused, such an import is cut; used, the file is asked for again (``TestsCheck``).
Pure: nothing here imports the modules named or touches the disk.
"""

from __future__ import annotations

import ast

from .code_checks import missing_local_modules, parse_or_none, without_statements
from .structured import undeclared_imports

TEST_TOOLS = ("pytest",)  # installed beside the project's dependencies in the test sandbox


def unprovided_imports(test_code: str, modules: set[str], dependencies: list[str]) -> list[str]:
    """Modules the file imports that nothing provides where its tests run: a top-level name neither
    standard library, pytest, a project module's root nor a declared dependency, or a module under
    the project's own packages that no file is (``modules``: every design module's dotted name)."""
    roots = {m.split(".")[0] for m in modules}
    return sorted({*undeclared_imports(test_code, roots, [*dependencies, *TEST_TOOLS]),
                   *missing_local_modules(test_code, dict.fromkeys(modules, ""), roots)})


def _unprovided(node: ast.Import | ast.ImportFrom, unprovided: set[str]) -> bool:
    def gone(name: str) -> bool:
        return name in unprovided or name.split(".")[0] in unprovided
    if isinstance(node, ast.ImportFrom):
        return node.level == 0 and node.module is not None and gone(node.module)
    return all(gone(alias.name) for alias in node.names)


def _bound(node: ast.Import | ast.ImportFrom) -> set[str]:
    if isinstance(node, ast.ImportFrom):
        return {alias.asname or alias.name for alias in node.names}
    return {alias.asname or alias.name.split(".")[0] for alias in node.names}


def unused_unprovided_dropped(test_code: str, unprovided: list[str]) -> str:
    """``test_code`` without its top-level imports of ``unprovided`` modules whose names nothing in
    the file uses, a note on top for each (a used one stays: the gate asks about it)."""
    tree = parse_or_none(test_code)
    if tree is None or not unprovided:
        return test_code
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    cut = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))
           and _unprovided(node, set(unprovided)) and not _bound(node) & used]
    if not cut:
        return test_code
    return without_statements(test_code, cut, [f"# swcompany dropped `{ast.unparse(node)}`: nothing where the tests run "
                                               "provides it, and no test uses it" for node in cut])
