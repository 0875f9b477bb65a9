"""Product manager: idea -> PRD (docs/prd.json + docs/prd.md)."""

from __future__ import annotations

import json

from ..artifacts import PRD
from ..prompts import render
from ..config import Settings
from .base import PRD_JSON, PRD_MD, BuiltinStage, CallPlan, StageContext, StageResult, prompt_templates


def run(ctx: StageContext) -> StageResult:
    prd = ctx.gateway.ask_model(ctx.stage, ctx.messages("pm", schema=PRD, idea=ctx.state.idea), PRD, label="PRD")
    return StageResult(
        files={PRD_JSON: prd.model_dump_json(indent=2) + "\n", PRD_MD: ctx.render("templates/prd.md.j2", prd=prd)},
        message=f"pm: write PRD\n\n{prd.title}: {len(prd.requirements)} requirements, "
        f"{len(prd.acceptance_criteria)} acceptance criteria",
    )


def preview(settings: Settings, idea: str) -> list[dict[str, str]]:
    variables = {"idea": idea, "docs": [], "schema": json.dumps(PRD.model_json_schema(), separators=(",", ":"))}
    return [{"role": role, "content": render(f"prompts/pm.{role}.j2", settings.prompts_dir, **variables)}
            for role in ("system", "user")]


def plans(settings: Settings) -> list[CallPlan]:
    return [CallPlan("PRD", (1, 1), (600, 1_500), (600, 2_000))]


STAGE = BuiltinStage(
    name="pm", title="Product manager", reads=("idea",), runner=run, plans=plans, previewer=preview,
    templates={**prompt_templates("pm", {"idea", "schema"}), "templates/prd.md.j2": frozenset({"prd"})},
)
