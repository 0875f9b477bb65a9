"""Small things a new user meets (issue 14, polish): help, stdin, typos, listings, narrow terminals."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from conftest import cli_args, run_cli

COMMANDS = [["new"], ["resume"], ["status"], ["doctor"], ["models"], ["company", "show"], ["config", "show"],
            ["config", "init"], ["config", "doctor"], ["prompts", "export"], ["prompts", "list"]]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_short_help_with_an_example_that_fits_80_columns(command, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    proc = run_cli(*command, "-h")
    assert proc.returncode == 0 and proc.stdout.startswith("Usage: ")
    assert proc.stdout.splitlines()[0].split(" ", 2)[2].startswith(f"{' '.join(command)} [")
    examples = [ln for ln in proc.stdout.splitlines() if ln.strip().startswith(("swcompany ", "echo ", "Example: "))]
    assert examples, proc.stdout
    for line in proc.stdout.splitlines():
        assert len(line) <= 80, line
    # An example never continues on the next line (wrapped mid-command).
    lines = proc.stdout.splitlines()
    for i, line in enumerate(lines[:-1]):
        if line.strip().startswith("swcompany ") and lines[i + 1].startswith("    ") and lines[i + 1].strip():
            assert lines[i + 1].strip().startswith(("swcompany ", "echo ")), (line, lines[i + 1])


def test_config_show_help_states_the_precedence_the_right_way_round():
    text = " ".join(run_cli("config", "show", "--help").stdout.split())
    assert "Later layers win: defaults, then the config file, then SWCOMPANY_* variables, then flags." in text


def test_idea_from_stdin_when_no_argument_is_given(fake_model):
    proc = run_cli("new", "--name", "t", *cli_args(fake_model), "--no-tests", "--json", input="a todo app\n")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(Path("workspace/t/.swcompany/state.json").read_text())["idea"] == "a todo app"


def test_no_idea_and_an_empty_stdin_says_no_idea_given():
    proc = run_cli("new", input="")
    assert proc.returncode == 2 and proc.stderr.startswith("error: no idea given\n")


def test_config_key_typo_suggests_the_key(tmp_path):
    (tmp_path / "home" / "config.yaml").write_text("model: x\nfix_round: 2\n")
    proc = run_cli("config", "show")
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[0].endswith("line 2: unknown key 'fix_round'; did you mean 'fix_rounds'?")


def test_config_type_errors_name_the_file_line_or_variable(tmp_path, monkeypatch):
    config = tmp_path / "home" / "config.yaml"
    config.write_text("model: x\njobs: many\n")
    proc = run_cli("config", "show")
    assert proc.returncode == 2 and f"invalid setting jobs (from config file {config}, line 2): " in proc.stderr
    config.write_text("model: x\n")
    monkeypatch.setenv("SWCOMPANY_FIX_ROUNDS", "lots")
    proc = run_cli("config", "show")
    assert proc.returncode == 2 and "invalid setting fix_rounds (from $SWCOMPANY_FIX_ROUNDS): " in proc.stderr
    monkeypatch.delenv("SWCOMPANY_FIX_ROUNDS")
    proc = run_cli("new", "todo", "--jobs", "0")
    assert proc.returncode == 2 and "invalid setting jobs (from the command line): " in proc.stderr


def test_unknown_swcompany_variables_are_warned_about(monkeypatch):
    monkeypatch.setenv("SWCOMPANY_FIX_ROUND", "2")
    proc = run_cli("config", "show")
    assert proc.returncode == 0
    assert proc.stderr == ("warning: SWCOMPANY_FIX_ROUND is not a setting and is ignored; "
                           "did you mean 'SWCOMPANY_FIX_ROUNDS'?\n")


def test_model_name_typo_suggests_a_known_model():
    proc = run_cli("new", "todo", "--model", "gpt-4o-minii")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: litellm cannot map model 'gpt-4o-minii' to a provider; did you mean 'gpt-4o-mini")


def test_stage_name_typo_suggests_the_stage(fake_model):
    assert run_cli("new", "todo", "--name", "t", *cli_args(fake_model), "--no-tests").returncode == 0
    proc = run_cli("resume", "workspace/t", "--from", "architekt")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: unknown stage 'architekt'; did you mean 'architect'?\nhint: choose one of pm, ")


def test_resume_of_a_missing_folder_says_it_does_not_exist():
    proc = run_cli("resume", "workspace/nope")
    assert proc.returncode == 2 and proc.stderr.startswith("error: workspace/nope does not exist\n")


def test_status_in_a_folder_of_workspaces_lists_them(fake_model):
    for name in ("a", "b"):
        assert run_cli("new", "todo", "--name", name, *cli_args(fake_model), "--no-tests").returncode == 0
    Path("workspace/notes").mkdir()
    proc = run_cli("status", "workspace")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [ln.split(":")[0] for ln in lines] == ["a", "b"]
    assert all(": done (exit 0), " in ln and "; next: cd " in ln for ln in lines)
    data = json.loads(run_cli("status", "workspace", "--json").stdout)
    assert [d["name"] for d in data] == ["a", "b"]


def test_status_prints_the_test_count_line_once(fake_model):
    assert run_cli("new", "todo", "--name", "t", *cli_args(fake_model)).returncode == 0
    out = run_cli("status", "workspace/t").stdout
    assert [ln for ln in out.splitlines() if ln.startswith("tests:")] == [
        "tests: 2 passed, 0 failed, 0 errors (passed, 0 fix rounds); report: docs/qa_report.md"]


def test_new_inside_a_workspace_warns_before_nesting(fake_model):
    assert run_cli("new", "todo", "--name", "t", *cli_args(fake_model), "--no-tests").returncode == 0
    inner = Path("workspace/t").resolve()
    proc = run_cli("new", "todo", "--name", "u", "-o", str(inner / "sub"), *cli_args(fake_model), "--no-tests")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines()[0] == (f"warning: {inner / 'sub'} is inside the workspace {inner}: the new workspace's "
                                           "repository will be nested in its repository (use -o to put it elsewhere)")


def test_summary_totals_are_workspace_totals_and_numbers_survive_a_narrow_terminal(fake_model):
    from swcompany import api
    from swcompany.ui import ConsoleUI

    assert run_cli("new", "todo", "--name", "t", *cli_args(fake_model), "--no-tests").returncode == 0
    result = api.status("workspace/t")
    for mode in ("plain", "rich"):
        ui = ConsoleUI(mode)
        buffer = io.StringIO()
        ui.console = Console(file=buffer, width=40, force_terminal=mode == "rich", no_color=True, highlight=False)
        ui.summary(result)
        text = buffer.getvalue()
        assert f"{result.usage.tokens:,}" in text and f"${result.usage.cost:.4f}" in text, text
        for st in result.stages.values():
            assert f"{st.usage.tokens:,}" in text
        assert "".join(str(result.workspace).split()) in "".join(text.split()) and "…" not in text  # wrapped, never cut
        # one model for every stage: said once above the table, not a column folded into every row
        assert text.startswith(f"model: {next(iter(result.stages.values())).model}\n") and " model " not in text


def test_stage_models_typo_suggests_the_stage(tmp_path):
    (tmp_path / "home" / "config.yaml").write_text("model: gpt-4o-mini\nstage_models: {enginer: gpt-4o}\n")
    proc = run_cli("new", "todo")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: stage_models names 'enginer', which is not a stage of this company; "
                                  "did you mean 'engineer'?\n")
