import pytest

from swcompany.config import load_settings, read_config_file
from swcompany.errors import ConfigError


def test_precedence_defaults_file_env_flags(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model: from-file\njobs: 2\nfix_rounds: 5\n")
    env = {"SWCOMPANY_MODEL": "from-env", "SWCOMPANY_JOBS": "3"}
    s = load_settings({"model": "from-flag"}, path=cfg, environ=env)
    assert (s.model, s.jobs, s.fix_rounds, s.temperature) == ("from-flag", 3, 5, 0.2)
    s = load_settings({}, path=cfg, environ=env)
    assert s.model == "from-env"
    s = load_settings({}, path=cfg, environ={})
    assert s.model == "from-file"


def test_saved_run_settings_beat_file_but_not_flags(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model: from-file\n")
    assert load_settings({}, path=cfg, environ={}, saved={"model": "saved"}).model == "saved"
    assert load_settings({"model": "flag"}, path=cfg, environ={}, saved={"model": "saved"}).model == "flag"


def test_stage_model_override(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model: base\nstage_models:\n  engineer: coder\n")
    s = load_settings({}, path=cfg, environ={})
    assert s.model_for("engineer") == "coder" and s.model_for("pm") == "base"


def test_unknown_key_names_line(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model: x\n\nmodle: y\n")
    with pytest.raises(ConfigError, match="line 3: unknown key 'modle'"):
        read_config_file(cfg)


def test_syntax_error_names_line(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model: x\njobs: [1, 2\n")
    with pytest.raises(ConfigError, match="line"):
        read_config_file(cfg)


def test_invalid_value_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="jobs"):
        load_settings({"jobs": 0}, path=tmp_path / "none.yaml", environ={})


def test_settings_hold_no_key_values(tmp_path, monkeypatch):
    monkeypatch.setenv("MY_KEY", "sk-very-secret-value-123456")
    s = load_settings({"api_key_env": "MY_KEY"}, path=tmp_path / "none.yaml", environ={})
    assert "sk-very-secret" not in str(s.public_dump())
