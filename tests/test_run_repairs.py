"""Repairs of failing tests read from the run's output alone (no model call)."""

from __future__ import annotations

from swcompany.stages.run_repairs import folders_made, json_compared, unwritten_inputs

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
    on_purpose = CSV_TESTS.replace("sample.csv", "nonexistent.csv")  # a test of the code's error handling (seen)
    assert unwritten_inputs(CSV_OUTPUT.replace("sample.csv", "nonexistent.csv"), "tests/test_csv_to_json_cli.py",
                            on_purpose) == (on_purpose, [])



def test_a_missing_file_the_program_reported_in_its_own_words_counts_too():
    """The word counter's CLI printed "File not found: test.txt" (it caught the error) for ten tests
    that passed `test.txt` in sys.argv and never wrote it."""
    printed = CSV_OUTPUT.replace("Error: [Errno 2] No such file or directory: 'sample.csv'", "File not found: sample.csv")
    fixed, notes = unwritten_inputs(printed, "tests/test_csv_to_json_cli.py", CSV_TESTS)
    assert notes and notes[0].startswith("test_ac1_convert_sample_csv_to_json: reads sample.csv")
    for words in ("Error: 'sample.csv' does not exist", "sample.csv not found", "file not found: 'sample.csv'"):
        assert unwritten_inputs(CSV_OUTPUT.replace("Error: [Errno 2] No such file or directory: 'sample.csv'", words),
                                "tests/test_csv_to_json_cli.py", CSV_TESTS)[1] == notes, words

# The CSV converter's core tests on the real 1.5B model (session 23's user run), two of eight.
FOLDER_TESTS = '''"""Core tests."""
import csv
import csv_to_json.core


def test_ac1_convert_csv_to_json_simple(capsys):
    csv_path = "test_data/simple.csv"
    with open(csv_path, mode='w', newline='') as file:
        writer = csv.writer(file)
        writer.writerow(["name", "age"])
    assert csv_to_json.core.convert_csv_to_json(csv_path) == '[]'


def test_ac2_output_folder():
    """The code should make out/ itself."""
    assert csv_to_json.core.convert("in.csv", "out/result.json") == 0
'''

FOLDER_OUTPUT = """=================================== FAILURES ===================================
_____________________ test_ac1_convert_csv_to_json_simple ______________________

capsys = <_pytest.capture.CaptureFixture object at 0x7fbb91ec5a90>

    def test_ac1_convert_csv_to_json_simple(capsys):
        csv_path = "test_data/simple.csv"
>       with open(csv_path, mode='w', newline='') as file:
             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
E       FileNotFoundError: [Errno 2] No such file or directory: 'test_data/simple.csv'

/tmp/ws/tests/test_csv_to_json_core.py:8: FileNotFoundError
___________________________ test_ac2_output_folder ____________________________

>       assert csv_to_json.core.convert("in.csv", "out/result.json") == 0

tests/test_csv_to_json_core.py:16:
_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _

>       with open(output, "w") as f:
E       FileNotFoundError: [Errno 2] No such file or directory: 'out/result.json'

csv_to_json/core.py:9: FileNotFoundError
=========================== short test summary info ============================
"""


def test_a_test_writing_into_a_folder_it_never_made_makes_it_first():
    fixed, notes = folders_made(FOLDER_OUTPUT, "tests/test_csv_to_json_core.py", FOLDER_TESTS)
    assert notes == ["test_ac1_convert_csv_to_json_simple: writes test_data/simple.csv into a folder nothing makes "
                     "(each test runs in its own empty folder), so test_ac1_convert_csv_to_json_simple makes "
                     "test_data first"]
    assert '    os.makedirs(\'test_data\', exist_ok=True)\n    csv_path = "test_data/simple.csv"\n' in fixed
    assert fixed.startswith('"""Core tests."""\nimport os\n')
    assert fixed.count("os.makedirs") == 1  # out/ is the code's own output folder: its business
    compile(fixed, "t.py", "exec")
    assert folders_made(FOLDER_OUTPUT, "tests/test_csv_to_json_core.py", fixed)[0] == fixed  # import once


def test_a_fixture_writing_into_an_unmade_folder_makes_it_after_its_docstring():
    code = '''import pytest


@pytest.fixture
def sample():
    """A sample."""
    open("data/in.txt", "w").write("x")
    return "data/in.txt"


def test_reads(sample):
    assert open(sample).read() == "x"
'''
    output = """______________________ ERROR at setup of test_reads _______________________

>   open("data/in.txt", "w").write("x")
E   FileNotFoundError: [Errno 2] No such file or directory: 'data/in.txt'

tests/test_x.py:7: FileNotFoundError
"""
    fixed, notes = folders_made(output, "tests/test_x.py", code)
    assert '    """A sample."""\n    os.makedirs(\'data\', exist_ok=True)\n    open(' in fixed
    assert notes and "so sample makes data first" in notes[0]


# The CSV converter's CLI test on the real 1.5B model (session 24): the code writes indent=4.
JSON_TESTS = '''from csv_to_json.cli import main


def test_ac1(tmp_path):
    output_file = str(tmp_path / "out.json")
    assert main(["--output", output_file]) == 0
    json_data = open(output_file).read()
    expected_data = '[{"key":"1","value":"2"}]'
    assert json_data == expected_data


def test_ac2():
    assert main.render() == [{"key": "1"}]


def test_ac3():
    assert main.render() == '{"a": 1}'
'''

JSON_OUTPUT = """=================================== FAILURES ===================================
___________________________________ test_ac1 ___________________________________

>       assert json_data == expected_data
E       assert '[\\n    {\\n        "key": "1",\\n        "value": "2"\\n    }\\n]' == '[{"key":"1","value":"2"}]'

/tmp/ws/tests/test_csv_to_json_cli.py:9: AssertionError
___________________________________ test_ac2 ___________________________________

>       assert main.render() == [{"key": "1"}]
E       assert '[{"key": "1"}]' == [{'key': '1'}]

/tmp/ws/tests/test_csv_to_json_cli.py:13: AssertionError
___________________________________ test_ac3 ___________________________________

>       assert main.render() == '{"a": 1}'
E       assert '{"a": 2}' == '{"a": 1}'

/tmp/ws/tests/test_csv_to_json_cli.py:17: AssertionError
"""


def test_json_text_compared_with_json_text_laid_out_differently_compares_the_data():
    fixed, notes = json_compared(JSON_OUTPUT, "tests/test_csv_to_json_cli.py", JSON_TESTS)
    assert "    assert json.loads(json_data) == json.loads(expected_data)\n" in fixed
    assert '    assert json.loads(main.render()) == [{"key": "1"}]\n' in fixed  # text against the data it encodes
    assert "    assert main.render() == '{\"a\": 1}'\n" in fixed  # different data: a real failure
    assert fixed.startswith("import json\n")
    assert notes == [f"{test}: both sides hold the same JSON data, laid out differently, so the test compares the data "
                     "(json.loads)" for test in ("test_ac1", "test_ac2")]
    assert json_compared(JSON_OUTPUT, "tests/test_csv_to_json_cli.py", fixed) == (fixed, [])


def test_a_text_differing_only_by_the_current_time_is_matched_with_any_time():
    """The pomodoro timer: `timer.start_pomodoro(15) == "Session started for 15 minutes."` on code
    that says when: `'Session started at 2026-11-28 21:17:06.007445 for 15 minutes.'`."""
    import datetime
    import re

    from swcompany.stages.run_repairs import clock_text_matched

    code = ("from p.core import Timer\n\n\ndef test_start():\n    result = Timer().start(15)\n"
            "    assert result == 'Session started for 15 minutes.'\n\n\n"
            "def test_fixed():\n    assert Timer().log() == 'Session started at 2023-04-01 12:34:56'\n")
    output = ("____ test_start ____\n\n>       assert result == 'Session started for 15 minutes.'\n"
              "E       AssertionError: assert 'Session started at 2026-11-28 21:17:06.007445 for 15 minutes.' == "
              "'Session started for 15 minutes.'\n\ntests/test_p.py:6: AssertionError\n"
              "____ test_fixed ____\n\n>       assert Timer().log() == 'Session started at 2023-04-01 12:34:56'\n"
              "E       AssertionError: assert 'Session started at 2026-11-28 21:17:06 for 15 minutes.' == "
              "'Session started at 2023-04-01 12:34:56'\n\ntests/test_p.py:10: AssertionError\n")
    fixed, notes = clock_text_matched(output, "tests/test_p.py", code, today=datetime.date(2026, 11, 28))
    assert len(notes) == 1 and notes[0].startswith("test_start: `Session started at 2026-11-28 21:17:06.007445 for")
    line = next(x for x in fixed.splitlines() if "fullmatch" in x)
    pattern = eval(line.split("re.fullmatch(")[1].rsplit(", result)")[0])
    assert re.fullmatch(pattern, "Session started at 2027-01-02 08:00:00.5 for 15 minutes.")
    assert not re.fullmatch(pattern, "Session started at 2027-01-02 08:00:00.5 for 16 minutes.")
    assert fixed.startswith("import re\n") and "== 'Session started at 2023-04-01 12:34:56'" in fixed  # more than the time differs
    # a date the code computed, far from today, is no clock reading
    assert clock_text_matched(output, "tests/test_p.py", code, today=datetime.date(2030, 1, 1)) == (code, [])


def test_a_test_writing_a_file_too_large_for_the_sandbox_is_dropped():
    """The word counter's "large file" test wrote 500 MB and met the sandbox's file size limit."""
    from swcompany.stages.run_repairs import oversized_writes

    code = ("from w.core import count\n\n\ndef test_large(tmp_path):\n    p = tmp_path / 'big.txt'\n"
            "    p.write_text('hello' * 10**9)\n    assert count(p)\n\n\ndef test_small(tmp_path):\n"
            "    assert count(tmp_path)\n")
    output = ("____ test_large ____\n\n    def test_large(tmp_path):\n>       p.write_text('hello' * 10**9)\n"
              "E       OSError: [Errno 27] File too large\n\ntests/test_w.py:6: OSError\n")
    fixed, notes = oversized_writes(output, "tests/test_w.py", code)
    assert notes == ["test_large: writes a file larger than the sandbox allows (File too large), so it was dropped"]
    assert "def test_large" not in fixed and "def test_small" in fixed
    alone = code.split("\n\n\ndef test_small")[0] + "\n"
    assert oversized_writes(output, "tests/test_w.py", alone) == (alone, [])  # the last test stays


LOG_TESTS = '''def test_ac2_log(tmp_path):
    path = tmp_path / "log.txt"
    path.write_text("Session 5\\nSession 6\\n")
    with open(path) as f:
        lines = f.readlines()
    assert "Session 5" in lines


def test_ac3_all(tmp_path):
    path = tmp_path / "log.txt"
    path.write_text("Session 1\\n")
    assert open(path).readlines() == ["Session 1"]


def test_ac4_missing(tmp_path):
    lines = ["Session 1\\n"]
    assert "Session 2" in lines
'''
LOG_OUTPUT = """____ test_ac2_log ____

>       assert "Session 5" in lines
E       AssertionError: assert 'Session 5' in ['Session 5\\n', 'Session 6\\n']

/tmp/ws/tests/test_log.py:6: AssertionError
____ test_ac3_all ____

>       assert open(path).readlines() == ["Session 1"]
E       AssertionError: assert ['Session 1\\n'] == ['Session 1']

/tmp/ws/tests/test_log.py:12: AssertionError
____ test_ac4_missing ____

>       assert "Session 2" in lines
E       AssertionError: assert 'Session 2' in ['Session 1\\n']

/tmp/ws/tests/test_log.py:17: AssertionError
"""


def test_lines_read_with_their_newlines_are_compared_without_them():
    """The pomodoro timer's log tests: `assert 'Session 5' in ['Session 5\\n', 'Session 6\\n']`."""
    from swcompany.stages.run_repairs import line_ends_dropped

    fixed, notes = line_ends_dropped(LOG_OUTPUT, "tests/test_log.py", LOG_TESTS)
    assert "    assert \"Session 5\" in [line.rstrip('\\n') for line in lines]\n" in fixed
    assert "    assert [line.rstrip('\\n') for line in open(path).readlines()] == [\"Session 1\"]\n" in fixed
    assert "    assert \"Session 2\" in lines\n" in fixed  # not there even without the newlines: a real failure
    assert len(notes) == 2 and notes[0].startswith("test_ac2_log: the lines it reads keep their newlines")


SLEEP_TESTS = "from pomo.core import P\n\n\ndef test_a():\n    p = P()\n    p.start()\n\n\ndef test_b():\n    P().wait()\n"
SLEEP_OUTPUT = """____________________________________ test_a ____________________________________

    def test_a():
        p = P()
>       p.start()

/tmp/ws/tests/test_core.py:6:
_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _
/tmp/ws/pomo/core.py:7: in start
    time.sleep(1)
_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _

signum = 14
frame = <frame at 0x1, file '/tmp/ws/pomo/core.py', line 7, code start>

    def expire(signum, frame):
>       raise TimeoutError(f"the test ran over {TEST_SECONDS} s (tests/conftest.py: TEST_SECONDS)")
E       TimeoutError: the test ran over 1 s (tests/conftest.py: TEST_SECONDS)

/tmp/ws/tests/conftest.py:45: TimeoutError
____________________________________ test_b ____________________________________

    def test_b():
>       P().wait()

/tmp/ws/tests/test_core.py:10:
_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _
/tmp/ws/pomo/core.py:10: in wait
    sleep(30)
_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _

signum = 14
frame = <frame at 0x1, file '/tmp/ws/pomo/core.py', line 10, code wait>

    def expire(signum, frame):
>       raise TimeoutError(f"the test ran over {TEST_SECONDS} s (tests/conftest.py: TEST_SECONDS)")
E       TimeoutError: the test ran over 1 s (tests/conftest.py: TEST_SECONDS)

/tmp/ws/tests/conftest.py:45: TimeoutError
"""


def test_a_test_out_of_time_while_the_code_sleeps_patches_the_sleep_away():
    """The pomodoro timer's `start()` counted down 25 minutes with `time.sleep(1)`: every test of it timed out."""
    from swcompany.stages.run_repairs import sleeps_skipped

    fixed, notes = sleeps_skipped(SLEEP_OUTPUT, "tests/test_core.py", SLEEP_TESTS)
    assert "def test_a(monkeypatch):\n    monkeypatch.setattr(\"time.sleep\", lambda seconds: None)" in fixed
    assert "def test_b(monkeypatch):\n    monkeypatch.setattr(\"pomo.core.sleep\", lambda seconds: None)" in fixed  # `from time import sleep`
    assert notes[0] == "test_a: it ran out of time while the code slept, so the test patches time.sleep to return at once"
    assert sleeps_skipped(SLEEP_OUTPUT, "tests/test_core.py", fixed) == (fixed, [])  # patched once


OUTPUT_TESTS = """import os
from pathlib import Path
from conv.core import convert


def test_a():
    assert convert(2) == 4
    assert Path("output.txt").exists()


def test_b():
    convert(1)
    assert os.path.exists("log/run.log")


def test_c():
    out = "result.txt"
    convert(out)
    assert Path(out).exists()


def test_d():
    assert convert(1) == 2
"""
OUTPUT_RUN = """____________________________________ test_a ____________________________________

    def test_a():
        assert convert(2) == 4
>       assert Path("output.txt").exists()
E       AssertionError: assert False
E        +  where False = exists()
E        +    where exists = PosixPath('output.txt').exists
E        +      where PosixPath('output.txt') = Path('output.txt')

tests/test_core.py:8: AssertionError
____________________________________ test_b ____________________________________

    def test_b():
        convert(1)
>       assert os.path.exists("log/run.log")
E       AssertionError: assert False
E        +  where False = <function exists at 0x1>('log/run.log')
E        +    where <function exists at 0x1> = <module 'posixpath' (frozen)>.exists
E        +      where <module 'posixpath' (frozen)> = os.path

tests/test_core.py:13: AssertionError
____________________________________ test_c ____________________________________

    def test_c():
        out = "result.txt"
        convert(out)
>       assert Path(out).exists()
E       AssertionError: assert False
E        +  where False = exists()
E        +    where exists = PosixPath('result.txt').exists
E        +      where PosixPath('result.txt') = Path('result.txt')

tests/test_core.py:19: AssertionError
"""


def test_a_file_expected_to_exist_that_nothing_writes_or_names_is_dropped():
    """The unit converter's CLI test expected `output.txt`, the tip calculator's a log file, from code
    that writes no file; no fix round touched them."""
    from swcompany.stages.run_repairs import repaired_by_run

    fixed, notes = repaired_by_run(OUTPUT_RUN, "tests/test_core.py", OUTPUT_TESTS, "def convert(v):\n    return v * 2\n")
    assert "# swcompany dropped test_a: expects output.txt to exist, which no code of the project writes or names" in fixed
    assert "# swcompany dropped test_b: expects log/run.log to exist" in fixed  # os.path.exists alike
    assert "def test_c" in fixed  # handed to the code: the code's business
    assert len(notes) == 2
    named = repaired_by_run(OUTPUT_RUN, "tests/test_core.py", OUTPUT_TESTS, "LOG = 'log/run.log'\nOUT = 'output.txt'\n")
    assert named == (OUTPUT_TESTS, [])  # a source names them: the code may write them
    # the markdown formatter's CLI test: `tmp_path / "output.txt"`, named by nothing, handed to nothing
    in_tmp = OUTPUT_RUN.replace("PosixPath('output.txt')", "PosixPath('/tmp/pytest-of-root/pytest-1/test_a0/output.txt')")
    tests = OUTPUT_TESTS.replace('Path("output.txt")', 'tmp_path / "output.txt"').replace("def test_a()", "def test_a(tmp_path)")
    assert "# swcompany dropped test_a: expects output.txt to exist" in repaired_by_run(in_tmp, "tests/test_core.py", tests, "")[0]
    elsewhere = OUTPUT_RUN.replace("PosixPath('output.txt')", "PosixPath('/etc/output.txt')")
    assert "dropped test_a" not in repaired_by_run(elsewhere, "tests/test_core.py", OUTPUT_TESTS, "")[0]


MDT_TESTS = '''import sys
from mdt.cli import main


def test_ac1_table(monkeypatch, capsys):
    data = [["Name", "Age"], ["Alice", "30"]]
    m = monkeypatch
    m.setattr(sys, "argv", ["prog", "--data", str("\\\\n".join(data))])
    assert main() == 0


def test_ac2_output(capsys):
    out = main(["--data", "a,b"])
    assert out.strip() == "| a | b |"


def test_ac3_help(capsys):
    assert main(["--help"]) == 0
'''

MDT_OUTPUT = """=================================== FAILURES ===================================
________________________________ test_ac1_table ________________________________

    def test_ac1_table(monkeypatch, capsys):
        data = [["Name", "Age"], ["Alice", "30"]]
        m = monkeypatch
>       m.setattr(sys, "argv", ["prog", "--data", str("\\\\n".join(data))])
E       TypeError: sequence item 0: expected str instance, list found

/tmp/ws/tests/test_mdt_cli.py:8: TypeError
_______________________________ test_ac2_output ________________________________

    def test_ac2_output(capsys):
        out = main(["--data", "a,b"])
>       assert out.strip() == "| a | b |"
E       AttributeError: 'NoneType' object has no attribute 'strip'

/tmp/ws/tests/test_mdt_cli.py:14: AttributeError
=========================== short test summary info ============================
FAILED tests/test_mdt_cli.py::test_ac1_table - TypeError: sequence item 0: expected str instance, list found
FAILED tests/test_mdt_cli.py::test_ac2_output - AttributeError: 'NoneType' object has no attribute 'strip'
"""


def test_a_test_failing_on_its_own_line_before_the_code_runs_is_dropped_with_a_note():
    """The markdown formatter's CLI tests joined lists of rows as text while building the command
    line: a TypeError in the test, whatever the code does. A crash on a value the code returned
    (`main(...)` gave None) is the code's question, and stays."""
    from swcompany.stages.run_repairs import crashing_before_the_code, own_crashes_dropped

    assert crashing_before_the_code(MDT_OUTPUT, "tests/test_mdt_cli.py", MDT_TESTS) == {
        "test_ac1_table": "TypeError: sequence item 0: expected str instance, list found (line 8)"}
    fixed, notes = own_crashes_dropped(MDT_OUTPUT, "tests/test_mdt_cli.py", MDT_TESTS)
    assert "def test_ac1_table" not in fixed and "def test_ac2_output" in fixed and "def test_ac3_help" in fixed
    assert notes == ["test_ac1_table: fails on its own line before the code runs: TypeError: sequence item 0: expected "
                     "str instance, list found (line 8), so it was dropped"]
    # rows from a fixture of the file's own are the code's question too
    with_fixture = MDT_TESTS.replace("def test_ac1_table(monkeypatch, capsys):\n    data = [[\"Name\", \"Age\"], [\"Alice\", \"30\"]]",
                                     "def test_ac1_table(monkeypatch, table):\n    data = table")
    assert with_fixture != MDT_TESTS
    assert crashing_before_the_code(MDT_OUTPUT, "tests/test_mdt_cli.py", with_fixture) == {}
    # what the code printed is the code's question: a slip on `capsys.readouterr()` is no test's own
    printed = MDT_TESTS.replace("    m = monkeypatch\n", "    m = capsys.readouterr()\n")
    assert printed != MDT_TESTS and crashing_before_the_code(MDT_OUTPUT, "tests/test_mdt_cli.py", printed) == {}
    # every failing test crashing on its own: the file stays whole (QA writes it afresh)
    alone = MDT_TESTS.split("\n\n\ndef test_ac2_output")[0] + "\n"
    assert own_crashes_dropped(MDT_OUTPUT, "tests/test_mdt_cli.py", alone) == (alone, [])


def test_a_test_failing_on_its_own_line_is_found_by_the_lines_pytest_ran_after_other_repairs_moved_them():
    """The float-rounding repair adds `import pytest` on top: the crash's line, as pytest printed it,
    is the file's before that."""
    from swcompany.stages.run_repairs import repaired_by_run

    tests = ("from mdt.core import third\n\n\ndef test_third():\n    assert third(1) == 0.3\n\n\n"
             "def test_rows():\n    first = third(2)\n    text = ' '.join([['a'], ['b']])\n    assert third(text) == first\n")
    output = ("____ test_third ____\n\n>       assert third(1) == 0.3\nE       assert 0.30000000000000004 == 0.3\n\n"
              "/tmp/ws/tests/test_mdt_core.py:5: AssertionError\n____ test_rows ____\n\n    def test_rows():\n"
              "        first = third(2)\n>       text = ' '.join([['a'], ['b']])\nE       TypeError: sequence item 0: expected str "
              "instance, list found\n\n/tmp/ws/tests/test_mdt_core.py:10: TypeError\n")
    fixed, notes = repaired_by_run(output, "tests/test_mdt_core.py", tests)
    assert fixed.startswith("# swcompany dropped test_rows") and "import pytest" in fixed and "pytest.approx(0.3)" in fixed
    assert "def test_rows" not in fixed and any("test_rows: fails on its own line" in note for note in notes)
