"""Architect: PRD -> system design (docs/design.json + docs/design.md)."""

from __future__ import annotations

from ..artifacts import Design, dependency_levels
from ..workspace import sha256_text
from .base import DESIGN_JSON, DESIGN_MD, PRD_JSON, PRD_MD, StageContext, StageResult

NAME = "architect"
TITLE = "Architect"


def hand_edited_markdown(ctx: StageContext) -> str:
    """docs/prd.md when a person edited it (and not the JSON): then the markdown is authoritative."""
    if not ctx.workspace.exists(PRD_MD):
        return ""
    recorded = ctx.state.artifact_hashes
    md_edited = sha256_text(ctx.workspace.read(PRD_MD)) != recorded.get(PRD_MD, "")
    json_edited = sha256_text(ctx.workspace.read(PRD_JSON)) != recorded.get(PRD_JSON, "")
    return ctx.workspace.read(PRD_MD) if md_edited and not json_edited and PRD_MD in recorded else ""


def run(ctx: StageContext) -> StageResult:
    prd = ctx.load_prd()
    messages = ctx.messages(NAME, schema=Design, prd_json=prd.model_dump_json(indent=2),
                            prd_markdown=hand_edited_markdown(ctx))
    design = ctx.gateway.ask_model(NAME, messages, Design, label="design")
    levels = dependency_levels(design.files)
    return StageResult(
        files={
            DESIGN_JSON: design.model_dump_json(indent=2) + "\n",
            DESIGN_MD: ctx.render("templates/design.md.j2", design=design, levels=levels),
        },
        message=f"architect: write design\n\n{len(design.files)} files in {len(levels)} dependency levels",
    )
