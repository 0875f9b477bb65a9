"""Which imports a model-written test file may make, and the slips that fail a file whole."""

from __future__ import annotations

from swcompany.stages import qa_tests
from swcompany.test_checks import fixture_names_unhidden, huge_inputs_shrunk, path_file_calls
from swcompany.test_imports import unprovided_imports, unused_unprovided_dropped

MODULES = {"csv_to_json.cli", "csv_to_json.core"}


def test_only_the_standard_library_pytest_the_project_and_its_dependencies_are_provided():
    tests = ("import json, pytest\nimport json_to_json.core\nfrom csv_to_json.core import convert\n"
             "from csv_to_json.helpers import x\nimport requests\nimport yaml\nimport hypothesis\n")
    assert unprovided_imports(tests, MODULES, ["requests>=2", "PyYAML"]) == ["csv_to_json.helpers", "hypothesis", "json_to_json"]


def test_an_unprovided_import_nothing_uses_is_cut_and_a_used_one_stays():
    tests = ("import json_to_json.core\nfrom hypothesis import given\nfrom csv_to_json.cli import main\n\n\n"
             "@given()\ndef test_a():\n    assert main([]) == 0\n")
    mended = unused_unprovided_dropped(tests, unprovided_imports(tests, MODULES, []))
    assert mended.startswith("# swcompany dropped `import json_to_json.core`: nothing where the tests run provides it")
    assert "from hypothesis import given\n" in mended and "\nimport json_to_json" not in mended
    assert unused_unprovided_dropped(tests, []) == tests


def test_a_test_file_using_a_module_nothing_provides_is_asked_again_with_what_there_is():
    source = "def main(argv=None):\n    return 0\n"
    tests = "import json_to_json.core\nfrom csv_to_json.cli import main\n\n\ndef test_a():\n    assert json_to_json.core.x(main())\n"
    check = qa_tests.TestsCheck("csv_to_json.cli", source, modules=MODULES, dependencies=["click"])
    assert check(tests) == ("it imports json_to_json, which nothing where the tests run provides: the project's modules "
                            "are csv_to_json.cli, csv_to_json.core; installed are the standard library, pytest, click. "
                            "Use only what csv_to_json.cli defines, as shown in its source")
    assert qa_tests.TestsCheck("csv_to_json.cli", source)(tests) is None  # without the design's modules: not checked


def test_a_module_level_name_hiding_a_pytest_fixture_is_cut_unless_module_code_uses_it():
    tests = "from pathlib import Path\n\ntmp_path = Path('tmp')\ncapsys: object = None\n\n\ndef test_a(tmp_path):\n    pass\n"
    assert fixture_names_unhidden(tests) == (
        "# swcompany dropped `tmp_path = Path('tmp')`: it hid pytest's tmp_path fixture\n"
        "# swcompany dropped `capsys: object = None`: it hid pytest's capsys fixture\n"
        "from pathlib import Path\n\n\n\ndef test_a(tmp_path):\n    pass\n")
    used = "from pathlib import Path\n\ntmp_path = Path('tmp')\nDATA = tmp_path / 'x'\n"
    assert fixture_names_unhidden(used) == used


def test_a_path_is_written_and_read_with_the_names_a_path_has():
    tests = ("def test_a(tmp_path):\n    f = tmp_path / 'in.csv'\n    g = f\n    f.write('x')\n"
             "    (tmp_path / 'b').write('y')\n    assert g.read() == 'x'\n    h = open('z')\n    h.read()\n")
    assert path_file_calls(tests) == (
        "def test_a(tmp_path):\n    f = tmp_path / 'in.csv'\n    g = f\n    f.write_text('x')\n"
        "    (tmp_path / 'b').write_text('y')\n    assert g.read_text() == 'x'\n    h = open('z')\n    h.read()\n")


def test_huge_test_inputs_shrink_to_a_thousand_items_everywhere_in_their_test():
    """The word counter's "large file" test: `"Hello" * 1000000` a thousand times, 5 GB and a
    MemoryError in the sandbox; its asserted count is the same number and shrinks with it."""
    tests = ("def test_large(tmp_path):\n"
             "    f = tmp_path / 'big.txt'\n"
             "    f.write_text(' '.join(['Hello' * 1000000 for _ in range(1000)]))\n"
             "    g = ' '.join(['a'] * 100000) + ' '.join('b' for _ in range(200000))\n"
             "    assert count(g)['a'] == 100000 and len(x) == 200000 * 2 and y == 5000000\n\n\n"
             "def test_other():\n    assert f(1000000) == 1000000 and 'x' * 5 == 'xxxxx'\n")
    assert huge_inputs_shrunk(tests) == (
        "def test_large(tmp_path):\n"
        "    f = tmp_path / 'big.txt'\n"
        "    f.write_text(' '.join(['Hello' * 1000 for _ in range(1000)]))\n"
        "    g = ' '.join(['a'] * 1000) + ' '.join('b' for _ in range(1000))\n"
        "    assert count(g)['a'] == 1000 and len(x) == 1000 * 2 and y == 5000000\n\n\n"
        "def test_other():\n    assert f(1000000) == 1000000 and 'x' * 5 == 'xxxxx'\n")
    from swcompany.test_checks import prune_tests

    source = "def count(text):\n    return len(text.split())\n"
    pruned = prune_tests("from wc import count\n\n\ndef test_big():\n    assert count('a ' * 500000) == 500000\n", "wc", source)
    assert "count('a ' * 1000) == 1000" in pruned  # QA's test files and every fix round's get it


def test_approx_given_math_isclose_keywords_says_rel_and_abs():
    """The 1.5B unit converter's tests: `pytest.approx(x, rel_tol=1e-2)`, a TypeError whatever the code did."""
    from swcompany.test_checks import approx_keywords_renamed, prune_tests

    tests = ("import pytest\nfrom pytest import approx\n\n\ndef test_c():\n"
             "    assert c(1) == pytest.approx(33.8, rel_tol=1e-2)\n    assert c(2) == approx(35.6, abs_tol=0.1, rel=0)\n"
             "    assert math.isclose(c(3), 37.4, rel_tol=1e-3)\n")
    assert approx_keywords_renamed(tests) == tests.replace("33.8, rel_tol=", "33.8, rel=").replace("abs_tol=0.1", "abs=0.1")
    pruned = prune_tests(f"from conv import c\n{tests}", "conv", "def c(x):\n    return x * 1.8 + 32\n")
    assert "approx(33.8, rel=1e-2)" in pruned


def test_a_value_rounded_to_fewer_places_than_its_literal_rounds_to_the_literals_places():
    """The unit converter's `round(converter.convert(1, "miles"), 2) == 0.000621`: 0.0 whatever the code did."""
    from swcompany.test_checks import prune_tests, roundings_widened

    tests = ("def test_miles(converter):\n    assert round(converter.convert(1, 'miles'), 2) == 0.000621\n"
             "    assert 3.14 == round(pi(), 1)\n    assert round(km(1), 2) == 1.5\n    assert round(km(2), 1) == 3\n")
    widened = roundings_widened(tests)
    assert "round(converter.convert(1, 'miles'), 6) == 0.000621" in widened and "3.14 == round(pi(), 2)" in widened
    assert "round(km(1), 2) == 1.5" in widened and "round(km(2), 1) == 3\n" in widened  # places enough, or an int
    source = "def pi():\n    return 3.14159\n"
    assert "round(pi(), 2)" in prune_tests("from conv import pi\n\n\ndef test_pi():\n    assert 3.14 == round(pi(), 1)\n",
                                         "conv", source)


def test_the_text_of_an_exception_pytest_raises_caught_is_read_from_its_value():
    """The password generator's `assert str(e) == "Length must be greater than 0"`: pytest's wrapper's text."""
    from swcompany.test_checks import exception_infos_read

    tests = ("def test_length():\n    with pytest.raises(ValueError) as e:\n        generate(0)\n"
             "    assert str(e) == 'Length must be greater than 0'\n    assert 'Length' in repr(e)\n    assert str(x) == 'x'\n")
    assert exception_infos_read(tests) == tests.replace("str(e)", "str(e.value)").replace("repr(e)", "repr(e.value)")


def test_a_file_fixture_read_as_an_object_becomes_a_parameter():
    """The pomodoro timer's CLI tests: `session_storage.load_sessions()` in tests not asking for it."""
    from swcompany.test_checks import file_fixtures_as_parameters, prune_tests

    tests = ("import pytest\nfrom pomodoro.storage import SessionStorage\n\n\n@pytest.fixture\ndef session_storage(tmp_path):\n"
             "    return SessionStorage(str(tmp_path / 's.json'))\n\n\n"
             "def test_ac1(tmp_path):\n    session_storage.load_sessions()\n    assert session_storage.sessions == []\n\n\n"
             "def test_ac2():\n    s = session_storage()\n    assert s\n\n\n"
             "def test_ac3(session_storage=None):\n    assert session_storage is None\n")
    assert file_fixtures_as_parameters(tests) == tests.replace("def test_ac1(tmp_path):", "def test_ac1(tmp_path, session_storage):")
    source = "class SessionStorage:\n    def __init__(self, path):\n        self.sessions = []\n\n    def load_sessions(self):\n        pass\n"
    assert "def test_ac1(tmp_path, session_storage):" in prune_tests(tests, "pomodoro.storage", source)
