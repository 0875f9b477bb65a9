"""The engineer's assembled gates: calls one project file makes into another."""

from swcompany.code_gates import absolute_imports, local_call_problems
from swcompany.code_checks import parse_or_none

ARGS = '''import argparse

def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--length", type=int)
    return parser.parse_args()
'''

CORE = '''class Store:
    def __init__(self, path: str):
        self.path = path

    def get(self, key: str) -> str:
        return key

    @staticmethod
    def parse(text: str) -> dict:
        return {}
'''


def test_a_call_the_written_signature_refuses_is_named_with_the_declaration():
    """The password generator's CLI called ``parse_args(argv)`` on a ``parse_args()`` taking nothing."""
    cli = "from password_generator.args import parse_args\n\ndef main(argv=None):\n    args = parse_args(argv)\n    return 0\n"
    problems = local_call_problems(cli, "password_generator/cli.py", {"password_generator.args": ARGS})
    assert problems == ["parse_args() takes no positional arguments, the call passes 1 "
                        "(password_generator.args declares `def parse_args()`)"]
    fine = cli.replace("parse_args(argv)", "parse_args()")
    assert local_call_problems(fine, "password_generator/cli.py", {"password_generator.args": ARGS}) == []


def test_relative_imports_module_aliases_and_methods_are_followed():
    cli = ("from . import core\nfrom .core import Store\n\ndef main():\n    s = Store()\n    s.get('a', 'b')\n"
           "    core.Store.get('k')\n    s.put('a')\n    return Store.parse('x')\n")
    problems = local_call_problems(cli, "kv/cli.py", {"kv.core": CORE})
    assert "Store() needs 1 arguments, the call passes 0 (kv.core declares `class Store: def __init__(self, path: str)`)" \
        in problems
    assert "Store.get() takes at most 1 positional arguments, the call passes 2 " \
        "(kv.core declares `def get(self, key: str)`)" in problems
    assert any(p.startswith("Store.get() is a method of Store objects") for p in problems)
    assert any(p.startswith("Store has no 'put'") for p in problems)
    assert not any(p.startswith("Store.parse") for p in problems)  # a static method called on the class is fine


def test_a_missing_name_is_left_to_the_import_gates_and_a_module_to_itself():
    cli = "import kv.core\n\ndef main():\n    return kv.core.load()\n"
    assert local_call_problems(cli, "kv/cli.py", {"kv.core": CORE}) == []
    assert local_call_problems(CORE + "\nStore()\n", "kv/core.py", {"kv.core": CORE}) == []


def test_relative_imports_resolve_from_the_files_package():
    tree = parse_or_none("from .core import a\nfrom .. import b\nfrom . import c\n")
    assert tree is not None
    absolute_imports(tree, "src/pkg/sub/mod.py")
    assert [(n.module, n.level) for n in tree.body] == [("pkg.sub.core", 0), ("pkg", 0), ("pkg.sub", 0)]
    tree = parse_or_none("from .core import a\n")
    assert tree is not None
    absolute_imports(tree, "pkg/__init__.py")
    assert tree.body[0].module == "pkg.core"


def test_the_engineer_is_asked_once_about_a_wrong_call_and_keeps_the_file_after():
    from swcompany.artifacts import Design
    from swcompany.code_gates import code_check

    design = Design(summary="s", how_to_run="python -m password_generator.cli --length 8", files=[
        {"path": "password_generator/args.py", "purpose": "argument parsing", "interface": "def parse_args(): ..."},
        {"path": "password_generator/cli.py", "purpose": "the command line", "interface": "def main(argv=None) -> int: ..."}])
    check = code_check(design, design.file("password_generator/cli.py"), {"password_generator/args.py": ARGS},
                       first_write=False)
    cli = "from password_generator.args import parse_args\n\ndef main(argv=None) -> int:\n    parse_args(argv)\n    return 0\n"
    assert "parse_args() takes no positional arguments" in (check(cli) or "")
    assert check.fallback == cli  # refused only for what is asked once: kept if every later reply is refused
    assert check(cli) is None
