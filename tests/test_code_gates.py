"""The engineer's assembled gates: calls one project file makes into another."""

from pathlib import Path

from conftest import cli_args, run_cli
from fake_model import FakeModel
from scenario import CODE, DESIGN, Scenario, fenced, target_file
from swcompany.code_checks import parse_or_none
from swcompany.code_gates import absolute_imports, local_call_problems

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


SESSION_STORAGE = '''import json


class SessionStorage:
    def __init__(self, path):
        self.path = path
        self.sessions = []

    def add_session(self, session):
        self.sessions.append(session)

    def get_sessions(self):
        return self.sessions
'''


def test_a_method_the_held_class_lacks_is_named_with_what_it_has():
    """The 1.5B pomodoro timer's core: `self.storage.start_session()` on a SessionStorage without it."""
    from swcompany.code_gates import collaborator_problems

    core = ("from pomodoro.storage import SessionStorage\n\n\nclass Session:\n"
            "    def __init__(self, storage: SessionStorage, other=None):\n        self.storage = storage\n"
            "        self.other = other\n        self.made = SessionStorage('x')\n\n"
            "    def start(self):\n        self.storage.start_session()\n        self.storage.add_session(1)\n"
            "        self.other.anything()\n        self.made.stop_session()\n        return self.storage.path\n")
    written = {"pomodoro.storage": SESSION_STORAGE}
    assert collaborator_problems(core, "pomodoro/core.py", written) == [
        "self.storage.start_session: SessionStorage (pomodoro.storage) has no 'start_session' "
        "(it has: add_session, get_sessions, path, sessions)",
        "self.made.stop_session: SessionStorage (pomodoro.storage) has no 'stop_session' "
        "(it has: add_session, get_sessions, path, sessions)"]
    swapped = core.replace("        self.other = other\n", "        self.other = other\n        self.storage = other\n")
    assert collaborator_problems(swapped, "pomodoro/core.py", written)[0].startswith("self.made.")  # storage: unknown now
    read_off = ("from pomodoro.storage import SessionStorage\n\nCHOICES = SessionStorage.kinds\nSessionStorage.add_session\n"
                "PATH = SessionStorage.path\n")
    assert collaborator_problems(read_off, "pomodoro/cli.py", written) == [  # the markdown formatter's CLI
        "SessionStorage.kinds: SessionStorage (pomodoro.storage) has no 'kinds' (it has: add_session, get_sessions, path, sessions)",
        "SessionStorage.path: 'path' is set on each SessionStorage object (self.path), the class itself has no 'path': "
        "read it from an instance"]
    optional = core.replace("storage: SessionStorage,", "storage: Optional[SessionStorage],")
    assert len(collaborator_problems(optional, "pomodoro/core.py", written)) == 2


def test_imports_of_design_files_not_depended_on_are_late():
    from swcompany.artifacts import FileSpec
    from swcompany.code_gates import late_imports

    modules = {"pomodoro.storage": "pomodoro/storage.py", "pomodoro.settings": "pomodoro/settings.py",
               "pomodoro.core": "pomodoro/core.py"}
    spec = FileSpec(path="pomodoro/core.py", purpose="p", depends_on=["pomodoro/settings.py"])
    code = "from .storage import Storage\nfrom pomodoro.settings import Settings\nimport json\nfrom pomodoro import core\n"
    assert late_imports(code, spec, modules) == ["pomodoro/storage.py"]


REPORT_DESIGN = {**DESIGN, "files": [*DESIGN["files"], {
    "path": "todo/report.py", "purpose": "a one-line summary of the tasks", "depends_on": [],
    "interface": "def summary(db: str) -> str"}]}
REPORT_WRONG = "from todo.storage import all_tasks\n\n\ndef summary(db: str) -> str:\n    return f'{len(all_tasks(db))} tasks'\n"
REPORT_RIGHT = REPORT_WRONG.replace("all_tasks", "list_tasks")


def test_a_file_written_before_a_module_it_imports_is_checked_after_and_written_again():
    """The pomodoro timer's core, depending on nothing, imported `Storage` from a storage module written
    after it, which defined `SessionStorage`: nothing checked it, and every test failed to import."""
    asks: list[str] = []

    def engineer(req):
        path = target_file(req)
        if path == "todo/report.py":
            asks.append(req.text)
            return fenced(REPORT_RIGHT if len(asks) > 1 else REPORT_WRONG)
        return fenced(CODE.get(path, "# empty\n"))

    with FakeModel(Scenario(design=REPORT_DESIGN, overrides={"engineer": engineer})) as server:
        proc = run_cli("new", "todo", "--name", "t", *cli_args(server), "--fix-rounds", "0")
    assert proc.returncode == 0, proc.stderr
    assert len(asks) == 2 and "Already written: todo/storage.py" not in asks[0]
    assert "An earlier version of todo/report.py used todo/storage.py wrongly: todo.storage has no 'all_tasks' " \
        "(it defines: add_task, list_tasks, sqlite3)" in asks[1]
    assert "def list_tasks(db):" in asks[1]  # the module it uses, shown this time
    assert Path("workspace/t/todo/report.py").read_text() == REPORT_RIGHT
    assert "todo/report.py uses todo/storage.py wrongly" in proc.stdout + proc.stderr


def test_an_attribute_replacing_a_method_on_each_object_is_asked_about():
    """The 1.5B pomodoro timer's core: `self.is_running = False` beside `def is_running(self)`."""
    from swcompany.code_checks import methods_replaced_by_attributes

    core = ("class Session:\n    def __init__(self):\n        self.is_running = False\n        self.size = 1\n\n"
            "    def is_running(self):\n        return self.is_running\n\n    @property\n    def size(self):\n        return 1\n")
    assert methods_replaced_by_attributes(core) == [
        "`self.is_running = ...` replaces the method Session.is_running on each object, so `is_running()` then fails: "
        "give the attribute another name (`self._is_running`)"]
    assert methods_replaced_by_attributes(core.replace("self.is_running = False", "self._running = False")) == []


def test_a_toolkit_that_opens_windows_is_asked_about():
    """The 1.5B unit converter's "user interface" module, written with tkinter: its tests crashed."""
    from swcompany.code_checks import window_imports

    assert window_imports("import tkinter as tk\nfrom tkinter import ttk\n") == [
        "it imports tkinter, which needs a display; the program runs in a terminal (and its tests without a display): "
        "write a text interface instead (print the results; read arguments with argparse)"]
    assert window_imports("import curses\nimport argparse\n") == []


def test_sql_on_a_table_nothing_creates_is_asked_about():
    """The 1.5B todo app's database: `INSERT INTO tasks` on a fresh file, "no such table: tasks" in eight tests."""
    from swcompany.code_checks import tables_never_created

    db = ("import sqlite3\n\n\nclass Database:\n    def add(self, t):\n        self.c.execute('INSERT INTO tasks (task) VALUES (?)', (t,))\n"
          "        return self.c.execute('''SELECT id, task\n            FROM tasks WHERE done = 0''').fetchall()\n")
    assert tables_never_created(db) == [
        "its SQL uses the table tasks, which nothing creates: a new database file is empty, so create each table "
        "first (CREATE TABLE IF NOT EXISTS ...) when connecting"]
    made = db + "\nSCHEMA = 'CREATE TABLE IF NOT EXISTS Tasks (id INTEGER PRIMARY KEY, task TEXT)'\n"
    assert tables_never_created(made) == []
    assert tables_never_created(db, ["conn.execute('create table tasks (task text)')"]) == []  # another file makes it
    assert tables_never_created("print('UPDATE: select a value from the list')\n") == []
