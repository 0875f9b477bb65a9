import pytest
from pydantic import ValidationError

from swcompany.artifacts import Design, dependency_levels
from scenario import DESIGN


def design(files):
    return {**DESIGN, "files": files}


def f(path, *deps):
    return {"path": path, "purpose": "p", "depends_on": list(deps)}


def test_valid_design_levels():
    d = Design.model_validate(DESIGN)
    assert dependency_levels(d.files) == [["todo/__init__.py"], ["todo/storage.py"], ["todo/cli.py"]]


@pytest.mark.parametrize("files,message", [
    ([f("a.py", "b.py"), f("b.py", "a.py")], "cycle"),
    ([f("a.py"), f("a.py")], "duplicate"),
    ([f("a.py", "missing.py")], "not in the file list"),
    ([f("a.py", "a.py")], "itself"),
    ([f("../../etc/passwd")], "escapes"),
    ([f("/etc/hosts")], "absolute"),
    ([f("ok.py", "../x.py")], "escapes"),
])
def test_invalid_designs_are_refused_with_a_reason(files, message):
    with pytest.raises(ValidationError, match=message):
        Design.model_validate(design(files))


def test_too_many_files_refused():
    with pytest.raises(ValidationError, match="at most"):
        Design.model_validate(design([f(f"m{i}.py") for i in range(5000)]))
