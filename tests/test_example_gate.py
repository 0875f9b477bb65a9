"""The engineer's example gate: a module that fails the examples its specification gives is
written again (HumanEval/140 on the 1.5B model: three of four docstring examples failed, and the
fix rounds never mended them)."""

from __future__ import annotations

from pathlib import Path

from conftest import cli_args, run_cli
from fake_model import FakeModel
from scenario import Scenario, fenced, target_file

from swcompany.stages.example_gate import runnable_examples

INTERFACE = ('def add(a: int, b: int) -> int:\n    """The sum.\n\n    >>> add(2, 3)\n    5\n'
             '    add(-1, 1) == 0\n    is_happy(a) => False\n    """\n')
DESIGN = {"language": "python", "summary": "One module.", "how_to_run": "python -c 'import calc'", "dependencies": [],
          "files": [{"path": "calc.py", "purpose": "adds", "depends_on": [], "interface": INTERFACE}]}


def test_only_examples_naming_the_modules_functions_and_builtins_are_run():
    code = "def add(a, b):\n    return a + b\n\n\ndef is_happy(s):\n    return False\n"
    assert runnable_examples(INTERFACE, code) == [("add(2, 3)", 5), ("add(-1, 1)", 0)]  # `a` names no value
    assert runnable_examples("round(add(1, 2), 2) == 3", code) == [("round(add(1, 2), 2)", 3)]
    assert runnable_examples(INTERFACE, "def sub(a, b):\n    return a - b\n") == []  # a function it does not define
    converter = "class Converter:\n    def convert(self, value, unit):\n        return value\n"
    assert runnable_examples("`Converter().convert(10, 'm')` returns 10", converter) == [("Converter().convert(10, 'm')", 10)]


def _run(replies: list[str]):
    asked, temperatures = [], []

    def engineer(req):
        if target_file(req) != "calc.py":
            return fenced("# empty\n")
        asked.append(req.text)
        temperatures.append(req.body.get("temperature"))
        return fenced(replies[min(len(asked), len(replies)) - 1])

    scenario = Scenario(design=DESIGN, tests={}, overrides={"engineer": engineer})
    with FakeModel(scenario) as server:
        proc = run_cli("new", "adder", "--name", "t", *cli_args(server), "--fix-rounds", "0")
    return proc, asked, (Path("workspace/t") / "calc.py").read_text(), temperatures


def test_a_module_failing_its_specifications_examples_is_written_again(fake_model):
    proc, asked, code, temperatures = _run(["def add(a, b):\n    return a - b\n", "def add(a, b):\n    return a + b\n"])
    assert len(asked) == 2 and code == "def add(a, b):\n    return a + b\n"
    assert "- `add(2, 3)` must be `5` (the specification's own example); the earlier version gave `-1`\n" \
           "- `add(-1, 1)` must be `0` (the specification's own example); the earlier version gave `-2`\n" \
           "Write calc.py again, from scratch, so that these hold." in asked[1]
    assert "calc.py: 2 of the specification's 2 examples fail; written again" in proc.stderr
    assert proc.returncode == 0, proc.stderr


def test_the_version_meeting_the_most_examples_is_kept(fake_model):
    """A rewrite that meets fewer examples (here one raises) is not kept; the rewrites stop at two."""
    half = "def add(a, b):\n    return 5\n"
    proc, asked, code, temperatures = _run([half, "def add(a, b):\n    raise ValueError('no')\n", "def add(a, b):\n    return 7\n"])
    assert len(asked) == 3 and code == half
    assert "- `add(-1, 1)` must be `0` (the specification's own example); the earlier version gave `5`" in asked[1]
    assert "the earlier version gave an error (ValueError: no)" in asked[2]
    assert "so that these hold.\n" in asked[1] and "so that these hold (attempt 2).\n" in asked[2]
    assert temperatures == [0.2, 0.8, 0.8]  # samples unlike the first: at 0.2 the 1.5B sent the same code back


def test_an_error_of_the_scratch_copy_decides_nothing(fake_model):
    """`count_words('sample.txt')` names a file the scratch copy does not have; stdin is closed."""
    proc, asked, code, _ = _run(["def add(a, b):\n    return int(open('numbers.txt').read())\n"])
    assert len(asked) == 1 and "numbers.txt" in code


def test_a_module_that_cannot_be_imported_here_is_kept_as_written(fake_model):
    """(A third-party dependency is installed only for QA.)"""
    proc, asked, code, temperatures = _run(["SETTINGS = open('/no/such/settings.json').read()\n\n\ndef add(a, b):\n    return a - b\n"])
    assert len(asked) == 1 and "settings.json" in code
