"""Product manager: idea -> PRD (docs/prd.json + docs/prd.md)."""

from __future__ import annotations

from ..artifacts import PRD
from .base import PRD_JSON, PRD_MD, StageContext, StageResult

NAME = "pm"
TITLE = "Product manager"


def render_prd_markdown(ctx: StageContext, prd: PRD) -> str:
    return ctx.render("templates/prd.md.j2", prd=prd)


def run(ctx: StageContext) -> StageResult:
    prd = ctx.gateway.ask_model(NAME, ctx.messages(NAME, schema=PRD, idea=ctx.state.idea), PRD, label="PRD")
    return StageResult(
        files={PRD_JSON: prd.model_dump_json(indent=2) + "\n", PRD_MD: render_prd_markdown(ctx, prd)},
        message=f"pm: write PRD\n\n{prd.title}: {len(prd.requirements)} requirements, "
        f"{len(prd.acceptance_criteria)} acceptance criteria",
    )
