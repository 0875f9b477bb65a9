"""Repairs of failing tests read from the run's output alone (no model call)."""

from __future__ import annotations

from swcompany.stages.run_repairs import unwritten_inputs

CSV_TESTS = '''import sys
from io import StringIO
from csv_to_json.cli import main


def test_ac1_convert_sample_csv_to_json():
    csv_content = """name,age
Alice,30
"""
    captured_output = StringIO()
    sys.stdout = captured_output
    main(["--file", "sample.csv"])
    sys.stdout = sys.__stdout__
    assert captured_output.getvalue() == '[{"name": "Alice", "age": "30"}]'


def test_ac2_writes_its_input(tmp_path):
    (tmp_path / "in.csv").write_text("a\\n1\\n")
    assert main(["--file", str(tmp_path / "in.csv")]) == 0


def test_ac3_store():
    assert main(["--file", "store.json"]) == 0
'''

# pytest's output on the CSV converter's CLI tests (session 23), shortened to the failure sections.
CSV_OUTPUT = """=================================== FAILURES ===================================
_____________________ test_ac1_convert_sample_csv_to_json ______________________

>       assert captured_output.getvalue() == '[{"name": "Alice", "age": "30"}]'
E       assert "Error: [Errno 2] No such file or directory: 'sample.csv'\\n" == '[{"name": "Alice", "age": "30"}]'

/tmp/qb/work32/apps/app1/tests/test_csv_to_json_cli.py:14: AssertionError
______________________________ test_ac3_store _______________________________

>       assert main(["--file", "store.json"]) == 0
E       FileNotFoundError: [Errno 2] No such file or directory: 'store.json'

/tmp/qb/work32/apps/app1/tests/test_csv_to_json_cli.py:23: FileNotFoundError
=========================== short test summary info ============================
"""


def test_a_test_reading_a_data_file_it_never_wrote_is_dropped():
    fixed, notes = unwritten_inputs(CSV_OUTPUT, "tests/test_csv_to_json_cli.py", CSV_TESTS)
    assert notes == ["test_ac1_convert_sample_csv_to_json: reads sample.csv, which it never writes (each test runs "
                     "in its own empty folder), so it was dropped"]
    assert "def test_ac1_convert" not in fixed and "def test_ac2_writes_its_input" in fixed
    assert "def test_ac3_store" in fixed  # a store the code should create is the code's business
    assert fixed.startswith("# swcompany dropped test_ac1_convert_sample_csv_to_json: reads sample.csv, which it never "
                            "writes (each test runs in its own empty folder)\n")
    only = CSV_TESTS.split("\n\n\ndef test_ac2")[0] + "\n"
    assert unwritten_inputs(CSV_OUTPUT, "tests/test_csv_to_json_cli.py", only) == (only, [])  # never the last test
