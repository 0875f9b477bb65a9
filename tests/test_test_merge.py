"""A fix reply's test file merged into the current one by name (``merged_test_file``)."""

from swcompany.code_checks import parse_or_none
from swcompany.test_checks import defined_tests
from swcompany.pytest_output import failing_tests
from swcompany.test_merge import failing_view, merged_test_file

OLD = '''import pytest
from calc import add

SAMPLE = "a"


def test_a():
    assert add(1, 1) == 3


def test_b():
    assert add(2, 2) == 4


class TestX:
    def test_c(self):
        assert 1

    def test_d(self):
        assert 2
'''

# A reply sending only what it changes, with a new import, a new method and a new test.
CHANGED = '''import json
from calc import add

def test_a():
    assert add(1, 1) == 2

class TestX:
    def test_d(self):
        assert 3

    def test_e(self):
        assert 4

def test_new():
    assert json.loads("1") == 1
'''


def test_a_reply_with_only_the_changed_tests_keeps_the_others():
    merged = merged_test_file(OLD, CHANGED, "test_a expected 3 for 1 + 1")
    assert defined_tests(merged) == {"test_a", "test_b", "test_new", "TestX.test_c", "TestX.test_d", "TestX.test_e"}
    assert "assert add(1, 1) == 2" in merged and "== 3" not in merged  # replaced, not doubled
    assert "assert 3" in merged and "assert 2\n" not in merged
    assert merged.index("import json") < merged.index("SAMPLE")  # the new import joins the imports
    assert merged.count("from calc import add") == 1
    assert parse_or_none(merged) is not None


def test_a_test_is_deleted_only_when_the_explanation_names_it():
    for explanation in ("fixed the sum", "test_b failed because add was wrong; fixed the sum", "test_bb was deleted"):
        assert "test_b" in defined_tests(merged_test_file(OLD, CHANGED, explanation))
    deleted = merged_test_file(OLD, CHANGED, "test_b was deleted: 2 + 2 is checked by test_a")
    assert "test_b" not in defined_tests(deleted) and "\n\n\n\n" not in deleted


def test_a_whole_file_reply_merges_to_itself():
    whole = OLD.replace("== 3", "== 2")
    assert merged_test_file(OLD, whole, "fixed") == whole


def test_new_constants_come_before_the_tests_that_use_them():
    merged = merged_test_file(OLD, 'ROWS = [(1, 2)]\n\n@pytest.mark.parametrize("a,b", ROWS)\ndef test_rows(a, b):\n    assert a < b\n', "")
    assert merged.index("ROWS = ") < merged.index("def test_a") < merged.index("def test_rows")


def test_unparseable_files_are_left_to_the_syntax_check():
    assert merged_test_file(OLD, "def test_a(:\n", "x") == "def test_a(:\n"


def test_a_fix_round_sees_only_the_failing_tests_with_what_they_need():
    view = failing_view(OLD, {"test_a", "TestX.test_d"})
    assert view.startswith("# (2 passing tests not shown: they stay as they are)\n")
    assert defined_tests(view) == {"test_a", "TestX.test_d"} and "SAMPLE = " in view and "import pytest" in view
    assert failing_view(OLD, {"test_a", "test_b", "TestX.test_c", "TestX.test_d"}) is None  # nothing to leave out
    assert "class TestX" not in failing_view(OLD, {"test_a"})  # a class whose tests all pass goes whole


SUMMARY = """=========================== short test summary info ============================
FAILED tests/test_a.py::test_one - AssertionError: x
FAILED tests/test_a.py::TestC::test_two[1-2] - ValueError
ERROR tests/test_b.py::test_three - fixture 'db' not found
2 failed, 1 error
"""


def test_the_failing_tests_of_a_file_are_read_from_the_summary_only_when_it_lists_every_failure():
    assert failing_tests(SUMMARY, "tests/test_a.py", 3) == {"test_one", "TestC.test_two"}
    assert failing_tests(SUMMARY, "tests/test_b.py", 3) == {"test_three"}
    assert failing_tests(SUMMARY, "tests/test_a.py", 4) is None  # the report counts one the summary does not show
