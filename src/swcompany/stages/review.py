"""Code reviewer (``--review``): between engineer and QA, findings plus whole-file fixes for the serious ones.

Fixes pass the engineer's gates (syntax, imports, no stubs) before they are written; findings
land in ``docs/review.md``. Off by default: see the README for what it did to pass rates.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ..artifacts import MAX_ITEMS, FixedFile
from ..config import Settings
from ..structured import ReplyError, check_syntax
from .base import DESIGN_JSON, PRD_JSON, BuiltinStage, CallPlan, StageContext, StageResult, prompt_templates

MAX_REVIEW_CONTEXT_CHARS = 60_000


class Finding(BaseModel):
    file: str
    severity: Literal["blocker", "major", "minor"] = "minor"
    why: str


class ReviewReply(BaseModel):
    """Findings, and complete new contents for the files with blocker or major findings."""

    summary: str = ""
    findings: list[Finding] = Field(default_factory=list, max_length=MAX_ITEMS["requirements"])
    fixes: list[FixedFile] = Field(default_factory=list, max_length=MAX_ITEMS["short"])


def check_review(ctx: StageContext, design, code: dict[str, str]):
    from ..code_gates import code_check

    def check(reply: ReviewReply) -> None:
        problems = []
        for fixed in reply.fixes:
            if fixed.path not in code:
                problems.append(f"{fixed.path} is not a source file of the design")
            elif (error := check_syntax(fixed.path, fixed.content)):
                problems.append(f"{fixed.path} {error}")
            elif fixed.path.endswith(".py"):
                others = {p: t for p, t in code.items() if p != fixed.path}
                if (problem := code_check(design, design.file(fixed.path), others, first_write=False)(fixed.content)):
                    problems.append(f"{fixed.path}: {problem}")
        if problems:
            raise ReplyError("The review's fixes cannot be applied:\n" + "\n".join(f"- {p}" for p in problems)
                             + "\nReply with the corrected JSON object only.")

    return check


def run(ctx: StageContext) -> StageResult:
    prd, design = ctx.load_prd(), ctx.load_design()
    code, used = {}, 0
    for spec in design.files:
        if ctx.exists(spec.path) and used < MAX_REVIEW_CONTEXT_CHARS:
            code[spec.path] = ctx.read(spec.path)
            used += len(code[spec.path])
    messages = ctx.messages("review", schema=ReviewReply, prd=prd, design=design,
                            files=[{"path": p, "content": t} for p, t in code.items()])
    reply = ctx.gateway.ask_model(ctx.stage, messages, ReviewReply, label="review", check=check_review(ctx, design, code))
    files = {fixed.path: fixed.content for fixed in reply.fixes}
    files["docs/review.md"] = ctx.render("templates/review.md.j2", review=reply, prd=prd)
    serious = sum(1 for f in reply.findings if f.severity != "minor")
    return StageResult(files=files, message=f"review: {len(reply.findings)} findings ({serious} serious), "
                       f"{len(reply.fixes)} files fixed\n\n{reply.summary.strip()[:1000]}".rstrip())


def plans(settings: Settings) -> list[CallPlan]:
    return [CallPlan("review", (1, 1 + settings.repair_attempts), (2_000, 12_000), (500, 6_000))]


STAGE = BuiltinStage(
    name="review", title="Code reviewer", reads=(PRD_JSON, DESIGN_JSON, "code"), runner=run, plans=plans,
    templates={**prompt_templates("review", {"schema", "prd", "design", "files"}),
               "templates/review.md.j2": frozenset({"review", "prd"})},
)
