"""Hand checks of failing assertions: reading pytest's output, the model's value, the verdict, the rewrite.

The pytest outputs are real ones from the 1.5B model's QA runs (HumanEval loop, session 20).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import git
from conftest import cli_args, run_cli
from fake_model import FakeModel
from scenario import CODE, Scenario, fenced

from swcompany.stages.run_repairs import approximated
from swcompany.stages.hand_checks import FailedCheck, corrected, failed_checks, hand_value, same_value, verdict

COUNT_NUMS_TESTS = """import solution


def test_ac1_count_nums_negative_numbers():
    assert solution.count_nums([-1, 11, -11]) == 1


def test_ac1_long():
    assert solution.count_nums(list(range(100))) == [0, 1, 2]
"""

COUNT_NUMS_OUTPUT = """=================================== FAILURES ===================================
_____________________ test_ac1_count_nums_negative_numbers _____________________

    def test_ac1_count_nums_negative_numbers():
>       assert solution.count_nums([-1, 11, -11]) == 1
E       assert 3 == 1
E        +  where 3 = <function count_nums at 0x7fe2cb1d0180>([-1, 11, -11])
E        +    where <function count_nums at 0x7fe2cb1d0180> = solution.count_nums

/tmp/qb/HumanEval_108/loop/repo/tests/test_solution.py:5: AssertionError
_________________________________ test_ac1_long _________________________________

    def test_ac1_long():
>       assert solution.count_nums(list(range(100))) == [0, 1, 2]
E       assert [0, 1, 2, 3, 4, 5, ...] == [0, 1, 2]

/tmp/qb/HumanEval_108/loop/repo/tests/test_solution.py:9: AssertionError
________________________ [doctest] solution.count_nums _________________________
007     >>> count_nums([]) == 0
Expected nothing
Got:
    True

/tmp/qb/HumanEval_108/loop/repo/solution.py:7: DocTestFailure
=========================== short test summary info ============================
FAILED tests/test_solution.py::test_ac1_count_nums_negative_numbers - assert ...
FAILED tests/test_solution.py::test_ac1_long - assert ...
FAILED solution.py::solution.count_nums
3 failed, 11 passed
"""


def test_a_failing_call_with_literal_arguments_is_read_with_both_values():
    checks = failed_checks(COUNT_NUMS_OUTPUT, "tests/test_solution.py", COUNT_NUMS_TESTS)
    assert checks == [FailedCheck(test="test_ac1_count_nums_negative_numbers", line=5,
                                  call="solution.count_nums([-1, 11, -11])", expected=1, actual=3)]
    # the second is skipped twice over: its argument is not a literal and pytest shortened the value


def test_a_value_held_in_a_local_name_and_a_negated_call_are_read_too():
    code = ("from tip import tip, is_happy\n\n\ndef test_tip():\n    result = tip(100, 15)\n    assert result == 16.5\n\n\n"
            "def test_happy():\n    assert not is_happy('abc')\n")
    output = ("____ test_tip ____\n\n>       assert result == 16.5\nE       assert 15.0 == 16.5\n\n"
              "tests/test_tip.py:6: AssertionError\n"
              "____ test_happy ____\n\n>       assert not is_happy('abc')\nE       AssertionError: assert not True\n"
              "E        +  where True = is_happy('abc')\n\ntests/test_tip.py:10: AssertionError\n")
    checks = failed_checks(output, "tests/test_tip.py", code)
    assert [(c.call, c.expected, c.actual, c.self_contained) for c in checks] == [
        ("tip(100, 15)", 16.5, 15.0, True), ("is_happy('abc')", False, True, True)]
    fixed = code
    for check in checks:
        fixed = corrected(fixed, check)
    assert "    assert result == 15.0\n" in fixed and "    assert is_happy('abc')\n" in fixed


def test_a_parametrized_row_is_read_from_the_where_line_and_its_own_cell_corrected():
    """HumanEval/4's tests: `assert mean_absolute_deviation(numbers) == expected` over a table of rows."""
    code = ("import pytest\nfrom m import mad\n\n\n@pytest.mark.parametrize('numbers, expected', [\n"
            "    ([1.0, 2.0, 3.0], 0.5),\n    ([1.0, 2.0, 3.0, 4.0, 5.0], 1.0),\n    ([2.0, 2.0], 1.0),\n])\n"
            "def test_mad(numbers, expected):\n    assert mad(numbers) == expected\n")
    output = ("____ test_mad[numbers1-1.0] ____\n\n>       assert mad(numbers) == expected\nE       assert 1.2 == 1.0\n"
              "E        +  where 1.2 = <function mad at 0x7f00>([1.0, 2.0, 3.0, 4.0, 5.0])\n\ntests/test_m.py:11: AssertionError\n")
    [check] = failed_checks(output, "tests/test_m.py", code)
    assert (check.test, check.call, check.expected, check.actual, check.param, check.self_contained) == \
        ("test_mad", "mad([1.0, 2.0, 3.0, 4.0, 5.0])", 1.0, 1.2, "expected", False)
    assert corrected(code, check) == code.replace("5.0], 1.0)", "5.0], 1.2)")  # that row only, not ([2.0, 2.0], 1.0)


def test_a_loop_over_literal_rows_is_read_like_a_parametrize_table():
    """HumanEval/76's test: six cases in `for x, n, expected in test_cases:`; only the failing row's
    call is shown (pytest's where line), and its own cell is the one corrected."""
    code = ("from solution import is_simple_power\n\n\ndef test_ac1():\n    test_cases = [\n        (1, 4, True),\n"
            "        (2, 2, True),\n        (3, 1, False),\n    ]\n    for x, n, expected in test_cases:\n"
            "        assert is_simple_power(x, n) == expected, f'Failed for x={x}'\n\n\n"
            "def test_inline():\n    for x, n, expected in [(8, 2, True), (5, 3, False)]:\n"
            "        assert is_simple_power(x, n) == expected\n")
    output = ("____ test_ac1 ____\n\n>           assert is_simple_power(x, n) == expected, f'Failed for x={x}'\n"
              "E           AssertionError: Failed for x=1\nE           assert False == True\n"
              "E            +  where False = is_simple_power(1, 4)\n\ntests/test_s.py:11: AssertionError\n"
              "____ test_inline ____\n\n>           assert is_simple_power(x, n) == expected\n"
              "E           assert True == False\nE            +  where True = is_simple_power(5, 3)\n\n"
              "tests/test_s.py:16: AssertionError\n")
    first, second = failed_checks(output, "tests/test_s.py", code)
    assert (first.call, first.expected, first.actual, first.param, first.self_contained) == \
        ("is_simple_power(1, 4)", True, False, "expected", False)
    assert corrected(code, first) == code.replace("(1, 4, True)", "(1, 4, False)")
    assert second.call == "is_simple_power(5, 3)"
    assert corrected(code, second) == code.replace("(5, 3, False)", "(5, 3, True)")


def test_a_literal_shared_by_every_row_is_never_rewritten():
    code = ("import pytest\nfrom m import close\n\n\n@pytest.mark.parametrize('xs, t', [([2.2, 4.4], 0.5), ([1.0], 0.1)])\n"
            "def test_close(xs, t):\n    assert close(xs, t) == True\n")
    output = ("____ test_close[xs0-0.5] ____\n\n>       assert close(xs, t) == True\nE       assert False == True\n"
              "E        +  where False = <function close at 0x7f00>([2.2, 4.4], 0.5)\n\ntests/test_m.py:7: AssertionError\n")
    [check] = failed_checks(output, "tests/test_m.py", code)
    assert (check.call, check.self_contained) == ("close([2.2, 4.4], 0.5)", False)
    assert corrected(code, check) is None  # `== True` holds for the other row: a question, never a rewrite


def test_a_method_of_an_object_the_test_built_is_asked_with_the_lines_that_built_it():
    """The todo app: `tm = TaskManager(db)`, `tm.add_task("Buy groceries")`, `tm.view_tasks() == [...]`
    (the code printed the tasks and returned None)."""
    code = ("from todo.core import TaskManager\n\n\ndef test_view(tmp_path):\n    \"\"\"AC2.\"\"\"\n"
            "    tm = TaskManager(str(tmp_path / 't.db'))\n    tm.add_task('Buy groceries')\n"
            "    assert tm.view_tasks() == ['Buy groceries']\n\n\ndef test_loop():\n    tm = TaskManager('x')\n"
            "    for i in range(2):\n        tm.add_task(str(i))\n    assert tm.view_tasks() == ['0', '1']\n")
    output = ("____ test_view ____\n\n>       assert tm.view_tasks() == ['Buy groceries']\nE       AssertionError: assert None == "
              "['Buy groceries']\nE        +  where None = view_tasks()\n\ntests/test_todo_core.py:8: AssertionError\n"
              "____ test_loop ____\n\n>       assert tm.view_tasks() == ['0', '1']\nE       AssertionError: assert None == "
              "['0', '1']\nE        +  where None = view_tasks()\n\ntests/test_todo_core.py:16: AssertionError\n")
    [check] = failed_checks(output, "tests/test_todo_core.py", code)  # a loop is no plain setup
    assert (check.call, check.setup, check.expected, check.actual) == (
        "tm.view_tasks()", "tm = TaskManager(str(tmp_path / 't.db'))\ntm.add_task('Buy groceries')", ["Buy groceries"], None)
    assert verdict(check, ["Buy groceries"]) == "test"


def test_an_expected_value_held_in_a_local_name_is_hidden_from_the_question_and_corrected_there():
    """HumanEval/140's tests: `text = ...`, `expected = ...`, `assert fix_spaces(text) == expected`, with an
    unused capsys; pytest shows a diff, no where line."""
    code = ("import solution\n\n\ndef test_ac1_example2(capsys):\n    text = 'Example 1'\n    expected = 'Example_1'\n"
            "    assert solution.fix_spaces(text) == expected\n")
    output = ("____ test_ac1_example2 ____\n\ncapsys = <_pytest.capture.CaptureFixture object at 0x7f63f61b2e90>\n\n"
              ">       assert solution.fix_spaces(text) == expected\nE       AssertionError: assert 'Example1' == 'Example_1'\n"
              "E         \nE         - Example_1\nE         ?        -\nE         + Example1\n\n"
              "/tmp/x/tests/test_solution.py:7: AssertionError\n")
    [check] = failed_checks(output, "tests/test_solution.py", code)
    assert (check.call, check.setup, check.expected, check.actual, check.holder) == (
        "solution.fix_spaces(text)", "text = 'Example 1'", "Example_1", "Example1", "expected")
    assert corrected(code, check) == code.replace("expected = 'Example_1'", "expected = 'Example1'")


def test_the_hand_worked_value_is_read_from_the_result_line_or_the_last_sentence():
    assert hand_value("15% of 100 is 15.\n\n**Result: 15**") == (True, 15)
    assert hand_value("Step 1 ...\nResult: `[2, 4]`.") == (True, [2, 4])
    assert hand_value("... As a result, the function outputs `1` for the given input.") == (True, 1)
    assert hand_value("Therefore, the result of `is_happy('abc')` is `True`.") == (True, True)
    assert hand_value("the deviation is \\(\\boxed{1.4}\\)") == (True, 1.4)
    assert hand_value("Therefore, the value of `converter.to_decimal('CXIX')` is \\(\\boxed{119}\\).") == (True, 119)
    assert hand_value("so it is \\(\\boxed{\\text{CXCIX}}\\)") == (True, "CXCIX")
    assert hand_value("Result: CXCIX") == (True, "CXCIX")
    assert hand_value("Result: it depends on the input") == (False, None)


def test_the_verdict_needs_the_hand_value_to_side_with_exactly_one():
    check = FailedCheck("t", 1, "tip(100, 15)", expected=16.5, actual=15.0)
    assert verdict(check, 15) == "code" and verdict(check, 16.5) == "test" and verdict(check, 20) is None
    assert verdict(FailedCheck("t", 1, "f()", expected=0.1 + 0.2, actual=0.3), 0.3) is None
    assert same_value(-12.22, -12.222222) and not same_value(True, 1) and not same_value([1], (1,))


TIP_CODE = {**CODE, "todo/storage.py": CODE["todo/storage.py"] + "\n\ndef tip(bill, percent):\n    return bill * percent / 100\n"}
TIP_TESTS = {"tests/test_todo_storage.py": "from todo import storage\n\n\ndef test_tip():\n    assert storage.tip(100, 15) == 16.5\n"}


def _run_with_hand_check(answer: str):
    asked = []

    def hand_check(req):
        asked.append(req.text)
        return answer

    def fix(req):
        return "Explanation: tip was wrong.\n\n### todo/storage.py\n" + fenced(TIP_CODE["todo/storage.py"].replace("/ 100", "/ 100 * 1.1"))

    scenario = Scenario(code=TIP_CODE, tests=TIP_TESTS, overrides={"hand_check": hand_check, "fix": fix})
    with FakeModel(scenario) as server:
        proc = run_cli("new", "todo", "--name", "t", *cli_args(server), "--fix-rounds", "1")
        fixes = [r.text for r in server.calls() if "You fix failing tests" in r.system]
    return proc, asked, fixes, Path("workspace/t")


def test_a_wrong_expected_value_is_corrected_when_the_hand_check_agrees_with_the_code(fake_model):
    """The tip calculator on the 1.5B model: ``tip(100, 15) == 16.5``, right code, a red run, and fix
    rounds that sent the files back unchanged."""
    proc, asked, fixes, ws = _run_with_hand_check("15% of 100 is 100 * 15 / 100 = 15.\nResult: 15.0")
    assert proc.returncode == 0, proc.stderr
    assert "What does `storage.tip(100, 15)` return according to the specification?" in asked[0]
    assert "16.5" not in asked[0] and "bill * percent" not in asked[0]  # neither side's answer is shown
    assert fixes == []  # nothing left for a fix round
    assert "    assert storage.tip(100, 15) == 15.0\n" in (ws / "tests/test_todo_storage.py").read_text()
    r = json.loads((ws / "docs/qa_report.json").read_text())
    assert (r["verdict"], r["rounds_used"]) == ("passed", 1)
    assert r["fix_notes"] == ["round 1: tests corrected: test_tip: `storage.tip(100, 15)` is `15.0` "
                              "(worked out by hand from the specification, as the code returns), not `16.5` as the test expected"]
    subjects = [c.message.splitlines()[0] for c in git.Repo(ws).iter_commits()]
    assert "qa: fix round 1: tests corrected" in subjects
    assert "fix round 1: 1 test corrected: 2 passed, 0 failed, 0 errors" in proc.stderr


def test_a_hand_check_that_sides_with_the_test_tells_the_fix_round_the_code_is_wrong(fake_model):
    proc, asked, fixes, ws = _run_with_hand_check("Result: 16.5")
    assert len(asked) == 1 and len(fixes) == 1
    assert "Checked by hand against the specification:\n- " \
           "`storage.tip(100, 15)` must return `16.5` (worked out by hand from the specification, as test_tip expects), " \
           "but the code returns `15.0`: the code is wrong there" in fixes[0]
    assert "    assert storage.tip(100, 15) == 16.5\n" in (ws / "tests/test_todo_storage.py").read_text()
    assert proc.returncode == 0, proc.stderr  # the scripted fix makes it 16.5


def test_failing_values_no_round_has_asked_about_keep_the_rounds_going(fake_model):
    """The 1.5B roman numeral converter: round 1 corrected two wrong values (a round asks at most three
    of a file), the fix came back unchanged, and the rounds stopped with `to_roman(130) == 'CLX'` and
    two more wrong values never asked. The next round asks about those, and none asked before."""
    asked = []

    def hand_check(req):
        asked.append(percent := re.search(r"storage\.tip\(100, (\d+)\)", req.text).group(1))
        return f"Result: {float(percent)}"

    def unchanged(req):
        return "Explanation: tip is wrong.\n\n### todo/storage.py\n" + fenced(TIP_CODE["todo/storage.py"])

    tests = "from todo import storage\n" + "".join(f"\n\ndef test_tip_{p}():\n    assert storage.tip(100, {p}) == {p + 1}.5\n"
                                                  for p in (10, 20, 30, 40, 50))
    scenario = Scenario(code=TIP_CODE, tests={"tests/test_todo_storage.py": tests},
                        overrides={"hand_check": hand_check, "fix": unchanged})
    with FakeModel(scenario) as server:
        proc = run_cli("new", "todo", "--name", "t", *cli_args(server), "--fix-rounds", "3")
    assert proc.returncode == 0, proc.stderr
    assert asked == ["10", "20", "30", "40", "50"]  # each once
    assert "fix round 1: the model sent the files back unchanged; the next round checks more failing values by hand" \
        in proc.stderr
    r = json.loads((Path("workspace/t") / "docs/qa_report.json").read_text())
    assert (r["verdict"], r["rounds_used"]) == ("passed", 2)
    assert r["fix_notes"][1] == ("round 1: nothing changed; the model's fix sent todo/storage.py back unchanged; "
                                 "the next round checks 2 more failing values by hand")


def test_an_undecided_hand_check_changes_nothing(fake_model):
    proc, asked, fixes, ws = _run_with_hand_check("It depends on rounding.\nResult: 17")
    assert len(asked) == 1 and len(fixes) == 1 and "Checked by hand" not in fixes[0]
    assert "== 16.5" in (ws / "tests/test_todo_storage.py").read_text()


def test_a_wrong_value_that_cannot_be_told_apart_in_the_file_is_told_to_the_fix_round(fake_model):
    """`for bill in [100]: assert tip(bill, 15) == 16.5`: the literal might serve other values of `bill`."""
    asked, fixes = [], []

    def fix(req):
        fixes.append(req.text)
        return "Explanation: the test was wrong.\n\n### tests/test_todo_storage.py\n" + fenced(
            "from todo import storage\n\n\ndef test_tip():\n    for bill in [100]:\n        assert storage.tip(bill, 15) == 15.0\n")

    tests = {"tests/test_todo_storage.py": "from todo import storage\n\n\ndef test_tip():\n    for bill in [100]:\n"
                                           "        assert storage.tip(bill, 15) == 16.5\n"}
    scenario = Scenario(code=TIP_CODE, tests=tests, overrides={"hand_check": lambda req: asked.append(req.text) or "Result: 15",
                                                                 "fix": fix})
    with FakeModel(scenario) as server:
        proc = run_cli("new", "todo", "--name", "t", *cli_args(server), "--fix-rounds", "1")
    assert proc.returncode == 0, proc.stderr
    assert "What does `tip(100, 15)` return" in asked[0]  # the values pytest showed
    assert "- `tip(100, 15)` is `15.0` (worked out by hand from the specification, as the code returns), " \
           "so test_tip expecting `16.5` is wrong: correct the test" in fixes[0]


def test_a_test_with_setup_lines_is_asked_with_them_and_corrected(fake_model):
    asked = []
    tests = {"tests/test_todo_storage.py": "from todo import storage\n\n\ndef test_tip():\n    bill = 100\n"
                                           "    assert storage.tip(bill, 15) == 16.5\n"}
    scenario = Scenario(code=TIP_CODE, tests=tests, overrides={"hand_check": lambda req: asked.append(req.text) or "Result: 15"})
    with FakeModel(scenario) as server:
        proc = run_cli("new", "todo", "--name", "t", *cli_args(server), "--fix-rounds", "1")
    assert proc.returncode == 0, proc.stderr
    assert "After these lines run:\n```python\nbill = 100\n```\nwhat is the value of `storage.tip(bill, 15)`" in asked[0]
    assert "    assert storage.tip(bill, 15) == 15.0\n" in Path("workspace/t/tests/test_todo_storage.py").read_text()


def test_a_source_the_fix_sends_back_unchanged_is_written_afresh_with_what_the_hand_checks_found(fake_model):
    """HumanEval/108 on the 1.5B model: three right hand checks ("count_nums([-1, 11, -11]) must return 1"),
    and the fix round sent solution.py back unchanged twice."""
    wrong = TIP_CODE["todo/storage.py"].replace("/ 100", "/ 100 * 1.1")
    engineer_asks, temperatures = [], []

    def engineer(req):
        engineer_asks.append(req.text)
        temperatures.append(req.body.get("temperature"))
        path = re.search(r"Now write (\S+)\.\n", req.text).group(1)
        code = TIP_CODE[path] if "An earlier version of" in req.text else {**TIP_CODE, "todo/storage.py": wrong}[path]
        return fenced(code)

    scenario = Scenario(code=TIP_CODE, tests={"tests/test_todo_storage.py": TIP_TESTS["tests/test_todo_storage.py"].replace("16.5", "15.0")},
                        overrides={"hand_check": lambda req: "Result: 15", "engineer": engineer,
                                   "fix": lambda req: "Explanation: fine.\n\n### todo/storage.py\n" + fenced(wrong)})
    with FakeModel(scenario) as server:
        proc = run_cli("new", "todo", "--name", "t", *cli_args(server), "--fix-rounds", "1")
    assert proc.returncode == 0, proc.stderr
    assert "fix round 1: the model sent the files back unchanged; todo/storage.py is written afresh" in proc.stderr
    rewrite = engineer_asks[-1]
    assert "An earlier version of todo/storage.py was wrong. Worked out by hand from the specification:\n" \
           "- `storage.tip(100, 15)` must be `15.0`; the earlier version gave `16.5`\n" \
           "Write todo/storage.py again, from scratch, so that these hold." in rewrite
    assert temperatures[-1] == 0.8  # a sample unlike the engineer's own
    ws = Path("workspace/t")
    assert (ws / "todo/storage.py").read_text() == TIP_CODE["todo/storage.py"]
    r = json.loads((ws / "docs/qa_report.json").read_text())
    assert (r["verdict"], r["rounds_used"], r["no_fix_found"]) == ("passed", 1, False)
    assert r["fix_notes"][0].startswith("round 1 (todo/storage.py): todo/storage.py rewritten by the engineer from scratch")


def test_earlier_asserts_that_passed_are_part_of_the_setup_shown():
    """The 1.5B roman numeral converter: `converter = RomanNumeralConverter()`, eight passing checks,
    then `converter.to_decimal('CXIX') == 199` (it is 119): the object's call was never asked about."""
    checks = "".join(f"    assert converter.to_decimal({r!r}) == {v}\n" for r, v in
                     [("II", 2), ("III", 3), ("IV", 4), ("VII", 7), ("IX", 9), ("XIX", 19), ("LIX", 59)])
    code = ("from roman.core import RomanNumeralConverter\n\n\ndef test_ac2_to_decimal():\n"
            "    converter = RomanNumeralConverter()\n" + checks + "    assert converter.to_decimal('CXIX') == 199\n")
    output = ("____ test_ac2_to_decimal ____\n\n>       assert converter.to_decimal('CXIX') == 199\n"
              "E       AssertionError: assert 119 == 199\nE        +  where 119 = to_decimal('CXIX')\n\n"
              "tests/test_roman_core.py:13: AssertionError\n")
    [check] = failed_checks(output, "tests/test_roman_core.py", code)
    assert (check.call, check.expected, check.actual) == ("converter.to_decimal('CXIX')", 199, 119)
    assert check.setup.startswith("converter = RomanNumeralConverter()\nassert converter.to_decimal('II') == 2\n")
    assert corrected(code, check) == code.replace("== 199", "== 119")


def test_a_plain_fixture_of_the_file_is_shown_inline_and_the_full_values_read():
    """The 1.5B word counter: `tmp_file` wrote three lines, `count_words(tmp_file)` found 'again' too,
    and the test forgot it; pytest's full assertion values (verbosity_assertions=2) are read."""
    code = ("import os\nimport pytest\nfrom words.core import count_words\n\n@pytest.fixture\ndef tmp_file(tmp_path):\n"
            "    file_path = os.path.join(tmp_path, 'sample.txt')\n    with open(file_path, 'w', encoding='utf-8') as file:\n"
            "        file.write('Hello world\\nHello again\\nHello world\\n')\n    return file_path\n\n"
            "def test_ac1_count_words(tmp_file):\n    word_count = count_words(tmp_file)\n"
            "    assert word_count == {'hello': 3, 'world': 2}\n\n"
            "@pytest.fixture(params=[1, 2])\ndef n(request):\n    return request.param\n\n"
            "def test_n(n):\n    assert count_words(n) == {}\n")
    output = ("____ test_ac1_count_words ____\n\ntmp_file = '/tmp/pytest-of-root/pytest-989/test_ac1_count_words0/sample.txt'\n\n"
              ">       assert word_count == {'hello': 3, 'world': 2}\nE       AssertionError: assert {'hello': 3, 'world': 2, "
              "'again': 1} == {'hello': 3, 'world': 2}\nE         \nE         Common items:\n\n"
              "/tmp/x/tests/test_words_core.py:14: AssertionError\n"
              "____ test_n[1] ____\n\n>       assert count_words(n) == {}\nE       AssertionError: assert {'a': 1} == {}\n\n"
              "/tmp/x/tests/test_words_core.py:21: AssertionError\n")
    [check] = failed_checks(output, "tests/test_words_core.py", code)  # a parametrized fixture is no plain one
    assert (check.call, check.expected, check.actual) == ("word_count", {"hello": 3, "world": 2}, {"hello": 3, "world": 2, "again": 1})
    assert check.setup == ("file_path = os.path.join(tmp_path, 'sample.txt')\n"
                           "with open(file_path, 'w', encoding='utf-8') as file:\n"
                           "    file.write('Hello world\\nHello again\\nHello world\\n')\n"
                           "tmp_file = file_path\nword_count = count_words(tmp_file)")
    assert corrected(code, check) == code.replace("== {'hello': 3, 'world': 2}", "== {'hello': 3, 'world': 2, 'again': 1}")


def test_the_other_failing_files_are_checked_by_hand_too(fake_model):
    """The 1.5B password generator: `validate_password('12345678') == True` (it is False) sat in the
    third failing test file; the one round went to the CLI's tests and found nothing to change."""
    cli_test = ("from todo import cli\n\n\ndef test_list(tmp_path):\n    assert cli.main(['--db', str(tmp_path / 'x'), 'list']) == 1\n")
    asked = []

    def hand_check(req):
        asked.append(req.text)
        return "Result: 15" if "storage.tip(100, 15)" in req.text else "I cannot tell."

    scenario = Scenario(code=TIP_CODE, tests={**TIP_TESTS, "tests/test_todo_cli.py": cli_test},
                        overrides={"hand_check": hand_check})
    with FakeModel(scenario) as server:
        proc = run_cli("new", "todo", "--name", "t", *cli_args(server), "--fix-rounds", "1")
        fixes = [r.text for r in server.calls() if "You fix failing tests" in r.system]
    assert proc.returncode == 5, proc.stderr  # the CLI's test is wrong, and nothing mends it
    assert any("storage.tip(100, 15)" in text for text in asked)
    assert "tests/test_todo_cli.py::test_list" in fixes[0]  # the round's focus: the first failing file
    ws = Path("workspace/t")
    assert "    assert storage.tip(100, 15) == 15.0\n" in (ws / "tests/test_todo_storage.py").read_text()
    r = json.loads((ws / "docs/qa_report.json").read_text())
    assert r["fix_notes"][0].startswith("round 1: tests corrected: test_tip: `storage.tip(100, 15)` is `15.0`")
    assert "tests/test_todo_storage.py" in r["fixed_files"]
    assert (r["passed"], r["failed"]) == (2, 1)


RAISES_TESTS = """import pytest
from tips.core import calculate_tip

def test_negative_tip():
    bill_amount = 100.0
    tip_percentage = -15.0
    with pytest.raises(ValueError) as excinfo:
        calculate_tip(bill_amount, tip_percentage, 2)
    assert str(excinfo.value) == "Tip percentage cannot be negative."

def test_literal():
    with pytest.raises(ValueError):
        calculate_tip(100.0, 15.0, -2)
"""
RAISES_OUTPUT = """________________ test_negative_tip _________________

    def test_negative_tip():
        bill_amount = 100.0
        tip_percentage = -15.0
>       with pytest.raises(ValueError) as excinfo:
E       Failed: DID NOT RAISE <class 'ValueError'>

/tmp/ws/tests/test_tips_core.py:7: Failed
________________ test_literal _________________

    def test_literal():
>       with pytest.raises(ValueError):
E       Failed: DID NOT RAISE ValueError

/tmp/ws/tests/test_tips_core.py:12: Failed
"""


def test_a_call_that_never_raised_what_the_test_expects_is_asked_whether_it_must_fail():
    """The 1.5B tip calculator: tests expecting ValueError for a negative tip from code that validates nothing."""
    first, second = failed_checks(RAISES_OUTPUT, "tests/test_tips_core.py", RAISES_TESTS)
    assert (first.call, first.raises, first.setup) == ("calculate_tip(bill_amount, tip_percentage, 2)", "ValueError",
                                                       "bill_amount = 100.0\ntip_percentage = -15.0")
    assert (second.call, second.raises, second.setup) == ("calculate_tip(100.0, 15.0, -2)", "ValueError", "")
    assert verdict(first, "fails") == verdict(first, "Fails") == "test" and verdict(first, "completes") == "code"
    assert verdict(first, 3) is None
    assert corrected(RAISES_TESTS, first) == RAISES_TESTS.replace(
        "    with pytest.raises(ValueError) as excinfo:\n        calculate_tip(bill_amount, tip_percentage, 2)\n"
        "    assert str(excinfo.value) == \"Tip percentage cannot be negative.\"\n",
        "    calculate_tip(bill_amount, tip_percentage, 2)\n")
    assert first.fact() == ("after `bill_amount = 100.0; tip_percentage = -15.0`, `calculate_tip(bill_amount, tip_percentage, 2)` "
                            "must raise ValueError; the earlier version completed normally")
    assert hand_value("... so it must be rejected.\nResult: fails") == (True, "fails")


VALIDATING_STORAGE = TIP_CODE["todo/storage.py"].replace(
    "def add_task(db, title):\n", "def add_task(db, title):\n    if not title:\n        raise ValueError('empty title')\n")
EMPTY_TITLE_TEST = ("import pytest\nfrom todo import storage\n\n\ndef test_empty_title(tmp_path):\n"
                    "    with pytest.raises(ValueError):\n        storage.add_task(str(tmp_path / 'x.db'), '')\n")


def test_a_call_that_must_fail_by_the_spec_has_the_module_written_afresh(fake_model):
    asked, engineer_asks = [], []

    def engineer(req):
        engineer_asks.append(req.text)
        path = re.search(r"Now write (\S+)\.\n", req.text).group(1)
        return fenced(VALIDATING_STORAGE if "An earlier version of" in req.text else TIP_CODE[path])

    scenario = Scenario(code=TIP_CODE, tests={"tests/test_todo_storage.py": EMPTY_TITLE_TEST},
                        overrides={"hand_check": lambda req: asked.append(req.text) or "An empty title is invalid.\nResult: fails",
                                   "engineer": engineer,
                                   "fix": lambda req: "Explanation: fine.\n\n### todo/storage.py\n" + fenced(TIP_CODE["todo/storage.py"])})
    with FakeModel(scenario) as server:
        proc = run_cli("new", "todo", "--name", "t", *cli_args(server), "--fix-rounds", "1")
    assert proc.returncode == 0, proc.stderr
    assert "After these lines run:" not in asked[0]
    assert "what happens when `storage.add_task(str(tmp_path / 'x.db'), '')` runs" in asked[0].lower()
    assert "Result: completes`\nor `Result: fails`" in asked[0]
    assert "- after `" not in engineer_asks[-1]
    assert "`storage.add_task(str(tmp_path / 'x.db'), '')` must raise ValueError; the earlier version completed normally" \
        in engineer_asks[-1]
    assert "raise ValueError('empty title')" in Path("workspace/t/todo/storage.py").read_text()


def test_a_call_that_completes_by_the_spec_loses_the_tests_expectation(fake_model):
    scenario = Scenario(code=TIP_CODE, tests={"tests/test_todo_storage.py": EMPTY_TITLE_TEST},
                        overrides={"hand_check": lambda req: "An empty title is stored like any other.\nResult: completes"})
    with FakeModel(scenario) as server:
        proc = run_cli("new", "todo", "--name", "t", *cli_args(server), "--fix-rounds", "1")
    assert proc.returncode == 0, proc.stderr
    text = Path("workspace/t/tests/test_todo_storage.py").read_text()
    assert "pytest.raises" not in text and "    storage.add_task(str(tmp_path / 'x.db'), '')\n" in text
    r = json.loads(Path("workspace/t/docs/qa_report.json").read_text())
    assert r["fix_notes"] == ["round 1: tests corrected: test_empty_title: `storage.add_task(str(tmp_path "
                              "/ 'x.db'), '')` completes (worked out by hand from the specification, as the code does), so "
                              "the test no longer expects ValueError"]


TIP_ROUNDING_TESTS = '''"""Tests of the tip calculator."""
from tip_calculator.core import calculate_tip


@pytest.mark.parametrize("bill_amount, num_people, tip_percentage, expected", [
    (100, 5, 0.15, 115.0),
    (200, 4, 0.20, 240.0),
])
def test_calculate_tip(bill_amount, num_people, tip_percentage, expected):
    total_bill = calculate_tip(bill_amount, num_people, tip_percentage)
    assert total_bill == expected, f"Expected {expected}, got {total_bill}"


def test_literal():
    assert calculate_tip(100, 5, 0.15) == 115


def test_text():
    assert str(calculate_tip(100, 5, 0.15)) == "115.0"
'''

# pytest's own output on the file above (shortened to its failure sections), as in the user run of session 22.
TIP_ROUNDING_OUTPUT = """=================================== FAILURES ===================================
_____________________ test_calculate_tip[100-5-0.15-115.0] _____________________

>       assert total_bill == expected, f"Expected {expected}, got {total_bill}"
E       AssertionError: Expected 115.0, got 114.99999999999999
E       assert 114.99999999999999 == 115.0

/tmp/ws/tests/test_tip_calculator_core.py:11: AssertionError
_________________________________ test_literal _________________________________

>       assert calculate_tip(100, 5, 0.15) == 115
E       assert 114.99999999999999 == 115
E        +  where 114.99999999999999 = calculate_tip(100, 5, 0.15)

/tmp/ws/tests/test_tip_calculator_core.py:15: AssertionError
__________________________________ test_text ___________________________________

>       assert str(calculate_tip(100, 5, 0.15)) == "115.0"
E       AssertionError: assert '114.99999999999999' == '115.0'

/tmp/ws/tests/test_tip_calculator_core.py:19: AssertionError
=========================== short test summary info ============================
"""


def test_a_float_compared_exactly_that_differs_only_by_rounding_compares_with_approx():
    """The tip calculator's `total == 115.0` on 114.99999999999999: no question to ask, the values agree."""
    fixed, notes = approximated(TIP_ROUNDING_OUTPUT, "tests/test_tip_calculator_core.py", TIP_ROUNDING_TESTS)
    assert fixed.splitlines()[1] == "import pytest"  # after the docstring
    assert "    assert total_bill == pytest.approx(expected), f\"Expected" in fixed
    assert "    assert calculate_tip(100, 5, 0.15) == pytest.approx(115)\n" in fixed
    assert '    assert str(calculate_tip(100, 5, 0.15)) == "115.0"\n' in fixed  # text: the code's formatting, left alone
    assert notes == ["test_calculate_tip: `114.99999999999999` differs from `115.0` only by float "
                     "rounding, so the test compares with pytest.approx",
                     "test_literal: `114.99999999999999` differs from `115` only by float rounding, so the test "
                     "compares with pytest.approx"]
    assert approximated(TIP_ROUNDING_OUTPUT, "tests/test_tip_calculator_core.py", fixed) == (fixed, [])
    far = TIP_ROUNDING_OUTPUT.replace("E       assert 114.99999999999999 == 115\n", "E       assert 114.9 == 115\n")
    assert "== 115\n" in approximated(far, "tests/test_tip_calculator_core.py", TIP_ROUNDING_TESTS)[0]  # a real difference


def test_a_float_off_only_in_a_constants_precision_compares_with_a_relative_approx():
    """The unit converter: `convert(1, 'kg', 'lb') == 2.20462` on the code's 2.2046, and three rewrites of
    the module chasing the fifth significant digit, each undone."""
    output = TIP_ROUNDING_OUTPUT.replace("E       assert 114.99999999999999 == 115\n", "E       assert 114.9999 == 115\n")
    fixed, notes = approximated(output, "tests/test_tip_calculator_core.py", TIP_ROUNDING_TESTS)
    assert "    assert calculate_tip(100, 5, 0.15) == pytest.approx(115, rel=0.0001)\n" in fixed
    assert notes[-1] == ("test_literal: `114.9999` differs from `115` only in the precision of a constant (under 0.0001 "
                         "relative), so the test compares with pytest.approx(rel=0.0001)")


def repaired_by_the_run_alone(storage_extra: str, test_file: str) -> tuple[str, list[str]]:
    """Run the CLI on the todo scenario with ``storage_extra`` added to the storage module and
    ``test_file`` as its tests; the run must go green with no hand check and no fix call. Returns
    the test file as it ended and the QA report's fix notes."""
    code = {**CODE, "todo/storage.py": CODE["todo/storage.py"] + storage_extra}
    asked: list[str] = []
    scenario = Scenario(code=code, tests={"tests/test_todo_storage.py": test_file},
                        overrides={"hand_check": lambda req: asked.append(req.text) or "Result: 15"})
    with FakeModel(scenario) as server:
        proc = run_cli("new", "todo", "--name", "t", *cli_args(server), "--fix-rounds", "1")
        fixes = [r for r in server.calls() if "You fix failing tests" in r.system]
    assert proc.returncode == 0, proc.stderr
    assert asked == [] and fixes == []
    ws = Path("workspace/t")
    return (ws / "tests/test_todo_storage.py").read_text(), json.loads((ws / "docs/qa_report.json").read_text())["fix_notes"]


def test_rounding_alone_keeps_a_run_red_no_longer(fake_model):
    """End to end: `tip(100, 15) == 15` on code computing 14.999999999999998 goes green without a
    question or a fix call."""
    tests, notes = repaired_by_the_run_alone("\n\ndef tip(bill, percent):\n    return bill * percent / 100 * 1.1 / 1.1\n",
                                             "from todo import storage\n\n\ndef test_tip():\n    assert storage.tip(100, 15) == 15\n")
    assert "assert storage.tip(100, 15) == pytest.approx(15)" in tests
    assert "only by float rounding" in notes[0]


def test_a_test_writing_into_a_folder_it_never_made_goes_green_without_a_question(fake_model):
    """End to end: the CSV converter's `open("test_data/simple.csv", "w")` in each test's own empty
    folder; the test makes the folder first, and the run is green without a hand check or a fix call."""
    tests, notes = repaired_by_the_run_alone(
        "\n\ndef first_line(path):\n    return open(path).readline().strip()\n",
        "from todo import storage\n\n\ndef test_first_line():\n    path = \"test_data/in.txt\"\n"
        "    with open(path, \"w\") as f:\n        f.write(\"a\\nb\\n\")\n    assert storage.first_line(path) == \"a\"\n")
    assert "    os.makedirs('test_data', exist_ok=True)\n" in tests
    assert "into a folder nothing makes" in notes[0]


def test_the_tests_folder_opened_as_a_file_becomes_a_file_in_it_without_a_question(fake_model):
    """End to end: the key-value store's user run, `SimpleKeyValueStore(tmp_path)` in a fixture: the store
    opened the folder (IsADirectoryError) in four tests, and two rewrites of the store were undone."""
    tests, notes = repaired_by_the_run_alone(
        "\n\nclass Notes:\n    def __init__(self, location):\n        self.location = location\n"
        "        open(location, 'a').close()\n\n    def add(self, text):\n        with open(self.location, 'a') as f:\n"
        "            f.write(text + '\\n')\n        return open(self.location).read().count('\\n')\n",
        "import pytest\nfrom todo import storage\n\n\n@pytest.fixture\ndef notes(tmp_path):\n    return storage.Notes(tmp_path)\n\n\n"
        "def test_add(notes):\n    assert notes.add('milk') == 1\n")
    assert "    return storage.Notes(tmp_path / 'data.json')\n" in tests
    assert "passed the test's own folder where the code opens a file" in notes[0]


def test_json_text_laid_out_differently_goes_green_without_a_question(fake_model):
    """End to end: the CSV converter's output written with indent=4 against a one-line expected string."""
    tests, notes = repaired_by_the_run_alone(
        "\n\ndef export(rows):\n    import json\n    return json.dumps(rows, indent=4)\n",
        "from todo import storage\n\n\ndef test_export():\n    assert storage.export([{'a': 1}]) == '[{\"a\": 1}]'\n")
    assert "    assert json.loads(storage.export([{'a': 1}])) == json.loads('[{\"a\": 1}]')\n" in tests
    assert "same JSON data" in notes[0]


CONVERTER_TESTS = '''import pytest
from unit_converter.core import convert_temperature


@pytest.mark.parametrize(
    "value, unit1, unit2, expected",
    [
        (10, "C", "F", 50.00000),
        (20, "F", "C", -40.00000),
    ]
)
def test_convert_temperature(value, unit1, unit2, expected):
    try:
        result = convert_temperature(value, unit1, unit2)
    except ValueError as e:
        assert str(e) == "Unsupported unit conversion"
    else:
        assert result == expected, f"Expected {expected}, but got {result}"
'''

# pytest's output for the unit converter's run (session 22), shortened to the one failure section.
CONVERTER_OUTPUT = """=================================== FAILURES ===================================
____________________ test_convert_temperature[20-F-C--40.0] ____________________

value = 20, unit1 = 'F', unit2 = 'C', expected = -40.0

    @pytest.mark.parametrize(
    def test_convert_temperature(value, unit1, unit2, expected):
        try:
            result = convert_temperature(value, unit1, unit2)
        else:
>           assert result == expected, f"Expected {expected}, but got {result}"
E           AssertionError: Expected -40.0, but got -6.666666666666667
E           assert -6.666666666666667 == -40.0

/tmp/qb/work31/apps/app4/tests/test_unit_converter_core.py:18: AssertionError
=========================== short test summary info ============================
FAILED tests/test_unit_converter_core.py::test_convert_temperature[20-F-C--40.0]
"""


def test_a_parametrized_row_held_in_a_local_name_is_asked_with_the_rows_values():
    """`result = convert_temperature(value, unit1, unit2)` then `assert result == expected`: no where
    line for a name, but pytest prints the row's arguments atop the failure."""
    checks = failed_checks(CONVERTER_OUTPUT, "tests/test_unit_converter_core.py", CONVERTER_TESTS)
    assert [(c.call, c.expected, c.actual, c.param, c.self_contained) for c in checks] == [
        ("convert_temperature(20, 'F', 'C')", -40.0, -6.666666666666667, "expected", False)]
    fixed = corrected(CONVERTER_TESTS, checks[0])
    assert '        (20, "F", "C", -6.666666666666667),\n' in fixed and '(10, "C", "F", 50.00000)' in fixed


def test_printed_output_is_not_asked_about():
    """The CSV converter's four questions on `captured_output.getvalue()`: 190 s, none decided."""
    code = ("import sys\nfrom io import StringIO\nfrom conv.cli import main\n\n\n"
            "def test_ac1(capsys):\n    main(['--file', 'a.csv'])\n    out = capsys.readouterr().out\n    assert out == 'x'\n\n\n"
            "def test_ac2():\n    captured = StringIO()\n    sys.stdout = captured\n    main(['--file', 'a.csv'])\n"
            "    assert captured.getvalue() == 'x'\n")
    output = ("____ test_ac1 ____\n\n>       assert out == 'x'\nE       AssertionError: assert 'y' == 'x'\n\n"
              "tests/test_conv_cli.py:9: AssertionError\n"
              "____ test_ac2 ____\n\n>       assert captured.getvalue() == 'x'\nE       AssertionError: assert 'y' == 'x'\n"
              "E        +  where 'y' = <built-in method getvalue of _io.StringIO object at 0x7f>()\n\n"
              "tests/test_conv_cli.py:16: AssertionError\n")
    assert failed_checks(output, "tests/test_conv_cli.py", code) == []


REFUSING_STORAGE = TIP_CODE["todo/storage.py"].replace(
    "def add_task(db, title):\n", "def add_task(db, title):\n    if ' ' not in title:\n        raise ValueError('a title needs two words')\n")
ONE_WORD_TEST = ("from todo import storage\n\n\ndef test_one_word(tmp_path):\n"
                 "    assert storage.add_task(str(tmp_path / 'x.db'), 'milk') == 1\n\n\n"
                 "def test_another_word(tmp_path):\n    assert storage.add_task(str(tmp_path / 'x.db'), 'eggs') == 1\n")


def test_a_call_the_code_refuses_on_purpose_is_asked_whether_the_spec_lets_it_complete(fake_model):
    """The password generator refused every character set without punctuation, on purpose: every test
    met its own ValueError, no rewrite followed (no crash), and the fix rounds changed nothing."""
    asked, engineer_asks, fixes = [], [], []

    def engineer(req):
        engineer_asks.append(req.text)
        path = re.search(r"Now write (\S+)\.\n", req.text).group(1)
        return fenced(TIP_CODE[path] if "An earlier version of" in req.text else {**TIP_CODE, "todo/storage.py": REFUSING_STORAGE}[path])

    scenario = Scenario(code={**TIP_CODE, "todo/storage.py": REFUSING_STORAGE}, tests={"tests/test_todo_storage.py": ONE_WORD_TEST},
                        overrides={"hand_check": lambda req: asked.append(req.text) or "Any title is stored.\nResult: completes",
                                   "engineer": engineer,
                                   "fix": lambda req: fixes.append(req.text) or "Explanation: fine.\n\n### todo/storage.py\n"
                                   + fenced(REFUSING_STORAGE)})
    with FakeModel(scenario) as server:
        proc = run_cli("new", "todo", "--name", "t", *cli_args(server), "--fix-rounds", "1")
    assert proc.returncode == 0, proc.stderr
    assert len(asked) == 1  # both tests met the same refusal: one question
    assert "what happens when `storage.add_task(str(tmp_path / 'x.db'), 'milk')` runs" in asked[0].lower()
    assert "a title needs two words" not in asked[0]  # the question shows neither side
    assert ("`storage.add_task(str(tmp_path / 'x.db'), 'milk')` must complete normally (worked out by hand from the "
            "specification, as test_one_word expects), but the code refuses it (ValueError: a title needs two words): "
            "the code must accept it") in fixes[0]
    assert ("`storage.add_task(str(tmp_path / 'x.db'), 'milk')` must complete normally; the earlier version refused it "
            "(ValueError: a title needs two words)") in engineer_asks[-1]
    assert "two words" not in Path("workspace/t/todo/storage.py").read_text()


def test_a_refusal_the_spec_confirms_tells_the_fix_round_the_test_is_wrong(fake_model):
    fixes = []
    scenario = Scenario(code={**TIP_CODE, "todo/storage.py": REFUSING_STORAGE}, tests={"tests/test_todo_storage.py": ONE_WORD_TEST},
                        overrides={"hand_check": lambda req: "One word is not a title.\nResult: fails",
                                   "fix": lambda req: fixes.append(req.text) or "Explanation: fine.\n\n### todo/storage.py\n"
                                   + fenced(TIP_CODE["todo/storage.py"])})
    with FakeModel(scenario) as server:
        run_cli("new", "todo", "--name", "t", *cli_args(server), "--fix-rounds", "1")
    assert ("must fail (worked out by hand from the specification, as the code does: ValueError: a title needs two words), "
            "so test_one_word expecting a result is wrong: correct the test") in fixes[0]


def test_a_result_the_specification_gives_as_an_example_is_read_not_asked():
    """HumanEval's docstrings hold examples in several spellings; the 1.5B model's hand work on
    HumanEval/140 decided nothing where the docstring said `fix_spaces("Example 1") == "Example_1"`."""
    from swcompany.stages.hand_checks import spec_example

    spec = ('def fix_spaces(text):\n    """\n    fix_spaces("Example 1") == "Example_1"\n'
            "    is_simple_power(1, 4) => true\n    >>> mean([1, 2], 3)\n    [3]\n    Example: grow(2) ➞ 4.\n"
            "    For lst = [1,2] the output should be 3; h(4) returns 5\n    twice(1) == 2\n    twice(1) == 3\n")
    assert spec_example(spec, "fix_spaces('Example 1')") == (True, "Example_1")
    assert spec_example(spec, "m.is_simple_power(1, 4)") == (True, True)
    assert spec_example(spec, "mean([1,2], 3)") == (True, [3])
    assert spec_example(spec, "grow(2)") == (True, 4) and spec_example(spec, "h(4)") == (True, 5)
    assert spec_example(spec, "grow(3)") == (False, None)
    assert spec_example(spec, "twice(1)") == (False, None)  # two examples disagree: nothing is known


def test_the_specifications_example_decides_without_a_hand_check(fake_model):
    from scenario import DESIGN

    asked = []
    design = json.loads(json.dumps(DESIGN))
    design["files"][1]["interface"] += "\ndef tip(bill: float, percent: float) -> float:\n    \"\"\"tip(100, 15) == 15.0\"\"\""
    scenario = Scenario(design=design, code=TIP_CODE, tests=TIP_TESTS,
                        overrides={"hand_check": lambda req: asked.append(req.text) or "Result: 16.5"})
    with FakeModel(scenario) as server:
        proc = run_cli("new", "todo", "--name", "t", *cli_args(server), "--fix-rounds", "1")
    assert proc.returncode == 0, proc.stderr
    assert asked == []  # no question: the example answered it
    ws = Path("workspace/t")
    assert "    assert storage.tip(100, 15) == 15.0\n" in (ws / "tests/test_todo_storage.py").read_text()
    r = json.loads((ws / "docs/qa_report.json").read_text())
    assert r["fix_notes"] == ["round 1: tests corrected: test_tip: `storage.tip(100, 15)` is `15.0` "
                              "(the specification's own example, as the code returns), not `16.5` as the test expected"]


def test_an_is_true_check_is_asked_and_corrected_like_an_equality():
    code = "from solution import is_simple_power\n\n\ndef test_one():\n    assert is_simple_power(1, 4) is True\n"
    output = ("____ test_one ____\n\n>       assert is_simple_power(1, 4) is True\nE       assert False is True\n"
              "E        +  where False = is_simple_power(1, 4)\n\ntests/test_s.py:5: AssertionError\n")
    [check] = failed_checks(output, "tests/test_s.py", code)
    assert (check.call, check.expected, check.actual) == ("is_simple_power(1, 4)", True, False)
    assert corrected(code, check) == code.replace("is True", "is False")


CALC_TESTS = """# swcompany dropped the fixture tmp_path: pytest provides it
# swcompany dropped the fixture monkeypatch: pytest provides it
import pytest
from tiny_expression_calculator.core import parse_expression
from pathlib import Path
import sys
import subprocess
import json
import random


def test_ac1_parse_expression_valid_expression(tmp_path, monkeypatch):
    # Arrange
    expression = "3 + 4 * 2 - 1"
    expected_result = "9"

    # Act
    monkeypatch.setattr(sys, "argv", ["prog", expression])
    result = parse_expression(expression)

    # Assert
    assert result == expected_result
"""
CALC_OUTPUT = """__________________ test_ac1_parse_expression_valid_expression __________________

tmp_path = PosixPath('/tmp/pytest-1of-root/pytest-240/test_ac1_parse_expression_vali0')
monkeypatch = <_pytest.monkeypatch.MonkeyPatch object at 0x1>

    def test_ac1_parse_expression_valid_expression(tmp_path, monkeypatch):
        # Arrange
        expression = "3 + 4 * 2 - 1"
        expected_result = "9"

        # Act
        monkeypatch.setattr(sys, "argv", ["prog", expression])
        result = parse_expression(expression)

        # Assert
>       assert result == expected_result
E       AssertionError: assert '10' == '9'
E
E         - 9
E         + 10

/tmp/ws/tests/test_tiny_expression_calculator_core.py:22: AssertionError
"""


def test_a_test_patching_sys_argv_with_monkeypatch_is_asked_with_that_setup():
    """The expression calculator's core tests set sys.argv (through monkeypatch) in every test: no
    question was asked, and `"3 + 4 * 2 - 1"` expected to give "9" stayed."""
    [check] = failed_checks(CALC_OUTPUT, "tests/test_tiny_expression_calculator_core.py", CALC_TESTS)
    assert (check.call, check.expected, check.actual, check.holder) == ("result", "9", "10", "expected_result")
    assert check.setup == ("expression = '3 + 4 * 2 - 1'\nmonkeypatch.setattr(sys, 'argv', ['prog', expression])\n"
                           "result = parse_expression(expression)")


def test_two_calls_that_complete_by_the_spec_in_one_file_both_lose_the_tests_expectation(fake_model):
    """The roman converter's ac3 and ac4 both expected a ValueError with its message; the hand checks
    said both calls complete, and the first correction moved the second test's lines: it stayed red."""
    two = EMPTY_TITLE_TEST.replace("    with pytest.raises(ValueError):\n", "    with pytest.raises(ValueError) as e:\n") + (
        "    assert str(e.value) == 'empty title'\n\n\ndef test_blank_title(tmp_path):\n"
        "    with pytest.raises(ValueError) as e:\n        storage.add_task(str(tmp_path / 'x.db'), ' ')\n"
        "    assert str(e.value) == 'blank title'\n")
    scenario = Scenario(code=TIP_CODE, tests={"tests/test_todo_storage.py": two},
                        overrides={"hand_check": lambda req: "Any title is stored.\nResult: completes"})
    with FakeModel(scenario) as server:
        proc = run_cli("new", "todo", "--name", "t", *cli_args(server), "--fix-rounds", "1")
    assert proc.returncode == 0, proc.stderr
    text = Path("workspace/t/tests/test_todo_storage.py").read_text()
    assert "pytest.raises" not in text and "e.value" not in text
    assert "    storage.add_task(str(tmp_path / 'x.db'), '')\n" in text and "    storage.add_task(str(tmp_path / 'x.db'), ' ')\n" in text
    assert scenario.counts["fix"] == 0


def test_a_hand_check_finds_its_assert_after_a_repair_added_an_import_above_it(fake_model):
    """The float-rounding repair adds `import pytest` at the top: the output's line numbers pointed one
    line above every assert after it, and the hand checks of that file were never asked."""
    tests = {"tests/test_todo_storage.py": "from todo import storage\n\n\ndef test_third():\n"
             "    assert storage.tip(1, 35) == 0.35\n\n\ndef test_tip():\n    assert storage.tip(100, 15) == 16.5\n"}
    code = {**TIP_CODE, "todo/storage.py": TIP_CODE["todo/storage.py"].replace("bill * percent / 100", "bill * percent * 0.01")}
    asked = []
    scenario = Scenario(code=code, tests=tests,
                        overrides={"hand_check": lambda req: asked.append(req.text) or "Result: 15.0"})
    with FakeModel(scenario) as server:
        proc = run_cli("new", "todo", "--name", "t", *cli_args(server), "--fix-rounds", "1")
    assert proc.returncode == 0, proc.stderr
    text = Path("workspace/t/tests/test_todo_storage.py").read_text()
    assert text.startswith("import pytest\n") and "== pytest.approx(0.35)" in text
    assert "    assert storage.tip(100, 15) == 15.0\n" in text and len(asked) == 1


def test_a_call_after_the_test_wrote_its_input_is_not_asked_without_it():
    """The expression calculator's CLI tests each wrote another expression to input.txt, then asserted
    `main(["input.txt"]) == 3`: asked without the file, one cached answer served all six."""
    code = ("from calc.cli import main\n\n\ndef test_add(tmp_path):\n    with open(tmp_path / 'input.txt', 'w') as f:\n"
            "        f.write('1 + 2')\n    result = main(['input.txt'])\n    assert result == 3\n")
    output = ("____ test_add ____\n\n>       assert result == 3\nE       assert 0 == 3\n\n/tmp/x/tests/test_calc_cli.py:8: AssertionError\n")
    assert failed_checks(output, "tests/test_calc_cli.py", code) == []
    # nothing done before the call: asked as before
    alone = code.replace("    with open(tmp_path / 'input.txt', 'w') as f:\n        f.write('1 + 2')\n", "")
    alone_output = output.replace("test_calc_cli.py:8:", "test_calc_cli.py:6:")
    [check] = failed_checks(alone_output, "tests/test_calc_cli.py", alone)
    assert (check.call, check.setup) == ("main(['input.txt'])", "")
