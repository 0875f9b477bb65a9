"""File content passed where the code wants a path is written to a file first (``text_as_path``)."""

from __future__ import annotations

from pathlib import Path

from conftest import cli_args, run_cli
from fake_model import FakeModel
from scenario import CODE, TESTS, Scenario

from swcompany.test_checks import prune_tests

CONVERTER = ('import csv\nimport json\n\n\ndef convert_csv_to_json(csv_file_path: str) -> str:\n'
             '    with open(csv_file_path) as f:\n        return json.dumps(list(csv.DictReader(f)), indent=4)\n')


def test_csv_text_given_for_a_path_is_written_to_a_csv_file_and_its_path_passed():
    """The 1.5B CSV converter's user run: every core test passed the CSV text to the path parameter."""
    tests = ('import json\nimport pytest\nfrom conv.core import convert_csv_to_json\n\nSAMPLE = """a,b\n1,2\n"""\n\n\n'
             'def test_ac1():\n    csv_data = """name,age\nAlice,30"""\n    result = convert_csv_to_json(csv_data)\n'
             '    assert json.loads(result) == [{"name": "Alice", "age": "30"}]\n\n\n'
             'def test_ac2(tmp_path):\n    with pytest.raises(ValueError):\n        convert_csv_to_json(csv_file_path=SAMPLE.strip())\n')
    fixed = prune_tests(tests, "conv.core", CONVERTER)
    assert ("def test_ac1(tmp_path):\n    csv_data = \"\"\"name,age\nAlice,30\"\"\"\n    input_file = tmp_path / 'input.csv'\n"
            "    input_file.write_text(csv_data)\n    result = convert_csv_to_json(str(input_file))\n") in fixed
    assert ("    with pytest.raises(ValueError):\n        input_file = tmp_path / 'input.csv'\n"
            "        input_file.write_text(SAMPLE.strip())\n        convert_csv_to_json(csv_file_path=str(input_file))\n") in fixed


def test_paths_names_without_line_breaks_and_other_parameters_are_left_alone():
    source = "def load(path: str) -> str:\n    return open(path).read()\n\n\ndef parse(text: str) -> list:\n    return text.split()\n"
    tests = ("from m import load, parse\n\n\ndef test_a():\n    assert load('data.txt')\n\n\n"
             "def test_b():\n    assert parse('a\\nb') == ['a', 'b']\n\n\n"
             "def test_c():\n    text = 'x\\ny'\n    text = text.upper()\n    assert load(text)\n")
    assert prune_tests(tests, "m", source) == tests


def test_end_to_end_tests_giving_text_for_a_path_pass_without_a_fix_round():
    code = {**CODE, "todo/storage.py": CODE["todo/storage.py"] + "\n\ndef count_lines(file_path: str) -> int:\n"
                                                                 "    with open(file_path) as f:\n        return len(f.readlines())\n"}
    tests = {**TESTS, "tests/test_todo_storage.py": TESTS["tests/test_todo_storage.py"]
             + "\n\ndef test_count():\n    assert storage.count_lines('a\\nb\\n') == 2\n"}
    with FakeModel(Scenario(code=code, tests=tests)) as server:
        proc = run_cli("new", "todo", "--name", "t", *cli_args(server), "--fix-rounds", "0")
    assert proc.returncode == 0, proc.stderr
    written = Path("workspace/t/tests/test_todo_storage.py").read_text()
    assert "def test_count(tmp_path):\n    input_file = tmp_path / 'input.txt'\n    input_file.write_text('a\\nb\\n')\n" in written


def test_the_tests_folder_given_for_a_file_becomes_a_file_in_it():
    """The key-value store's user run: `SimpleKeyValueStore(tmp_path)` for `file_path`, IsADirectoryError in
    four tests, and the store rewritten for that "crash" (undone)."""
    store = ("import json\n\n\nclass SimpleKeyValueStore:\n    def __init__(self, file_path):\n        self.file_path = file_path\n\n\n"
             "def export(data, out_dir):\n    return out_dir\n")
    tests = ("import pytest\nfrom kv.core import SimpleKeyValueStore, export\n\n\n@pytest.fixture\ndef store(tmp_path):\n"
             "    return SimpleKeyValueStore(tmp_path)\n\n\n"
             "def test_ac1(store, tmp_path):\n    assert SimpleKeyValueStore(file_path=str(tmp_path))\n    assert export({}, tmp_path)\n")
    fixed = prune_tests(tests, "kv.core", store)
    assert "    return SimpleKeyValueStore(tmp_path / 'data.json')\n" in fixed
    assert "SimpleKeyValueStore(file_path=str(tmp_path / 'data.json'))" in fixed
    assert "export({}, tmp_path)" in fixed  # a folder parameter takes the folder
