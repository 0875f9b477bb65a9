"""The provider recipes of the README: model strings map, keys are looked for where documented."""

from pathlib import Path

import pytest

from swcompany.config import load_settings
from swcompany.errors import ConfigError
from swcompany.llm import NO_KEY_PLACEHOLDER, api_key_for, preflight

RECIPES = [
    # (model, env needed, flags)
    ("gpt-4o-mini", "OPENAI_API_KEY", {}),
    ("anthropic/claude-3-5-sonnet-latest", "ANTHROPIC_API_KEY", {}),
    ("azure/my-deployment", "AZURE_API_KEY", {}),
]


@pytest.mark.parametrize("model,variable,flags", RECIPES)
def test_missing_key_is_named(model, variable, flags, monkeypatch, tmp_path):
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "AZURE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings({"model": model, **flags}, path=tmp_path / "none.yaml", environ={})
    with pytest.raises(ConfigError, match=variable):
        preflight(settings, ["pm"])


def test_azure_with_env_passes(monkeypatch, tmp_path):
    for name, value in {"AZURE_API_KEY": "k" * 20, "AZURE_API_BASE": "https://x.openai.azure.com",
                        "AZURE_API_VERSION": "2024-06-01"}.items():
        monkeypatch.setenv(name, value)
    preflight(load_settings({"model": "azure/my-deployment"}, path=tmp_path / "none.yaml", environ={}), ["pm"])


def test_ollama_needs_no_key(monkeypatch, tmp_path):
    monkeypatch.delenv("OPENAI_API_KEY")
    preflight(load_settings({"model": "ollama/qwen2.5-coder"}, path=tmp_path / "none.yaml", environ={}), ["pm"])


def test_keyless_openai_compatible_server_gets_a_placeholder_but_other_providers_keep_theirs(monkeypatch, tmp_path):
    monkeypatch.delenv("OPENAI_API_KEY")
    s = load_settings({"model": "openai/local", "base_url": "http://127.0.0.1:1/v1"}, path=tmp_path / "n.yaml", environ={})
    preflight(s, ["pm"])
    assert api_key_for(s, "openai/local") == NO_KEY_PLACEHOLDER
    assert api_key_for(s, "azure/deployment") is None


def test_api_key_env_is_read_and_must_exist(monkeypatch, tmp_path):
    s = load_settings({"model": "openai/x", "api_key_env": "MY_PROVIDER_KEY"}, path=tmp_path / "n.yaml", environ={})
    with pytest.raises(ConfigError, match="MY_PROVIDER_KEY"):
        api_key_for(s, "openai/x")
    monkeypatch.setenv("MY_PROVIDER_KEY", "secret-value-123")
    assert api_key_for(s, "openai/x") == "secret-value-123"


def test_keyless_openai_compatible_run_end_to_end(fake_server, monkeypatch):
    """The recipe for vLLM / llama.cpp / LM Studio / Ollama's /v1: no key at all."""
    from conftest import run_cli

    monkeypatch.delenv("OPENAI_API_KEY")
    proc = run_cli("new", "todo", "--name", "t", "--model", "openai/qwen2.5-coder", "--base-url", fake_server.base_url,
                   "--no-tests")
    assert proc.returncode == 0, proc.stderr
    assert fake_server.calls()[0].headers["authorization"] == f"Bearer {NO_KEY_PLACEHOLDER}"


def _root(server) -> str:
    return server.base_url.removesuffix("/v1")


@pytest.mark.parametrize("model,env,base", [
    ("anthropic/claude-3-5-sonnet-latest", {"ANTHROPIC_API_KEY": "sk-ant-test-key-000000000000"}, "root"),
    ("ollama/qwen2.5-coder", {}, "root"),
    ("ollama_chat/qwen2.5-coder", {}, "root"),
    ("azure/my-deployment", {"AZURE_API_KEY": "azure-test-key-0000", "AZURE_API_VERSION": "2024-06-01"}, "env"),
])
def test_provider_recipes_end_to_end_over_their_own_protocols(fake_server, monkeypatch, model, env, base):
    """Each documented recipe runs the whole pipeline against the fake server speaking that protocol."""
    from conftest import run_cli

    monkeypatch.delenv("OPENAI_API_KEY")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    flags = ["--base-url", _root(fake_server)] if base == "root" else []
    if base == "env":
        monkeypatch.setenv("AZURE_API_BASE", _root(fake_server))
    proc = run_cli("new", "todo", "--name", "t", "--model", model, *flags)
    assert proc.returncode == 0, proc.stderr
    paths = {r.path.split("?")[0] for r in fake_server.calls()}
    expected = {"anthropic": "/v1/messages", "ollama": "/api/generate", "ollama_chat": "/api/chat",
                "azure": "/openai/deployments/my-deployment/chat/completions"}[model.split("/")[0]]
    assert paths == {expected}
    assert Path("workspace/t/docs/qa_report.json").exists()
