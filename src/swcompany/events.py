"""Events the pipeline emits for the UI, logs and the Python API's callback.

Plain data so the pipeline never imports rich and the UI never imports litellm.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable


@dataclass
class Event:
    kind: str  # run_started, stage_started, stage_skipped, stage_finished, stage_failed, file_done, llm_call, info, warning, run_finished
    stage: str = ""
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)


EventSink = Callable[[Event], None]


def ignore(event: Event) -> None:
    """The default sink."""
