"""The serve pieces that need no Redis: tokens, event flattening, metrics rendering, archives, compose file."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
import yaml

from conftest import FAKE_KEY

ROOT = Path(__file__).resolve().parent.parent
for _module in ("redis", "prometheus_client"):
    pytest.importorskip(_module, reason="the serve extra is not installed: pip install '.[test,serve]'")


def test_tokens_parse_and_match_in_constant_time():
    from swcompany.errors import ConfigError
    from swcompany.serve.auth import owner_of, parse_tokens

    tokens = parse_tokens("alice:aaaaaaaaaaaaaaaaaaaa, bob:bbbbbbbbbbbbbbbbbbbb\n# comment", "env")
    assert owner_of("Bearer aaaaaaaaaaaaaaaaaaaa", tokens) == "alice"
    assert owner_of("bearer bbbbbbbbbbbbbbbbbbbb", tokens) == "bob"
    assert owner_of("Bearer nope", tokens) is None and owner_of(None, tokens) is None
    assert owner_of("Basic aaaaaaaaaaaaaaaaaaaa", tokens) is None
    with pytest.raises(ConfigError, match="shorter"):
        parse_tokens("alice:short", "env")
    with pytest.raises(ConfigError, match="name:token"):
        parse_tokens("justatoken", "env")


def test_events_become_plain_json_without_secrets():
    from swcompany.artifacts import Usage
    from swcompany.events import Event
    from swcompany.serve.stream import event_dict

    event = Event("stage_failed", "pm", f"provider said: bad key {FAKE_KEY}",
                  {"usage": Usage(calls=1), "path": Path("/x"), "state": object()})
    out = event_dict(event)
    assert out["data"] == {"usage": Usage(calls=1).model_dump(), "path": "/x"}
    assert FAKE_KEY not in str(out)


def test_metrics_render_counters_and_cumulative_histograms():
    from swcompany.serve import metrics

    store: dict[str, str] = {}
    fake = type("FakeRedis", (), {})()
    fake.hincrbyfloat = lambda key, field, value: store.__setitem__(field, str(float(store.get(field, 0)) + value))
    fake.hgetall = lambda key: store

    class Pipe:
        def __enter__(self):
            return fake

        def __exit__(self, *exc):
            return False

    fake.pipeline = lambda transaction=False: Pipe()
    fake.execute = lambda: None
    metrics.inc(fake, "swcompany_runs_total", {"exit_code": 0})
    metrics.observe(fake, "swcompany_job_wait_seconds", 0.2)
    metrics.observe(fake, "swcompany_job_wait_seconds", 3.0)
    text = metrics.render(fake, lambda: {"swcompany_queue_depth": ("jobs waiting", 4.0)})[0].decode()
    assert 'swcompany_runs_total{exit_code="0"} 1.0' in text
    assert 'swcompany_job_wait_seconds_bucket{le="0.25"} 1.0' in text
    assert 'swcompany_job_wait_seconds_bucket{le="+Inf"} 2.0' in text
    assert "swcompany_job_wait_seconds_sum 3.2" in text and "swcompany_queue_depth 4.0" in text


def test_archive_keeps_git_and_drops_run_data(tmp_path):
    from swcompany.serve.archive import build_archive, chunks

    ws = tmp_path / "proj"
    for rel in (".git/HEAD", ".swcompany/state.json", "src/a.py", "docs/.swcompany-note.md"):
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text("x")
    data = b"".join(chunks(build_archive(ws)))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        names = set(tar.getnames())
    assert {"proj/.git/HEAD", "proj/src/a.py", "proj/docs/.swcompany-note.md"} <= names
    assert not [n for n in names if n.startswith("proj/.swcompany")]


def test_compose_runs_api_two_workers_and_persistent_redis():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["api"]["command"][0] == "serve" and services["worker"]["command"] == ["worker"]
    assert services["worker"]["deploy"]["replicas"] == 2
    assert "--appendonly" in services["redis"]["command"] and "yes" in services["redis"]["command"]
    assert "OPENAI_API_KEY" in services["worker"]["environment"] and "OPENAI_API_KEY" not in services["api"]["environment"]
    assert any("workspaces" in v for v in services["worker"]["volumes"]) and "workspaces" in compose["volumes"]


def test_serve_commands_need_the_extra_only_when_run(monkeypatch):
    from typer.testing import CliRunner

    from swcompany.cli import app

    proc = CliRunner().invoke(app, ["worker", "--help"])
    assert proc.exit_code == 0 and "--monitor-interval" in proc.stdout
    monkeypatch.delenv("REDIS_URL", raising=False)
    proc = CliRunner().invoke(app, ["worker"])
    assert proc.exit_code == 2 and "REDIS_URL" in proc.stderr
    proc = CliRunner().invoke(app, ["worker", "--redis-url", "redis://:secretpw@127.0.0.1:1/0"])
    assert proc.exit_code == 2 and "cannot reach Redis at redis://:***@127.0.0.1:1/0" in proc.stderr
    assert "secretpw" not in proc.stderr


def test_help_imports_no_serve_stack():
    """``swcompany --help`` stays fast: fastapi, rq, redis and litellm load only in their commands."""
    import subprocess
    import sys

    code = ("import sys\nfrom swcompany.cli import app\ntry:\n    app(['--help'], prog_name='swcompany')\n"
            "except SystemExit:\n    pass\n"
            "print(sorted(m for m in ('fastapi', 'rq', 'redis', 'uvicorn', 'litellm') if m in sys.modules), file=sys.stderr)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.stderr.strip().endswith("[]"), proc.stderr
