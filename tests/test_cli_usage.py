"""The written argparse command line, rebuilt from source text, judges the command lines tests pass."""

from __future__ import annotations

from scenario import CODE

from swcompany.cli_usage import command_line
from swcompany.test_checks import problems_in_test_file, prune_tests

# The password generator's CLI as the 1.5B model wrote it (session 22's benchmark run).
PASSWORDS = """import argparse
from passwords.core import generate_password


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Password Generator")
    parser.add_argument("--length", type=int, required=True, help="Length of the password")
    parser.add_argument("--charset", type=str, required=True, help="Character set")
    parser.add_argument("-q", action="store_true")
    args = parser.parse_args(argv)
    print(generate_password(args.length, args.charset))
    return 0
"""


def test_the_written_parser_is_rebuilt_and_names_what_it_rejects():
    cli = command_line(PASSWORDS)
    assert cli is not None and cli.entries == {"main": True}
    assert cli.refusal([]) == ("the following arguments are required: --length, --charset; "
                               "usage: prog [-h] --length LENGTH --charset CHARSET [-q]")
    assert cli.refusal(["--length", "8", "--charset", "ab", "-q"]) is None
    assert cli.refusal(["--length", "eight", "--charset", "ab"]).startswith("argument --length: invalid int value: 'eight'")
    assert cli.refusal(["--help"]) is None  # exits 0
    todo = command_line(CODE["todo/cli.py"])  # subcommands, one built in a chained call
    assert todo is not None
    assert todo.refusal(["add", "milk"]) is None and todo.refusal(["list"]) is None
    assert todo.refusal(["add"]).startswith("the following arguments are required: title")
    assert todo.refusal(["remove", "1"]).startswith("argument cmd: invalid choice: 'remove'")
    units = ('import argparse\n\ndef main():\n    p = argparse.ArgumentParser()\n    p.add_argument("value", type=float)\n'
             '    p.add_argument("unit", choices=["m", "km"])\n    args = p.parse_args()\n')
    assert command_line(units).entries == {"main": False}  # reads the process's sys.argv
    assert command_line(units).refusal(["1", "mi"]).startswith("argument unit: invalid choice: 'mi'")


def test_a_parser_that_cannot_be_read_from_the_text_gives_no_verdict():
    helper = PASSWORDS.replace('    args = parser.parse_args(argv)', '    add_common(parser)\n    args = parser.parse_args(argv)')
    looped = PASSWORDS.replace('    parser.add_argument("-q", action="store_true")',
                               '    for flag in ("-q", "-v"):\n        parser.add_argument(flag, action="store_true")')
    custom = PASSWORDS.replace('action="store_true"', 'action=Custom')
    two = PASSWORDS + "\n\ndef other(argv):\n    return argparse.ArgumentParser().parse_args(argv)\n"
    for source in (helper, looped, custom, two, "def main(argv):\n    return 0\n", "def (:\n"):
        assert command_line(source) is None
    typed = PASSWORDS.replace("type=int", "type=positive_int")  # the module's own type: any text passes
    assert command_line(typed).refusal(["--length", "eight", "--charset", "ab"]) is None


def test_tests_running_the_cli_with_a_command_line_it_rejects_are_found():
    """The password generator's three tests called `main()` with both options required: SystemExit 2 each."""
    tests = ("import sys\nimport pytest\nfrom passwords.cli import main\n\n\n"
             "def test_ac1_bare(capsys):\n    assert main() == 0\n\n\n"
             "def test_ac2_ok(capsys):\n    assert main(['--length', '8', '--charset', 'ab']) == 0\n\n\n"
             "def test_ac3_expected_exit():\n    with pytest.raises(SystemExit):\n        main(['--length', 'x'])\n\n\n"
             "def test_ac4_argv(monkeypatch):\n    monkeypatch.setattr(sys, 'argv', ['prog', '--length', '8'])\n"
             "    assert main() == 0\n\n\n"
             "def test_ac5_argv_ok(monkeypatch):\n    monkeypatch.setattr('sys.argv', ['prog', '--length', '8', '--charset', 'a'])\n"
             "    assert main() == 0\n\n\n"
             "def test_ac6_unknown(args):\n    assert main(args) == 0\n")
    usage = "usage: prog [-h] --length LENGTH --charset CHARSET [-q]"
    assert problems_in_test_file(tests, "passwords.cli", PASSWORDS) == [
        f"main() is a usage error for the written command line (the following arguments are required: --length, "
        f"--charset; {usage}), so argparse exits with SystemExit 2",
        f"main() is a usage error for the written command line (the following arguments are required: --charset; "
        f"{usage}), so argparse exits with SystemExit 2",
        "test_ac6_unknown takes args, which no fixture provides (define it with @pytest.fixture in the file, or use "
        "tmp_path, capsys, monkeypatch)"]
    pruned = prune_tests(tests, "passwords.cli", PASSWORDS)
    assert "def test_ac1_bare" not in pruned and "def test_ac4_argv" not in pruned
    assert all(f"def {name}" in pruned for name in ("test_ac2_ok", "test_ac3_expected_exit", "test_ac5_argv_ok"))
    assert "# swcompany dropped test_ac1_bare: main() is a usage error for the written command line" in pruned
    # the pomodoro timer's CLI tests set sys.argv with unittest.mock's patch
    mocked = ("from unittest.mock import patch\nimport sys\nfrom passwords.cli import main\n\n\n"
              "def test_ac1_patch():\n    with patch('sys.argv', ['prog', '10']):\n        assert main() == 0\n\n\n"
              "def test_ac2_object():\n    with patch.object(sys, 'argv', ['prog', '--length', '8', '--charset', 'a']):\n"
              "        assert main() == 0\n")
    pruned = prune_tests(mocked, "passwords.cli", PASSWORDS)
    assert "# swcompany dropped test_ac1_patch: main() is a usage error for the written command line" in pruned
    assert "def test_ac2_object" in pruned


def test_a_path_built_at_run_time_stands_in_for_a_value():
    """The word counter's test passed two files, `main([str(path1), str(path2)])`, to a CLI taking one."""
    cli = ("import argparse\n\n\ndef main(argv=None):\n    parser = argparse.ArgumentParser()\n"
           "    parser.add_argument('file_path')\n    parser.add_argument('--top', type=int, default=10)\n"
           "    args = parser.parse_args(argv)\n    return 0\n")
    tests = ("from counter.cli import main\n\n\n"
             "def test_ac1_two(tmp_path):\n    path1, path2 = tmp_path / 'a', tmp_path / 'b'\n"
             "    assert main([str(path1), str(path2)]) == 0\n\n\n"
             "def test_ac2_one(tmp_path):\n    assert main([str(tmp_path / 'a'), '--top', f'{3}']) == 0\n\n\n"
             "def test_ac3_flag(tmp_path):\n    assert main([f'--{\"top\"}', '3', 'a']) == 0\n")
    assert problems_in_test_file(tests, "counter.cli", cli) == [
        "main([str(path1), str(path2)]) is a usage error for the written command line (unrecognized arguments: "
        "str(path2); usage: prog [-h] [--top TOP] file_path), so argparse exits with SystemExit 2"]


def test_dropped_tests_leave_no_stray_comments_and_each_note_once():
    """The roman numeral CLI's file: six tests dropped, their trailing comments left indented in the
    file, and one note repeated six times."""
    cli = ("import argparse\n\n\ndef main(argv=None) -> int:\n    parser = argparse.ArgumentParser()\n"
           "    parser.add_argument('--input', required=True)\n    args = parser.parse_args(argv)\n    return 0\n")
    one = ("def test_ac{n}(tmp_path):\n    path = tmp_path / 'in.txt'\n    with pytest.raises(SystemExit) as e:\n"
           "        main([str(path)])\n    assert e.value.code == 0\n    \n    # Check that the exit code is 0\n\n")
    tests = ("import pytest\nfrom roman.cli import main\n\n\n" + "".join(one.format(n=n) for n in (1, 2))
             + "def test_ac3():\n    assert main(['--input', 'a']) == 0\n")
    pruned = prune_tests(tests, "roman.cli", cli)
    assert "# Check that the exit code" not in pruned and "def test_ac3" in pruned and "def test_ac1" not in pruned
    assert pruned.count("# swcompany: main([str(path)]) == 0 expected, not SystemExit") == 1


def test_the_program_name_first_in_a_command_line_is_dropped_when_the_parser_wants_it_gone():
    """The CSV converter's user run: `main(argv=["convert_csv_to_cli", "--input", ...])`, as sys.argv
    holds it; argparse refused the name (`unrecognized arguments`)."""
    tests = ("import pytest\nfrom passwords.cli import main\n\n\n"
             "def test_ac1_keyword():\n    assert main(argv=['password_cli', '--length', '8', '--charset', 'ab']) == 0\n\n\n"
             "def test_ac2_script():\n    assert main(['main.py', '--length', '8', '--charset', 'ab']) == 0\n\n\n"
             "def test_ac3_expected_exit():\n    with pytest.raises(SystemExit):\n        main(['prog', '--length', '8', '--charset', 'ab'])\n\n\n"
             "def test_ac4_stray_word():\n    assert main(['hello', '--length', '8', '--charset', 'ab']) == 0\n")
    pruned = prune_tests(tests, "passwords.cli", PASSWORDS)
    assert "    assert main(argv=['--length', '8', '--charset', 'ab']) == 0\n" in pruned
    assert "    assert main(['--length', '8', '--charset', 'ab']) == 0\n" in pruned
    assert "main(['prog', '--length'" in pruned  # a usage error may be what a test expecting an exit checks
    # "hello" is no program's name: left to the usage gate, which drops the test
    assert "# swcompany dropped test_ac4_stray_word: main(['hello', '--length', '8', '--charset', 'ab']) is a usage error" in pruned
    todo = ("from todo import cli\n\n\ndef test_add(tmp_path):\n    db = str(tmp_path / 't.db')\n"
            "    assert cli.main(['todo', '--db', db, 'add', 'milk']) == 0\n")
    assert "cli.main(['--db', db, 'add', 'milk'])" in prune_tests(todo, "todo.cli", CODE["todo/cli.py"])
    # the CSV converter's re-run: the command line held in a name first
    held = todo.replace("    assert cli.main(['todo', '--db', db, 'add', 'milk']) == 0\n",
                        "    args = ['todo', '--db', db, 'add', 'milk']\n    assert cli.main(args) == 0\n")
    assert "    args = ['--db', db, 'add', 'milk']\n" in prune_tests(held, "todo.cli", CODE["todo/cli.py"])
    twice = held.replace("    assert cli.main", "    args = ['todo', 'list']\n    assert cli.main")
    assert "    args = ['todo', '--db', db, 'add', 'milk']\n" in prune_tests(twice, "todo.cli", CODE["todo/cli.py"])


def test_a_process_command_line_without_the_program_name_gets_one():
    """The password generator's CLI test set `sys.argv = ['--length', '10', '--charset', 'abc']`: argparse
    took `--length` for the program's name, and three fix rounds rewrote the test around the usage error."""
    tests = ("import sys\nfrom passwords.cli import main\n\n\n"
             "def test_ac1(monkeypatch):\n    monkeypatch.setattr(sys, 'argv', ['--length', '10', '--charset', 'abc'])\n"
             "    assert main() == 0\n\n\n"
             "def test_ac2():\n    sys.argv = []\n    assert main() == 0\n\n\n"
             "def test_ac3(monkeypatch):\n    monkeypatch.setattr('sys.argv', ['pw', '--length', '10', '--charset', 'abc'])\n"
             "    assert main() == 0\n")
    fixed = prune_tests(tests, "passwords.cli", PASSWORDS)
    assert "monkeypatch.setattr(sys, 'argv', ['prog', '--length', '10', '--charset', 'abc'])" in fixed
    assert "test_ac2: main() is a usage error" in fixed  # judged with the name in place: both options are missing
    from swcompany.cli_test_checks import program_names_added
    assert "    sys.argv = ['prog']\n" in program_names_added(tests)  # ArgumentParser() fails on an empty sys.argv
    assert "monkeypatch.setattr('sys.argv', ['pw', '--length', '10', '--charset', 'abc'])" in fixed
