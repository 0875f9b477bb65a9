"""Provider faults met by the real litellm client: recover, or stop cleanly and resumably."""

from __future__ import annotations

import json

import pytest

from conftest import cli_args, run_cli
from fake_llm_server import FakeLLMServer, Reply
from fault_cases import Case, no_traceback, read_state, scripted
from scenario import PRD
from pathlib import Path

OK = 0
HTML = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
PRD_JSON = json.dumps(PRD)

CASES = [
    Case("429 with Retry-After, then ok", [Reply(status=429, headers={"Retry-After": "1"})], OK, calls=2),
    Case("429 without Retry-After, then ok", [Reply(status=429)], OK, calls=2),
    Case("500 then ok", [Reply(status=500)], OK, calls=2),
    Case("502 then ok", [Reply(status=502)], OK, calls=2),
    Case("503 then ok", [Reply(status=503)], OK, calls=2),
    Case("connection dropped mid-response, then ok", [Reply(drop_connection=True)], OK, calls=2),
    # A first byte later than the idle timeout: a local server's queue (another client's reply first) is waited
    # out up to queue_timeout; past it, the request is retried.
    Case("a first byte later than the timeout is a busy server, waited for", [Reply(content=PRD_JSON, delay=2.5)], OK,
         calls=1),
    Case("a first byte later than queue_timeout, then ok", [Reply(content="{}", delay=2.5)], OK, calls=2,
         env={"SWCOMPANY_QUEUE_TIMEOUT": "1.5"}),
    Case("empty body, then ok", [Reply(raw_body=b"")], OK, calls=2),
    Case("HTML instead of JSON, then ok", [Reply(raw_body=HTML, headers={"Content-Type": "text/html"})], OK, calls=2),
    Case("500 forever", [Reply(status=500)] * 10, 4, calls=3, stderr_has="after 3 attempt", stop_reason="provider"),
    Case("HTML forever", [Reply(raw_body=HTML, headers={"Content-Type": "text/html"})] * 10, 4, calls=3, stop_reason="provider"),
    Case("401 is never retried", [Reply(status=401)], 4, calls=1, stderr_has="OPENAI_API_KEY", stop_reason="provider"),
    Case("403 is never retried", [Reply(status=403)], 4, calls=1, stderr_has="authentication failed", stop_reason="provider"),
    Case("404 model not found", [Reply(status=404)], 4, calls=1, stderr_has="not found", stop_reason="provider"),
    Case("500 in the engineer stage", [Reply(status=500)] * 10, 4, role="engineer", stop_reason="provider"),
    # Streamed replies: the timeout is an idle timeout, so a slow model that keeps writing is never cut off.
    Case("a slow stream taking 3x the timeout in all, never idle that long", [Reply(content=PRD_JSON, chunk_delay=0.02)],
         OK, calls=1),
    Case("a stream broken midway, then ok", [Reply(content=PRD_JSON, break_stream_after=5)], OK, calls=2,
         stderr_has="broken stream after"),
    Case("a stream that goes silent longer than the timeout, then ok", [Reply(content=PRD_JSON, chunk_delay=2.0)],
         OK, calls=2, stderr_has="no new token for 1.5 s"),
    Case("a reply longer than reply_timeout is not retried", [Reply(content=PRD_JSON, chunk_delay=0.05)] * 3, 4, calls=1,
         stderr_has="reply_timeout", stop_reason="provider", env={"SWCOMPANY_REPLY_TIMEOUT": "1"}),
]


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setenv("SWCOMPANY_MAX_RETRIES", "2")
    monkeypatch.setenv("SWCOMPANY_TIMEOUT", "1.5")


@pytest.mark.parametrize("case", CASES, ids=str)
def test_provider_fault(case: Case, monkeypatch):
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    scenario = scripted(case)
    with FakeLLMServer(scenario) as server:
        proc = run_cli("new", "todo", "--name", "t", *cli_args(server), "--no-tests", "-v")
        assert proc.returncode == case.exit_code, proc.stderr
        assert no_traceback(proc.stdout, proc.stderr)
        if case.calls is not None:
            assert scenario.counts[case.role] == case.calls
        assert case.stderr_has in proc.stderr
        state = read_state(Path("workspace/t"))
        if case.exit_code == OK:
            assert state["stop_reason"] == "done"
            return
        assert state["stop_reason"] == case.stop_reason and state["exit_code"] == case.exit_code
        assert proc.stderr.count("error:") == 1 and "swcompany resume" in proc.stderr
        # The provider is back: resume finishes the job.
        scenario.overrides.pop(case.role)
        for name in case.env:
            monkeypatch.delenv(name)
        resumed = run_cli("resume", "workspace/t")
        assert resumed.returncode == 0, resumed.stderr
        assert read_state(Path("workspace/t"))["stop_reason"] == "done"


def test_connection_refused_exits_4_and_resume_finishes(fake_server):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    proc = run_cli("new", "todo", "--name", "t", "--model", "openai/gpt-4o-mini", "--base-url", dead, "--no-tests")
    assert proc.returncode == 4 and "cannot reach" in proc.stderr and no_traceback(proc.stderr)
    resumed = run_cli("resume", "workspace/t", "--base-url", fake_server.base_url)
    assert resumed.returncode == 0, resumed.stderr


def test_a_runaway_stream_is_stopped_early_and_asked_again_shorter():
    """A model writing one line pattern in circles is cut off at once, not at the token limit."""
    rows = "".join(f"    assert f([{', '.join(map(str, range(i % 50)))}]) == {i}\n" for i in range(3000))
    scenario = scripted(Case("runaway", [Reply(content=rows)], OK))
    with FakeLLMServer(scenario) as server:
        proc = run_cli("new", "todo", "--name", "t", *cli_args(server), "--no-tests")
        assert proc.returncode == 0, proc.stderr
        pm = [r for r in server.requests if "product manager" in r.system.lower()]
    assert scenario.counts["pm"] == 2
    assert "An earlier reply to this went round in circles and was stopped" in pm[1].text
    # Asked afresh: a stand-in assistant turn ("(a reply ..., not shown)") was copied back by a 1.5B model.
    assert [m["role"] for m in pm[1].body["messages"]] == [m["role"] for m in pm[0].body["messages"]]
    [reject] = Path("workspace/t/.swcompany/rejects").iterdir()
    kept = reject.read_text()
    assert "kept repeating itself" in kept
    assert len(kept) < len(rows) / 4  # stopped at the first check (the fake streams 200 big deltas)
