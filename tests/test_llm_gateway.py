"""The gateway against the fake server: structured output, repair, truncation, cache."""

import json

import pytest

from fake_llm_server import FakeLLMServer, Reply
from fake_model import FakeModel
from swcompany.artifacts import PRD
from swcompany.config import load_settings
from swcompany.errors import ModelOutputError
from swcompany.llm import Gateway
from scenario import PRD as PRD_DATA


def gateway(server, tmp_path, **overrides):
    settings = load_settings({"model": "openai/gpt-4o-mini", "base_url": server.base_url or None, "retry_base_delay": 0.01,
                              **overrides}, path=tmp_path / "none.yaml", environ={})
    log = []
    return Gateway(settings, cache_dir=tmp_path / "cache", log=log.append), log


def scripted(*replies):
    it = iter(replies)
    return lambda req: next(it)


def test_repair_reprompt_carries_the_exact_error(tmp_path):
    with FakeModel(scripted("Here is my plan, in prose.", json.dumps(PRD_DATA))) as server:
        gw, log = gateway(server, tmp_path)
        prd = gw.ask_model("pm", [{"role": "user", "content": "idea"}], PRD)
        assert prd.title == "Todo CLI"
        second = server.calls()[1].body["messages"]
        assert second[-2]["content"] == "Here is my plan, in prose."
        assert "not valid JSON" in second[-1]["content"]
        assert len(log) == 2


def test_schema_sent_as_response_format_when_supported(tmp_path):
    with FakeModel(scripted(json.dumps(PRD_DATA))) as server:
        gw, _ = gateway(server, tmp_path, structured_output="schema")
        gw.ask_model("pm", [{"role": "user", "content": "idea"}], PRD)
        fmt = server.calls()[0].body["response_format"]
        assert fmt["type"] == "json_schema" and "acceptance_criteria" in json.dumps(fmt)


def test_schema_refused_by_server_falls_back_to_prompt(tmp_path):
    with FakeLLMServer(scripted(Reply(status=400, content="response_format not supported"), json.dumps(PRD_DATA))) as server:
        gw, _ = gateway(server, tmp_path, structured_output="schema")
        assert gw.ask_model("pm", [{"role": "user", "content": "idea"}], PRD).title
        assert "response_format" not in server.calls()[1].body


def test_truncated_reply_is_re_requested_with_more_room(tmp_path):
    with FakeModel(scripted(Reply(content='{"title": "To', finish_reason="length"), json.dumps(PRD_DATA))) as server:
        gw, _ = gateway(server, tmp_path, max_output_tokens=1000)
        gw.ask_model("pm", [{"role": "user", "content": "idea"}], PRD)
        assert [c.body["max_tokens"] for c in server.calls()] == [1000, 2000]


def test_unparseable_code_is_repaired_then_given_up(tmp_path):
    bad = "```python\ndef f(:\n```"
    with FakeModel(lambda req: bad) as server:
        gw, _ = gateway(server, tmp_path, repair_attempts=2)
        with pytest.raises(ModelOutputError, match="a.py"):
            gw.ask_file("engineer", [{"role": "user", "content": "write a.py"}], "a.py")
        assert len(server.calls()) == 3
        assert "SyntaxError" in server.calls()[1].body["messages"][-1]["content"]
    assert not any((tmp_path / "cache").rglob("*.json"))  # failed chains are not replayed on resume


def test_cache_serves_repeat_calls(tmp_path):
    with FakeModel(scripted(json.dumps(PRD_DATA))) as server:
        gw, log = gateway(server, tmp_path)
        msgs = [{"role": "user", "content": "idea"}]
        gw.ask_model("pm", msgs, PRD)
        gw2, _ = gateway(server, tmp_path)
        gw2.ask_model("pm", msgs, PRD)
        assert len(server.calls()) == 1
        assert gw2.total.cached_calls == 1 and gw2.total.calls == 0


def test_a_local_server_gets_one_request_at_a_time_unless_configured(tmp_path):
    from swcompany.config import Settings
    from swcompany.llm import Gateway

    def slots(**settings) -> int:
        return Gateway(Settings(**settings), cache_dir=None, log=lambda r: None)._parallel_requests()

    assert slots(model="openai/x", base_url="http://127.0.0.1:1/v1") == 1  # a queued request would only sit idle
    assert slots(model="openai/x", base_url="http://127.0.0.1:1/v1", parallel_requests=8) == 8
    assert slots(model="gpt-4o-mini", jobs=6) == 6


def test_a_second_cut_off_after_asking_shorter_is_a_new_warmer_request_not_a_cached_replay(tmp_path):
    """Seen on the 1.5B model: the same 'much shorter' request twice came back from the cache as the same runaway."""
    long = Reply(content="```python\nx = 1\n" * 50, finish_reason="length")
    with FakeModel(scripted(long, long, long, "```python\nx = 1\n```")) as server:
        gw, log = gateway(server, tmp_path, max_output_tokens=1000, repair_attempts=3)
        assert gw.ask_file("engineer", [{"role": "user", "content": "write x.py"}], "x.py") == "x = 1\n"
        requests = server.calls()
    assert len(requests) == 4 and requests[2].body["messages"] != requests[3].body["messages"]
    assert "This is attempt 4" in requests[3].body["messages"][-1]["content"]
    assert requests[2].body.get("temperature") != 0.8 and requests[3].body["temperature"] == 0.8
    assert not any(entry.get("cached") for entry in log)


def test_a_file_cut_off_twice_is_asked_shorter_instead_of_given_ever_more_room(tmp_path):
    long = Reply(content="```python\nx = 1\n" * 50, finish_reason="length")
    with FakeModel(scripted(long, long, "```python\nx = 1\n```")) as server:
        gw, log = gateway(server, tmp_path, max_output_tokens=1000)
        assert gw.ask_file("engineer", [{"role": "user", "content": "write x.py"}], "x.py") == "x = 1\n"
        requests = server.calls()
    assert [r.body["max_tokens"] for r in requests] == [1000, 2000, 2000]
    assert requests[2].body["messages"] == [{"role": "user", "content": "write x.py\n\nAn earlier reply to this was cut off "
                                             "after 2000 tokens. Reply much shorter: only what was asked, the essentials "
                                             "only, no repetition."}]  # the question again, no stand-in reply to copy


def test_a_stopping_run_drops_streamed_replies_in_flight_and_queued_calls(tmp_path):
    """A pool's calls to a slow local model must not keep a stopped run alive for minutes."""
    import threading
    import time

    from swcompany.streaming import RunCancelled

    slow = Reply(content="x = 1\n" * 400, chunk_delay=1.0)  # ~200 chunks: minutes in all
    with FakeLLMServer(lambda req: slow) as server:
        gw, _ = gateway(server, tmp_path, parallel_requests=1)
        outcomes: list[BaseException] = []

        def call() -> None:
            try:
                gw.chat("engineer", [{"role": "user", "content": "write x.py"}])
            except BaseException as exc:  # noqa: BLE001 - the outcome is what is checked
                outcomes.append(exc)

        threads = [threading.Thread(target=call) for _ in range(2)]  # one streaming, one waiting for the slot
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while server.in_flight() < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        gw.cancel()
        for t in threads:
            t.join(timeout=10)
        assert not any(t.is_alive() for t in threads)
        assert len(outcomes) == 2 and all(isinstance(e, RunCancelled) for e in outcomes)
        assert len(server.requests) == 1  # the queued call was never sent


def test_a_reply_that_comes_back_unchanged_is_asked_again_warmer(tmp_path):
    """Seen on the 1.5B model at temperature 0.2: the same stub file three times, whatever the re-prompt said
    (and again on the expression calculator at 0.8, with the stub shown back in the conversation)."""
    stub = "```python\ndef f(x: int) -> int:\n    pass\n```"
    with FakeModel(scripted(stub, stub, "```python\ndef f(x: int) -> int:\n    return x\n```")) as server:
        gw, _ = gateway(server, tmp_path)
        check = lambda code: "f has no real body" if "pass" in code else None  # noqa: E731
        assert "return x" in gw.ask_file("engineer", [{"role": "user", "content": "write a.py"}], "a.py", check=check)
        temperatures = [r.body["temperature"] for r in server.calls()]
        third = server.calls()[2].body["messages"]
    assert temperatures == [0.2, 0.2, 0.8]
    # asked afresh, the stub not shown back: with it in the conversation the model copied it at 0.8 too
    assert [m["role"] for m in third] == ["user"] and "pass" not in third[0]["content"]
    assert "An earlier reply to this was refused: " in third[0]["content"]


def test_a_test_file_that_runs_away_or_is_cut_off_keeps_what_it_said_before(tmp_path):
    """Seen on the 1.5B model (HumanEval/0): one assert thirty times, two minutes of tokens, then a
    re-prompt of two more; the cases before the circles are a test file worth keeping."""
    head = "```python\nfrom m import f\n\n\ndef test_one():\n    assert f(1) == 1\n"
    circles = Reply(content=head + "    assert f(2) == 2\n" * 80)
    cut = Reply(content=head + "\n\ndef test_two():\n    assert f(", finish_reason="length")
    with FakeLLMServer(scripted(circles, cut)) as server:  # streamed: the runaway guard reads the tokens
        gw, log = gateway(server, tmp_path, max_output_tokens=1000)
        gw.rejects_dir = tmp_path / "rejects"
        ask = [{"role": "user", "content": "write tests"}]
        kept = gw.ask_file("qa", ask, "tests/test_m.py", salvage=True)
        assert kept == "from m import f\n\n\ndef test_one():\n    assert f(1) == 1\n    assert f(2) == 2\n"
        assert gw.ask_file("qa", [{"role": "user", "content": "again"}], "tests/test_m.py", salvage=True) == \
            "from m import f\n\n\ndef test_one():\n    assert f(1) == 1\n"  # the unfinished test_two went
        assert len(server.calls()) == 2  # no re-prompt
        assert [entry["finish_reason"] for entry in log] == ["runaway", "length"]
    reasons = sorted(p.read_text().splitlines()[2] for p in (tmp_path / "rejects").iterdir())
    assert reasons == ["reason: the reply kept repeating itself; what it said before that was kept (repeated lines and "
                       "the unfinished end dropped)", "reason: the reply was cut off at the output token limit; what it "
                       "said before that was kept (repeated lines and the unfinished end dropped)"]


def test_a_source_file_cut_off_is_never_salvaged(tmp_path):
    """A cut-off source is missing code: it gets more room, as before."""
    cut = Reply(content="```python\ndef f(x):\n    return x\n\n\ndef g(", finish_reason="length")
    with FakeModel(scripted(cut, "```python\ndef f(x):\n    return x\n```")) as server:
        gw, _ = gateway(server, tmp_path, max_output_tokens=1000)
        assert gw.ask_file("engineer", [{"role": "user", "content": "write m.py"}], "m.py") == "def f(x):\n    return x\n"
        assert [r.body["max_tokens"] for r in server.calls()] == [1000, 2000]


def test_a_reply_copying_a_repetitive_file_from_its_prompt_is_not_stopped_as_circles(tmp_path):
    """Seen on the 1.5B password generator: QA's nineteen tests repeat one block; each fix round sending
    the file back (with the code changed) was stopped as a runaway three times, and the rounds were lost."""
    blocks = "".join(f"def test_ac1_length_{'and_' * i}more(capsys):\n"
                     f"    password = generate_password(10, ['abc', 'ABC', '0123456789'{', ' + repr(chr(33 + i)) if i else ''}])\n"
                     "    assert len(password) == 10\n    assert all(c in string.printable for c in password)\n\n"
                     for i in range(40))
    given = "### tests/test_p.py\n```python\n" + blocks + "```\n"
    reply = "Explanation: the code checked the sets wrongly.\n\n" + given
    with FakeLLMServer(scripted(reply, reply, "Explanation: none.")) as server:  # streamed: the guard reads the tokens
        gw, log = gateway(server, tmp_path, max_output_tokens=8000)
        text = gw.ask_text("qa", [{"role": "user", "content": "Fix this file:\n" + given}], label="fix round 1")
        assert text.strip().endswith("```") and [entry["finish_reason"] for entry in log] == ["stop"]
        gw.ask_text("qa", [{"role": "user", "content": "Fix it (the file not shown)"}], label="fix round 2")
        assert log[1]["finish_reason"] == "runaway"  # the same text, not in the prompt: circles
    # The roman numeral converter's: the file copied, then two sentences by turns on one line, 14,000 characters.
    talk = " ".join(["The `to_int` function was not handling the subtraction of two values when the current value is "
                     "greater.", "The `from_int` function was not handling the addition of values when the current value "
                     "is less or equal."] * 40)
    with FakeLLMServer(scripted(given + "\nExplanation: " + talk, "Explanation: none.")) as server:
        gw, log = gateway(server, tmp_path / "talk", max_output_tokens=8000)
        gw.ask_text("qa", [{"role": "user", "content": "Fix this file:\n" + given}], label="fix round 1")
        assert log[0]["finish_reason"] == "runaway"  # circles after the copy


def test_a_file_kind_with_its_own_token_limit_is_asked_shorter_when_cut_off_there(tmp_path):
    """QA's test files: none the 1.5B model wrote and QA kept passed 1,531 tokens, and the two that
    reached 4,096 were 300 rows of test data, four minutes each; cut off at the kind's limit, the
    reply is asked shorter, never given more room. A tighter configured limit wins."""
    cut = Reply(content='```python\nDATA = """\n' + "1,a,2\n" * 20, finish_reason="length")
    with FakeModel(scripted(cut, "```python\nx = 1\n```")) as server:
        gw, _ = gateway(server, tmp_path, max_output_tokens=4096)
        assert gw.ask_file("qa", [{"role": "user", "content": "write tests"}], "tests/test_x.py", salvage=True,
                           max_tokens=2048) == "x = 1\n"
        requests = server.calls()
    assert [r.body["max_tokens"] for r in requests] == [2048, 2048]
    assert "Reply much shorter" in requests[1].body["messages"][-1]["content"]
    with FakeModel(scripted("```python\nx = 1\n```")) as server:
        gw, _ = gateway(server, tmp_path / "small", max_output_tokens=1000)
        gw.ask_file("qa", [{"role": "user", "content": "write tests"}], "tests/test_x.py", max_tokens=2048)
        assert server.calls()[0].body["max_tokens"] == 1000
