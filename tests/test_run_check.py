"""The design's run command tried before QA writes tests: what counts as the code's failure, and
the engineer writing the guilty file again (kept only if the command then works)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import git
from conftest import cli_args, run_cli
from fake_model import FakeModel
from scenario import CODE, DESIGN, TESTS, Scenario, fenced, target_file

from swcompany.artifacts import Design
from swcompany.stages.run_check import RunFailure, command_argv, entry_file, run_failure

DESIGN_MODEL = Design.model_validate(DESIGN)
ROOT = "/tmp/swcompany-run-x"


def test_only_a_plain_python_command_is_run():
    assert command_argv("python -m todo.cli add 'buy milk'") == ["python", "-m", "todo.cli", "add", "buy milk"]
    assert command_argv("cd todo && python3 app.py --help") == ["python3", "app.py", "--help"]
    for other in ("pip install . && todo add x", "python -m todo.cli list | grep x", "todo add x", "python",
                  "python -c 'print(1)'", "python -m todo.cli > out.txt", "echo x && python -m todo.cli", "python -m 'x"):
        assert command_argv(other) is None, other


def test_the_entry_file_is_the_module_the_command_starts():
    assert entry_file(DESIGN_MODEL, ["python", "-m", "todo.cli", "add"]) == "todo/cli.py"
    assert entry_file(DESIGN_MODEL, ["python", "-m", "todo"]) is None  # no todo/__main__.py in the design
    assert entry_file(DESIGN_MODEL, ["python", "todo/cli.py"]) == "todo/cli.py"


def test_a_usage_error_or_a_traceback_in_the_projects_code_is_the_codes_failure():
    argv = ["python", "-m", "todo.cli", "--tip", "15%"]
    usage = "usage: cli.py [-h] --tip TIP\ncli.py: error: argument --tip: invalid float value: '15%'\n"
    assert run_failure(DESIGN_MODEL, ROOT, argv, 2, False, usage) == RunFailure(
        "todo/cli.py", "exit 2, cli.py: error: argument --tip: invalid float value: '15%'")
    crash = (f'Traceback (most recent call last):\n  File "<frozen runpy>", line 198, in _run_module_as_main\n'
             f'  File "{ROOT}/todo/cli.py", line 24, in <module>\n    main()\n'
             f'  File "{ROOT}/todo/storage.py", line 6, in add_task\n    open(db)\n'
             "TypeError: expected str, bytes or os.PathLike object, not Config\n")
    assert run_failure(DESIGN_MODEL, ROOT, argv, 1, False, crash) == RunFailure(
        "todo/storage.py", "TypeError: expected str, bytes or os.PathLike object, not Config")
    printed_after = crash.replace("TypeError", "AttributeError: 'Namespace' object has no attribute 'save'\nTotal bill: $23.00\n#", 1)
    assert run_failure(DESIGN_MODEL, ROOT, argv, 1, False, printed_after).what == \
        "AttributeError: 'Namespace' object has no attribute 'save'"  # the tip calculator: stdout is flushed last
    missing = crash.replace("TypeError: expected str, bytes or os.PathLike object, not Config",
                            "FileNotFoundError: [Errno 2] No such file or directory: 'input.csv'")
    assert run_failure(DESIGN_MODEL, ROOT, argv, 1, False, missing) is None  # the command's data, not the code
    assert run_failure(DESIGN_MODEL, ROOT, argv, None, True, "") is None  # an interactive program: no verdict
    assert run_failure(DESIGN_MODEL, ROOT, argv, 0, False, "usage: x\nerror: y") is None
    assert run_failure(DESIGN_MODEL, ROOT, argv, 1, False, "Error: no tasks\n") is None  # its own message
    custom = crash.replace("TypeError: expected str, bytes or os.PathLike object, not Config", "todo.storage.BadTitle: ''")
    assert run_failure(DESIGN_MODEL, ROOT, argv, 1, False, custom) == RunFailure("todo/storage.py", "todo.storage.BadTitle: ''")
    elsewhere = crash.replace(f"{ROOT}/todo/", "/usr/lib/python3.11/")
    assert run_failure(DESIGN_MODEL, ROOT, argv, 1, False, elsewhere) is None


BROKEN_CLI = CODE["todo/cli.py"].replace("sub.add_parser('add')", "sub.add_parser('new')").replace(
    "args.cmd == 'add'", "args.cmd == 'new'")


def _run(rewrite: str):
    asks = []

    def engineer(req):
        path = target_file(req)
        if path == "todo/cli.py":
            asks.append(req.text)
            return fenced(rewrite if "The project's run command" in req.text else BROKEN_CLI)
        return fenced(CODE[path])

    with FakeModel(Scenario(overrides={"engineer": engineer})) as server:
        proc = run_cli("new", "todo", "--name", "t", *cli_args(server), "--fix-rounds", "1")
    return proc, asks, Path("workspace/t")


def test_a_run_command_the_cli_rejects_has_the_engineer_write_the_cli_again(fake_model):
    """The tip calculator on the 1.5B model: the design's `--tip 15%` and a CLI parsing a float (exit 2)."""
    proc, asks, ws = _run(CODE["todo/cli.py"])
    assert proc.returncode == 0, proc.stderr
    assert len(asks) == 2
    assert "The project's run command `python -m todo.cli add 'buy milk'` fails; it printed:\n```\nusage: todo" in asks[1]
    assert "invalid choice: 'add'" in asks[1] and "Write todo/cli.py again, from scratch, so that this command works." in asks[1]
    assert "run command `python -m todo.cli add 'buy milk'` failed (exit 2, todo: error: argument cmd: invalid choice" \
           in proc.stderr
    assert "the run command works now" in proc.stderr
    assert (ws / "todo/cli.py").read_text() == CODE["todo/cli.py"]
    assert not list(ws.glob("*.db"))  # the command ran on a scratch copy
    report = json.loads((ws / "docs/qa_report.json").read_text())
    assert report["fix_notes"][0].startswith("before the tests: the run command `python -m todo.cli add 'buy milk'` failed")
    assert report["fix_notes"][0].endswith("; todo/cli.py was written again")
    assert "qa: run command checked" in [c.message.splitlines()[0] for c in git.Repo(ws).iter_commits()]


def test_a_rewrite_that_still_fails_is_undone(fake_model):
    proc, asks, ws = _run(BROKEN_CLI.replace("prog='todo'", "prog='todo2'"))
    assert len(asks) == 2
    assert "the run command still fails; the earlier todo/cli.py is kept" in proc.stderr
    assert (ws / "todo/cli.py").read_text() == BROKEN_CLI
    report = json.loads((ws / "docs/qa_report.json").read_text())
    assert re.search(r"todo/cli\.py written again still failed, so the earlier version is kept$", report["fix_notes"][0])


def test_a_working_run_command_costs_no_call(fake_model):
    scenario = Scenario()
    with FakeModel(scenario) as server:
        proc = run_cli("new", "todo", "--name", "t", *cli_args(server))
    assert proc.returncode == 0, proc.stderr
    assert scenario.counts["engineer"] == 2 and "run command" not in proc.stderr
    assert not list(Path("workspace/t").glob("*.db"))


def test_the_data_files_a_run_command_reads_are_found():
    from swcompany.stages.run_check import command_inputs

    def inputs(command: str, design_paths: frozenset[str] = frozenset()) -> list[str]:
        return command_inputs(command_argv(command), set(design_paths))

    assert inputs("python -m csv_to_json.cli --file input.csv") == ["input.csv"]
    assert inputs("python -m conv.cli in.csv out.json") == ["in.csv"]  # a later positional is the output
    assert inputs("python -m md.cli --input notes.md --output formatted.md") == ["notes.md"]
    assert inputs("python -m md.cli --output=out.md -o x.md data/table.md") == ["data/table.md"]
    assert inputs("python -m todo.cli add 'buy milk'") == [] and inputs("python -m wc.cli /etc/hosts.txt") == []
    assert inputs("python app/cli.py --config settings.toml", frozenset({"settings.toml"})) == []


IMPORT_CLI = ("import argparse\n\n\ndef main(argv=None):\n    parser = argparse.ArgumentParser(prog='todo')\n"
              "    parser.add_argument('--file', required=True)\n    args = parser.parse_args(argv)\n"
              "    with open(args.file) as f:\n        lines = f.read().splitlines()[1:]\n"
              "    print(f'{len(lines)} tasks: ' + ', '.join(lines))\n    return 0\n\n\n"
              "if __name__ == '__main__':\n    raise SystemExit(main())\n")


def test_a_run_command_reading_a_data_file_gets_a_sample_first(fake_model):
    """The CSV converter's `--file input.csv` and the markdown formatter's `--input input.md` stopped at
    "No such file" on a fresh checkout, and the run check decided nothing."""
    asked = []
    design = {**DESIGN, "how_to_run": "python -m todo.cli --file tasks.csv"}
    scenario = Scenario(design=design, code={**CODE, "todo/cli.py": IMPORT_CLI},
                        overrides={"sample_input": lambda req: asked.append(req.text) or fenced("title\nbuy milk\n", "")},
                        tests={"tests/test_todo_storage.py": TESTS["tests/test_todo_storage.py"]})
    with FakeModel(scenario) as server:
        proc = run_cli("new", "todo", "--name", "t", *cli_args(server))
    assert proc.returncode == 0, proc.stderr
    ws = Path("workspace/t")
    assert (ws / "tasks.csv").read_text() == "title\nbuy milk\n"
    assert len(asked) == 1 and "Its run command: `python -m todo.cli --file tasks.csv`" in asked[0]
    assert "The command reads `tasks.csv`" in asked[0] and "parser.add_argument('--file', required=True)" in asked[0]
    notes = json.loads((ws / "docs/qa_report.json").read_text())["fix_notes"]
    assert notes == ["before the tests: a sample tasks.csv was written for the run command"]
    repo = git.Repo(ws)
    assert "tasks.csv" in repo.git.ls_files().split()
    run = subprocess.run([sys.executable, "-m", "todo.cli", "--file", "tasks.csv"], cwd=ws, capture_output=True, text=True)
    assert (run.returncode, run.stdout) == (0, "1 tasks: buy milk\n")  # the command works on the checkout
