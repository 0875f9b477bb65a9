"""Architect: PRD -> system design (docs/design.json + docs/design.md)."""

from __future__ import annotations

from ..artifacts import Design, dependency_levels
from .base import DESIGN_JSON, DESIGN_MD, PRD_MD, StageContext, StageResult
from .pm import render_prd_markdown

NAME = "architect"
TITLE = "Architect"


def run(ctx: StageContext) -> StageResult:
    prd = ctx.load_prd()
    # A person may have edited the markdown instead of the JSON: then the markdown wins.
    markdown = ctx.workspace.read(PRD_MD) if ctx.workspace.exists(PRD_MD) else ""
    edited = markdown.strip() != render_prd_markdown(ctx, prd).strip() if markdown else False
    messages = ctx.messages(NAME, schema=Design, prd_json=prd.model_dump_json(indent=2),
                            prd_markdown=markdown if edited else "")
    design = ctx.gateway.ask_model(NAME, messages, Design, label="design")
    levels = dependency_levels(design.files)
    return StageResult(
        files={
            DESIGN_JSON: design.model_dump_json(indent=2) + "\n",
            DESIGN_MD: ctx.render("templates/design.md.j2", design=design, levels=levels),
        },
        message=f"architect: write design\n\n{len(design.files)} files in {len(levels)} dependency levels",
    )
