"""No key, bearer token or Authorization value reaches anything a run produces."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import FAKE_KEY, cli_args, run_cli
from fake_llm_server import FakeLLMServer, Reply
from fault_cases import everything_produced
from scenario import Scenario

ANTHROPIC_KEY = "sk-ant-api03-LEAKCHECKleakcheckLEAKCHECK0000"
CUSTOM_KEY = "custom-provider-key-LEAKCHECK-42"
SECRETS = [FAKE_KEY, ANTHROPIC_KEY, CUSTOM_KEY]


def assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    assert "Bearer " not in text


@pytest.fixture(autouse=True)
def keys(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    monkeypatch.setenv("MY_LLM_KEY", CUSTOM_KEY)
    monkeypatch.setenv("SWCOMPANY_MAX_RETRIES", "1")


# One variant of each runs as a real process (litellm's own loggers write to the real stderr); those are
# in the slow tier because each pays litellm's import again.
IN_A_PROCESS = pytest.mark.slow


@pytest.mark.parametrize("flags", [pytest.param(["-v"], marks=IN_A_PROCESS), ["--debug"], ["--json"], ["-v", "--json"]])
def test_successful_runs_leak_nothing(fake_server, flags):
    proc = run_cli("new", "todo", "--name", "t", *cli_args(fake_server), *flags, subprocess_=flags == ["-v"])
    assert proc.returncode == 0, proc.stderr
    assert fake_server.calls()[0].headers["authorization"] == f"Bearer {FAKE_KEY}"  # it was really sent
    assert_clean(everything_produced(Path("workspace/t"), proc.stdout, proc.stderr))


@pytest.mark.parametrize("status", [401, 500])
@pytest.mark.parametrize("flags", [["-v"], pytest.param(["--debug"], marks=IN_A_PROCESS), ["--json"]])
def test_failures_that_echo_the_key_leak_nothing(status, flags):
    # Providers echo keys in errors ("Incorrect API key provided: sk-...") and headers.
    echo = f"Incorrect API key provided: {FAKE_KEY}. Authorization: Bearer {FAKE_KEY}"
    scenario = Scenario(overrides={"pm": lambda req: Reply(status=status, content=echo)})
    with FakeLLMServer(scenario) as server:
        proc = run_cli("new", "todo", "--name", "t", *cli_args(server), *flags, subprocess_=flags == ["--debug"])
    assert proc.returncode == 4
    assert_clean(everything_produced(Path("workspace/t"), proc.stdout, proc.stderr))


def test_custom_key_variable_is_used_and_never_written(fake_server, monkeypatch):
    monkeypatch.setenv("SWCOMPANY_API_KEY_ENV", "MY_LLM_KEY")
    proc = run_cli("new", "todo", "--name", "t", *cli_args(fake_server), "-v")
    assert proc.returncode == 0, proc.stderr
    assert fake_server.calls()[0].headers["authorization"] == f"Bearer {CUSTOM_KEY}"
    produced = everything_produced(Path("workspace/t"), proc.stdout, proc.stderr)
    assert_clean(produced)
    assert "MY_LLM_KEY" in produced  # the variable's *name* is fine to record


def test_config_show_never_prints_keys(monkeypatch):
    monkeypatch.setenv("SWCOMPANY_API_KEY_ENV", "MY_LLM_KEY")
    proc = run_cli("config", "show")
    assert_clean(proc.stdout + proc.stderr)


@pytest.mark.parametrize("flags", [["-v"], pytest.param(["--debug"], marks=IN_A_PROCESS), ["--json"]])
def test_key_behind_an_ordinary_variable_name_is_scrubbed(monkeypatch, flags):
    # Neither MY_VAR nor its value looks like a secret: only knowing api_key_env finds it.
    ordinary = "plainvalue-0123456789-LEAKCHECK"
    monkeypatch.setenv("MY_VAR", ordinary)
    monkeypatch.setenv("SWCOMPANY_API_KEY_ENV", "MY_VAR")
    scenario = Scenario(overrides={"pm": lambda req: Reply(status=400, content=f"key {ordinary} is not allowed here")})
    with FakeLLMServer(scenario) as server:
        proc = run_cli("new", "todo", "--name", "t", *cli_args(server), *flags, subprocess_=flags == ["--debug"])
        assert server.calls()[0].headers["authorization"] == f"Bearer {ordinary}"
    assert proc.returncode == 4
    produced = everything_produced(Path("workspace/t"), proc.stdout, proc.stderr)
    assert ordinary not in produced and "is not allowed here" in produced  # scrubbed, not dropped


def test_scrub_learns_remembered_values():
    from swcompany.redact import remember_secret, scrub

    remember_secret("ordinary-value-for-scrub-test")
    assert scrub("error: ordinary-value-for-scrub-test was refused", environ={}) == "error: *** was refused"
