import re

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


@pytest.mark.parametrize("files,message", [
    ([f("docs/design.json")], "docs/design.json: docs/ holds the pipeline's own documents"),
    ([f("docs/prd.json")], "docs/prd.json: docs/ holds the pipeline's own documents"),
    ([f("Docs/notes.md")], "Docs/notes.md: docs/ holds the pipeline's own documents"),
    ([f("tests")], "tests: tests/ belongs to the QA stage"),
    ([f("tests/test_a.py")], "tests/test_a.py: tests/ belongs to the QA stage"),
    ([f("README.md")], "README.md: the pipeline writes README.md itself"),
    ([f("readme.md")], "readme.md: the pipeline writes README.md itself"),
    ([f("requirements.txt")], "requirements.txt: the pipeline writes requirements.txt"),
    ([f(".gitignore")], ".gitignore: git control files"),
    ([f("pkg/.gitattributes")], "pkg/.gitattributes: git control files"),
    ([f("adder"), f("adder/core.py")], "adder is a file, so it cannot also be the folder of adder/core.py"),
    ([f("Adder"), f("adder/core.py")], "Adder is a file, so it cannot also be the folder of adder/core.py"),
    ([f("Todo.py"), f("todo.py")], "Todo.py and todo.py are the same file on case-insensitive filesystems"),
    ([f("x" * 260 + ".py")], "longer than 255 characters"),
    ([f("\u00e9" * 127 + "x.py")], "longer than 255 bytes"),
    ([f("a/" + "b" * 248 + ".py")], "its test file name would be longer than 255 bytes"),
    ([f("sub/.git/config")], "reserved for swcompany/git"),
])
def test_unwritable_and_pipeline_owned_paths_are_refused(files, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        Design.model_validate(design(files))


def test_fix_replies_may_write_tests_but_not_pipeline_files():
    from swcompany.artifacts import FixReply

    assert FixReply.model_validate({"files": [{"path": "tests/test_x.py", "content": ""}]}).files[0].path == "tests/test_x.py"
    for path in ("docs/design.json", "tests/.gitignore", "README.md"):
        with pytest.raises(ValidationError):
            FixReply.model_validate({"files": [{"path": path, "content": ""}]})


def test_how_to_run_loses_escape_sequences():
    hostile = "python -m todo\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2K\x1b[1A\u202e list\r"
    assert Design.model_validate({**DESIGN, "how_to_run": hostile}).how_to_run == "python -m todo list"


def test_a_state_file_from_before_the_stage_protocol_is_migrated():
    from swcompany.artifacts import RunState

    v1 = {"schema_version": 1, "name": "t", "idea": "todo",
          "stages": {"pm": {"status": "done"}, "engineer": {"status": "done"}, "qa": {"status": "running"}},
          "engineer_files": {"todo/a.py": {"sha256": "ab", "bytes": 3}},
          "artifact_hashes": {"docs/prd.json": "cd"},
          "qa": {"verdict": "failed", "failed": 1},
          "qa_progress": {"tests_written": True, "test_files": ["tests/test_a.py"], "rounds_done": 1}}
    state = RunState.model_validate(v1)
    assert state.schema_version == 2
    assert state.files["todo/a.py"].stage == "engineer" and state.files["docs/prd.json"].sha256 == "cd"
    assert state.tests is not None and state.tests.verdict == "failed" and state.tests_stage == "qa"
    assert state.stages["qa"].progress["rounds_done"] == 1 and state.stages["qa"].progress["tests_written"]


def test_the_designs_own_modules_are_not_dependencies_to_install():
    """A 1.5B pomodoro timer's design listed its own modules; pip failed on them, installing nothing."""
    files = [{"path": "pomodoro_timer/core.py", "purpose": "core"}, {"path": "tools.py", "purpose": "helpers"}]
    design = Design.model_validate({**DESIGN, "files": files,
                                    "dependencies": ["pomodoro_timer.core", "Pomodoro-Timer", "tools", "toolsy>=1"]})
    assert design.dependencies == ["toolsy>=1"]


def test_standard_library_modules_are_not_dependencies_to_install():
    """A model listing ``sqlite3`` made QA's ``pip install sqlite3`` fail the whole run."""
    design = Design.model_validate({**DESIGN, "dependencies": ["sqlite3", "argparse", "requests>=2", "Python", "python3.11", "rich[jupyter]"]})
    assert design.dependencies == ["requests>=2", "rich[jupyter]"]


def test_a_path_listed_once_per_class_is_one_file_with_all_of_them():
    """Seen on the 1.5B model: todo/commands.py three times, one class each; refused three times."""
    entry = {"path": "todo/commands.py", "purpose": "commands"}
    design = Design.model_validate({**DESIGN, "files": [
        *DESIGN["files"], {**entry, "interface": "class AddCommand:"},
        {**entry, "interface": "class ViewCommand:", "depends_on": ["todo/storage.py"]}, {**entry, "interface": "class AddCommand:"},
    ]})
    commands = design.file("todo/commands.py")
    assert [f.path for f in design.files].count("todo/commands.py") == 1
    assert commands.interface == "class AddCommand:\nclass ViewCommand:" and commands.depends_on == ["todo/storage.py"]


def test_a_path_of_the_wrong_type_is_a_validation_error_not_a_crash():
    with pytest.raises(ValidationError):
        Design.model_validate({**DESIGN, "files": [{"path": ["a.py"], "purpose": "x"}, {"path": ["a.py"], "purpose": "y"}]})


def test_a_prd_lists_each_requirement_and_criterion_once():
    """The 1.5B expression calculator's PRD wrote AC4-AC7 again as AC9-AC12, word for word."""
    from swcompany.artifacts import PRD

    criteria = ["Handles spaces.", "Handles negative numbers.", "handles  SPACES.", "Handles floats."]
    prd = PRD(title="Calc", summary="A calculator.", goals=["g"], user_stories=["As a user, I want sums"],
              requirements=["Add numbers.", "Add numbers."], acceptance_criteria=criteria)
    assert [str(c) for c in prd.acceptance_criteria] == ["AC1: Handles spaces.", "AC2: Handles negative numbers.",
                                                         "AC3: Handles floats."]
    assert [r.id for r in prd.requirements] == ["R1"]
