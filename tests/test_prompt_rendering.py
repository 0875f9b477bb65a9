import pytest

from swcompany import prompts
from swcompany.errors import ConfigError


def test_packaged_prompts_render():
    text = prompts.render("prompts/pm.user.j2", idea="a todo app")
    assert "a todo app" in text


def test_undefined_variable_fails_loudly():
    with pytest.raises(ConfigError, match="pm.user.j2.*idea"):
        prompts.render("prompts/pm.user.j2")


def test_override_folder_wins_and_falls_back(tmp_path):
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "pm.user.j2").write_text("CUSTOM {{ idea }}")
    assert prompts.render("prompts/pm.user.j2", tmp_path, idea="x") == "CUSTOM x"
    assert "x" in prompts.render("prompts/architect.user.j2", tmp_path, prd_json="x", prd_markdown="")


def test_packaged_prompts_ship_with_the_package():
    names = prompts.template_names("prompts")
    assert "prompts/pm.system.j2" in names and "prompts/engineer.user.j2" in names


def test_packaged_templates_use_only_the_variables_their_stage_provides():
    from swcompany.stages.registry import BUILTIN

    prompts.check_templates(None, list(BUILTIN.values()), packaged=True)


def test_the_engineer_prompt_holds_no_signature_a_small_model_could_copy():
    """HumanEval/60 on the 1.5B model: the rule's example `-> list[str]` became `sum_to_n(n) -> list[str]`,
    returning a list of strings instead of the sum (and fizz_buzz got the same annotation)."""
    text = prompts.render("prompts/engineer.system.j2")
    assert "->" not in text and "def " not in text
    assert "Keep every signature exactly as the interface gives it" in text
