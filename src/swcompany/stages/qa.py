"""QA: placeholder until the QA role lands (issue 4); it skips without a commit."""

from __future__ import annotations

from .base import StageContext, StageResult

NAME = "qa"
TITLE = "QA"


def run(ctx: StageContext) -> StageResult:
    ctx.info(NAME, "QA stage not implemented yet; skipped")
    return StageResult(commit=False, status="skipped")
