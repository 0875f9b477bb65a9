"""Shared fixtures: the fake LLM server, an isolated config/home, and a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fake_llm_server import FakeLLMServer  # noqa: E402
from fake_model import FakeModel  # noqa: E402
from scenario import Scenario  # noqa: E402

FAKE_KEY = "sk-test-FAKEKEY0123456789abcdefSECRET"


@pytest.fixture
def fake_server():
    server = FakeLLMServer(Scenario()).start()
    yield server
    server.stop()


@pytest.fixture
def fake_model(monkeypatch):
    """The Scenario answered in-process at the gateway seam: for everything but the wire itself."""
    from swcompany.llm import Gateway

    model = FakeModel(Scenario())
    monkeypatch.setattr(Gateway, "default_transport", model)
    return model


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


def cli_args(server: FakeLLMServer | FakeModel, *extra: str) -> list[str]:
    """Common flags pointing a run at the fake server (or, for the in-process fake model, just the model)."""
    where = ["--base-url", server.base_url] if server.base_url else []
    return ["--model", "openai/gpt-4o-mini", *where, *extra]


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 120,
            input: str | None = None, subprocess_: bool = False) -> subprocess.CompletedProcess:
    """Run ``swcompany`` and return a CompletedProcess (returncode, stdout, stderr).

    By default in-process through typer's CliRunner (litellm is imported once per test
    session, which keeps the suite fast); ``subprocess_=True`` runs the real installed
    console script, for signals, locks and start-up behaviour.
    """
    if subprocess_ or cwd is not None or env is not None:
        exe = Path(sys.executable).with_name("swcompany")
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "swcompany"]
        return subprocess.run([*cmd, *args], cwd=cwd, env=env or os.environ.copy(), capture_output=True,
                              text=True, timeout=timeout, input=input)
    from typer.testing import CliRunner

    from swcompany.cli import app

    result = CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, result.stderr)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave the slow tier (kill -9, signals, failover, leak checks in a real process) to ``-m slow``.

    The default suite stays within two minutes on two cores; CI runs ``-m slow`` right after it. A
    test named by its node id, or any ``-m`` expression, runs as asked.
    """
    if config.option.markexpr or any("::" in arg for arg in config.args):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]
