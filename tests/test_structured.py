import json

import pytest
from pydantic import BaseModel

from swcompany.artifacts import PRD
from swcompany.streaming import runaway
from swcompany.structured import ReplyError, check_syntax, extract_code, extract_json, parse_model, unfence


class Point(BaseModel):
    x: int
    y: int


@pytest.mark.parametrize("text", [
    '{"x": 1, "y": 2}',
    'Sure! Here it is:\n```json\n{"x": 1, "y": 2}\n```\nHope this helps.',
    'The answer is {"x": 1, "y": 2} as requested.',
    '```\n{"x": 1, "y": 2}\n```',
    '{"point": {"x": 1, "y": 2}}',
])
def test_parse_model_accepts_common_wrappings(text):
    assert parse_model(text, Point) == Point(x=1, y=2)


def test_invalid_json_error_is_precise():
    with pytest.raises(ReplyError, match="not valid JSON"):
        extract_json("I think the design should be simple.")
    with pytest.raises(ReplyError, match="empty"):
        extract_json("   ")


def test_schema_errors_name_the_field():
    with pytest.raises(ReplyError) as err:
        parse_model('{"x": "one"}', Point)
    assert "x:" in str(err.value) and "y:" in str(err.value)


def test_prd_requires_its_sections():
    with pytest.raises(ReplyError, match="acceptance_criteria"):
        parse_model('{"title": "t", "summary": "s", "goals": ["g"], "user_stories": [{"as_a": "a", "i_want": "b", "so_that": "c"}],'
                    ' "requirements": [{"id": "R1", "description": "d"}]}', PRD)


def test_extract_code_prefers_fenced_block():
    assert extract_code("Here:\n```python\nx = 1\n```\nDone.", "a.py") == "x = 1\n"
    assert extract_code("x = 1", "a.py") == "x = 1\n"


def test_check_syntax():
    assert check_syntax("a.py", "def f(:\n") is not None
    assert check_syntax("a.py", "def f():\n    return 1\n") is None
    assert check_syntax("a.json", "{bad") is not None
    assert check_syntax("notes.txt", "anything") is None
    # the offending line is quoted: "line 2" alone did not help a 1.5B model find `roman numeral`
    assert check_syntax("a.py", "def f():\n    roman numeral = ''\n") == \
        "does not parse: SyntaxError: invalid syntax (line 2: `roman numeral = ''`)"


def test_undeclared_imports():
    from swcompany.structured import undeclared_imports

    code = "import os\nimport requests\nfrom todo import storage\nfrom . import x\nimport yaml\nimport dateutil.parser\nimport PIL\n"
    assert undeclared_imports(code, {"todo"}, ["pyyaml>=6", "python-dateutil", "Pillow"]) == ["requests"]
    assert undeclared_imports(code, {"todo"}, ["requests", "pyyaml", "python-dateutil", "pillow"]) == []


def test_wrapped_json_with_many_braces_in_chatter():
    text = "Use {braces} like {this} and {{that}}: " + '```json\n{"point": {"x": 1, "y": 2}}\n```'
    assert parse_model(text, Point) == Point(x=1, y=2)
    assert extract_json("{" * 2000 + "junk " + '{"x": 1}') == {"x": 1}


@pytest.mark.parametrize("text", [
    "[" * 100_000,
    '{"a":' * 100_000,
    '```json\n' + '{"a": [' * 50_000 + '\n```',
    ('{"k":[' + "1," * 500) * 900,
])
def test_deep_nesting_is_a_reply_error_not_a_crash(text):
    with pytest.raises(ReplyError, match="nested too deeply|not valid JSON"):
        extract_json(text)


@pytest.mark.parametrize("path,content", [
    ("a.py", "x = " + "-" * 200_000 + "1\n"),
    ("a.py", "x = " + "(" * 200_000 + "\n"),
    ("a.json", "[" * 100_000),
    ("a.toml", "a = " + "[" * 100_000),
    ("a.json", "1" * 5000),
    ("a.toml", "a = " + "1" * 5000),
])
def test_check_syntax_survives_deep_nesting(path, content):
    assert check_syntax(path, content).startswith("does not parse")


def test_undeclared_imports_survives_deep_nesting():
    from swcompany.structured import undeclared_imports

    assert undeclared_imports("x = " + "-" * 200_000 + "1\n", set(), []) == []


def test_overlong_json_field_is_named():
    from swcompany.structured import MAX_JSON_STRING_CHARS, overlong_string

    assert overlong_string({"files": [{"path": "a", "content": "x" * (MAX_JSON_STRING_CHARS + 1)}]}) == "files.0.content"
    assert overlong_string({"files": [{"content": "short"}]}) is None
    with pytest.raises(ReplyError, match="The field x is longer than"):
        parse_model(json.dumps({"x": "1" * (MAX_JSON_STRING_CHARS + 1), "y": 2}), Point)


@pytest.mark.parametrize("text", [
    "{" * 2000 + "x" * 200_000,
    "{" * 1_000_000,
    '{"' * 500_000,
    "```" + "a" * 200_000,
    "```\n{" * 50_000,
    '{"a":"' + "{" * 200_000,
])
def test_json_extraction_is_linear_on_junk(text):
    import time

    started = time.process_time()
    with pytest.raises(ReplyError):
        extract_json(text)
    assert time.process_time() - started < 5  # quadratic took minutes; linear takes milliseconds


def test_overlong_integer_is_a_reply_error():
    with pytest.raises(ReplyError, match="a number is too long"):
        extract_json('{"a": ' + "1" * 5000 + "}")


@pytest.mark.parametrize("content, expected", [
    ("```python\nimport x\n```", "import x\n"),            # a file fenced inside a JSON string
    ("```\nimport x\n```\n", "import x\n"),
    ("import x\n", "import x\n"),                           # plain content untouched
    ("```\na\n```\ntext\n```\nb\n```", "```\na\n```\ntext\n```\nb\n```"),  # fences that are the content
])
def test_unfence_strips_only_a_fence_around_everything(content, expected):
    assert unfence(content) == expected


def test_fix_reply_files_lose_their_fences():
    from swcompany.artifacts import FixedFile

    assert FixedFile(path="tests/test_a.py", content="```python\nimport a\n```").content == "import a\n"


def _lines(make, n):
    return "\n".join(make(i) for i in range(n)) + "\n"


def _block(i):
    return (f"def test_ac{i}_converts(tmp_path, monkeypatch):\n    # AC{i}: the CLI converts CSV files\n"
            f"    path = tmp_path / 'input{i}.csv'\n    path.write_text('Name,Age\\nAlice,30\\n')\n"
            f"    monkeypatch.setattr(sys, 'argv', ['prog', str(path)])\n    assert main() == 0\n\n")


@pytest.mark.parametrize("text", [
    _lines(lambda i: f"    assert f([{', '.join(map(str, range(i)))}]) == ({i}, {i * 7})", 60),  # ever larger inputs
    _lines(lambda i: "    ([1.0, 2.0, 3.0], 0.000001, False),", 60),                            # one row forever
    _lines(lambda i: f"    assert mad([{', '.join(f'{j}.0' for j in range(1, i + 25))}]) == 1.0", 30),  # HumanEval/4's
    _lines(lambda i: f"    ([{', '.join(f'{j}.0' for j in range(1, i + 7))}], (2.0, 3.0)),", 20),  # HumanEval/20's
    _lines(lambda i: f"def test_{i}():\\n    assert g({i}) == {i}", 30).replace("\n", "\\n"),  # inside a JSON string
    "".join(_block(i) for i in range(40)),  # one test copied with small changes (the CSV idea's 18 tests)
    '@pytest.mark.parametrize("text, expected", [\n    ("xyzXYZ", 3),\n    ("' + "Aa" * 1100,  # HumanEval/16's endless literal
    "    data = [" + ", ".join(f'{{"Item {i}": {i}, "{i}": {i}, "Value {i}": {i}}}' for i in range(40)),  # one line counting up
    "".join(f"def test_ac1_example_{i}():\n    assert f([{', '.join(f'{j}.0' for j in range(1, i + 5))}]) == (1.0, 2.0)\n\n"
            for i in range(1, 9)),  # HumanEval/20's QA: two-line tests, each list one number longer
    "Explanation: " + ("The `main` function should return a non-zero exit code if the command is not recognized. "
                       "The `test_cli_add_task` tests are failing because they are not catching the `SystemExit` "
                       "exception that is raised. ") * 3 + "The",  # a fix round's explanation, on one line
])
def test_runaway_replies_are_recognised(text):
    assert runaway(text)


def test_data_rows_counting_up_are_stopped_early():
    """The CSV converter's "large file" test data: `273,Pan,1365` and on, a name a row (so no two
    rows alike), cut off at 4,096 tokens twice in one run; a roman numeral table of 1 to 39 is fine."""
    names = ["Ann", "Bob", "Cy", "Dee", "Ed", "Flo", "Gus"]
    rows = '    data = """id,name,score\n' + "".join(f"    {i},{names[i % 7]},{i * 5}\n" for i in range(1, 300))
    fired = next(n for n in range(100, len(rows), 32) if runaway(rows[:n]))
    assert rows[:fired].count("\n") < 50
    roman = "".join(f'    ({i}, "{"X" * (i // 10)}{"I" * (i % 10)}"),\n' for i in range(1, 40))
    assert not runaway(roman) and not runaway(rows[:rows.index("    38,")])


def test_rows_growing_by_an_operator_each_are_stopped_early():
    """The expression calculator's QA: `("1 + 2 * 3 + 4 * 5 * 6", 33),` one ` * N` longer a line, 3,365
    tokens (4 minutes) before the guard saw them: `*` changed each line's shape."""
    rows = "".join(f'        ("1 + 2 * 3 + {" * ".join(str(i) for i in range(4, n + 1))}", {n * 11}),\n' for n in range(4, 60))
    assert runaway(rows[:1500]) and not runaway(rows[:400])


def test_rows_growing_by_a_term_every_other_row_are_stopped_early():
    """The expression calculator's QA again: `("(1 + 2) * (3 - 4) / 5 + 6 - 7 + 8", 18.5),` two rows
    a length, one character shorter now and then; seen only at 2,522 characters (1,481 tokens)."""
    ops = ["+", "-", "*", "/"]
    rows = "".join(f'        ("(1 + 2) * (3 - 4) / 5 {ops[n % 4]} '
                   f'{" ".join(f"{i} {ops[(n + i) % 2]}" for i in range(6, 6 + n // 2))} 99", {n}.5),\n'
                   for n in range(40))
    assert runaway(rows[:1400]) and not runaway(rows[:400])


def test_tests_whose_names_grow_by_a_repeated_word_are_stopped_early():
    """The expression calculator's fix round: `test_..._and_floats_and_floats()` with one more
    `_and_floats` and one more `+ N.N` a test, 3,033 tokens before the guard saw it."""
    tests = "".join(f"def test_ac1_with_floats{'_and_floats' * n}():\n"
                    f"    assert evaluate(\"2.5 + {' + '.join(f'{i}.{i}' for i in range(2, n + 3))}\") == -14.0\n\n"
                    for n in range(1, 30))
    assert runaway(tests[:1800])


def test_real_code_is_never_runaway():
    from pathlib import Path

    import swcompany

    root = Path(__file__).parent.parent
    for path in sorted([*Path(swcompany.__file__).parent.rglob("*.py"), *Path(__file__).parent.rglob("*.py"),
                        *root.glob("*.md"), *(root / "prompts").glob("*.j2")]):
        text = path.read_text()
        assert not any(runaway(text[:end]) for end in range(2000, len(text), 2000)), path


def _unit_chain(units: list[str]) -> str:
    """The 1.5B unit converter's core.py: an if/elif chain per unit, 6.2:1 under zlib at 2,000 characters."""
    body = "def convert_length(value: float, from_unit: str, to_unit: str) -> float:\n"
    for i, source in enumerate(units):
        body += f"    {'if' if i == 0 else 'elif'} from_unit == '{source}':\n"
        for j, target in enumerate(u for u in units if u != source):
            body += f"        {'if' if j == 0 else 'elif'} to_unit == '{target}':\n            return value * {1.5 + i + j / 7:.4g}\n"
        body += '        else:\n            raise ValueError("Invalid unit for conversion")\n'
    return body + '    else:\n        raise ValueError("Invalid unit for conversion")\n'


@pytest.mark.parametrize("text", [
    _unit_chain(["meters", "kilometers", "feet", "inches", "miles", "yards"]),  # valid code, stopped three times at 6:1
    _lines(lambda i: f"    assert f({i}) == {i}", 20),  # a short table is fine
    _lines(lambda i: f"    '{chr(65 + i % 26)}{i}': lookup_{chr(97 + i % 26)}({i}),", 80),  # rows differing in names
    "import os\n" * 5,
    "    names = [" + ", ".join(f"'{chr(97 + i % 26) * (1 + i % 5)}_{i}'" for i in range(200)) + "]",  # many shapes
    "Explanation: " + "The test expected the titles in upper case, which no requirement of the PRD asks for. " * 2,
])
def test_ordinary_replies_are_not_runaway(text):
    assert not runaway(text)


def test_files_are_read_from_path_lines_and_fenced_blocks():
    from swcompany.structured import extract_files

    reply = ("Explanation: the test expected upper case.\n\n### todo/storage.py\n```python\nx = '{\"a\": 1}'\n```\n\n"
             "File: tests/test_a.py\n```python\nimport a\n```\n**tests/test_b.py**\n```\nb = 1\n```\n"
             "`tests/test_c.py`:\n\n```python\nc = 2\n```\n### tests/test_cut.py\n```python\ncut = ")
    explanation, files = extract_files(reply)
    assert explanation == "the test expected upper case."
    assert files == [{"path": "todo/storage.py", "content": "x = '{\"a\": 1}'\n"}, {"path": "tests/test_a.py", "content": "import a\n"},
                     {"path": "tests/test_b.py", "content": "b = 1\n"}, {"path": "tests/test_c.py", "content": "c = 2\n"}]
    assert extract_files("prose only")[1] == [] and extract_files("a.py\n\nprose\n```\nx\n```")[1] == []


def test_an_explanation_after_the_files_is_read_too():
    """Fix replies are asked files first: the pomodoro timer's and the expression calculator's fix
    explanations circled before any file, and four of their calls were lost."""
    from swcompany.structured import extract_files

    reply = "### a.py\n```python\nx = 1\n```\n\nExplanation: x was 0. The test is right. The test is right. The te"
    assert extract_files(reply) == ("x was 0. The test is right. The test is right. The te", [{"path": "a.py", "content": "x = 1\n"}])


def test_file_extraction_is_linear_on_junk():
    from swcompany.structured import extract_files

    assert extract_files("### a.py\n```python\n" * 50_000)[1] == []  # every block unterminated


def test_a_salvaged_reply_drops_repeated_lines_the_unfinished_end_and_closes_its_fence():
    from swcompany.streaming import without_repetition

    reply = ("```python\ndef test_a():\n    assert f([1.0, 2.0], 0.5)\n" + "    assert f([1.0, 2.8], 0.1)\n" * 30
             + "".join(f"    assert g({i}) == {i}\n" for i in range(9)) + "    assert g(")
    assert without_repetition(reply) == ("```python\ndef test_a():\n    assert f([1.0, 2.0], 0.5)\n    assert f([1.0, 2.8], 0.1)\n"
                                         "    assert g(0) == 0\n    assert g(1) == 1\n    assert g(2) == 2\n```\n")
    assert runaway("x = 1\n" + "    assert f(2) == 2\n" * 10) and not runaway("    assert f(2) == 2\n" * 9)


def test_a_salvaged_reply_keeps_three_of_a_run_of_tests_alike_but_for_numbers():
    """HumanEval/20's QA: twenty two-line tests, each list one number longer; the line rule keeps all
    (its lines alternate), so seventeen junk tests went to the fix round."""
    from swcompany.streaming import without_repetition

    head = "import pytest\nfrom solution import f\n\n"
    tests = "".join(f"def test_ac1_example_{i}():\n    assert f([{', '.join(str(j) for j in range(i + 2))}]) == (1, 2)\n\n"
                    for i in range(1, 21))
    other = "def test_ac2_empty():\n    assert f([]) is None\n\n"
    kept = without_repetition(head + tests + other + "def test_ac3_cut(")
    assert kept.count("def test_ac1_example_") == 3 and "def test_ac1_example_3()" in kept
    assert "def test_ac2_empty():\n    assert f([]) is None\n" in kept and "test_ac3_cut" not in kept


MARKDOWN_FIX = ("Explanation: The test `test_ac1_format_table` expects `output_file.exists()` to be True, but the code "
                "returns False, because the output file is never written.\n\n### tests/test_markdown_cli.py\n```python\n"
                + "".join(f"def test_{name}(tmp_path):\n    output_file = tmp_path / '{name}.txt'\n"
                          f"    assert main(['input.txt', '{align}']) == 0\n    assert output_file.{check}()\n\n"
                          for name, align, check in [("left", "left", "exists"), ("right", "right", "is_file"),
                                                     ("centre", "center", "exists"), ("mixed", "left,right", "stat"),
                                                     ("empty", "", "exists")])
                + "```\n\n")


def test_a_reply_written_out_again_word_for_word_is_stopped_and_salvaged_to_one_copy():
    """The markdown formatter's fix reply: its explanation and the whole test file, again and again
    to the 4,096-token limit (eight minutes); no line or sentence rule saw a 25-line period."""
    from swcompany.streaming import second_copy_at, without_repetition

    again = MARKDOWN_FIX * 3
    fired = next(n for n in range(200, len(again), 32) if runaway(again[:n]))
    assert len(MARKDOWN_FIX) < fired < len(MARKDOWN_FIX) + 700  # twelve lines into the second copy
    assert second_copy_at(again[:fired]) == len(MARKDOWN_FIX)
    assert not runaway(MARKDOWN_FIX) and second_copy_at(MARKDOWN_FIX) is None
    assert without_repetition(again[:fired]).rstrip() == MARKDOWN_FIX.rstrip()
