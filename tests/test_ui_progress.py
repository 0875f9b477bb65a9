"""Streamed tokens and retries reach the user: the live view's detail, and -v lines in plain logs."""

from __future__ import annotations

from swcompany.events import Event
from swcompany.llm import Progress
from swcompany.ui import ConsoleUI


def started(ui: ConsoleUI) -> None:
    ui(Event("run_started", "", "/tmp/ws", {"stages": [("pm", "Product manager")]}))


def test_plain_verbose_prints_a_progress_line_every_30_seconds(capsys):
    ui = ConsoleUI("plain", verbose=True)
    started(ui)
    for seconds, tokens in ((0.5, 3), (10.0, 40), (31.0, 120), (45.0, 170), (62.0, 230)):
        ui(Event("llm_progress", "pm", "PRD", {"progress": Progress("pm", "PRD", tokens, seconds)}))
    lines = [ln for ln in capsys.readouterr().err.splitlines() if "tok/s" in ln]
    assert len(lines) == 2 and "pm PRD: 120 tokens, 3.9 tok/s (31s)" in lines[0]


def test_retries_are_shown_with_reason_and_wait(capsys):
    ui = ConsoleUI("plain", verbose=True)
    started(ui)
    ui(Event("llm_progress", "pm", "PRD", {"progress": Progress("pm", "PRD", retry=1, reason="HTTP 429", wait=2.0)}))
    assert "retrying PRD (HTTP 429; attempt 1 failed), waiting 2.0s" in capsys.readouterr().err


def test_rich_view_shows_tokens_as_they_arrive():
    ui = ConsoleUI("rich")
    started(ui)
    ui(Event("llm_progress", "pm", "PRD", {"progress": Progress("pm", "PRD", 50, 5.0)}))
    assert ui._detail["pm"] == "PRD: 50 tokens, 10.0 tok/s"
    ui._stop_live(final=False)


def test_plain_without_verbose_says_a_slow_reply_is_still_coming_after_a_silent_minute(capsys):
    """QA writing tests on the 1.5B printed no line for six minutes of a plain log."""
    now = [0.0]
    ui = ConsoleUI("plain")
    ui._clock = lambda: now[0]
    started(ui)
    for seconds, tokens in ((10.0, 40), (59.0, 200), (61.0, 210), (90.0, 300), (125.0, 420)):
        now[0] = seconds
        ui(Event("llm_progress", "pm", "PRD", {"progress": Progress("pm", "PRD", tokens, seconds)}))
    lines = [ln for ln in capsys.readouterr().err.splitlines() if "still working" in ln]
    assert len(lines) == 2
    assert lines[0].endswith("  Product manager: still working (PRD: 210 tokens, 3.4 tok/s, 61s into this reply)")
