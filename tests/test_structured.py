import pytest
from pydantic import BaseModel

from swcompany.artifacts import PRD
from swcompany.structured import ReplyError, check_syntax, extract_code, extract_json, parse_model


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


def test_undeclared_imports():
    from swcompany.structured import undeclared_imports

    code = "import os\nimport requests\nfrom todo import storage\nfrom . import x\nimport yaml\nimport dateutil.parser\nimport PIL\n"
    assert undeclared_imports(code, {"todo"}, ["pyyaml>=6", "python-dateutil", "Pillow"]) == ["requests"]
    assert undeclared_imports(code, {"todo"}, ["requests", "pyyaml", "python-dateutil", "pillow"]) == []
