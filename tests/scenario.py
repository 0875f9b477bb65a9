"""Canned replies for a small, working project, routed by the role in the system prompt.

``make_responder`` returns a fake-server responder; tests override single roles or
files (``overrides``) to inject faults while the rest of the run stays realistic.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable

from fake_llm_server import Reply, Request

PRD = {
    "title": "Todo CLI",
    "summary": "A command-line todo list that stores tasks in SQLite.",
    "goals": ["Add, list and complete tasks from the terminal"],
    "user_stories": [{"as_a": "developer", "i_want": "to add tasks quickly", "so_that": "I remember them"}],
    "requirements": [
        {"id": "R1", "description": "Add a task with a title", "priority": "must"},
        {"id": "R2", "description": "List open tasks", "priority": "must"},
    ],
    "acceptance_criteria": ["`todo add x` then `todo list` shows x"],
    "out_of_scope": ["sync"],
}

DESIGN = {
    "language": "python",
    "summary": "A storage module over sqlite3 and a CLI module using argparse.",
    "files": [
        {"path": "todo/__init__.py", "purpose": "Todo package", "depends_on": [], "interface": ""},
        {"path": "todo/storage.py", "purpose": "SQLite storage of tasks", "depends_on": ["todo/__init__.py"],
         "interface": "add_task(db: str, title: str) -> int\nlist_tasks(db: str) -> list[tuple[int, str, bool]]"},
        {"path": "todo/cli.py", "purpose": "argparse front end", "depends_on": ["todo/storage.py"],
         "interface": "main(argv: list[str] | None = None) -> int"},
    ],
    "data_structures": [{"name": "Task", "description": "(id, title, done)"}],
    "api_spec": "",
    "how_to_run": "python -m todo.cli add 'buy milk'",
    "dependencies": [],
}

CODE = {
    "todo/__init__.py": '"""Todo package."""\n',
    "todo/storage.py": (
        "import sqlite3\n\n\n"
        "def _conn(db):\n"
        "    conn = sqlite3.connect(db)\n"
        "    conn.execute('CREATE TABLE IF NOT EXISTS tasks (id INTEGER PRIMARY KEY, title TEXT, done INTEGER DEFAULT 0)')\n"
        "    return conn\n\n\n"
        "def add_task(db, title):\n"
        "    with _conn(db) as conn:\n"
        "        return conn.execute('INSERT INTO tasks (title) VALUES (?)', (title,)).lastrowid\n\n\n"
        "def list_tasks(db):\n"
        "    with _conn(db) as conn:\n"
        "        return [(i, t, bool(d)) for i, t, d in conn.execute('SELECT id, title, done FROM tasks')]\n"
    ),
    "todo/cli.py": (
        "import argparse\n\nfrom todo import storage\n\n\n"
        "def main(argv=None):\n"
        "    parser = argparse.ArgumentParser(prog='todo')\n"
        "    parser.add_argument('--db', default='todo.db')\n"
        "    sub = parser.add_subparsers(dest='cmd', required=True)\n"
        "    sub.add_parser('add').add_argument('title')\n"
        "    sub.add_parser('list')\n"
        "    args = parser.parse_args(argv)\n"
        "    if args.cmd == 'add':\n"
        "        print(storage.add_task(args.db, args.title))\n"
        "    else:\n"
        "        for i, t, d in storage.list_tasks(args.db):\n"
        "            print(i, t, 'x' if d else ' ')\n"
        "    return 0\n\n\n"
        "if __name__ == '__main__':\n"
        "    raise SystemExit(main())\n"
    ),
}

TESTS = {
    "tests/test_todo_storage.py": (
        "from todo import storage\n\n\n"
        "def test_add_then_list(tmp_path):\n"
        "    db = str(tmp_path / 't.db')\n"
        "    storage.add_task(db, 'milk')\n"
        "    assert [t for _, t, _ in storage.list_tasks(db)] == ['milk']\n"
    ),
    "tests/test_todo_cli.py": (
        "from todo import cli\n\n\n"
        "def test_add_and_list(tmp_path, capsys):\n"
        "    db = str(tmp_path / 't.db')\n"
        "    assert cli.main(['--db', db, 'add', 'milk']) == 0\n"
        "    assert cli.main(['--db', db, 'list']) == 0\n"
        "    assert 'milk' in capsys.readouterr().out\n"
    ),
}

ROLE_MARKERS = {
    "pm": "You are the product manager",
    "architect": "You are the software architect",
    "engineer": "You are a senior software engineer",
    "qa": "You are the QA engineer",
    "review": "You are the code reviewer",
    "fix": "You fix failing tests",
    "hand_check": "You check one failing test",
    "sample_input": "You write one small sample data file",
}

FileReplies = Callable[[str, Request], Reply | str | None]


def role_of(req: Request) -> str:
    system = req.system
    for role, marker in ROLE_MARKERS.items():
        if marker in system:
            return role
    return "unknown"


def target_file(req: Request) -> str:
    """The file an engineer prompt asks for ("Now write <path>.")."""
    match = re.search(r"Now write (\S+)\.\n", req.text)
    return match.group(1) if match else ""


def fenced(code: str, lang: str = "python") -> str:
    return f"```{lang}\n{code}```"


class Scenario:
    """A responder with per-role overrides and a call counter."""

    def __init__(self, prd: dict | None = None, design: dict | None = None, code: dict[str, str] | None = None,
                 overrides: dict[str, Callable[[Request], Reply | str]] | None = None, delay: float = 0.0,
                 tests: dict[str, str] | None = None):
        self.prd = prd or PRD
        self.design = design or DESIGN
        self.code = code or CODE
        self.tests = TESTS if tests is None else tests
        self.overrides = overrides or {}
        self.delay = delay
        self.counts: Counter[str] = Counter()

    def __call__(self, req: Request) -> Reply | str:
        role = role_of(req)
        self.counts[role] += 1
        if role in self.overrides:
            reply = self.overrides[role](req)
        elif role == "pm":
            reply = json.dumps(self.prd)
        elif role == "architect":
            reply = json.dumps(self.design)
        elif role == "engineer":
            path = target_file(req)
            reply = fenced(self.code.get(path, "# empty\n"))
        elif role == "qa":
            path = target_file(req)
            module = re.search(r"\(import as `([\w.]+)`\)", req.text)
            default = f"import {module.group(1)}\n\n\ndef test_imports():\n    assert {module.group(1)}\n" if module else ""
            reply = fenced(self.tests.get(path, default))
        elif role == "review":
            reply = json.dumps({"summary": "no serious problems", "findings": [], "fixes": []})
        elif role == "fix":
            n = re.search(r"Fix round (\d+)", req.text)  # a new change each round, useless as it is
            reply = "Explanation: no idea\n\n### tests/test_noop.py\n" + fenced(f"def test_noop():\n    assert {n.group(1) if n else 1}\n")
        elif role == "sample_input":
            reply = fenced("title\nbuy milk\n", "")
        elif role == "hand_check":  # undecided unless a test says otherwise: no "Result:" value
            reply = "I cannot work this out from the specification."
        else:  # e.g. `swcompany doctor`'s probe
            reply = "OK"
        if isinstance(reply, str):
            reply = Reply(content=reply)
        if self.delay and not reply.delay:
            reply.delay = self.delay
        return reply
