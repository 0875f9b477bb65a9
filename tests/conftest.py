"""Shared fixtures: the fake LLM server, an isolated config/home, and a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fake_llm_server import FakeLLMServer  # noqa: E402
from scenario import Scenario  # noqa: E402

FAKE_KEY = "sk-test-FAKEKEY0123456789abcdefSECRET"


@pytest.fixture
def fake_server():
    server = FakeLLMServer(Scenario()).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """No user config, no real keys, no network price map; a recognisable fake key."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SWCOMPANY_CONFIG", str(home / "config.yaml"))
    for name in list(os.environ):
        if name.startswith("SWCOMPANY_") and name != "SWCOMPANY_CONFIG":
            monkeypatch.delenv(name)
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    monkeypatch.setenv("SWCOMPANY_RETRY_BASE_DELAY", "0.01")
    monkeypatch.chdir(tmp_path)
    yield


def cli_args(server: FakeLLMServer, *extra: str) -> list[str]:
    """Common flags pointing a run at the fake server."""
    return ["--model", "openai/gpt-4o-mini", "--base-url", server.base_url, *extra]


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 120,
            input: str | None = None) -> subprocess.CompletedProcess:
    """Run the installed ``swcompany`` in a real subprocess."""
    exe = Path(sys.executable).with_name("swcompany")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "swcompany"]
    return subprocess.run([*cmd, *args], cwd=cwd, env=env or os.environ.copy(), capture_output=True,
                          text=True, timeout=timeout, input=input)
